/**
 * The training service end to end in one process: real worker threads, a real SQLite store, the
 * router and the event hub, on the built-in glyphs dataset with a tiny model.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type WorkbenchApp } from '../../../src/main/app.ts';
import type { Connection } from '../../../src/main/transport/router.ts';
import type { EventEnvelope } from '../../../src/shared/contract.ts';
import { memoryLogger } from '../../../src/main/util/log.ts';
import { FRAME_BYTES_PER_CELL } from '../../../src/shared/frames.ts';
import { RunStore } from '../../../src/main/services/store/index.ts';
import { decodeCheckpoint, modelOnlyCheckpoint } from '../../../src/main/services/engine/checkpoint.ts';

let app: WorkbenchApp;
let trainedRun = '';
const events: EventEnvelope[] = [];
const conn: Connection = { id: 'test', watchedRuns: new Set(), send: (e) => events.push(e) };

const tiny = (iterations: number) => ({
  task: 'classify' as const,
  dataset: 'glyphs',
  channels: 14,
  perception: { kind: 'learned' as const, kernel: 3 as const, filters: 16 },
  hidden: [16],
  batch: 4,
  steps: 6,
  iterations,
  pool: { size: 16, freshFraction: 0.25, mutateFraction: 0.25 },
  evaluation: { every: 5, images: 20, steps: 8, mutateSteps: 4 },
  checkpoints: { every: 5, keepLatest: 2, keepBest: true },
  compute: { backend: 'wasm' as const, threads: 1, aliveOnly: true, allowSoftwareGpu: false },
});

async function call(method: string, params: unknown) {
  const r = await app.router.handle({ id: 1, method, params }, conn);
  if (!r.ok) throw new Error(`${method}: ${r.error.message}`);
  return r.result as Record<string, unknown>;
}

function statusesOf(runId: string): string[] {
  return events
    .filter((e) => e.event === 'run.status' && (e.data as { runId: string }).runId === runId)
    .map((e) => (e.data as { status: string }).status);
}

/** 12 iterations evaluated every 4, with these checkpoint settings, trained to completion */
async function trainEvaluatedEvery4(name: string, checkpoints: Record<string, unknown>) {
  const config = { ...tiny(12), evaluation: { every: 4, images: 10, steps: 6, mutateSteps: 0 }, checkpoints };
  const id = (await call('runs.create', { name, config })).id as string;
  await waitFor(() => statusesOf(id).includes('completed'));
  return { id, config };
}

async function waitFor(pred: () => boolean, ms = 90_000) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-train-'));
  app = await createApp({ dataDir: dir, mode: 'browser', log: memoryLogger() });
  app.hub.add(conn);
});

afterAll(async () => {
  await app.close();
});

