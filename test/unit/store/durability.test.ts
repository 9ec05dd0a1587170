import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { RunStore, StoreError } from '../../../src/main/services/store/index.ts';
import { classifyConfig, metricRow, tempDir } from './helpers.ts';

const child = fileURLToPath(new URL('./fixtures/store-child.ts', import.meta.url));
const dirs: string[] = [];
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

function startChild(
  args: string[],
  onLine: (line: string) => void,
): { proc: ChildProcess; exited: Promise<void> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(proc);
  let buffered = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (text: string) => {
    buffered += text;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = new Promise<void>((resolve, reject) =>
    proc.on('exit', (code, signal) =>
      code === 0 || signal === 'SIGKILL'
        ? resolve()
        : reject(new Error(`child exited ${code ?? signal}: ${stderr}`)),
    ),
  );
  return { proc, exited };
}

function storeError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error('expected a StoreError');
}

describe('durability with real processes', () => {
  it('survives SIGKILL mid-run: sound file, at most one batch lost, interrupted, checkpoint loads', async () => {
    const dir = dataDir();
    let runId = '';
    let pushed = -1;
    let ckpt = -1;
    let ckpts = 0;
    let killed!: () => void;
    const done = new Promise<void>((r) => (killed = r));
    const { proc, exited } = startChild(['train', dir], (line) => {
      const [word, value] = line.split(' ');
      if (word === 'run') runId = value;
      if (word === 'pushed') pushed = Number(value);
      if (word === 'ckpt') {
        ckpt = Number(value);
        if (++ckpts === 4) {
          proc.kill('SIGKILL');
          killed();
        }
      }
    });
    await Promise.race([done, exited]);
    await exited;
    expect(proc.signalCode).toBe('SIGKILL');

    const db = new Database(path.join(dir, 'runs.sqlite'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();

    const store = RunStore.open(dir);
    try {
      expect(store.integrityCheck()).toEqual(['ok']);
      const run = store.getRun(runId);
      expect(run.status).toBe('interrupted');
      expect(store.events(runId).at(-1)!.message).toContain('running -> interrupted');
      const cols = store.metricColumns(runId);
      const stored = cols.iteration.length;
      // Rows form a gapless prefix 0..stored-1, and only the unflushed tail (< 4 x batchRows) is missing.
      expect(Array.from(cols.iteration)).toEqual(Array.from({ length: stored }, (_, i) => i));
      expect(stored).toBeGreaterThan(pushed - 200);
      expect(store.getSummary(runId).lastIteration).toBe(stored - 1);
      const latest = store.loadCheckpoint(runId, 'latest');
      expect(latest.iteration).toBeGreaterThanOrEqual(ckpt);
      const words = new Uint32Array(latest.data.slice().buffer);
      expect(words.length).toBe(16 * 1024);
      expect(words.every((w) => w === latest.iteration)).toBe(true);
      expect(store.listCheckpoints(runId).length).toBeLessThanOrEqual(3);
      // It resumes: back to running, metrics rewound to the checkpoint, writes continue.
      store.rewindRun(runId, latest.iteration);
      store.setStatus(runId, 'running', 'resumed');
      const w = store.metricWriter(runId);
      w.push(metricRow(latest.iteration + 1));
      w.close();
      expect(store.getSummary(runId).lastIteration).toBe(latest.iteration + 1);
    } finally {
      store.close();
    }
  });

  it('two processes writing the same data directory at once do not corrupt it', async () => {
    const dir = dataDir();
    const ids: string[] = [];
    const rows = 1500;
    const children = [0, 1].map(() =>
      startChild(['concurrent', dir, String(rows)], (line) => {
        if (line.startsWith('done ')) ids.push(line.slice(5));
      }),
    );
    await Promise.all(children.map((c) => c.exited));
    expect(ids.length).toBe(2);
    const store = RunStore.open(dir);
    try {
      expect(store.integrityCheck()).toEqual(['ok']);
      for (const id of ids) {
        // Neither process marked the other's live run interrupted.
        expect(store.getRun(id).status).toBe('completed');
        expect(store.events(id).some((e) => e.message.includes('interrupted'))).toBe(false);
        const cols = store.metricColumns(id);
        expect(cols.iteration.length).toBe(rows);
        expect(cols.iteration[rows - 1]).toBe(rows - 1);
        expect(store.listCheckpoints(id).length).toBeGreaterThan(0);
      }
    } finally {
      store.close();
    }
  });

  it('does not mark a run interrupted while the process training it is alive', () => {
    const dir = dataDir();
    const first = RunStore.open(dir);
    const run = first.createRun({ name: 'live', config: classifyConfig() });
    first.setStatus(run.id, 'running');
    const second = RunStore.open(dir);
    expect(second.getRun(run.id).status).toBe('running');
    second.close();
    first.close();
  });

  it.runIf(process.platform === 'linux')(
    'marks a run interrupted when its PID now belongs to another process',
    () => {
      const dir = dataDir();
      const first = RunStore.open(dir);
      const run = first.createRun({ name: 'reused pid', config: classifyConfig() });
      first.setStatus(run.id, 'running');
      const owner = (
        first.database.prepare('SELECT owner FROM runs WHERE id = ?').get(run.id) as { owner: string }
      ).owner;
      const [host, pid, start] = owner.split('|');
      expect([host, Number(pid)]).toEqual([os.hostname(), process.pid]);
      expect(start).toMatch(/^\d+$/);
      first.database.prepare('UPDATE runs SET owner = ? WHERE id = ?').run(`${host}|${pid}|1`, run.id);
      first.close();
      const second = RunStore.open(dir);
      expect(second.getRun(run.id).status).toBe('interrupted');
      second.close();
    },
  );
});

describe('clear errors', () => {
  it('a locked database: "locked", after the busy timeout', () => {
    const dir = dataDir();
    const store = RunStore.open(dir, { busyTimeoutMs: 100 });
    const other = new Database(path.join(dir, 'runs.sqlite'));
    other.exec('BEGIN EXCLUSIVE');
    try {
      const e = storeError(() => store.createRun({ name: 'x', config: classifyConfig() }));
      expect(e.code).toBe('locked');
      expect(e.message).toMatch(/runs\.sqlite is locked by another process.*100 ms/);
      expect(store.listRuns()).toEqual([]); // reads still work under WAL
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(store.createRun({ name: 'x', config: classifyConfig() }).status).toBe('queued');
    store.close();
  });

  it('a read-only store: reads work, writes say "read-only"', () => {
    const dir = dataDir();
    const rw = RunStore.open(dir);
    const run = rw.createRun({ name: 'x', config: classifyConfig() });
    rw.close();
    const ro = RunStore.open(dir, { readonly: true });
    expect(ro.getRun(run.id).name).toBe('x');
    const e = storeError(() => ro.updateRun(run.id, { name: 'y' }));
    expect(e.code).toBe('readonly');
    expect(e.message).toContain('runs.sqlite is read-only');
    ro.close();
    expect(storeError(() => RunStore.open(dataDir(), { readonly: true })).message).toContain(
      'there is no run store',
    );
  });

  it.skipIf(process.getuid?.() === 0)('a database file without write permission: "readonly"', () => {
    const dir = dataDir();
    RunStore.open(dir).close();
    for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o444);
    fs.chmodSync(dir, 0o555);
    try {
      const e = storeError(() => {
        const s = RunStore.open(dir);
        try {
          s.createRun({ name: 'x', config: classifyConfig() });
        } finally {
          s.close();
        }
      });
      expect(['readonly', 'cannot-open']).toContain(e.code);
    } finally {
      fs.chmodSync(dir, 0o755);
    }
  });

  it('a corrupt file: "corrupt", naming the file, and nothing overwritten', () => {
    const dir = dataDir();
    const file = path.join(dir, 'runs.sqlite');
    fs.writeFileSync(file, Buffer.alloc(8192, 0x5a));
    const e = storeError(() => RunStore.open(dir));
    expect(e.code).toBe('corrupt');
    expect(e.message).toContain(file);
    expect(e.message).toContain('move it aside');
    expect(fs.readFileSync(file).every((b) => b === 0x5a)).toBe(true);
  });

  it('a full disk: "full" errors, and the metric writer keeps its rows until space returns', async () => {
    const dir = dataDir();
    const store = RunStore.open(dir);
    const run = store.createRun({ name: 'x', config: classifyConfig() });
    const pages = store.database.pragma('page_count', { simple: true }) as number;
    store.database.pragma(`max_page_count = ${pages + 2}`);
    const e = storeError(() => store.saveCheckpoint(run.id, { iteration: 1, data: new Uint8Array(1 << 20) }));
    expect(e.code).toBe('full');
    expect(e.message).toContain('disk is full');
    expect(store.listCheckpoints(run.id)).toEqual([]);

    const errors: Error[] = [];
    const w = store.metricWriter(run.id, {
      intervalMs: 20,
      batchRows: 100_000,
      onError: (err) => errors.push(err),
    });
    for (let i = 0; i < 3000; i++) w.push(metricRow(i));
    await new Promise((r) => setTimeout(r, 100));
    expect(errors.length).toBeGreaterThan(0);
    expect((errors[0] as StoreError).code).toBe('full');
    expect(w.pending).toBe(3000);
    expect(() => w.push(metricRow(3000))).toThrow(/disk is full/); // the training loop hears about it
    store.database.pragma('max_page_count = 1073741823');
    w.push(metricRow(3000));
    w.close();
    expect(store.metricColumns(run.id).iteration.length).toBe(3001);
    store.close();
  });
});
