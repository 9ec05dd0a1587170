import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStore, StoreError } from '../../../src/main/services/store/index.ts';
import { classifyConfig, evaluation, growConfig, metricRow, tempDir } from './helpers.ts';

let dir: string;
let store: RunStore;
beforeEach(() => {
  dir = tempDir();
  store = RunStore.open(dir);
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function storeError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error('expected a StoreError');
}

describe('runs', () => {
  it('creates a run with derived fields, in WAL mode with foreign keys', () => {
    const run = store.createRun({
      name: ' first ',
      config: classifyConfig({ seed: 7, dataset: 'kmnist' }),
      tags: ['a', 'a', 'b'],
    });
    expect(run.id).toMatch(/^[0-9a-z]{8}$/);
    expect(run).toMatchObject({
      name: 'first',
      task: 'classify',
      dataset: 'kmnist',
      seed: 7,
      status: 'queued',
    });
    expect(run.tags).toEqual(['a', 'b']);
    expect(run.config.task === 'classify' && run.config.channels).toBe(20); // defaults applied
    expect(run.appVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(Date.parse(run.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(store.getRun(run.id)).toEqual(run);
    expect(fs.existsSync(path.join(dir, 'runs.sqlite'))).toBe(true);
    expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.database.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('derives the dataset of growing runs from their target', () => {
    expect(store.createRun({ name: 'g', config: growConfig() }).dataset).toBe('fashion-mnist');
    const img = store.createRun({
      name: 'g2',
      config: growConfig({ target: { kind: 'image', path: '/x/lizard.png' } }),
    });
    expect(img.dataset).toBe('image:lizard.png');
  });

  it('rejects bad input with errors naming the field', () => {
    const e1 = storeError(() => store.createRun({ name: 'x', config: classifyConfig({ channels: 1 }) }));
    expect(e1.code).toBe('invalid');
    expect(e1.message).toContain('channels');
    expect(storeError(() => store.createRun({ name: '', config: classifyConfig() })).message).toContain(
      'run name',
    );
    expect(
      storeError(() => store.createRun({ name: 'x', config: classifyConfig(), tags: ['a,b'] })).message,
    ).toContain('tags');
    const e2 = storeError(() => store.getRun('nope'));
    expect(e2.code).toBe('not-found');
    expect(e2.message).toContain('"nope"');
  });

  it('links adversarial runs to their classifier and unlinks on delete', () => {
    const cls = store.createRun({ name: 'cls', config: classifyConfig() });
    const adv = store.createRun({
      name: 'adv',
      config: { ...classifyConfig(), task: 'adversarial', classifierRunId: cls.id } as never,
    });
    expect(adv.parentRunId).toBe(cls.id);
    expect(
      storeError(() =>
        store.createRun({
          name: 'adv2',
          config: { ...classifyConfig(), task: 'adversarial', classifierRunId: 'gone' } as never,
        }),
      ).message,
    ).toContain('parent run "gone"');
    store.deleteRun(cls.id);
    expect(store.getRun(adv.id).parentRunId).toBeNull();
  });

  it('walks the lifecycle, setting startedAt/endedAt, logging events and refusing nonsense', () => {
    const run = store.createRun({ name: 'r', config: classifyConfig() });
    expect(storeError(() => store.setStatus(run.id, 'completed')).message).toContain(
      'cannot go from queued to completed',
    );
    const running = store.setStatus(run.id, 'running');
    expect(running.startedAt).not.toBeNull();
    expect(running.endedAt).toBeNull();
    expect(store.setStatus(run.id, 'paused').endedAt).toBeNull();
    store.setStatus(run.id, 'running');
    const failed = store.setStatus(run.id, 'failed', 'NaN loss');
    expect(failed.statusMessage).toBe('NaN loss');
    expect(failed.endedAt).not.toBeNull();
    const resumed = store.setStatus(run.id, 'running');
    expect(resumed.startedAt).toBe(running.startedAt);
    expect(resumed.endedAt).toBeNull();
    const events = store.events(run.id);
    expect(events.map((e) => e.message)).toEqual([
      'status queued -> running',
      'status running -> paused',
      'status paused -> running',
      'status running -> failed: NaN loss',
      'status failed -> running',
    ]);
    expect(events[3].level).toBe('error');
    expect(storeError(() => store.setStatus(run.id, 'bogus' as never)).code).toBe('invalid');
    expect(storeError(() => store.deleteRun(run.id)).message).toContain('stop it before deleting');
    store.setStatus(run.id, 'stopped');
    store.deleteRun(run.id);
    expect(storeError(() => store.getRun(run.id)).code).toBe('not-found');
  });

  it('updates name, tags, notes and backend', () => {
    const run = store.createRun({ name: 'r', config: classifyConfig() });
    const u = store.updateRun(run.id, { name: 'renamed', tags: ['x'], notes: 'hello' });
    expect(u).toMatchObject({ name: 'renamed', tags: ['x'], notes: 'hello' });
    expect(store.setBackend(run.id, 'wasm', 'cpu (2 threads)')).toMatchObject({
      backend: 'wasm',
      device: 'cpu (2 threads)',
    });
    expect(storeError(() => store.updateRun(run.id, { name: '' })).message).toContain('name');
    expect(storeError(() => store.setBackend('nope', 'wasm', 'x')).code).toBe('not-found');
  });

  it('lists with search, filters and sorts (missing values last)', () => {
    const a = store.createRun({ name: 'Alpha', config: classifyConfig(), tags: ['paper'] });
    const b = store.createRun({
      name: 'beta',
      config: classifyConfig({ dataset: 'kmnist' }),
      notes: 'try 50% lr',
    });
    const c = store.createRun({ name: 'gamma', config: growConfig(), tags: ['paper', 'lizard'] });
    const wa = store.metricWriter(a.id);
    wa.push(metricRow(1, { perCellAccuracy: 0.5 }));
    wa.close();
    const wb = store.metricWriter(b.id);
    wb.push(metricRow(1, { perCellAccuracy: 0.9, loss: 0.01 }));
    wb.close();
    store.setStatus(c.id, 'running');

    const ids = (f: Parameters<RunStore['listRuns']>[0]) => store.listRuns(f).map((r) => r.id);
    expect(ids({})).toEqual([c.id, b.id, a.id]);
    expect(ids({ search: 'ALP' })).toEqual([a.id]);
    expect(ids({ search: '50%' })).toEqual([b.id]);
    expect(ids({ search: '%' })).toEqual([b.id]); // % is literal, not a wildcard
    expect(ids({ tag: 'paper' }).sort()).toEqual([a.id, c.id].sort());
    expect(ids({ tag: 'pap' })).toEqual([]);
    expect(ids({ task: 'grow' })).toEqual([c.id]);
    expect(ids({ dataset: 'kmnist' })).toEqual([b.id]);
    expect(ids({ status: 'running' })).toEqual([c.id]);
    expect(ids({ status: ['queued', 'running'] }).length).toBe(3);
    expect(ids({ sort: 'perCellAccuracy' })).toEqual([b.id, a.id, c.id]);
    expect(ids({ sort: 'perCellAccuracy', order: 'asc' })).toEqual([a.id, b.id, c.id]);
    expect(ids({ sort: 'loss' })).toEqual([b.id, a.id, c.id]);
    expect(ids({ sort: 'name' })).toEqual([a.id, b.id, c.id]);
    const summary = store.listRuns({ search: 'beta' })[0];
    expect(summary).toMatchObject({
      metricRows: 1,
      lastIteration: 1,
      bestPerCellAccuracy: 0.9,
      bestLoss: 0.01,
      durationMs: 20,
    });
    expect(storeError(() => store.listRuns({ status: 'nope' as never })).message).toContain('status');
  });
});

describe('metrics', () => {
  it('batches writes: nothing until a flush, one chunk per flush, aggregates kept', () => {
    const run = store.createRun({ name: 'm', config: classifyConfig() });
    const w = store.metricWriter(run.id, { intervalMs: 60_000, batchRows: 1000 });
    for (let i = 0; i < 10; i++) w.push(metricRow(i));
    expect(w.pending).toBe(10);
    expect(store.metrics(run.id).totalRows).toBe(0);
    w.flush();
    expect(w.pending).toBe(0);
    for (let i = 10; i < 20; i++) w.push(metricRow(i, { perCellAccuracy: NaN }));
    w.flush();
    const chunks = () => store.database.prepare('SELECT COUNT(*) AS n FROM metric_chunks').get();
    expect(chunks()).toEqual({ n: 2 });
    w.close();
    expect(chunks()).toEqual({ n: 1 }); // small chunks merged on close
    const m = store.metrics(run.id);
    expect(m.totalRows).toBe(20);
    expect(Array.from(m.series.loss!.iterations)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(m.series.loss!.method).toBe('all');
    expect(m.series.perCellAccuracy!.values.length).toBe(10); // NaN rows skipped
    const s = store.getSummary(run.id);
    expect(s).toMatchObject({ metricRows: 20, lastIteration: 19, bestLoss: 1 / 20 });
    expect(s.bestPerCellAccuracy).toBeCloseTo(9 / 19);
    expect(() => w.push(metricRow(99))).toThrow(/closed/);
  });

  it('merges the small chunks of frequent flushes while a run trains, keeping every row in order', () => {
    const run = store.createRun({ name: 'm', config: classifyConfig() });
    const big = store.metricWriter(run.id);
    for (let i = 0; i < 2000; i++) big.push(metricRow(i)); // two 1024-row chunks stay as they are
    big.close();
    const w = store.metricWriter(run.id, { intervalMs: 60_000, batchRows: 1000 });
    for (let i = 2000; i < 3000; i++) {
      w.push(metricRow(i));
      if (i % 5 === 4) w.flush(); // 200 small flushes
    }
    const sizes = () =>
      (
        store.database
          .prepare('SELECT row_count FROM metric_chunks WHERE run_id = ? ORDER BY first_iteration')
          .all(run.id) as { row_count: number }[]
      ).map((r) => r.row_count);
    expect(sizes().length).toBeLessThan(2 + 64);
    w.close();
    expect(sizes().length).toBeLessThanOrEqual(4);
    expect(sizes()[0]).toBe(1024); // a full chunk before the small ones is left alone
    expect(sizes().reduce((a, b) => a + b)).toBe(3000);
    const cols = store.metricColumns(run.id);
    expect(Array.from(cols.iteration)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(cols.loss[2500]).toBe(metricRow(2500).loss);
  });

  it('flushes on its own after the interval and after batchRows rows', async () => {
    const run = store.createRun({ name: 'm', config: classifyConfig() });
    const w = store.metricWriter(run.id, { intervalMs: 50, batchRows: 1000 });
    w.push(metricRow(0));
    await new Promise((r) => setTimeout(r, 200));
    expect(store.metrics(run.id).totalRows).toBe(1);
    const w2 = store.metricWriter(run.id, { intervalMs: 60_000, batchRows: 4 });
    for (let i = 1; i <= 4; i++) w2.push(metricRow(i));
    expect(w2.pending).toBe(4);
    await new Promise((r) => setImmediate(r));
    expect(w2.pending).toBe(0);
    // A loop that never yields is written synchronously at 4 x batchRows.
    for (let i = 5; i < 21; i++) w2.push(metricRow(i));
    expect(w2.pending).toBe(0);
    w.close();
    w2.close();
    expect(store.metrics(run.id).totalRows).toBe(21);
  });

  it('downsamples to at most maxPoints with min/max buckets that keep spikes', () => {
    const run = store.createRun({ name: 'm', config: classifyConfig() });
    const w = store.metricWriter(run.id, { batchRows: 700 });
    for (let i = 0; i < 10_000; i++)
      w.push(metricRow(i, { gradNorm: i === 7777 ? 1e6 : i === 3333 ? -5 : 1 }));
    w.close();
    const m = store.metrics(run.id, { maxPoints: 100, fields: ['gradNorm', 'loss'] });
    expect(Object.keys(m.series).sort()).toEqual(['gradNorm', 'loss']);
    const g = m.series.gradNorm!;
    expect(g.method).toBe('minmax');
    expect(g.values.length).toBeLessThanOrEqual(100);
    expect(g.values.length).toBeGreaterThan(50);
    expect(Math.max(...g.values)).toBe(1e6);
    expect(Array.from(g.iterations)).toContain(7777);
    expect(Math.min(...g.values)).toBe(-5);
    const its = Array.from(g.iterations);
    expect(its).toEqual([...its].sort((a, b) => a - b));
    expect(m.series.loss!.values[0]).toBe(1); // first bucket keeps the max at iteration 0
    const recent = store.metrics(run.id, { fromIteration: 9990, fields: ['loss'] });
    expect(recent.totalRows).toBe(10);
    expect(recent.series.loss!.iterations[0]).toBe(9990);
  });

  it('compares several runs on one field', () => {
    const ids = [0, 1, 2].map((k) => {
      const run = store.createRun({ name: `r${k}`, config: classifyConfig() });
      const w = store.metricWriter(run.id);
      for (let i = 0; i < 3000; i++) w.push(metricRow(i, { loss: k + i / 3000 }));
      w.close();
      return run.id;
    });
    const series = store.compareSeries(ids, 'loss', 200);
    expect(series.map((s) => s.runId)).toEqual(ids);
    for (const [k, s] of series.entries()) {
      expect(s.values.length).toBeLessThanOrEqual(200);
      expect(s.totalRows).toBe(3000);
      expect(s.values[0]).toBe(k);
    }
    expect(storeError(() => store.compareSeries(ids, 'bogus' as never)).code).toBe('invalid');
  });

  it('rewinds metrics and evaluations for a resume from a checkpoint', () => {
    const run = store.createRun({ name: 'r', config: classifyConfig() });
    const w = store.metricWriter(run.id, { batchRows: 30 });
    for (let i = 0; i < 100; i++) w.push(metricRow(i));
    w.close();
    store.addEvaluation(run.id, evaluation(50, 0.5));
    store.addEvaluation(run.id, evaluation(90, 0.9));
    store.rewindRun(run.id, 60);
    const cols = store.metricColumns(run.id);
    expect(cols.iteration.length).toBe(61);
    expect(cols.iteration[60]).toBe(60);
    expect(store.evaluations(run.id).map((e) => e.iteration)).toEqual([50]);
    expect(store.getSummary(run.id)).toMatchObject({
      lastIteration: 60,
      metricRows: 61,
      bestEvalAccuracy: 0.5,
      durationMs: 1200,
    });
  });

  it('forks a run from a checkpoint: the child gets the checkpoint and the history up to it, the parent keeps all', () => {
    const parent = store.createRun({ name: 'parent', config: classifyConfig(), tags: ['fashion'] });
    const w = store.metricWriter(parent.id, { batchRows: 30 });
    for (let i = 1; i <= 100; i++) w.push(metricRow(i));
    w.close();
    store.addEvaluation(parent.id, evaluation(50, 0.5));
    store.addEvaluation(parent.id, evaluation(90, 0.9));
    const data = (n: number) => new Uint8Array([n, n, n]);
    const at60 = store.saveCheckpoint(parent.id, { iteration: 60, metric: 0.6, data: data(60) });
    store.saveCheckpoint(parent.id, { iteration: 100, metric: 0.7, data: data(100) });

    const child = store.forkRun({
      parentId: parent.id,
      checkpoint: at60.id,
      name: 'child',
      config: classifyConfig({ optimizer: { lr: 1e-4 } }),
      because: 'changed optimizer.lr',
    });
    expect(child).toMatchObject({ parentRunId: parent.id, status: 'queued', tags: ['fashion'] });
    expect(child.config.optimizer.lr).toBe(1e-4);
    expect(Array.from(store.metricColumns(child.id).iteration)).toEqual(
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    expect(store.evaluations(child.id).map((e) => e.iteration)).toEqual([50]);
    const ck = store.loadCheckpoint(child.id, 'latest');
    expect(ck.iteration).toBe(60);
    expect(Array.from(ck.data)).toEqual([60, 60, 60]);
    expect(store.getSummary(child.id)).toMatchObject({
      lastIteration: 60,
      metricRows: 60,
      bestEvalAccuracy: 0.5,
    });
    expect(store.events(child.id)[0].message).toMatch(
      new RegExp(`continued from run ${parent.id} \\("parent"\\) at iteration 60: changed optimizer.lr`),
    );
    // the parent is as it was
    expect(store.getSummary(parent.id)).toMatchObject({ lastIteration: 100, metricRows: 100 });
    expect(store.listCheckpoints(parent.id)).toHaveLength(2);
    // a checkpoint the parent does not have: nothing is created
    const before = store.listRuns().length;
    expect(
      storeError(() =>
        store.forkRun({ parentId: parent.id, checkpoint: '999', name: 'x', config: classifyConfig() }),
      ).code,
    ).toBe('not-found');
    expect(store.listRuns()).toHaveLength(before);
  });
});

describe('evaluations, checkpoints, recordings, events', () => {
  it('keeps evaluations and the best evaluation accuracy', () => {
    const run = store.createRun({ name: 'e', config: classifyConfig() });
    expect(store.latestEvaluation(run.id)).toBeNull();
    store.addEvaluation(run.id, evaluation(500, 0.8));
    store.addEvaluation(run.id, { ...evaluation(1000, 0.7), loss: 0.25 });
    expect(store.evaluations(run.id).map((e) => e.iteration)).toEqual([500, 1000]);
    const latest = store.latestEvaluation(run.id)!;
    expect(latest.iteration).toBe(1000);
    expect(latest.loss).toBe(0.25);
    expect(latest.confusionCells).toEqual(evaluation(0, 0).confusionCells);
    expect(store.getSummary(run.id).bestEvalAccuracy).toBe(0.8);
    const bad = storeError(() => store.addEvaluation(run.id, { ...evaluation(1, 1), perStep: 'x' } as never));
    expect(bad.message).toContain('perStep');
  });

  it('keeps the latest K checkpoints and the best one (higher is better for classifiers)', () => {
    const run = store.createRun({
      name: 'c',
      config: classifyConfig({ checkpoints: { every: 10, keepLatest: 2, keepBest: true } }),
    });
    expect(storeError(() => store.loadCheckpoint(run.id, 'latest')).code).toBe('not-found');
    const metrics = [0.5, 0.9, 0.6, 0.7, 0.65];
    metrics.forEach((metric, i) =>
      store.saveCheckpoint(run.id, { iteration: (i + 1) * 10, metric, data: new Uint8Array([i, i, i]) }),
    );
    const list = store.listCheckpoints(run.id);
    expect(list.map((c) => c.iteration)).toEqual([50, 40, 20]);
    expect(list.find((c) => c.best)!.iteration).toBe(20);
    expect(Array.from(store.loadCheckpoint(run.id, 'latest').data)).toEqual([4, 4, 4]);
    const best = store.loadCheckpoint(run.id, 'best');
    expect(best).toMatchObject({ iteration: 20, metric: 0.9 });
    expect(Array.from(best.data)).toEqual([1, 1, 1]);
    expect(store.loadCheckpoint(run.id, list[1].id).iteration).toBe(40);
    expect(storeError(() => store.loadCheckpoint(run.id, '999999')).message).toContain(
      'no checkpoint "999999"',
    );
    expect(
      storeError(() => store.saveCheckpoint(run.id, { iteration: 1, data: new Uint8Array() })).code,
    ).toBe('invalid');
  });

  it('treats the most recently saved checkpoint as latest (a resume from an older best one)', () => {
    const run = store.createRun({
      name: 'c',
      config: classifyConfig({ checkpoints: { every: 10, keepLatest: 2, keepBest: true } }),
    });
    store.saveCheckpoint(run.id, { iteration: 100, metric: 0.9, data: new Uint8Array([1]) });
    store.saveCheckpoint(run.id, { iteration: 200, metric: 0.1, data: new Uint8Array([2]) });
    store.saveCheckpoint(run.id, { iteration: 300, metric: 0.2, data: new Uint8Array([3]) });
    // Resumed from the best (iteration 100): the new checkpoints are the latest ones.
    const saved = store.saveCheckpoint(run.id, { iteration: 110, metric: 0.3, data: new Uint8Array([4]) });
    expect(saved.iteration).toBe(110);
    expect(store.loadCheckpoint(run.id, 'latest').iteration).toBe(110);
    expect(store.listCheckpoints(run.id).map((c) => c.iteration)).toEqual([110, 300, 100]);
  });

  it('uses lower-is-better for growing runs and falls back to latest without metrics', () => {
    const run = store.createRun({
      name: 'g',
      config: growConfig({ checkpoints: { every: 10, keepLatest: 1, keepBest: true } }),
    });
    store.saveCheckpoint(run.id, { iteration: 10, metric: 0.1, data: new Uint8Array([1]) });
    store.saveCheckpoint(run.id, { iteration: 20, metric: 0.5, data: new Uint8Array([2]) });
    expect(store.listCheckpoints(run.id).map((c) => c.iteration)).toEqual([20, 10]);
    expect(store.loadCheckpoint(run.id, 'best').iteration).toBe(10);
    const plain = store.createRun({
      name: 'p',
      config: classifyConfig({ checkpoints: { every: 1, keepLatest: 1, keepBest: false } }),
    });
    store.saveCheckpoint(plain.id, { iteration: 1, data: new Uint8Array([1]) });
    store.saveCheckpoint(plain.id, { iteration: 2, data: new Uint8Array([2]) });
    expect(store.listCheckpoints(plain.id).length).toBe(1);
    expect(store.loadCheckpoint(plain.id, 'best').iteration).toBe(2);
  });

  it('stores recordings compressed and returns them intact', () => {
    const run = store.createRun({ name: 'r', config: classifyConfig() });
    const frames = new Uint8Array(10 * 8 * 8 * 4);
    frames.forEach((_, i) => (frames[i] = (i * 7) % 13));
    const meta = store.saveRecording(run.id, {
      name: 'growth',
      width: 8,
      height: 8,
      channels: 4,
      frameCount: 10,
      data: frames,
    });
    expect(meta).toMatchObject({ name: 'growth', bytes: frames.byteLength, dtype: 'uint8' });
    expect(meta.storedBytes).toBeLessThan(frames.byteLength);
    const f32 = new Float32Array(2 * 2 * 2 * 3).map((_, i) => i / 3);
    store.saveRecording(run.id, {
      name: 'state',
      width: 2,
      height: 2,
      channels: 3,
      frameCount: 2,
      dtype: 'float32',
      data: new Uint8Array(f32.buffer),
    });
    expect(store.listRecordings(run.id).map((r) => r.name)).toEqual(['growth', 'state']);
    expect(store.loadRecording(run.id, meta.id).data).toEqual(frames);
    const e = storeError(() =>
      store.saveRecording(run.id, {
        name: 'bad',
        width: 8,
        height: 8,
        channels: 4,
        frameCount: 2,
        data: frames,
      }),
    );
    expect(e.message).toContain('need 512');
    store.deleteRecording(run.id, meta.id);
    expect(storeError(() => store.loadRecording(run.id, meta.id)).code).toBe('not-found');
  });

  it('logs run and app-wide events', () => {
    const run = store.createRun({ name: 'r', config: classifyConfig() });
    store.logEvent(run.id, 'warn', 'slow backend');
    store.logEvent(null, 'info', 'app started');
    expect(store.events(run.id).map((e) => [e.level, e.message])).toEqual([['warn', 'slow backend']]);
    expect(store.events(null).map((e) => e.message)).toEqual(['app started']);
    expect(storeError(() => store.logEvent(run.id, 'loud' as never, 'x')).message).toContain(
      'event level "loud"',
    );
    store.setStatus(run.id, 'stopped');
    store.deleteRun(run.id);
    expect(store.database.prepare('SELECT COUNT(*) AS n FROM events WHERE run_id IS NOT NULL').get()).toEqual(
      { n: 0 },
    );
  });
});