describe('training service', () => {
  it('trains a run to completion and keeps its metrics, evaluations and checkpoints', async () => {
    const run = await call('runs.create', { name: 'tiny', config: tiny(10) });
    const id = run.id as string;
    trainedRun = id;
    await call('training.watch', { id, frames: true, samples: 2 });
    await waitFor(() => statusesOf(id).includes('completed'));
    expect(statusesOf(id)[0]).toBe('running');
    const summary = await call('runs.get', { id });
    expect(summary).toMatchObject({
      status: 'completed',
      backend: 'wasm',
      metricRows: 10,
      lastIteration: 10,
    });
    const metrics = await call('runs.metrics', { id, fields: ['loss'] });
    expect((metrics.series as { loss: { iterations: number[] } }).loss.iterations).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    const evals = (await app.router.handle({ id: 2, method: 'runs.evaluations', params: { id } }, conn)) as {
      result: unknown[];
    };
    expect(evals.result.length).toBeGreaterThanOrEqual(2);
    const ckpts = (await app.router.handle({ id: 3, method: 'runs.checkpoints', params: { id } }, conn)) as {
      result: unknown[];
    };
    expect(ckpts.result.length).toBeGreaterThanOrEqual(1);
    // metric events arrive batched, and frames in the compact format
    const rows = events
      .filter((e) => e.event === 'run.metrics')
      .flatMap((e) => (e.data as { rows: unknown[] }).rows);
    expect(rows).toHaveLength(10);
    const frame = events.find((e) => e.event === 'run.frame');
    expect(frame, 'a watched run streams frames').toBeDefined();
    expect(frame!.binary!.byteLength).toBe(2 * 28 * 28 * FRAME_BYTES_PER_CELL);
  });

  it('stops a run with a checkpoint and resumes it from there', async () => {
    const run = await call('runs.create', { name: 'resumable', config: tiny(400) });
    const id = run.id as string;
    await waitFor(() =>
      events.some((e) => e.event === 'run.metrics' && (e.data as { runId: string }).runId === id),
    );
    await call('training.stop', { id });
    expect(statusesOf(id)).toContain('stopped');
    const stopped = (await call('runs.get', { id })) as { lastIteration: number };
    const ckpt = (await app.router.handle({ id: 4, method: 'runs.checkpoints', params: { id } }, conn)) as {
      result: { iteration: number }[];
    };
    const at = Math.max(...ckpt.result.map((c) => c.iteration));
    expect(at).toBe(stopped.lastIteration);
    await call('training.start', { id });
    const iterationsOf = () =>
      events
        .filter((e) => e.event === 'run.metrics' && (e.data as { runId: string }).runId === id)
        .flatMap((e) => (e.data as { rows: { iteration: number }[] }).rows)
        .map((r) => r.iteration);
    await waitFor(() => iterationsOf().some((i) => i > at));
    expect(statusesOf(id).filter((s) => s === 'running').length).toBeGreaterThanOrEqual(2);
    const firstAfter = iterationsOf().filter((i) => i > at)[0];
    expect(firstAfter).toBe(at + 1);
    await call('training.stop', { id });
  });

  it('refuses to control a run that is not training, with a clear message', async () => {
    const run = await call('runs.create', { name: 'queued', config: tiny(5), start: false });
    const r = await app.router.handle({ id: 5, method: 'training.pause', params: { id: run.id } }, conn);
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: `run ${run.id} is not training right now` },
    });
    const bad = await app.router.handle(
      { id: 6, method: 'runs.create', params: { name: 'x', config: { task: 'classify', batch: 0 } } },
      conn,
    );
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    if (!bad.ok) expect(bad.error.message).toMatch(/batch/);
  });

  it('runs.fork refuses a changed model field and creates nothing', async () => {
    const store = RunStore.open(app.dataDir); // a second connection to the app's database, as the CLI would
    const parent = store.getRun(trainedRun);
    const before = store.listRuns().length;
    const narrower = await app.router.handle(
      { id: 7, method: 'runs.fork', params: { id: parent.id, config: { ...parent.config, channels: 12 } } },
      conn,
    );
    expect(narrower).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    if (!narrower.ok) expect(narrower.error.message).toMatch(/^channels: must stay 14 or grow/);
    const otherKernel = await app.router.handle(
      {
        id: 7,
        method: 'runs.fork',
        params: {
          id: parent.id,
          config: { ...parent.config, perception: { kind: 'learned', kernel: 5, filters: 16 } },
        },
      },
      conn,
    );
    expect(otherKernel).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    if (!otherKernel.ok) expect(otherKernel.error.message).toMatch(/^perception\.kernel: must stay 3 \(/);
    // a layer may be appended only as wide as the last one (it starts as the identity)
    const narrowLayer = await app.router.handle(
      {
        id: 7,
        method: 'runs.fork',
        params: { id: parent.id, config: { ...parent.config, hidden: [16, 8] } },
      },
      conn,
    );
    expect(narrowLayer).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    if (!narrowLayer.ok)
      expect(narrowLayer.error.message).toMatch(
        /^hidden: must stay \[16\] or grow \(none narrower; added layers as wide as the last\)/,
      );
    expect(store.listRuns()).toHaveLength(before);
    store.close();
  });

  it('widens and deepens a classifier by forking it with more channels, filters, hidden units and layers', async () => {
    const store = RunStore.open(app.dataDir);
    const parent = store.getRun(trainedRun);
    const from = store.loadCheckpoint(parent.id, 'latest');
    const config = {
      ...parent.config,
      channels: 18,
      perception: { kind: 'learned', kernel: 3, filters: 24 },
      hidden: [20, 20],
      iterations: from.iteration + 5,
    };
    const child = await call('runs.fork', { id: parent.id, config, start: false });
    const id = child.id as string;
    // the child's first checkpoint is the parent's widened: weights only, in the new shapes
    const first = decodeCheckpoint(store.loadCheckpoint(id, 'latest').data);
    expect(first.meta.modelOnly).toBe(true);
    expect(first.meta.iteration).toBe(from.iteration);
    expect(first.meta.config).toMatchObject({ channels: 18, hidden: [20, 20] });
    const n = (decodeCheckpoint(from.data).arrays.weights as Float32Array).length;
    // 9 taps x 18 channels x 24 filters + 24, 24 x 20 + 20, the appended 20 x 20 + 20, 20 x 17 + 17
    expect(first.arrays.weights.length).toBe(9 * 18 * 24 + 24 + 24 * 20 + 20 + 20 * 20 + 20 + 20 * 17 + 17);
    expect(first.arrays.weights.length).toBeGreaterThan(n);

    await call('training.start', { id });
    await waitFor(() => statusesOf(id).includes('completed'));
    expect(await call('runs.get', { id })).toMatchObject({
      status: 'completed',
      lastIteration: from.iteration + 5,
    });
    const logged = store
      .events(id)
      .map((e) => e.message)
      .join('\n');
    expect(logged).toMatch(
      /changed channels 14 → 18.*perception\.filters 16 → 24.*hidden \[16\] → \[20,20\]/,
    );
    expect(logged).toMatch(/the model was widened \(its new units start silent/);
    const trained = decodeCheckpoint(store.loadCheckpoint(id, 'latest').data);
    expect(trained.arrays.adamM.length).toBe(first.arrays.weights.length);
    // the parent is untouched
    expect(store.loadCheckpoint(parent.id, 'latest').data).toEqual(from.data);
    store.close();
  });

  it('scores only the checkpoints of evaluated states, so "best" is an evaluated one', async () => {
    const { id } = await trainEvaluatedEvery4('scored checkpoints', {
      every: 2,
      keepLatest: 10,
      keepBest: true,
    });
    const store = RunStore.open(app.dataDir);
    try {
      const checkpoints = store.listCheckpoints(id);
      const evals = store.evaluations(id);
      // each state once: an evaluated iteration that is also a checkpoint iteration is saved once
      expect(checkpoints.map((c) => c.iteration).sort((a, b) => a - b)).toEqual([2, 4, 6, 8, 10, 12]);
      for (const c of checkpoints) {
        const evaluated = evals.find((e) => e.iteration === c.iteration);
        if (evaluated) expect(c.metric, `checkpoint ${c.iteration}`).toBe(evaluated.perCellAccuracy);
        else expect(c.metric, `checkpoint ${c.iteration} was not evaluated`).toBeNull();
      }
      const best = store.loadCheckpoint(id, 'best');
      expect(best.iteration % 4).toBe(0);
      expect(best.metric).toBe(Math.max(...evals.map((e) => e.perCellAccuracy)));
    } finally {
      store.close();
    }
  });

  it('with checkpoints.bestBy = agreement, the best checkpoint is the most agreeing evaluated state', async () => {
    const { id, config } = await trainEvaluatedEvery4('best by agreement', {
      every: 4,
      keepLatest: 1,
      keepBest: true,
      bestBy: 'agreement' as const,
    });
    const store = RunStore.open(app.dataDir);
    try {
      const evals = store.evaluations(id);
      expect(evals.map((e) => e.iteration)).toEqual([4, 8, 12]);
      for (const c of store.listCheckpoints(id)) {
        const evaluated = evals.find((e) => e.iteration === c.iteration)!;
        expect(c.metric, `checkpoint ${c.iteration}`).toBe(evaluated.agreement);
      }
      const best = store.loadCheckpoint(id, 'best');
      const top = Math.max(...evals.map((e) => e.agreement));
      // ties go to the later state, as for accuracy
      expect(best.iteration).toBe(evals.findLast((e) => e.agreement === top)!.iteration);
      // a fork ranking by accuracy again keeps the curves and rescores its copy from its evaluation
      const fork = await call('runs.fork', {
        id,
        checkpoint: best.id,
        config: { ...config, checkpoints: { ...config.checkpoints, bestBy: 'accuracy' } },
        start: false,
      });
      const copied = store.listCheckpoints(fork.id as string);
      expect(copied).toMatchObject([{ iteration: best.iteration, best: true }]);
      expect(copied[0].metric).toBe(evals.find((e) => e.iteration === best.iteration)!.perCellAccuracy);
      expect(store.evaluations(fork.id as string).length).toBe(
        evals.filter((e) => e.iteration <= best.iteration).length,
      );
    } finally {
      store.close();
    }
  });

  it("a fork that scores differently (another alive mask) does not inherit the parent's best score", async () => {
    const store = RunStore.open(app.dataDir);
    const parent = store.getRun(trainedRun);
    const scored = store.loadCheckpoint(parent.id, 'best');
    expect(scored.metric).not.toBeNull();
    const fork = async (config: Record<string, unknown>) => {
      const r = await call('runs.fork', { id: parent.id, checkpoint: scored.id, config, start: false });
      const id = r.id as string;
      return {
        checkpoints: store.listCheckpoints(id),
        run: store.getSummary(id),
        evals: store.evaluations(id),
      };
    };
    const same = await fork({ ...parent.config, optimizer: { ...parent.config.optimizer, lr: 1e-4 } });
    expect(same.checkpoints).toMatchObject([
      { iteration: scored.iteration, metric: scored.metric, best: true },
    ]);
    expect(same.run.metricRows).toBe(scored.iteration);
    expect(same.evals.length).toBeGreaterThan(0);
    // another mask scores other cells: none of the parent's scores or curves carry over
    const other = await fork({ ...parent.config, aliveMode: 'dilated' });
    expect(other.checkpoints).toMatchObject([{ iteration: scored.iteration, metric: null, best: false }]);
    expect(other.run).toMatchObject({ metricRows: 0, bestEvalAccuracy: null, bestLoss: null });
    expect(other.evals).toHaveLength(0);
    store.close();
  });

  it('fine-tunes a weights-only model by forking it, and refuses to resume the model itself', async () => {
    const store = RunStore.open(app.dataDir);
    const parent = store.getRun(trainedRun);
    // a shipped model keeps weights only, in half floats: no Adam state or pool
    const shipped = store.createRun({ name: 'weights only', config: parent.config });
    const full = store.loadCheckpoint(parent.id, 'latest');
    store.saveCheckpoint(shipped.id, {
      iteration: full.iteration,
      data: modelOnlyCheckpoint(full.data, { precision: 'f16' }),
    });
    const resume = await app.router.handle(
      { id: 8, method: 'training.start', params: { id: shipped.id } },
      conn,
    );
    expect(resume).toMatchObject({ ok: false, error: { code: 'conflict' } });
    if (!resume.ok) expect(resume.error.message).toMatch(/holds weights only.*fork it to fine-tune/);

    const child = await call('runs.fork', {
      id: shipped.id,
      config: { ...parent.config, iterations: full.iteration + 5 },
    });
    const id = child.id as string;
    await waitFor(() => statusesOf(id).includes('completed'));
    expect(await call('runs.get', { id })).toMatchObject({
      status: 'completed',
      lastIteration: full.iteration + 5,
    });
    const logged = store.events(id).map((e) => e.message);
    expect(logged.join('\n')).toMatch(/weights only \(a shared model\): Adam state and pool start fresh/);
    expect(logged.join('\n')).toMatch(/starting from the weights of the checkpoint at iteration 10/);
    // the child trained on from the shipped weights (5 small Adam steps and the half-float rounding away), not from a fresh init,
    // and its own checkpoints are full ones it can resume from
    const tuned = decodeCheckpoint(store.loadCheckpoint(id, 'latest').data);
    expect(tuned.meta.modelOnly).toBeUndefined();
    expect(tuned.arrays.adamM).toBeDefined();
    const a = decodeCheckpoint(full.data).arrays.weights as Float32Array;
    const b = tuned.arrays.weights as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    expect(maxDiff).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThan(5 * 2 * parent.config.optimizer.lr);
    store.close();
  });
});

