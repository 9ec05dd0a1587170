/**
 * TrainingService: one worker thread per training run, glued to the run store and the UI events.
 * The engine's TrainingWorker does the training; this file decides what is kept (metrics in batches,
 * evaluations, checkpoints), what is shown (batched metric events, compact frames for watchers)
 * and how runs start, resume after a crash, pause and stop.
 */
import {
  configChanges,
  datasetIdOf,
  modelFieldChanges,
  wideningChanges,
  parseRunConfig,
  type RunConfig,
  type RunConfigInput,
} from '../../../shared/nca-config.ts';
import type { IterationMetrics, Evaluation } from '../../../shared/metrics.ts';
import type { RunRecord, RunStatus } from '../../../shared/runs.ts';
import type { FrameMeta } from '../../../shared/frames.ts';
import { encodeCellFrame } from '../../../shared/frames.ts';
import { ApiError } from '../../../shared/contract.ts';
import { TrainingWorker } from '../engine/training-worker.ts';
import { isModelOnly } from '../engine/checkpoint.ts';
import { widenCheckpoint } from '../engine/widen.ts';
import type { FrameMessage, RunStatus as WorkerStatus } from '../engine/protocol.ts';
import type { RunStore } from '../store/index.ts';
import type { MetricWriter } from '../store/index.ts';
import type { Logger } from '../../util/log.ts';

/** Where the service sends what the UI shows. EventHub satisfies it. */
export interface TrainingEventSink {
  emit(
    event: 'run.status' | 'run.metrics' | 'run.evaluation' | 'run.checkpoint' | 'run.frame',
    data: unknown,
    binary?: ArrayBuffer,
    onlyWatchersOf?: string,
  ): void;
  isWatched(runId: string): boolean;
}

export interface TrainingServiceOptions {
  store: RunStore;
  dataDir: string;
  events: TrainingEventSink;
  log: Logger;
  /** class names per dataset id (frames need the class count) */
  classNames: (datasetId: string) => Promise<string[]>;
  env?: Record<string, string>;
  /** frames per second for watchers (Settings) */
  frameRate?: () => number;
  /** data-parallel threads per run (default: the engine's choice, the CPU count) */
  threads?: number;
  /** how often batched metric events go to the UI */
  metricsEventMs?: number;
}

interface ActiveRun {
  id: string;
  config: RunConfig;
  worker: TrainingWorker;
  writer: MetricWriter;
  pendingRows: IterationMetrics[];
  flushTimer: NodeJS.Timeout;
  classCount: number;
  /** the last evaluation's score and iteration: the metric of a checkpoint of that very state */
  lastEval: { iteration: number; metric: number | null } | null;
  frameSamples: number[];
  framesOn: boolean;
  /** the channel shown as a heat map (channelView) */
  channel: number;
  ended: Promise<RunStatus>;
}

const WORKER_TO_STORE: Record<WorkerStatus, RunStatus | null> = {
  starting: null,
  running: 'running',
  paused: 'paused',
  completed: 'completed',
  stopped: 'stopped',
  diverged: 'diverged',
  failed: 'failed',
};

/**
 * What an evaluation is worth for "best checkpoint" (higher is better, except growing: lower loss).
 * The one place a score is chosen: the store keeps the best-scored checkpoint, nothing else ranks them.
 */
export function evaluationMetric(config: RunConfig, e: Evaluation): number | null {
  if (config.task === 'grow') return e.loss ?? null;
  if (config.task === 'adversarial') {
    if (!e.attackSuccess?.length) return null;
    return e.attackSuccess.reduce((s, a) => s + a.successRate, 0) / e.attackSuccess.length;
  }
  // a run stored before bestBy existed has none: accuracy, as it was then
  const score = config.checkpoints.bestBy === 'agreement' ? e.agreement : e.perCellAccuracy;
  return Number.isFinite(score) ? score : null;
}

export class TrainingService {
  private readonly active = new Map<string, ActiveRun>();

  constructor(private readonly o: TrainingServiceOptions) {}

