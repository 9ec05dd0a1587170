import { describe, expect, it, beforeAll } from 'vitest';
import { tf } from '../../../src/main/services/engine/tf.ts';
import { initBackend } from '../../../src/main/services/engine/backends.ts';
import { createTrainer } from '../../../src/main/services/engine/trainer.ts';
import {
  growChunk,
  growParams,
  makePerceive,
  setGrowTapeBudget,
} from '../../../src/main/services/engine/tasks/grow.ts';
import { paramCount } from '../../../src/main/services/engine/params.ts';
import { sobelDepthwiseFilter } from '../../../src/main/services/engine/perceive.ts';
import type { EngineDataset } from '../../../src/main/services/engine/dataset.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../../src/main/services/engine/checkpoint.ts';
import { maxAbsDiff } from './helpers.ts';

/** A 10x10 "dataset" with one filled square: a small growing target. */
function squareDataset(): EngineDataset {
  const img = new Uint8Array(100);
  for (let y = 3; y < 7; y++) for (let x = 2; x < 8; x++) img[y * 10 + x] = 200;
  return {
    id: 'square',
    width: 10,
    height: 10,
    classNames: ['a'],
    train: { images: img, labels: new Uint8Array(1), count: 1 },
    test: { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 },
  };
}

/** A small regenerating run (pool + damage) on the square. */
const smallRegenerating = (over: Record<string, unknown> = {}) => ({
  task: 'grow',
  target: { kind: 'dataset', dataset: 'square', index: 0 },
  targetSize: 10,
  padding: 2,
  hidden: 16,
  stepsMin: 6,
  stepsMax: 8,
  poolSize: 8,
  batch: 4,
  damaged: 1,
  experiment: 'regenerating',
  compute: { backend: 'wasm' },
  ...over,
});