describe('new-run helpers', () => {
  it('lists every preset with a full, valid configuration and its required fields', async () => {
    const r = await app.router.handle({ id: 7, method: 'presets.list', params: {} }, conn);
    if (!r.ok) throw new Error(r.error.message);
    const presets = r.result as {
      id: string;
      config: { task: string; dataset?: string };
      requires: string[];
    }[];
    const ids = presets.map((p) => p.id);
    for (const id of [
      'quick-demo',
      'distill-mnist',
      'paper-fashion',
      'paper-kmnist',
      'grow-fashion',
      'adversarial',
    ])
      expect(ids).toContain(id);
    expect(presets.find((p) => p.id === 'quick-demo')!.config).toMatchObject({
      task: 'classify',
      dataset: 'glyphs',
    });
    expect(presets.find((p) => p.id === 'adversarial')!.requires).toEqual(['classifierRunId']);
  });

  it('estimates the parameter count and the time of an iteration with a short probe', async () => {
    const r = await app.router.handle(
      { id: 8, method: 'config.estimate', params: { config: tiny(10) } },
      conn,
    );
    if (!r.ok) throw new Error(r.error.message);
    const e = r.result as { parameters: number; msPerIteration: number; backend: string };
    // 3x3x14x16+16 perception, 16x16+16 hidden, 16x13+13 update
    expect(e.parameters).toBe(3 * 3 * 14 * 16 + 16 + (16 * 16 + 16) + (16 * 13 + 13));
    expect(e.msPerIteration).toBeGreaterThan(0);
    expect(e.backend).toBe('wasm');
  });
});