  get activeCount(): number {
    return this.active.size;
  }

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  /** Put a run in the store (validated by the store's schema) and start it unless asked not to. */
  async create(input: {
    name: string;
    config: RunConfig;
    start?: boolean;
    tags?: string[];
    notes?: string;
  }): Promise<RunRecord> {
    if (input.config.task === 'adversarial') {
      // refuse an attack on a run that has nothing to attack before anything is stored
      const parent = this.o.store.getRun(input.config.classifierRunId);
      if (parent.task !== 'classify')
        throw new ApiError(
          'invalid_params',
          `classifierRunId: run ${parent.id} is a ${parent.task} run, not a classifier`,
        );
      if (this.o.store.listCheckpoints(parent.id).length === 0)
        throw new ApiError(
          'invalid_params',
          `classifierRunId: run ${parent.id} has no checkpoint yet; train it first`,
        );
    }
    const run = this.o.store.createRun({
      name: input.name,
      config: input.config,
      tags: input.tags,
      notes: input.notes,
    });
    if (input.start !== false) await this.start(run.id);
    return this.o.store.getRun(run.id);
  }

  /**
   * Continue a run from one of its checkpoints as a new run with a changed configuration (an earlier
   * learning-rate drop, another loss or mask, more iterations): the weights, Adam state, pool and
   * RNG carry over, the history up to the checkpoint is copied, and the parent stays as it was.
   * The model fields (MODEL_FIELDS) must not change: the checkpoint was trained with them. A
   * classifier may grow (GROWABLE_FIELDS): the fork starts from the checkpoint widened, with the new
   * units silent, a fresh Adam state and a fresh pool.
   */
  async fork(input: {
    parentId: string;
    checkpoint: string;
    config: RunConfigInput;
    name?: string;
    start?: boolean;
  }): Promise<RunRecord> {
    const parent = this.o.store.getRun(input.parentId);
    const parsed = parseRunConfig(input.config);
    if (!parsed.ok) throw new ApiError('invalid_params', parsed.errors.join('\n'));
    const config = parsed.config;
    // the parent's stored config with today's defaults, so a field added since is no change
    const reparsed = parseRunConfig(parent.config);
    const parentConfig = reparsed.ok ? reparsed.config : parent.config;
    const locked = modelFieldChanges(parentConfig, config);
    if (locked.length > 0) throw new ApiError('invalid_params', locked.join('\n'));
    const ck = this.o.store.loadCheckpoint(parent.id, input.checkpoint);
    const widened = wideningChanges(parentConfig, config).length > 0;
    let checkpointData: Uint8Array | undefined;
    if (widened && config.task === 'classify')
      try {
        checkpointData = widenCheckpoint(ck.data, config);
      } catch (err) {
        throw new ApiError('invalid_params', `cannot widen run ${parent.id}: ${(err as Error).message}`);
      }
    // a shipped or shared model holds weights only: the fork fine-tunes them from a fresh start
    const weightsOnly = widened || isModelOnly(ck.data);
    const changes = configChanges(parentConfig, config);
    // a checkpoint's metric is its evaluation score: comparable only while the scoring stays the same
    const rescored = changes.some((c) =>
      /^(aliveMode|aliveThreshold|readout|evaluation\.(images|steps|mutateSteps))$/.test(c.path),
    );
    // ranked by another score (bestBy): the same evaluations, so the copy is rescored from its own
    let checkpointMetric: number | null | undefined;
    if (!rescored && changes.some((c) => c.path === 'checkpoints.bestBy')) {
      const evaluated = this.o.store.evaluations(parent.id).find((e) => e.iteration === ck.iteration);
      checkpointMetric = evaluated ? evaluationMetric(config, evaluated) : null;
    }
    const run = this.o.store.forkRun({
      parentId: parent.id,
      checkpoint: ck.id,
      name: input.name ?? `${parent.name} (from ${ck.iteration.toLocaleString('en-US')})`,
      config,
      because:
        (changes.length
          ? `changed ${changes.map((c) => `${c.path} ${c.from} → ${c.to}`).join(', ')}`
          : 'same configuration') +
        (widened
          ? '; the model was widened (its new units start silent, so it computes what it did): Adam state and pool start fresh'
          : weightsOnly
            ? '; weights only (a shared model): Adam state and pool start fresh'
            : ''),
      sameScoring: !rescored,
      checkpointMetric,
      checkpointData,
    });
    if (input.start !== false) await this.start(run.id);
    return this.o.store.getRun(run.id);
  }