describe('growing NCA', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('has the reference parameter count (8,336 for 16 channels, 128 hidden)', () => {
    expect(paramCount(growParams({ channels: 16, hidden: 128 }))).toBe(8336);
  });

  it('perception and its hand-written input gradient match tf.depthwiseConv2d autodiff (1e-4)', async () => {
    const C = 4;
    const x = tf.randomNormal([2, 6, 5, C], 0, 1, 'float32', 3);
    const dy = tf.randomNormal([2, 6, 5, 3 * C], 0, 1, 'float32', 4);
    const xs = x.dataSync().slice();
    const dys = dy.dataSync().slice();
    const p = makePerceive(C);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(p.perceive(t as tf.Tensor4D), dy));
    const got = tf.grad(f)(x).dataSync().slice();
    const val = p
      .perceive(x as tf.Tensor4D)
      .dataSync()
      .slice();
    await tf.setBackend('cpu');
    const filt = tf.tensor4d(sobelDepthwiseFilter(C), [3, 3, C, 3]);
    const xc = tf.tensor4d(xs, [2, 6, 5, C]);
    const dyc = tf.tensor4d(dys, [2, 6, 5, 3 * C]);
    const ref = tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(t as tf.Tensor4D, filt, 1, 'same'), dyc)))(xc)
      .dataSync();
    const refVal = tf.depthwiseConv2d(xc, filt, 1, 'same').dataSync();
    await initBackend('wasm');
    expect(maxAbsDiff(val, refVal)).toBeLessThan(1e-4);
    expect(maxAbsDiff(got, ref)).toBeLessThan(1e-4);
  });

  it('takes a PNG target (alpha mask), and names the file when it is not an image', async () => {
    const { PNG } = await import('pngjs');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-grow-'));
    const png = new PNG({ width: 6, height: 6 });
    for (let i = 0; i < 36; i++) png.data.set([255, 0, 0, i % 6 >= 2 && i % 6 < 4 ? 255 : 0], i * 4);
    const file = path.join(dir, 'target.png');
    fs.writeFileSync(file, PNG.sync.write(png));
    const cfg = (p: string) => ({
      task: 'grow',
      target: { kind: 'image', path: p, mask: 'alpha' },
      targetSize: 8,
      padding: 2,
      hidden: 8,
      stepsMin: 2,
      stepsMax: 3,
      poolSize: 4,
      batch: 2,
      damaged: 1,
      compute: { backend: 'wasm' },
    });
    const t = await createTrainer(cfg(file), null, { keepBackend: true });
    expect(t.frameShape.height).toBe(12);
    expect(Number.isFinite((await t.step()).loss)).toBe(true);
    await t.dispose();
    const bad = path.join(dir, 'not-an-image.png');
    fs.writeFileSync(bad, 'hello');
    await expect(createTrainer(cfg(bad), null, { keepBackend: true })).rejects.toThrow(
      /target.path: .*not-an-image.png: not a PNG or JPEG/,
    );
  });

  it('backprops a large batch in memory-sized chunks with the same loss and update as one pass', async () => {
    // 40x40 with 64 steps needs ~200 MB of tape a sample: the wasm heap fits only one at a time
    expect(growChunk(1600, 16, 128, 64, 8)).toBe(1);
    expect(growChunk(100, 16, 32, 16, 4)).toBe(4);
    const config = smallRegenerating({ batch: 5 });
    const run = async (budget: number | null) => {
      setGrowTapeBudget(budget);
      try {
        const tr = await createTrainer(config, squareDataset(), { keepBackend: true });
        const losses = [(await tr.step()).loss, (await tr.step()).loss];
        const ck = tr.saveCheckpoint();
        await tr.dispose();
        return { losses, ck };
      } finally {
        setGrowTapeBudget(null);
      }
    };
    const whole = await run(null);
    const chunked = await run(1); // one sample per chunk
    expect(chunked.losses[0]).toBeCloseTo(whole.losses[0], 6);
    expect(chunked.losses[1]).toBeCloseTo(whole.losses[1], 5);
    const w1 = decodeCheckpoint(whole.ck).arrays.weights as Float32Array;
    const w2 = decodeCheckpoint(chunked.ck).arrays.weights as Float32Array;
    expect(maxAbsDiff(w1, w2)).toBeLessThan(1e-5);
    expect(maxAbsDiff(w1, new Float32Array(w1.length))).toBeGreaterThan(1e-4); // it did train
  });

  it('lowers its loss on a small target', async () => {
    const tr = await createTrainer(
      {
        task: 'grow',
        target: { kind: 'dataset', dataset: 'square', index: 0 },
        targetSize: 10,
        padding: 3,
        hidden: 32,
        stepsMin: 12,
        stepsMax: 16,
        poolSize: 16,
        batch: 4,
        damaged: 0,
        experiment: 'growing',
        optimizer: { lr: 2e-3, schedule: [], normalizeGradients: true },
        compute: { backend: 'wasm' },
      },
      squareDataset(),
      { keepBackend: true },
    );
    const losses: number[] = [];
    for (let i = 0; i < 40; i++) losses.push((await tr.step()).loss);
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(last).toBeLessThan(first * 0.7);
    expect(tr.paramCount).toBe(paramCount(growParams({ channels: 16, hidden: 32 })));
    await tr.dispose();
  });

  it('resumes a regenerating run from a checkpoint exactly; refuses one that does not fit, changing nothing', async () => {
    const config = (seed: number) => smallRegenerating({ seed });
    const a = await createTrainer(config(1), squareDataset(), { keepBackend: true });
    for (let i = 0; i < 2; i++) await a.step();
    const bytes = a.saveCheckpoint();
    const next = await a.step();
    const b = await createTrainer(config(2), squareDataset(), { keepBackend: true });
    const before = b.weights().values.map((v) => Array.from(v));
    // a pool of the wrong grid: refused by name, and b keeps its own weights and iteration
    const ck = decodeCheckpoint(bytes);
    ck.arrays.pool = (ck.arrays.pool as Float32Array).subarray(1);
    expect(() => b.restoreCheckpoint(encodeCheckpoint(ck))).toThrow(/pool states do not fit/);
    const noRng = decodeCheckpoint(bytes);
    delete noRng.arrays.rng;
    expect(() => b.restoreCheckpoint(encodeCheckpoint(noRng))).toThrow(/RNG state is missing/);
    expect(b.iteration).toBe(0);
    expect(b.weights().values.map((v) => Array.from(v))).toEqual(before);
    b.restoreCheckpoint(bytes);
    expect(b.iteration).toBe(2);
    const again = await b.step();
    expect(again.loss).toBe(next.loss);
    expect(b.weights().values.map((v) => Array.from(v))).toEqual(
      a.weights().values.map((v) => Array.from(v)),
    );
    await a.dispose();
    await b.dispose();
  });
});
