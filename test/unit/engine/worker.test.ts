import { describe, expect, it } from 'vitest';
import { TrainingWorker } from '../../../src/main/services/engine/training-worker.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../../src/main/services/engine/checkpoint.ts';
import { createTrainer } from '../../../src/main/services/engine/trainer.ts';
import { describeEngineError } from '../../../src/main/services/engine/backends.ts';
import { toyConfig, toyDataset } from './toy.ts';

const config = toyConfig;

describe('TrainingWorker', () => {
  it('runs to completion with metrics, evaluations, checkpoints, frames and backend info', async () => {
    const run = TrainingWorker.start({
      config: config(),
      dataset: { data: toyDataset() },
      frames: { samples: [0, 1], maxPerSecond: 1000 },
    });
    const metrics: number[] = [];
    const evals: number[] = [];
    const checkpoints: { iteration: number; reason: string }[] = [];
    let frames = 0;
    let frameBytes = 0;
    let backend = '';
    run.on('metrics', (m) => metrics.push(m.iteration));
    run.on('evaluation', (e) => evals.push(e.iteration));
    run.on('checkpoint', (c) => checkpoints.push({ iteration: c.iteration, reason: c.reason }));
    run.on('frame', (f) => {
      frames++;
      frameBytes = f.buffer.byteLength;
    });
    run.on('backend', (b) => (backend = b.backend));
    const end = await run.done;
    expect(end.status).toBe('completed');
    expect(backend).toBe('wasm');
    expect(metrics).toEqual([1, 2, 3, 4, 5, 6]);
    expect(evals).toEqual([3, 6]);
    // periodic every 2, each evaluated state (a candidate for best), and no state twice: the last
    // evaluation's checkpoint is also the final one
    expect(checkpoints).toEqual([
      { iteration: 2, reason: 'periodic' },
      { iteration: 3, reason: 'evaluated' },
      { iteration: 4, reason: 'periodic' },
      { iteration: 6, reason: 'evaluated' },
    ]);
    expect(frames).toBeGreaterThan(0);
    expect(frameBytes).toBe(2 * 8 * 8 * 6 * 4);
  });

  it('pauses, answers checkpoint-now while paused, resumes and stops with a checkpoint of its last state', async () => {
    const run = TrainingWorker.start({
      config: config({ iterations: 100000 }),
      dataset: { data: toyDataset() },
    });
    await new Promise<void>((r) => run.on('metrics', (m) => m.iteration === 2 && r()));
    run.pause();
    await new Promise<void>((r) => run.on('status', (s) => s === 'paused' && r()));
    const at = run.iteration;
    const ck = await run.checkpointNow();
    expect(decodeCheckpoint(ck.bytes).meta.iteration).toBe(ck.iteration);
    await new Promise((r) => setTimeout(r, 100));
    expect(run.iteration).toBe(at);
    run.resume();
    await new Promise<void>((r) => run.on('metrics', (m) => m.iteration >= at + 2 && r()));
    // the stopped state is saved: as 'final', or already as the periodic / evaluated checkpoint of
    // the iteration it stopped after
    let last = -1;
    run.on('checkpoint', (c) => (last = c.iteration));
    const end = await run.stop();
    expect(end.status).toBe('stopped');
    expect(last).toBeGreaterThan(at);
    expect(last).toBe(run.iteration);
  });

  it('without keepBest, saves periodic checkpoints and a final one, not the evaluated states', async () => {
    const run = TrainingWorker.start({
      config: config({ iterations: 5, checkpoints: { every: 2, keepLatest: 3, keepBest: false } }),
      dataset: { data: toyDataset() },
    });
    const checkpoints: { iteration: number; reason: string }[] = [];
    run.on('checkpoint', (c) => checkpoints.push({ iteration: c.iteration, reason: c.reason }));
    expect((await run.done).status).toBe('completed');
    expect(checkpoints).toEqual([
      { iteration: 2, reason: 'periodic' },
      { iteration: 4, reason: 'periodic' },
      { iteration: 5, reason: 'final' },
    ]);
  });

  it('refuses an invalid configuration before starting, naming the field', () => {
    expect(() =>
      TrainingWorker.start({ config: config({ fireRate: 7 }), dataset: { data: toyDataset() } }),
    ).toThrow(/fireRate/);
  });

  it('a diverging run ends as diverged with the message and a last-good checkpoint', async () => {
    const t = await createTrainer(config(), toyDataset());
    await t.step();
    const ck = decodeCheckpoint(t.saveCheckpoint());
    await t.dispose();
    (ck.arrays.weights as Float32Array).fill(1e30);
    const run = TrainingWorker.start({
      config: config(),
      dataset: { data: toyDataset() },
      checkpoint: encodeCheckpoint(ck),
    });
    const reasons: string[] = [];
    run.on('checkpoint', (c) => reasons.push(c.reason));
    const end = await run.done;
    expect(end.status).toBe('diverged');
    expect(end.message).toMatch(/diverged|exploded/);
    expect(reasons).toEqual(['diverged']);
  });

  it('a worker that throws ends as failed with the message', async () => {
    const run = TrainingWorker.start({
      config: config(),
      dataset: { data: toyDataset() },
      crashForTest: { at: 2, kind: 'throw' },
    });
    const end = await run.done;
    expect(end.status).toBe('failed');
    expect(end.message).toMatch(/injected crash/);
  });

  it('a worker that exits ends as failed with the exit code', async () => {
    const run = TrainingWorker.start({
      config: config(),
      dataset: { data: toyDataset() },
      crashForTest: { at: 1, kind: 'exit' },
    });
    const end = await run.done;
    expect(end.status).toBe('failed');
    expect(end.message).toMatch(/code 3/);
  });

  it('a missing dataset ends as failed naming it', async () => {
    const run = TrainingWorker.start({
      config: config({ dataset: 'no-such-set' }),
      dataset: { dataDir: '/nonexistent-dir' },
    });
    const end = await run.done;
    expect(end.status).toBe('failed');
    expect(end.message).toMatch(/no-such-set/);
  });
});

describe('failure messages', () => {
  it('say when the GPU ran out of memory, and what to do', () => {
    const oom = new Error('createBuffer failed to allocate a buffer mapped at creation.');
    expect(describeEngineError(oom, 'webgpu')).toMatch(
      /^the GPU ran out of memory \(webgpu\): createBuffer .* Lower the batch/,
    );
    // the same words on a CPU backend are not a GPU problem; other errors pass through unchanged
    expect(describeEngineError(oom, 'wasm')).toBe(oom.message);
    expect(describeEngineError(new Error('labels >= classes'), 'webgpu')).toBe('labels >= classes');
    expect(describeEngineError('plain string', 'webgpu')).toBe('plain string');
  });
});
