/**
 * The run store: every run, its metrics, evaluations, checkpoints, recordings and events in one
 * SQLite file, `<dataDir>/runs.sqlite` (WAL, foreign keys, migrations by user_version). Calls are
 * synchronous (better-sqlite3); every failure surfaces as a StoreError naming the file and the cause.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { zlibSync, unzlibSync } from 'fflate';
import { EvaluationSchema, type Evaluation } from '../../../shared/metrics.ts';
import {
  RunConfigSchema,
  datasetIdOf,
  type RunConfig,
  type RunConfigInput,
} from '../../../shared/nca-config.ts';
import {
  CheckpointChoiceSchema,
  EventLevelSchema,
  FINISHED_STATUSES,
  METRIC_FIELDS,
  MetricsQuerySchema,
  NotesSchema,
  RecordingDtypeSchema,
  RunListFilterSchema,
  RunNameSchema,
  RunStatusSchema,
  RunUpdateSchema,
  TagsSchema,
  type Checkpoint,
  type CheckpointChoice,
  type CheckpointMeta,
  type EventLevel,
  METRIC_COLUMNS,
  type MetricColumn,
  type MetricColumns,
  type MetricField,
  type MetricSeries,
  type MetricsQuery,
  type Recording,
  type RecordingDtype,
  type RecordingMeta,
  type RunEvent,
  type RunListFilter,
  type RunMetrics,
  type RunRecord,
  type RunStatus,
  type RunSummary,
  type RunUpdate,
} from '../../../shared/runs.ts';
import packageJson from '../../../../package.json' with { type: 'json' };
import { compactEvaluations, compactMetricColumns } from './compact-history.ts';
import { downsampleMinMax, float64View } from './downsample.ts';
import { StoreError, toStoreError } from './errors.ts';
import { createMetricWriter, type MetricWriter, type MetricWriterOptions } from './metric-writer.ts';
import { NCARUN_FORMAT, NCARUN_VERSION, packNcarun, unpackNcarun, type Manifest } from './ncarun.ts';
import { sqliteNativeBinding } from './native.ts';
import { applyMigrations, OWN_TABLES, SCHEMA_VERSION } from './schema.ts';

export const DB_FILE = 'runs.sqlite';

export interface OpenOptions {
  readonly?: boolean;
  /** how long a write waits for another process's transaction before failing 'locked' (default 5000) */
  busyTimeoutMs?: number;
  /** recorded on new runs (default: package.json version) */
  appVersion?: string;
}

export interface CreateRunInput {
  name: string;
  config: RunConfigInput | RunConfig;
  /** default for adversarial runs: config.classifierRunId */
  parentRunId?: string | null;
  tags?: string[];
  notes?: string;
}

export interface SaveCheckpointInput {
  iteration: number;
  /** higher is better for classify/adversarial runs (accuracy, attack success), lower for grow (loss) */
  metric?: number | null;
  data: Uint8Array;
}

export interface SaveRecordingInput {
  name: string;
  width: number;
  height: number;
  channels: number;
  frameCount: number;
  dtype?: RecordingDtype;
  data: Uint8Array;
}

const SQL_COLUMN: Record<MetricColumn, string> = {
  iteration: 'iteration',
  loss: 'loss',
  perCellAccuracy: 'per_cell_accuracy',
  agreement: 'agreement',
  lr: 'lr',
  gradNorm: 'grad_norm',
  iterationMs: 'iteration_ms',
  cellsPerSec: 'cells_per_sec',
  wallMs: 'wall_ms',
};

/** Allowed status changes; a status may always be set again (to update its message). */
const TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['running', 'stopped', 'failed'],
  running: ['paused', 'completed', 'stopped', 'failed', 'diverged', 'interrupted'],
  paused: ['running', 'stopped', 'failed', 'interrupted'],
  completed: ['running', 'queued'],
  stopped: ['running', 'queued'],
  failed: ['running', 'queued'],
  diverged: ['running', 'queued'],
  interrupted: ['running', 'queued', 'stopped'],
};

/** Chunks under this many rows count as small; 64 small writes trigger a merge of the trailing ones. */
const SMALL_CHUNK_ROWS = 1024;
const COMPACT_AFTER_CHUNKS = 64;

const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function newRunId(): string {
  const bytes = randomBytes(8);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b & 31];
  return id;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const finiteOrNull = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : v;

/** JSON that keeps NaN and +-Infinity (evaluations of diverged runs hold them). */
function stringifyNumbers(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? `__${String(v)}__` : v,
  );
}
function parseNumbers(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v === '__NaN__') return NaN;
    if (v === '__Infinity__') return Infinity;
    if (v === '__-Infinity__') return -Infinity;
    return v;
  });
}

/** The runs table's dataset column: the catalogue id, or `image:<file>` for a grown image. */
function datasetOf(config: RunConfig): string {
  if (config.task === 'grow' && config.target.kind === 'image')
    return `image:${path.basename(config.target.path)}`;
  return datasetIdOf(config) ?? '';
}

/** Lower is better for growing runs (loss), higher for classifiers and adversaries. */
const lowerIsBetter = (task: RunConfig['task']) => task === 'grow';

interface RunRow {
  id: string;
  name: string;
  task: string;
  dataset: string;
  config: string;
  status: string;
  status_message: string | null;
  backend: string | null;
  device: string | null;
  seed: number;
  app_version: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  notes: string;
  tags: string;
  parent_run_id: string | null;
  owner: string | null;
  metric_rows: number;
  last_iteration: number | null;
  last_wall_ms: number | null;
  best_loss: number | null;
  best_per_cell_accuracy: number | null;
  best_agreement: number | null;
  best_eval_accuracy: number | null;
  best_eval_agreement: number | null;
}

function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    name: row.name,
    task: row.task as RunRecord['task'],
    dataset: row.dataset,
    config: JSON.parse(row.config) as RunConfig,
    status: row.status as RunStatus,
    statusMessage: row.status_message,
    backend: row.backend,
    device: row.device,
    seed: row.seed,
    appVersion: row.app_version,
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    notes: row.notes,
    tags: JSON.parse(row.tags) as string[],
    parentRunId: row.parent_run_id,
  };
}

function toSummary(row: RunRow, now: number): RunSummary {
  let durationMs: number | null = row.last_wall_ms;
  if (durationMs === null && row.started_at !== null) durationMs = (row.ended_at ?? now) - row.started_at;
  return {
    ...toRecord(row),
    lastIteration: row.last_iteration,
    metricRows: row.metric_rows,
    bestLoss: row.best_loss,
    bestPerCellAccuracy: row.best_per_cell_accuracy,
    bestAgreement: row.best_agreement,
    bestEvalAccuracy: row.best_eval_accuracy,
    bestEvalAgreement: row.best_eval_agreement,
    durationMs,
  };
}

/** The first zod problem as `field: reason`. */
function describeIssues(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(value)'}: ${i.message}`).join('; ');
}

/**
 * When a process started, on Linux (clock ticks since boot, /proc/PID/stat field 22), so a PID
 * reused after a crash or reboot is not mistaken for the process that owned a run. '' elsewhere.
 */