  /**
   * Start a queued run, or resume a stopped / interrupted / failed / diverged one from its latest
   * checkpoint (metrics after that checkpoint are dropped so the curves stay consistent).
   */
  async start(id: string): Promise<void> {
    if (this.active.has(id)) throw new ApiError('conflict', `run ${id} is already training`);
    const run = this.o.store.getRun(id);
    const done = this.o.store.getSummary(id).lastIteration ?? 0;
    if (run.status === 'completed' && done >= run.config.iterations)
      throw new ApiError(
        'conflict',
        `run ${id} has completed its ${run.config.iterations} iterations; raise them (nca train --resume ${id} --iterations N) or start a new run to train further`,
      );
    const config = run.config;
    const checkpoints = this.o.store.listCheckpoints(id);
    let checkpoint: Uint8Array | undefined;
    if (checkpoints.length > 0) {
      const latest = this.o.store.loadCheckpoint(id, 'latest');
      const weightsOnly = isModelOnly(latest.data);
      // an imported model stays as shipped; a fork of it (its parent set) fine-tunes the weights
      if (weightsOnly && run.parentRunId === null)
        throw new ApiError(
          'conflict',
          `run ${id} holds weights only (a shared or pretrained model): it opens in the playground but cannot resume training; fork it to fine-tune (nca train --fork ${id})`,
        );
      checkpoint = latest.data;
      this.o.store.rewindRun(id, latest.iteration);
      this.o.store.logEvent(
        id,
        'info',
        weightsOnly
          ? `starting from the weights of the checkpoint at iteration ${latest.iteration} (Adam state and pool start fresh)`
          : `resuming from the checkpoint at iteration ${latest.iteration}`,
      );
    }
    let classifierCheckpoint: Uint8Array | undefined;
    if (config.task === 'adversarial')
      classifierCheckpoint = this.o.store.loadCheckpoint(config.classifierRunId, 'best').data;
    const datasetId = datasetIdOf(config);
    const classNames = datasetId && config.task !== 'grow' ? await this.o.classNames(datasetId) : [];

    let worker: TrainingWorker;
    try {
      worker = TrainingWorker.start({
        config,
        dataset: { dataDir: this.o.dataDir, env: this.o.env },
        checkpoint,
        classifierCheckpoint,
        threads: this.o.threads,
        frames: { samples: [], maxPerSecond: 0 },
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.setStatus(id, 'failed', message);
      throw new ApiError('invalid_params', message);
    }
    this.setStatus(id, 'running');
    const writer = this.o.store.metricWriter(id, {
      onError: (err) => this.o.log.error(`run ${id}: could not save metrics: ${err.message}`),
    });
    let resolveEnded!: (s: RunStatus) => void;
    const a: ActiveRun = {
      id,
      config,
      worker,
      writer,
      pendingRows: [],
      flushTimer: setInterval(() => this.flushMetricEvents(a), this.o.metricsEventMs ?? 250),
      classCount: classNames.length || 10,
      lastEval: null,
      frameSamples: [],
      framesOn: false,
      channel: config.task === 'grow' ? 3 : 1,
      ended: new Promise((r) => (resolveEnded = r)),
    };
    this.active.set(id, a);

    worker.on('backend', (b) => {
      this.o.store.setBackend(id, b.backend, b.device);
      this.o.store.logEvent(
        id,
        'info',
        `training on ${b.backend} (${b.device}), ${b.threads} thread(s), ${b.paramCount} parameters`,
      );
    });
    worker.on('metrics', (m) => {
      writer.push(m);
      a.pendingRows.push(m);
    });
    worker.on('evaluation', (e) => {
      a.lastEval = { iteration: e.iteration, metric: evaluationMetric(config, e) };
      this.guard(id, () => this.o.store.addEvaluation(id, e));
      this.o.events.emit('run.evaluation', { runId: id, evaluation: e });
    });
    worker.on('checkpoint', (c) => {
      if (c.bytes.byteLength === 0) return;
      this.guard(id, () => {
        // metrics up to the checkpoint first: a resume from it must find no gap before it
        writer.flush();
        const meta = this.o.store.saveCheckpoint(id, {
          iteration: c.iteration,
          // only the evaluated state has a score: a later checkpoint carrying it would tie with it
          // and, the later winning ties, be shipped as "best" unevaluated
          metric: a.lastEval?.iteration === c.iteration ? a.lastEval.metric : null,
          data: c.bytes,
        });
        this.o.events.emit('run.checkpoint', { runId: id, checkpoint: meta, reason: c.reason });
      });
    });
    worker.on('frame', (f) => this.forwardFrame(a, f));
    worker.on('log', (line) => this.o.store.logEvent(id, 'debug', line));
    worker.on('status', (status, message) => {
      const mapped = WORKER_TO_STORE[status];
      if (!mapped) return;
      const ended = mapped !== 'running' && mapped !== 'paused';
      if (ended) {
        this.finish(a, mapped, message);
        resolveEnded(mapped);
      } else this.setStatus(id, mapped, message);
    });
  }

  private finish(a: ActiveRun, status: RunStatus, message?: string): void {
    clearInterval(a.flushTimer);
    this.flushMetricEvents(a);
    try {
      a.writer.close();
    } catch (err) {
      this.o.log.error(`run ${a.id}: could not flush its last metrics: ${(err as Error).message}`);
    }
    this.active.delete(a.id);
    this.setStatus(a.id, status, message);
  }

  private setStatus(id: string, status: RunStatus, message?: string): void {
    this.guard(id, () => this.o.store.setStatus(id, status, message));
    this.o.events.emit('run.status', { runId: id, status, message: message ?? null });
  }

  /** A store failure (full disk, say) is logged and shown; it never takes the process down. */
  private guard(id: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.o.log.error(`run ${id}: ${message}`);
    }
  }

  private flushMetricEvents(a: ActiveRun): void {
    if (a.pendingRows.length === 0) return;
    const rows = a.pendingRows;
    a.pendingRows = [];
    this.o.events.emit('run.metrics', { runId: a.id, rows });
  }

  private forwardFrame(a: ActiveRun, f: Omit<FrameMessage, 'type'>): void {
    if (!this.o.events.isWatched(a.id)) {
      // nobody looks any more: stop the worker from making frames
      if (a.framesOn) {
        a.framesOn = false;
        a.worker.setFrames({ samples: a.frameSamples, maxPerSecond: 0 });
      }
      return;
    }
    const task = a.config.task;
    const state = new Float32Array(f.buffer);
    const bytes = encodeCellFrame(state, {
      task,
      samples: f.samples.length,
      height: f.height,
      width: f.width,
      channels: f.channels,
      classCount: a.classCount,
      aliveThreshold: task === 'grow' ? undefined : a.config.aliveThreshold,
      channel: a.channel,
    });
    const meta: FrameMeta = {
      source: a.id,
      task,
      iteration: f.iteration,
      step: f.step,
      samples: f.samples.length,
      height: f.height,
      width: f.width,
      channel: a.channel,
    };
    this.o.events.emit('run.frame', meta, bytes.buffer as ArrayBuffer, a.id);
  }

  /** Called when a client starts or stops watching a run's cells. */
  updateFrames(id: string, samples: number, channel?: number): void {
    const a = this.active.get(id);
    if (!a) return;
    if (channel !== undefined) {
      const channels = a.config.channels;
      if (channel >= channels)
        throw new ApiError(
          'invalid_params',
          `channel: the run has ${channels} channels (0..${channels - 1})`,
        );
      a.channel = channel;
    }
    const watched = this.o.events.isWatched(id);
    a.frameSamples = Array.from({ length: samples }, (_, i) => i);
    a.framesOn = watched;
    a.worker.setFrames({ samples: a.frameSamples, maxPerSecond: watched ? (this.o.frameRate?.() ?? 30) : 0 });
  }

  private activeOrThrow(id: string): ActiveRun {
    const a = this.active.get(id);
    if (!a) throw new ApiError('conflict', `run ${id} is not training right now`);
    return a;
  }

  pause(id: string): void {
    this.activeOrThrow(id).worker.pause();
  }

  resume(id: string): void {
    this.activeOrThrow(id).worker.resume();
  }

  /** Stop after the current iteration; the worker saves a final checkpoint first. */
  async stop(id: string): Promise<RunStatus> {
    const a = this.activeOrThrow(id);
    void a.worker.stop();
    return a.ended;
  }

  async checkpointNow(id: string): Promise<number> {
    const c = await this.activeOrThrow(id).worker.checkpointNow();
    return c.iteration;
  }

  /** Resolves with the final status when the run ends (completed, stopped, diverged or failed). */
  ended(id: string): Promise<RunStatus> {
    return this.activeOrThrow(id).ended;
  }

  async delete(id: string): Promise<void> {
    if (this.active.has(id)) await this.stop(id);
    this.o.store.deleteRun(id);
  }

  /** App shutdown: stop every run cleanly (each keeps a final checkpoint and resumes later). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.active.keys()].map((id) => this.stop(id).catch(() => undefined)));
  }
}