describe('playground', () => {
  const frames = () => events.filter((e) => e.event === 'playground.frame');

  it('a weight average of a trained run’s checkpoints is a new run that opens and runs', async () => {
    expect(trainedRun).not.toBe('');
    const kept = (await call('runs.checkpoints', { id: trainedRun })) as unknown as { iteration: number }[];
    expect(kept.length).toBeGreaterThanOrEqual(2);
    const averaged = await call('runs.average', { id: trainedRun, fromIteration: 0 });
    expect(averaged).toMatchObject({ parentRunId: trainedRun, status: 'stopped' });
    const opened = await call('playground.open', { runId: averaged.id, checkpoint: 'latest' });
    const stepped = await call('playground.step', { session: opened.session, steps: 3 });
    expect((stepped.votes as number[]).every((v) => Number.isFinite(v))).toBe(true);
    await call('playground.close', { session: opened.session });
    // malformed calls are refused by the contract, with what is wrong
    await expect(call('runs.average', { id: trainedRun })).rejects.toThrow(/either checkpoints/);
  });

  it('opens a checkpoint on a test image, steps, erases and reads a drawn image', async () => {
    expect(trainedRun).not.toBe('');
    const before = frames().length;
    const opened = await call('playground.open', { runId: trainedRun });
    expect(opened).toMatchObject({
      runId: trainedRun,
      task: 'classify',
      width: 28,
      height: 28,
      step: 0,
      adversarial: false,
    });
    expect((opened.classNames as string[]).length).toBe(10);
    expect(opened.trueClass).toBeTypeOf('number');
    const session = opened.session as string;
    const stepped = await call('playground.step', { session, steps: 5 });
    expect(stepped.step).toBe(5);
    expect((stepped.votes as number[]).length).toBe(10);
    const last = frames().at(-1)!;
    expect(frames().length).toBe(before + 2);
    expect(last.binary!.byteLength).toBe(28 * 28 * 5);
    expect(last.data).toMatchObject({ source: session, step: 5 });
    // erasing a disk kills the mutable state there: the frame changes
    const a = new Uint8Array(last.binary!);
    await call('playground.edit', { session, edit: { kind: 'erase', x: 14, y: 14, radius: 6 } });
    const b = new Uint8Array(frames().at(-1)!.binary!);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).not.toBe(0);
    // a drawn image at the pad's resolution is resized to the grid
    const pad = new Uint8Array(56 * 56);
    for (let y = 10; y < 46; y++) for (let x = 26; x < 30; x++) pad[y * 56 + x] = 255;
    const drawn = await call('playground.setInput', {
      session,
      input: { kind: 'drawn', width: 56, pixels: Buffer.from(pad).toString('base64') },
    });
    expect(drawn).toMatchObject({ step: 0, trueClass: null });
    const d = new Uint8Array(frames().at(-1)!.binary!);
    expect(d[(14 * 28 + 14) * 5]).toBe(255); // the stroke is in the pixel channel
    expect(d[(14 * 28 + 2) * 5]).toBe(0);
    const r = await app.router.handle(
      { id: 9, method: 'playground.edit', params: { session, edit: { kind: 'adversary', x: 1, y: 1 } } },
      conn,
    );
    expect(r).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    // the heat-map channel can be chosen; a channel the model does not have is refused
    const viewed = await call('playground.view', { session, channel: 5 });
    expect(viewed.session).toBe(session);
    expect(frames().at(-1)!.data).toMatchObject({ channel: 5 });
    const tooFar = await app.router.handle(
      { id: 11, method: 'playground.view', params: { session, channel: 14 } },
      conn,
    );
    expect(tooFar).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    await call('playground.close', { session });
    const gone = await app.router.handle({ id: 10, method: 'playground.step', params: { session } }, conn);
    expect(gone).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});