function processStart(pid: number): string {
  if (process.platform !== 'linux') return '';
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** This process, as recorded in runs.owner: `host|pid|start`. */
const OWNER = `${os.hostname()}|${process.pid}|${processStart(process.pid)}`;

/** Whether the process that marked a run running is gone (a crash, a kill, another machine's copy). */
function ownerIsGone(owner: string | null): boolean {
  if (!owner) return true;
  const [host, pidText, start = ''] = owner.split('|');
  const pid = Number(pidText);
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  return start !== '' && processStart(pid) !== start;
}

export class RunStore {
  readonly file: string;
  readonly readonly: boolean;
  private readonly db: Database.Database;
  private readonly busyTimeoutMs: number;
  private readonly appVersion: string;
  private readonly writers = new Set<MetricWriter>();
  private readonly smallChunks = new Map<string, number>();
  private closed = false;

  private constructor(file: string, db: Database.Database, opts: Required<OpenOptions>) {
    this.file = file;
    this.db = db;
    this.readonly = opts.readonly;
    this.busyTimeoutMs = opts.busyTimeoutMs;
    this.appVersion = opts.appVersion;
  }

  /**
   * Open (creating if needed) `<dataDir>/runs.sqlite`, migrate it, and mark runs whose training
   * process is gone as 'interrupted'. Throws StoreError: corrupt, locked, readonly, newer-version, ...
   */
  static open(dataDir: string, opts: OpenOptions = {}): RunStore {
    const file = path.join(path.resolve(dataDir), DB_FILE);
    const options: Required<OpenOptions> = {
      readonly: opts.readonly ?? false,
      busyTimeoutMs: opts.busyTimeoutMs ?? 5000,
      appVersion: opts.appVersion ?? packageJson.version,
    };
    let db: Database.Database | undefined;
    try {
      if (options.readonly) {
        if (!fs.existsSync(file)) throw new StoreError('cannot-open', `there is no run store at ${file} yet`);
      } else fs.mkdirSync(path.dirname(file), { recursive: true });
      db = new Database(file, {
        readonly: options.readonly,
        timeout: options.busyTimeoutMs,
        nativeBinding: sqliteNativeBinding(),
      });
      if (!options.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL'); // WAL + NORMAL: a killed process loses nothing committed
      }
      db.pragma('foreign_keys = ON');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION)
        throw new StoreError(
          'newer-version',
          `${file} was written by a newer NCA Workbench (schema ${version}, this app knows up to ${SCHEMA_VERSION}); update the app`,
        );
      if (version === 0) {
        const tables = (
          db
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .all() as {
            name: string;
          }[]
        ).map((t) => t.name);
        const foreign = tables.filter((t) => !OWN_TABLES.includes(t));
        if (foreign.length > 0)
          throw new StoreError(
            'invalid-file',
            `${file} is an SQLite database of another program (tables: ${foreign.slice(0, 5).join(', ')}); move it aside`,
          );
      }
      if (version < SCHEMA_VERSION) {
        if (options.readonly)
          throw new StoreError(
            'readonly',
            `${file} has schema ${version} and needs an upgrade to ${SCHEMA_VERSION}; open it once read-write`,
          );
        applyMigrations(db);
      }
      const store = new RunStore(file, db, options);
      if (!options.readonly) store.markInterrupted();
      return store;
    } catch (err) {
      db?.close();
      throw toStoreError(err, file, options.busyTimeoutMs);
    }
  }

  /** The underlying connection, for tests and benchmarks only. */
  get database(): Database.Database {
    return this.db;
  }

  private guard<T>(fn: () => T): T {
    if (this.closed) throw new StoreError('closed', `the run store ${this.file} is closed`);
    try {
      return fn();
    } catch (err) {
      throw toStoreError(err, this.file, this.busyTimeoutMs);
    }
  }

  private markInterrupted(): void {
    const live = this.db
      .prepare("SELECT id, owner FROM runs WHERE status IN ('running', 'paused')")
      .all() as { id: string; owner: string | null }[];
    for (const run of live) {
      if (!ownerIsGone(run.owner)) continue;
      this.setStatus(run.id, 'interrupted', 'the process training this run ended without stopping it');
    }
  }

  private row(id: string): RunRow {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) throw new StoreError('not-found', `no run with id "${id}" in ${this.file}`);
    return row;
  }

  // ---- runs ---------------------------------------------------------------------------------

  createRun(input: CreateRunInput): RunRecord {
    return this.guard(() => {
      const name = RunNameSchema.safeParse(input.name);
      if (!name.success) throw new StoreError('invalid', `run name: ${describeIssues(name.error)}`);
      const config = RunConfigSchema.safeParse(input.config);
      if (!config.success) throw new StoreError('invalid', `run config: ${describeIssues(config.error)}`);
      const tags = TagsSchema.safeParse(input.tags ?? []);
      if (!tags.success) throw new StoreError('invalid', `tags: ${describeIssues(tags.error)}`);
      const notes = NotesSchema.safeParse(input.notes ?? '');
      if (!notes.success) throw new StoreError('invalid', `notes: ${describeIssues(notes.error)}`);
      const cfg = config.data;
      const parent =
        input.parentRunId !== undefined
          ? input.parentRunId
          : cfg.task === 'adversarial'
            ? cfg.classifierRunId
            : null;
      if (parent !== null && !this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(parent))
        throw new StoreError('not-found', `parent run "${parent}" does not exist in ${this.file}`);
      const insert = this.db.prepare(
        `INSERT INTO runs (id, name, task, dataset, config, status, seed, app_version, created_at, notes, tags, parent_run_id)
         VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
      );
      let id = newRunId();
      while (this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(id)) id = newRunId();
      insert.run(
        id,
        name.data,
        cfg.task,
        datasetOf(cfg),
        JSON.stringify(cfg),
        cfg.seed,
        this.appVersion,
        Date.now(),
        notes.data,
        JSON.stringify([...new Set(tags.data)]),
        parent,
      );
      return toRecord(this.row(id));
    });
  }

  getRun(id: string): RunRecord {
    return this.guard(() => toRecord(this.row(id)));
  }

  /** One run with the list's extra fields (best metrics, duration, last iteration). */
  getSummary(id: string): RunSummary {
    return this.guard(() => toSummary(this.row(id), Date.now()));
  }

  listRuns(filter: RunListFilter = {}): RunSummary[] {
    return this.guard(() => {
      const parsed = RunListFilterSchema.safeParse(filter);
      if (!parsed.success)
        throw new StoreError('invalid', `run list filter: ${describeIssues(parsed.error)}`);
      const f = parsed.data;
      const where: string[] = [];
      const params: Record<string, unknown> = { now: Date.now() };
      if (f.search) {
        where.push(
          `(name LIKE :search ESCAPE '\\' OR id LIKE :search ESCAPE '\\' OR notes LIKE :search ESCAPE '\\'
            OR dataset LIKE :search ESCAPE '\\' OR tags LIKE :search ESCAPE '\\')`,
        );
        params.search = `%${f.search.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
      }
      if (f.status !== undefined) {
        const statuses = Array.isArray(f.status) ? f.status : [f.status];
        where.push(`status IN (SELECT value FROM json_each(:statuses))`);
        params.statuses = JSON.stringify(statuses);
      }
      if (f.task) {
        where.push('task = :task');
        params.task = f.task;
      }
      if (f.dataset) {
        where.push('dataset = :dataset');
        params.dataset = f.dataset;
      }
      if (f.tag) {
        where.push('EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE value = :tag)');
        params.tag = f.tag;
      }
      const duration =
        'COALESCE(last_wall_ms, CASE WHEN started_at IS NULL THEN NULL ELSE COALESCE(ended_at, :now) - started_at END)';
      const sortColumn: Record<NonNullable<typeof f.sort>, string> = {
        createdAt: 'created_at',
        name: 'name COLLATE NOCASE',
        status: 'status',
        loss: 'best_loss',
        perCellAccuracy: 'best_per_cell_accuracy',
        agreement: 'best_agreement',
        evalAccuracy: 'best_eval_accuracy',
        duration,
        lastIteration: 'last_iteration',
      };
      const sort = sortColumn[f.sort ?? 'createdAt'];
      const order = f.order ?? (f.sort === 'name' || f.sort === 'loss' ? 'asc' : 'desc');
      // Runs without a value sort last in either order.
      const sql = `SELECT * FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
        ORDER BY (${sort}) IS NULL, ${sort} ${order === 'asc' ? 'ASC' : 'DESC'}, created_at DESC, rowid DESC`;
      const usesNow = sql.includes(':now');
      if (!usesNow) delete params.now;
      const rows = this.db.prepare(sql).all(params) as RunRow[];
      const now = Date.now();
      return rows.map((r) => toSummary(r, now));
    });
  }

  updateRun(id: string, update: RunUpdate): RunRecord {
    return this.guard(() => {
      const parsed = RunUpdateSchema.safeParse(update);
      if (!parsed.success)
        throw new StoreError('invalid', `run ${id} update: ${describeIssues(parsed.error)}`);
      this.row(id);
      const u = parsed.data;
      if (u.name !== undefined) this.db.prepare('UPDATE runs SET name = ? WHERE id = ?').run(u.name, id);
      if (u.tags !== undefined)
        this.db
          .prepare('UPDATE runs SET tags = ? WHERE id = ?')
          .run(JSON.stringify([...new Set(u.tags)]), id);
      if (u.notes !== undefined) this.db.prepare('UPDATE runs SET notes = ? WHERE id = ?').run(u.notes, id);
      return toRecord(this.row(id));
    });
  }

  /**
   * Raise a run's iteration count so it can train further ("train to N"): only upwards, only while it
   * is not training, and never below its last stored iteration. The change is logged as an event.
   */
  extendRun(id: string, iterations: number): RunRecord {
    return this.guard(() => {
      const tx = this.db.transaction(() => {
        const row = this.row(id);
        const config = JSON.parse(row.config) as { iterations: number };
        if (row.status === 'running' || row.status === 'paused')
          throw new StoreError(
            'invalid',
            `run ${id} is ${row.status}: stop it before changing its iterations`,
          );
        if (!Number.isInteger(iterations) || iterations <= config.iterations)
          throw new StoreError(
            'invalid',
            `run ${id}: iterations ${iterations} must be an integer above its current ${config.iterations}`,
          );
        const parsed = RunConfigSchema.safeParse({ ...config, iterations });
        if (!parsed.success) throw new StoreError('invalid', `run ${id}: ${describeIssues(parsed.error)}`);
        this.db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify(parsed.data), id);
        this.insertEvent(id, 'info', `iterations ${config.iterations} -> ${iterations}`);
      });
      tx.immediate();
      return toRecord(this.row(id));
    });
  }

  /**
   * Move a run through its lifecycle. 'running' sets startedAt (first time) and claims the run for
   * this process; a finished status sets endedAt. Logs an event. Invalid transitions throw 'invalid'.
   */
  setStatus(id: string, status: RunStatus, message?: string): RunRecord {
    return this.guard(() => {
      if (!RunStatusSchema.safeParse(status).success)
        throw new StoreError(
          'invalid',
          `"${String(status)}" is not a run status (${RunStatusSchema.options.join(', ')})`,
        );
      const tx = this.db.transaction(() => {
        const row = this.row(id);
        const from = row.status as RunStatus;
        if (from !== status && !TRANSITIONS[from].includes(status))
          throw new StoreError('invalid', `run ${id} cannot go from ${from} to ${status}`);
        const now = Date.now();
        const finished = FINISHED_STATUSES.includes(status);
        const startedAt = status === 'running' ? (row.started_at ?? now) : row.started_at;
        const endedAt = finished ? (from === status && row.ended_at !== null ? row.ended_at : now) : null;
        const owner = status === 'running' || status === 'paused' ? OWNER : null;
        this.db
          .prepare(
            'UPDATE runs SET status = ?, status_message = ?, started_at = ?, ended_at = ?, owner = ? WHERE id = ?',
          )
          .run(status, message ?? null, startedAt, endedAt, owner, id);
        const level: EventLevel =
          status === 'failed' || status === 'diverged' ? 'error' : status === 'interrupted' ? 'warn' : 'info';
        this.insertEvent(id, level, `status ${from} -> ${status}${message ? `: ${message}` : ''}`);
      });
      tx.immediate();
      return toRecord(this.row(id));
    });
  }

  setBackend(id: string, backend: string, device: string): RunRecord {
    return this.guard(() => {
      const r = this.db
        .prepare('UPDATE runs SET backend = ?, device = ? WHERE id = ?')
        .run(backend, device, id);
      if (r.changes === 0) this.row(id);
      return toRecord(this.row(id));
    });
  }

  /** Delete a run and everything it owns. A running or paused run must be stopped first. */
  deleteRun(id: string): void {
    this.guard(() => {
      const row = this.row(id);
      if ((row.status === 'running' || row.status === 'paused') && !ownerIsGone(row.owner))
        throw new StoreError('invalid', `run ${id} is ${row.status}; stop it before deleting it`);
      this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
    });
  }

  // ---- metrics ------------------------------------------------------------------------------

  metricWriter(runId: string, options: MetricWriterOptions = {}): MetricWriter {
    return this.guard(() => {
      this.row(runId);
      const writer = createMetricWriter(
        runId,
        (id, batch) => this.guard(() => this.writeChunk(id, batch)),
        options,
      );
      this.writers.add(writer);
      const close = writer.close.bind(writer);
      writer.close = () => {
        close();
        this.writers.delete(writer);
        try {
          this.compactMetrics(runId);
        } catch {
          // Only an optimisation: the rows are written; the next writer or flush compacts again.
        }
      };
      return writer;
    });
  }

  /** Write one columnar batch of metric rows (one transaction) and update the run's aggregates. */
  private writeChunk(runId: string, batch: MetricColumns): void {
    const n = batch.iteration.length;
    if (n === 0) return;
    let first = Infinity;
    let last = -Infinity;
    let bestLoss = Infinity;
    let bestAcc = -Infinity;
    let bestAgree = -Infinity;
    for (let i = 0; i < n; i++) {
      const it = batch.iteration[i];
      if (it < first) first = it;
      if (it > last) last = it;
      if (batch.loss[i] < bestLoss) bestLoss = batch.loss[i];
      if (batch.perCellAccuracy[i] > bestAcc) bestAcc = batch.perCellAccuracy[i];
      if (batch.agreement[i] > bestAgree) bestAgree = batch.agreement[i];
    }
    const blob = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const tx = this.db.transaction(() => {
      const updated = this.db
        .prepare(
          `UPDATE runs SET metric_rows = metric_rows + :n,
             last_iteration = MAX(COALESCE(last_iteration, :last), :last),
             last_wall_ms = CASE WHEN :last >= COALESCE(last_iteration, :last) THEN :wall ELSE last_wall_ms END,
             best_loss = CASE WHEN :loss IS NULL THEN best_loss ELSE MIN(COALESCE(best_loss, :loss), :loss) END,
             best_per_cell_accuracy = CASE WHEN :acc IS NULL THEN best_per_cell_accuracy
               ELSE MAX(COALESCE(best_per_cell_accuracy, :acc), :acc) END,
             best_agreement = CASE WHEN :agree IS NULL THEN best_agreement
               ELSE MAX(COALESCE(best_agreement, :agree), :agree) END
           WHERE id = :id`,
        )
        .run({
          id: runId,
          n,
          last,
          wall: finiteOrNull(batch.wallMs[n - 1]),
          loss: finiteOrNull(bestLoss),
          acc: finiteOrNull(bestAcc),
          agree: finiteOrNull(bestAgree),
        });
      if (updated.changes === 0)
        throw new StoreError('not-found', `no run with id "${runId}" in ${this.file}`);
      this.db
        .prepare(
          `INSERT INTO metric_chunks (run_id, first_iteration, last_iteration, row_count, ${METRIC_COLUMNS.map(
            (c) => SQL_COLUMN[c],
          ).join(', ')}) VALUES (?, ?, ?, ?, ${METRIC_COLUMNS.map(() => '?').join(', ')})`,
        )
        .run(runId, first, last, n, ...METRIC_COLUMNS.map((c) => blob(batch[c])));
      if (n < SMALL_CHUNK_ROWS) {
        const small = (this.smallChunks.get(runId) ?? 0) + 1;
        this.smallChunks.set(runId, small);
        if (small >= COMPACT_AFTER_CHUNKS) this.compactTail(runId);
      }
    });
    tx();
  }

  /**
   * Merge the run's trailing small chunks (a flush every 0.5 s holds a few rows) into chunks of up
   * to 4096 rows, in one transaction, so long runs stay fast to read. Only the trailing ones: the
   * merged chunk must not overlap a larger chunk's iterations.
   */
  private compactTail(runId: string): void {
    this.smallChunks.set(runId, 0);
    const tail = this.db
      .prepare(
        'SELECT id, row_count FROM metric_chunks WHERE run_id = ? ORDER BY first_iteration DESC, id DESC LIMIT 1024',
      )
      .all(runId) as { id: number; row_count: number }[];
    const ids: number[] = [];
    for (const c of tail) {
      if (c.row_count >= SMALL_CHUNK_ROWS) break;
      ids.push(c.id);
    }
    if (ids.length < 2) return;
    ids.reverse();
    const select = this.db
      .prepare(
        `SELECT ${METRIC_COLUMNS.map((c) => SQL_COLUMN[c]).join(', ')} FROM metric_chunks WHERE id = ?`,
      )
      .raw(true);
    const chunks = ids.map((id) => (select.get(id) as Buffer[]).map((b) => float64View(b)));
    const total = chunks.reduce((sum, c) => sum + c[0].length, 0);
    const merged = {} as MetricColumns;
    METRIC_COLUMNS.forEach((name, k) => {
      const out = new Float64Array(total);
      let offset = 0;
      for (const c of chunks) {
        out.set(c[k], offset);
        offset += c[k].length;
      }
      merged[name] = out;
    });
    const del = this.db.prepare('DELETE FROM metric_chunks WHERE id = ?');
    for (const id of ids) del.run(id);
    const insert = this.db.prepare(
      `INSERT INTO metric_chunks (run_id, first_iteration, last_iteration, row_count, ${METRIC_COLUMNS.map(
        (c) => SQL_COLUMN[c],
      ).join(', ')}) VALUES (?, ?, ?, ?, ${METRIC_COLUMNS.map(() => '?').join(', ')})`,
    );
    for (let start = 0; start < total; start += 4096) {
      const end = Math.min(total, start + 4096);
      const its = merged.iteration.subarray(start, end);
      let first = Infinity;
      let last = -Infinity;
      for (const it of its) {
        if (it < first) first = it;
        if (it > last) last = it;
      }
      insert.run(
        runId,
        first,
        last,
        end - start,
        ...METRIC_COLUMNS.map((c) => {
          const a = merged[c].subarray(start, end);
          return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
        }),
      );
    }
  }

  /** Merge a run's trailing small metric chunks now (done by itself every 64 small writes and on writer close). */
  compactMetrics(runId: string): void {
    this.guard(() => {
      this.row(runId);
      this.db.transaction(() => this.compactTail(runId)).immediate();
    });
  }

  /** Concatenate the stored columns of a run (rows with iteration >= fromIteration). */
  private readColumns(runId: string, columns: readonly MetricColumn[], fromIteration?: number) {
    const wanted = columns.includes('iteration') ? columns : (['iteration', ...columns] as const);
    const sql = `SELECT row_count, ${wanted.map((c) => SQL_COLUMN[c]).join(', ')} FROM metric_chunks
      WHERE run_id = ? ${fromIteration !== undefined ? 'AND last_iteration >= ?' : ''} ORDER BY first_iteration, id`;
    const stmt = this.db.prepare(sql).raw(true);
    const chunks = (
      fromIteration !== undefined ? stmt.all(runId, fromIteration) : stmt.all(runId)
    ) as unknown[][];
    let total = 0;
    for (const c of chunks) total += c[0] as number;
    const out = {} as Record<MetricColumn, Float64Array>;
    for (const c of wanted) out[c] = new Float64Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      for (let k = 0; k < wanted.length; k++) out[wanted[k]].set(float64View(chunk[k + 1] as Buffer), offset);
      offset += chunk[0] as number;
    }
    if (fromIteration !== undefined) {
      let keep = 0;
      for (let i = 0; i < total; i++) if (out.iteration[i] >= fromIteration) keep++;
      if (keep < total) {
        for (const c of wanted) {
          const src = out[c];
          const dst = new Float64Array(keep);
          for (let i = 0, j = 0; i < total; i++) if (out.iteration[i] >= fromIteration) dst[j++] = src[i];
          out[c] = dst;
        }
      }
    }
    return out;
  }

  /** Downsampled series of a run: min/max buckets, at most maxPoints (default 2000) points per field. */
  metrics(runId: string, query: MetricsQuery = {}): RunMetrics {
    return this.guard(() => {
      const parsed = MetricsQuerySchema.safeParse(query);
      if (!parsed.success) throw new StoreError('invalid', `metrics query: ${describeIssues(parsed.error)}`);
      const q = parsed.data;
      this.row(runId);
      const fields = q.fields ?? METRIC_FIELDS;
      const columns = this.readColumns(runId, fields, q.fromIteration);
      const series: RunMetrics['series'] = {};
      for (const field of fields) {
        const d = downsampleMinMax(columns.iteration, columns[field], q.maxPoints);
        series[field] = { runId, field, ...d, totalRows: columns.iteration.length };
      }
      return { runId, totalRows: columns.iteration.length, series };
    });
  }

  /** One field of several runs, each downsampled to at most maxPoints points. */
  compareSeries(runIds: string[], field: MetricField, maxPoints = 2000): MetricSeries[] {
    return this.guard(() => {
      if (!METRIC_FIELDS.includes(field))
        throw new StoreError(
          'invalid',
          `"${String(field)}" is not a metric field (${METRIC_FIELDS.join(', ')})`,
        );
      return runIds.map((id) => {
        const s = this.metrics(id, { maxPoints, fields: [field] }).series[field];
        return s!;
      });
    });
  }

  /** Every stored metric row of a run, column by column (CSV/JSON export, resume bookkeeping). */
  metricColumns(runId: string): MetricColumns {
    return this.guard(() => {
      this.row(runId);
      return this.readColumns(runId, METRIC_COLUMNS);
    });
  }

  /**
   * Forget metric rows and evaluations after `iteration` (a run resumed from a checkpoint at that
   * iteration produces them again), and recompute the run's aggregates.
   */
  rewindRun(runId: string, iteration: number): void {
    this.guard(() => {
      this.row(runId);
      const tx = this.db.transaction(() => {
        const straddling = this.db
          .prepare(
            'SELECT id FROM metric_chunks WHERE run_id = ? AND first_iteration <= ? AND last_iteration > ?',
          )
          .all(runId, iteration, iteration) as { id: number }[];
        const kept: MetricColumns[] = [];
        for (const { id } of straddling) {
          const chunk = this.db
            .prepare(
              `SELECT ${METRIC_COLUMNS.map((c) => SQL_COLUMN[c]).join(', ')} FROM metric_chunks WHERE id = ?`,
            )
            .raw(true)
            .get(id) as Buffer[];
          const cols = METRIC_COLUMNS.map((_, k) => float64View(chunk[k]));
          const keep: number[] = [];
          cols[0].forEach((it, i) => {
            if (it <= iteration) keep.push(i);
          });
          const batch = {} as MetricColumns;
          METRIC_COLUMNS.forEach((c, k) => (batch[c] = Float64Array.from(keep, (i) => cols[k][i])));
          kept.push(batch);
        }
        this.db
          .prepare('DELETE FROM metric_chunks WHERE run_id = ? AND last_iteration > ?')
          .run(runId, iteration);
        this.db.prepare('DELETE FROM evaluations WHERE run_id = ? AND iteration > ?').run(runId, iteration);
        this.db
          .prepare(
            `UPDATE runs SET metric_rows = 0, last_iteration = NULL, last_wall_ms = NULL, best_loss = NULL,
             best_per_cell_accuracy = NULL, best_agreement = NULL, best_eval_accuracy = NULL, best_eval_agreement = NULL
             WHERE id = ?`,
          )
          .run(runId);
        for (const batch of kept) this.writeChunk(runId, batch);
        this.recomputeAggregates(runId);
      });
      tx.immediate();
    });
  }

  /**
   * A new run that continues another from one of its checkpoints (with a changed configuration,
   * e.g. an earlier learning-rate drop): one transaction copies the checkpoint and the history up to
   * it (metric rows, evaluations), so the child's curves start where the parent's were and a start
   * resumes from the copy. The parent is untouched. What may change is the caller's business
   * (TrainingService.fork checks the model fields).
   */
  forkRun(input: {
    parentId: string;
    /** a checkpoint id of the parent, or 'latest' / 'best' */
    checkpoint: string;
    name: string;
    config: RunConfigInput | RunConfig;
    tags?: string[];
    notes?: string;
    /** logged on the child, after "continued from run X at iteration N" */
    because?: string;
    /**
     * false when the child scores differently (another alive mask, other evaluation settings): its
     * history starts at the checkpoint (the parent's curves and evaluations were measured on other
     * cells) and the copied checkpoint keeps no metric, so no parent score stays the child's "best"
     */
    sameScoring?: boolean;
    /** the copied checkpoint's score when the child ranks checkpoints by another one (bestBy) */
    checkpointMetric?: number | null;
    /** the child's first checkpoint, when it is not a copy (a widened model) */
    checkpointData?: Uint8Array;
    /**
     * false when checkpointData holds other weights than the copied checkpoint's (an average): the
     * parent's evaluation at that iteration scored those, so it is not copied
     */
    evaluationAtCheckpoint?: boolean;
  }): RunRecord {
    return this.guard(() => {
      const parent = toRecord(this.row(input.parentId));
      let child = '';
      const tx = this.db.transaction(() => {
        const ck = this.loadCheckpoint(parent.id, input.checkpoint);
        child = this.createRun({
          name: input.name,
          config: input.config,
          parentRunId: parent.id,
          tags: input.tags ?? parent.tags,
          notes: input.notes,
        }).id;
        const sameScoring = input.sameScoring !== false;
        const cols = this.readColumns(parent.id, METRIC_COLUMNS);
        const keep: number[] = [];
        cols.iteration.forEach((it, i) => {
          if (sameScoring && it <= ck.iteration) keep.push(i);
        });
        for (let start = 0; start < keep.length; start += 4096) {
          const part = keep.slice(start, start + 4096);
          const batch = {} as MetricColumns;
          for (const c of METRIC_COLUMNS) batch[c] = Float64Array.from(part, (i) => cols[c][i]);
          this.writeChunk(child, batch);
        }
        if (sameScoring)
          this.db
            .prepare(
              `INSERT INTO evaluations (run_id, iteration, per_cell_accuracy, agreement, created_at, body)
               SELECT ?, iteration, per_cell_accuracy, agreement, created_at, body FROM evaluations
               WHERE run_id = ? AND iteration <= ? ORDER BY iteration, id`,
            )
            .run(child, parent.id, input.evaluationAtCheckpoint === false ? ck.iteration - 1 : ck.iteration);
        const metric =
          input.checkpointMetric !== undefined ? input.checkpointMetric : sameScoring ? ck.metric : null;
        const data = input.checkpointData;
        this.db
          .prepare(
            `INSERT INTO checkpoints (run_id, iteration, metric, created_at, bytes, data)
             SELECT ?, iteration, ?, created_at, COALESCE(?, bytes), COALESCE(?, data) FROM checkpoints WHERE id = ?`,
          )
          .run(
            child,
            finiteOrNull(metric),
            data ? data.byteLength : null,
            data ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : null,
            Number(ck.id),
          );
        this.recomputeAggregates(child);
        this.insertEvent(
          child,
          'info',
          `continued from run ${parent.id} ("${parent.name}") at iteration ${ck.iteration}${
            input.because ? `: ${input.because}` : ''
          }`,
        );
      });
      tx.immediate();
      return toRecord(this.row(child));
    });
  }

  private recomputeAggregates(runId: string): void {
    const cols = this.readColumns(runId, METRIC_COLUMNS);
    const n = cols.iteration.length;
    let bestLoss = Infinity;
    let bestAcc = -Infinity;
    let bestAgree = -Infinity;
    let lastIt: number | null = null;
    let wall: number | null = null;
    for (let i = 0; i < n; i++) {
      if (cols.loss[i] < bestLoss) bestLoss = cols.loss[i];
      if (cols.perCellAccuracy[i] > bestAcc) bestAcc = cols.perCellAccuracy[i];
      if (cols.agreement[i] > bestAgree) bestAgree = cols.agreement[i];
      if (lastIt === null || cols.iteration[i] >= lastIt) {
        lastIt = cols.iteration[i];
        wall = finiteOrNull(cols.wallMs[i]);
      }
    }
    const evals = this.db
      .prepare(
        'SELECT MAX(per_cell_accuracy) AS acc, MAX(agreement) AS agree FROM evaluations WHERE run_id = ?',
      )
      .get(runId) as { acc: number | null; agree: number | null };
    this.db
      .prepare(
        `UPDATE runs SET metric_rows = ?, last_iteration = ?, last_wall_ms = ?, best_loss = ?,
         best_per_cell_accuracy = ?, best_agreement = ?, best_eval_accuracy = ?, best_eval_agreement = ? WHERE id = ?`,
      )
      .run(
        n,
        lastIt,
        wall,
        finiteOrNull(bestLoss),
        finiteOrNull(bestAcc),
        finiteOrNull(bestAgree),
        evals.acc,
        evals.agree,
        runId,
      );
  }

  // ---- evaluations --------------------------------------------------------------------------

  addEvaluation(runId: string, evaluation: Evaluation): void {
    this.guard(() => {
      const parsed = EvaluationSchema.safeParse(evaluation);
      if (!parsed.success)
        throw new StoreError('invalid', `evaluation of run ${runId}: ${describeIssues(parsed.error)}`);
      this.insertEvaluation(runId, parsed.data, Date.now());
    });
  }

  private insertEvaluation(runId: string, e: Evaluation, createdAt: number): void {
    const acc = finiteOrNull(e.perCellAccuracy);
    const agree = finiteOrNull(e.agreement);
    const tx = this.db.transaction(() => {
      const updated = this.db
        .prepare(
          `UPDATE runs SET
             best_eval_accuracy = CASE WHEN :acc IS NULL THEN best_eval_accuracy
               ELSE MAX(COALESCE(best_eval_accuracy, :acc), :acc) END,
             best_eval_agreement = CASE WHEN :agree IS NULL THEN best_eval_agreement
               ELSE MAX(COALESCE(best_eval_agreement, :agree), :agree) END
           WHERE id = :id`,
        )
        .run({ id: runId, acc, agree });
      if (updated.changes === 0)
        throw new StoreError('not-found', `no run with id "${runId}" in ${this.file}`);
      this.db
        .prepare(
          'INSERT INTO evaluations (run_id, iteration, per_cell_accuracy, agreement, created_at, body) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(runId, e.iteration, acc, agree, createdAt, stringifyNumbers(e));
    });
    tx();
  }

  evaluations(runId: string): Evaluation[] {
    return this.guard(() => {
      this.row(runId);
      const rows = this.db
        .prepare('SELECT body FROM evaluations WHERE run_id = ? ORDER BY iteration, id')
        .all(runId) as { body: string }[];
      return rows.map((r) => parseNumbers(r.body) as Evaluation);
    });
  }

  latestEvaluation(runId: string): Evaluation | null {
    return this.guard(() => {
      this.row(runId);
      const row = this.db
        .prepare('SELECT body FROM evaluations WHERE run_id = ? ORDER BY iteration DESC, id DESC LIMIT 1')
        .get(runId) as { body: string } | undefined;
      return row ? (parseNumbers(row.body) as Evaluation) : null;
    });
  }

  // ---- checkpoints --------------------------------------------------------------------------

  /**
   * Store a checkpoint, then keep only the run's `config.checkpoints.keepLatest` most recently saved
   * ones and, if `keepBest`, the best by metric (ties: the later one). Returns its metadata.
   */
  saveCheckpoint(runId: string, input: SaveCheckpointInput): CheckpointMeta {
    return this.guard(() => {
      if (!Number.isInteger(input.iteration) || input.iteration < 0)
        throw new StoreError('invalid', `checkpoint iteration ${input.iteration} is not a whole number >= 0`);
      if (!(input.data instanceof Uint8Array) || input.data.byteLength === 0)
        throw new StoreError('invalid', `checkpoint data of run ${runId} must be a non-empty Uint8Array`);
      const metric = input.metric ?? null;
      if (metric !== null && typeof metric !== 'number')
        throw new StoreError('invalid', `checkpoint metric ${String(metric)} is not a number`);
      let newId = 0;
      const tx = this.db.transaction(() => {
        this.row(runId);
        newId = Number(
          this.db
            .prepare(
              'INSERT INTO checkpoints (run_id, iteration, metric, created_at, bytes, data) VALUES (?, ?, ?, ?, ?, ?)',
            )
            .run(
              runId,
              input.iteration,
              finiteOrNull(metric),
              Date.now(),
              input.data.byteLength,
              Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength),
            ).lastInsertRowid,
        );
        this.pruneCheckpoints(runId);
      });
      tx.immediate();
      return this.checkpointMetas(runId).find((c) => c.id === String(newId))!; // the newest is always kept
    });
  }

  private checkpointPolicy(runId: string) {
    const row = this.row(runId);
    const config = JSON.parse(row.config) as RunConfig;
    return { ...config.checkpoints, lowerIsBetter: lowerIsBetter(config.task) };
  }

  private checkpointMetas(runId: string): CheckpointMeta[] {
    const policy = this.checkpointPolicy(runId);
    const rows = this.db
      .prepare(
        'SELECT id, iteration, metric, created_at, bytes FROM checkpoints WHERE run_id = ? ORDER BY id DESC',
      )
      .all(runId) as {
      id: number;
      iteration: number;
      metric: number | null;
      created_at: number;
      bytes: number;
    }[];
    let best: number | null = null;
    let bestMetric = 0;
    for (const r of rows) {
      if (r.metric === null) continue;
      const better = policy.lowerIsBetter ? r.metric < bestMetric : r.metric > bestMetric;
      if (best === null || better) {
        best = r.id;
        bestMetric = r.metric;
      }
    }
    return rows.map((r) => ({
      id: String(r.id),
      runId,
      iteration: r.iteration,
      metric: r.metric,
      createdAt: iso(r.created_at)!,
      bytes: r.bytes,
      best: r.id === best,
    }));
  }

  private pruneCheckpoints(runId: string): void {
    const policy = this.checkpointPolicy(runId);
    const metas = this.checkpointMetas(runId);
    const keep = new Set(metas.slice(0, policy.keepLatest).map((m) => m.id));
    if (policy.keepBest) for (const m of metas) if (m.best) keep.add(m.id);
    const del = this.db.prepare('DELETE FROM checkpoints WHERE id = ?');
    for (const m of metas) if (!keep.has(m.id)) del.run(Number(m.id));
  }

  /** Checkpoints of a run, most recently saved first. */
  listCheckpoints(runId: string): CheckpointMeta[] {
    return this.guard(() => this.checkpointMetas(runId));
  }

  /** 'latest', 'best' (falls back to latest when no checkpoint has a metric) or a checkpoint id. */
  loadCheckpoint(runId: string, which: 'latest' | 'best' | string): Checkpoint {
    return this.guard(() => {
      const metas = this.checkpointMetas(runId);
      if (metas.length === 0) throw new StoreError('not-found', `run ${runId} has no checkpoint`);
      const meta =
        which === 'latest'
          ? metas[0]
          : which === 'best'
            ? (metas.find((m) => m.best) ?? metas[0])
            : metas.find((m) => m.id === which);
      if (!meta) throw new StoreError('not-found', `run ${runId} has no checkpoint "${which}"`);
      const row = this.db.prepare('SELECT data FROM checkpoints WHERE id = ?').get(Number(meta.id)) as {
        data: Buffer;
      };
      return { ...meta, data: new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength) };
    });
  }

  // ---- recordings ---------------------------------------------------------------------------

  saveRecording(runId: string, input: SaveRecordingInput): RecordingMeta {
    return this.guard(() => {
      const dtype = RecordingDtypeSchema.safeParse(input.dtype ?? 'uint8');
      if (!dtype.success)
        throw new StoreError('invalid', `recording dtype "${String(input.dtype)}" is not uint8 or float32`);
      for (const key of ['width', 'height', 'channels', 'frameCount'] as const) {
        const v = input[key];
        if (!Number.isInteger(v) || v < 1)
          throw new StoreError(
            'invalid',
            `recording "${input.name}": ${key} ${v} is not a whole number >= 1`,
          );
      }
      if (typeof input.name !== 'string' || input.name.trim() === '')
        throw new StoreError('invalid', 'a recording needs a name');
      const expected =
        input.width * input.height * input.channels * input.frameCount * (dtype.data === 'float32' ? 4 : 1);
      if (!(input.data instanceof Uint8Array) || input.data.byteLength !== expected)
        throw new StoreError(
          'invalid',
          `recording "${input.name}" holds ${input.data?.byteLength} bytes; ${input.frameCount} frames of ` +
            `${input.height}x${input.width}x${input.channels} ${dtype.data} need ${expected}`,
        );
      this.row(runId);
      const compressed = zlibSync(input.data, { level: 4 });
      const r = this.db
        .prepare(
          `INSERT INTO recordings (run_id, name, width, height, channels, frame_count, dtype, bytes, created_at, data)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          runId,
          input.name.trim(),
          input.width,
          input.height,
          input.channels,
          input.frameCount,
          dtype.data,
          expected,
          Date.now(),
          Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength),
        );
      return this.recordingMetas(runId).find((m) => m.id === String(r.lastInsertRowid))!;
    });
  }

  private recordingMetas(runId: string): RecordingMeta[] {
    const rows = this.db
      .prepare(
        `SELECT id, name, width, height, channels, frame_count, dtype, bytes, created_at, length(data) AS stored
         FROM recordings WHERE run_id = ? ORDER BY id`,
      )
      .all(runId) as {
      id: number;
      name: string;
      width: number;
      height: number;
      channels: number;
      frame_count: number;
      dtype: RecordingDtype;
      bytes: number;
      created_at: number;
      stored: number;
    }[];
    return rows.map((r) => ({
      id: String(r.id),
      runId,
      name: r.name,
      width: r.width,
      height: r.height,
      channels: r.channels,
      frameCount: r.frame_count,
      dtype: r.dtype,
      bytes: r.bytes,
      storedBytes: r.stored,
      createdAt: iso(r.created_at)!,
    }));
  }

  listRecordings(runId: string): RecordingMeta[] {
    return this.guard(() => {
      this.row(runId);
      return this.recordingMetas(runId);
    });
  }

  loadRecording(runId: string, recordingId: string): Recording {
    return this.guard(() => {
      const meta = this.recordingMetas(runId).find((m) => m.id === recordingId);
      if (!meta) throw new StoreError('not-found', `run ${runId} has no recording "${recordingId}"`);
      const row = this.db.prepare('SELECT data FROM recordings WHERE id = ?').get(Number(recordingId)) as {
        data: Buffer;
      };
      let data: Uint8Array;
      try {
        data = unzlibSync(row.data);
      } catch (err) {
        throw new StoreError(
          'corrupt',
          `recording ${recordingId} of run ${runId} in ${this.file} is damaged`,
          {
            cause: err,
          },
        );
      }
      if (data.byteLength !== meta.bytes)
        throw new StoreError(
          'corrupt',
          `recording ${recordingId} of run ${runId} decompressed to the wrong size`,
        );
      return { ...meta, data };
    });
  }

  deleteRecording(runId: string, recordingId: string): void {
    this.guard(() => {
      const r = this.db
        .prepare('DELETE FROM recordings WHERE run_id = ? AND id = ?')
        .run(runId, Number(recordingId));
      if (r.changes === 0)
        throw new StoreError('not-found', `run ${runId} has no recording "${recordingId}"`);
    });
  }

  // ---- events -------------------------------------------------------------------------------

  private insertEvent(runId: string | null, level: EventLevel, message: string, at = Date.now()): void {
    this.db
      .prepare('INSERT INTO events (run_id, at, level, message) VALUES (?, ?, ?, ?)')
      .run(runId, at, level, message);
  }

  /** Log an event for a run, or an app-wide one with runId null. */
  logEvent(runId: string | null, level: EventLevel, message: string): void {
    this.guard(() => {
      if (!EventLevelSchema.safeParse(level).success)
        throw new StoreError(
          'invalid',
          `event level "${String(level)}" is not one of ${EventLevelSchema.options.join(', ')}`,
        );
      if (runId !== null) this.row(runId);
      this.insertEvent(runId, level, String(message).slice(0, 10_000));
    });
  }

  /** A run's events (or the app-wide ones for null), oldest first, at most the latest `limit`. */
  events(runId: string | null, limit = 1000): RunEvent[] {
    return this.guard(() => {
      if (runId !== null) this.row(runId);
      const rows = this.db
        .prepare(
          `SELECT * FROM (SELECT id, run_id, at, level, message FROM events WHERE run_id IS ? ORDER BY id DESC LIMIT ?)
           ORDER BY id`,
        )
        .all(runId, limit) as {
        id: number;
        run_id: string | null;
        at: number;
        level: EventLevel;
        message: string;
      }[];
      return rows.map((r) => ({
        id: r.id,
        runId: r.run_id,
        at: iso(r.at)!,
        level: r.level,
        message: r.message,
      }));
    });
  }

  // ---- .ncarun export / import --------------------------------------------------------------

  /** Write one `.ncarun` file (written to a temporary name, then renamed: never half a file). */
  exportRun(
    id: string,
    file: string,
    opts: {
      checkpoints?: CheckpointChoice;
      /** rewrite each exported checkpoint (e.g. keep only the weights for a shipped model) */
      transformCheckpoint?: (data: Uint8Array) => Uint8Array;
      /** keep at most this many evenly spaced metric rows (a shipped model's curves) */
      maxMetricRows?: number;
      /** a shipped model's history: evaluations to 5 digits with thinned per-step curves, curves in f32 (compact-history.ts) */
      compactHistory?: boolean;
    } = {},
  ): { file: string; bytes: number } {
    return this.guard(() => {
      const choice = CheckpointChoiceSchema.safeParse(opts.checkpoints ?? 'best');
      if (!choice.success)
        throw new StoreError(
          'invalid',
          `checkpoints: "${String(opts.checkpoints)}" is not latest, best or all`,
        );
      const read = this.db.transaction(() => {
        const run = toRecord(this.row(id));
        let columns = this.readColumns(id, METRIC_COLUMNS);
        if (opts.maxMetricRows && columns.iteration.length > opts.maxMetricRows) {
          // evenly spaced whole rows (the last one kept): the curves keep their shape at a fraction of the size
          const n = columns.iteration.length;
          const keep = Array.from({ length: opts.maxMetricRows }, (_, i) =>
            Math.round((i * (n - 1)) / (opts.maxMetricRows! - 1)),
          );
          columns = Object.fromEntries(
            METRIC_COLUMNS.map((c) => [c, Float64Array.from(keep, (k) => columns[c][k])]),
          ) as typeof columns;
        }
        if (opts.compactHistory) columns = compactMetricColumns(columns);
        const rows = columns.iteration.length;
        const metricBytes = new Uint8Array(rows * METRIC_COLUMNS.length * 8);
        const metricView = new Float64Array(metricBytes.buffer);
        METRIC_COLUMNS.forEach((c, k) => metricView.set(columns[c], k * rows));
        const storedBodies = (
          this.db.prepare('SELECT body FROM evaluations WHERE run_id = ? ORDER BY iteration, id').all(id) as {
            body: string;
          }[]
        ).map((r) => parseNumbers(r.body));
        const evalBodies = opts.compactHistory ? compactEvaluations(storedBodies) : storedBodies;
        const events = this.events(id, 1_000_000);
        const metas = this.checkpointMetas(id);
        const chosen =
          choice.data === 'all'
            ? [...metas].reverse() // oldest first: import re-saves them in order
            : metas.length === 0
              ? []
              : [choice.data === 'best' ? (metas.find((m) => m.best) ?? metas[0]) : metas[0]];
        const files: Record<string, { data: Uint8Array; compress: boolean }> = {
          'metrics.f64': { data: metricBytes, compress: true },
          'evaluations.json': {
            data: new TextEncoder().encode(stringifyNumbers(evalBodies)),
            compress: true,
          },
          'events.json': { data: new TextEncoder().encode(JSON.stringify(events)), compress: true },
        };
        const checkpoints = chosen.map((m, i) => {
          const data = this.db.prepare('SELECT data FROM checkpoints WHERE id = ?').get(Number(m.id)) as {
            data: Buffer;
          };
          const name = `checkpoints/${i}-${m.iteration}.bin`;
          const bytes = opts.transformCheckpoint
            ? opts.transformCheckpoint(new Uint8Array(data.data))
            : data.data;
          files[name] = { data: bytes, compress: true };
          return { file: name, iteration: m.iteration, metric: m.metric, createdAt: m.createdAt };
        });
        const recordings = this.recordingMetas(id).map((m, i) => {
          const data = this.db.prepare('SELECT data FROM recordings WHERE id = ?').get(Number(m.id)) as {
            data: Buffer;
          };
          const name = `recordings/${i}.zlib`;
          files[name] = { data: data.data, compress: false };
          return {
            file: name,
            name: m.name,
            width: m.width,
            height: m.height,
            channels: m.channels,
            frameCount: m.frameCount,
            dtype: m.dtype,
            bytes: m.bytes,
            createdAt: m.createdAt,
            compression: 'zlib' as const,
          };
        });
        const manifest: Omit<Manifest, 'files'> = {
          format: NCARUN_FORMAT,
          version: NCARUN_VERSION,
          appVersion: this.appVersion,
          exportedAt: new Date().toISOString(),
          run,
          metrics: { rows, columns: [...METRIC_COLUMNS], file: 'metrics.f64' },
          evaluations: 'evaluations.json',
          events: 'events.json',
          checkpoints,
          recordings,
        };
        return packNcarun(manifest, files);
      });
      const bytes = read(); // one read transaction: a consistent snapshot while training writes on
      const target = path.resolve(file);
      const tmp = `${target}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, bytes);
        fs.renameSync(tmp, target);
      } catch (err) {
        fs.rmSync(tmp, { force: true });
        const e = toStoreError(err, target, this.busyTimeoutMs);
        if (e instanceof StoreError) throw e;
        throw new StoreError('io', `cannot write ${target}: ${(err as Error).message}`, { cause: err });
      }
      return { file: target, bytes: bytes.byteLength };
    });
  }

  /**
   * Import a `.ncarun` file: everything is verified (checksums, schemas, sizes) before one
   * transaction inserts it. A clashing id gets a new one; a missing parent run becomes null;
   * a run exported while training is imported as 'interrupted'.
   */
  importRun(file: string): RunRecord {
    return this.guard(() => {
      const source = path.resolve(file);
      let bytes: Uint8Array;
      try {
        bytes = fs.readFileSync(source);
      } catch (err) {
        throw new StoreError('cannot-open', `cannot read ${source}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      const { manifest, files } = unpackNcarun(bytes, source);
      const bad = (why: string) =>
        new StoreError('invalid-file', `${source} is not a valid .ncarun run export: ${why}`);
      const evalRaw = (() => {
        try {
          return parseNumbers(new TextDecoder().decode(files[manifest.evaluations]));
        } catch {
          throw bad(`${manifest.evaluations} is not JSON`);
        }
      })();
      const evals = EvaluationSchema.array().safeParse(evalRaw);
      if (!evals.success) throw bad(`${manifest.evaluations}: ${describeIssues(evals.error)}`);
      let eventsRaw: unknown;
      try {
        eventsRaw = JSON.parse(new TextDecoder().decode(files[manifest.events]));
      } catch {
        throw bad(`${manifest.events} is not JSON`);
      }
      const ImportedEvent = RunEventSchema;
      const events = ImportedEvent.array().safeParse(eventsRaw);
      if (!events.success) throw bad(`${manifest.events}: ${describeIssues(events.error)}`);
      for (const r of manifest.recordings) {
        let size = -1;
        try {
          size = unzlibSync(files[r.file]).byteLength;
        } catch {
          /* reported below */
        }
        const expected = r.width * r.height * r.channels * r.frameCount * (r.dtype === 'float32' ? 4 : 1);
        if (size !== r.bytes || size !== expected)
          throw bad(`recording ${r.file} does not hold ${expected} bytes`);
      }
      const rows = manifest.metrics.rows;
      const metricView = new Float64Array(files[manifest.metrics.file].slice().buffer);
      const batch = {} as MetricColumns;
      METRIC_COLUMNS.forEach((c, k) => (batch[c] = metricView.subarray(k * rows, (k + 1) * rows)));

      const run = manifest.run;
      const tx = this.db.transaction(() => {
        let id = run.id;
        while (this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(id)) id = newRunId();
        const parent =
          run.parentRunId && this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(run.parentRunId)
            ? run.parentRunId
            : null;
        const status: RunStatus =
          run.status === 'running' || run.status === 'paused' ? 'interrupted' : run.status;
        const ms = (s: string | null) => (s === null ? null : Date.parse(s));
        this.db
          .prepare(
            `INSERT INTO runs (id, name, task, dataset, config, status, status_message, backend, device, seed,
               app_version, created_at, started_at, ended_at, notes, tags, parent_run_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            run.name,
            run.config.task,
            datasetOf(run.config),
            JSON.stringify(run.config),
            status,
            run.statusMessage,
            run.backend,
            run.device,
            run.seed,
            run.appVersion,
            ms(run.createdAt) ?? Date.now(),
            ms(run.startedAt),
            status !== run.status ? (ms(run.endedAt) ?? Date.now()) : ms(run.endedAt),
            run.notes,
            JSON.stringify(run.tags),
            parent,
          );
        // Re-chunk the metrics in blocks of 4096 rows.
        for (let start = 0; start < rows; start += 4096) {
          const part = {} as MetricColumns;
          for (const c of METRIC_COLUMNS) part[c] = batch[c].subarray(start, Math.min(rows, start + 4096));
          this.writeChunk(id, part);
        }
        for (const e of evals.data) this.insertEvaluation(id, e, Date.now());
        for (const e of events.data) this.insertEvent(id, e.level, e.message, Date.parse(e.at) || Date.now());
        for (const c of manifest.checkpoints) {
          const data = files[c.file];
          this.db
            .prepare(
              'INSERT INTO checkpoints (run_id, iteration, metric, created_at, bytes, data) VALUES (?, ?, ?, ?, ?, ?)',
            )
            .run(
              id,
              c.iteration,
              c.metric,
              Date.parse(c.createdAt) || Date.now(),
              data.byteLength,
              Buffer.from(data),
            );
        }
        for (const r of manifest.recordings) {
          this.db
            .prepare(
              `INSERT INTO recordings (run_id, name, width, height, channels, frame_count, dtype, bytes, created_at, data)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              id,
              r.name,
              r.width,
              r.height,
              r.channels,
              r.frameCount,
              r.dtype,
              r.bytes,
              Date.parse(r.createdAt) || Date.now(),
              Buffer.from(files[r.file]),
            );
        }
        this.insertEvent(
          id,
          'info',
          `imported from ${path.basename(source)}${id !== run.id ? ` (was ${run.id})` : ''}`,
        );
        return id;
      });
      const id = tx.immediate();
      return toRecord(this.row(id));
    });
  }

  // ---- maintenance --------------------------------------------------------------------------

  /** PRAGMA integrity_check: ['ok'] when the file is sound. */
  integrityCheck(): string[] {
    return this.guard(() =>
      (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check),
    );
  }

  /** Flush open metric writers and close the database. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    let firstError: unknown = null;
    for (const w of [...this.writers]) {
      try {
        w.close();
      } catch (err) {
        firstError ??= err;
      }
    }
    this.closed = true;
    this.db.close();
    if (firstError) throw toStoreError(firstError, this.file, this.busyTimeoutMs);
  }
}

const RunEventSchema = z.object({
  id: z.number().optional(),
  runId: z.string().nullable().optional(),
  at: z.string(),
  level: EventLevelSchema,
  message: z.string(),
});
