import { describe, expect, it, beforeAll } from 'vitest';
import { tf } from '../../../src/main/services/engine/tf.ts';
import { initBackend } from '../../../src/main/services/engine/backends.ts';
import { createTrainer } from '../../../src/main/services/engine/trainer.ts';
import { classifierParams } from '../../../src/main/services/engine/nca.ts';
import { paramCount } from '../../../src/main/services/engine/params.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../../src/main/services/engine/checkpoint.ts';
import { DivergedError } from '../../../src/main/services/engine/errors.ts';
import { trainShard, freshState } from '../../../src/main/services/engine/tasks/classify.ts';
import { adversaryMask } from '../../../src/main/services/engine/tasks/adversarial.ts';
import { aliveMask } from '../../../src/main/services/engine/grid.ts';
import { Rng } from '../../../src/main/services/engine/rng.ts';
import type { EngineDataset } from '../../../src/main/services/engine/dataset.ts';
import {
  maxAbsDiff,
  mnistSubset,
  randomWeights,
  smallClassifier as small,
  smallSettings,
} from './helpers.ts';

let mnist: EngineDataset;

describe('classifier trainer', () => {
  beforeAll(async () => {
    await initBackend('wasm');
    mnist = await mnistSubset(200, 40);
  });

  it('has the reference parameter count (22,499 for the default classifier)', () => {
    const arch = {
      channels: 20,
      numClasses: 10,
      perception: { kind: 'learned' as const, kernel: 3 as const, filters: 80 },
      hidden: [80],
    };
    expect(paramCount(classifierParams(arch))).toBe(22499);
  });

  it('resuming from a checkpoint reproduces the next iteration exactly', async () => {
    const a = await createTrainer(small(), mnist, { keepBackend: true });
    for (let i = 0; i < 3; i++) await a.step();
    const bytes = a.saveCheckpoint();
    const next = await a.step();
    const b = await createTrainer(small({ seed: 99 }), mnist, { keepBackend: true });
    b.restoreCheckpoint(bytes);
    const again = await b.step();
    expect(again.iteration).toBe(next.iteration);
    expect(again.loss).toBe(next.loss);
    expect(b.weights().values.map((v) => Array.from(v))).toEqual(
      a.weights().values.map((v) => Array.from(v)),
    );
    await a.dispose();
    await b.dispose();
  });

  it('a seed gives the same run; the dense and alive-only paths give the same run (1e-4)', async () => {
    const runs: { losses: number[]; w: Float32Array[] }[] = [];
    for (const aliveOnly of [true, true, false]) {
      const t = await createTrainer(small({ compute: { backend: 'wasm', threads: 1, aliveOnly } }), mnist, {
        keepBackend: true,
      });
      const losses: number[] = [];
      for (let i = 0; i < 2; i++) losses.push((await t.step()).loss);
      runs.push({ losses, w: t.weights().values });
      await t.dispose();
    }
    expect(runs[1].losses).toEqual(runs[0].losses);
    runs[2].losses.forEach((l, i) =>
      expect(Math.abs(l - runs[0].losses[i])).toBeLessThan(1e-4 * Math.max(1, l)),
    );
    runs[2].w.forEach((w, i) => expect(maxAbsDiff(w, runs[0].w[i])).toBeLessThan(1e-4));
  });

  it('data-parallel training on 2 worker threads gives the 1-thread result (1e-4)', async () => {
    const out: { losses: number[]; w: Float32Array[]; acc: number }[] = [];
    for (const threads of [1, 2]) {
      const t = await createTrainer(
        small({ compute: { backend: 'wasm', threads, aliveOnly: true } }),
        mnist,
        { keepBackend: true },
      );
      expect(t.threads).toBe(threads);
      const losses: number[] = [];
      for (let i = 0; i < 2; i++) losses.push((await t.step()).loss);
      const ev = await t.evaluate();
      out.push({ losses, w: t.weights().values, acc: ev.perCellAccuracy });
      await t.dispose();
    }
    out[1].losses.forEach((l, i) =>
      expect(Math.abs(l - out[0].losses[i])).toBeLessThan(1e-4 * Math.max(1, l)),
    );
    out[1].w.forEach((w, i) => expect(maxAbsDiff(w, out[0].w[i])).toBeLessThan(1e-4));
    expect(Math.abs(out[1].acc - out[0].acc)).toBeLessThan(1e-4);
  });

  it('non-finite loss stops the run as diverged, with the weights left at the last good state', async () => {
    const t = await createTrainer(small(), mnist, { keepBackend: true });
    await t.step();
    const ck = decodeCheckpoint(t.saveCheckpoint());
    const w = ck.arrays.weights as Float32Array;
    w.fill(1e30); // overflows to Inf/NaN in the first step
    t.restoreCheckpoint(encodeCheckpoint(ck));
    const err = await t.step().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergedError);
    expect((err as DivergedError).status).toBe('diverged');
    expect((err as Error).message).toMatch(/diverged/);
    expect(t.iteration).toBe(1);
    expect(t.weights().values.every((v) => v.every((x) => x === 1e30 || Math.fround(1e30) === x))).toBe(true);
    await t.dispose();
  });

  it('refuses bad configurations and datasets with the field and the reason', async () => {
    await expect(createTrainer(small({ channels: 5 }), mnist, { keepBackend: true })).rejects.toThrow(
      /channels: 5 channels cannot hold/,
    );
    await expect(createTrainer(small({ batch: 64 }), mnist, { keepBackend: true })).rejects.toThrow(/batch/);
    await expect(createTrainer(small({ steps: 0 }), mnist, { keepBackend: true })).rejects.toThrow(/steps/);
    const bad = { ...mnist, train: { ...mnist.train, labels: mnist.train.labels.map(() => 12) } };
    await expect(createTrainer(small(), bad, { keepBackend: true })).rejects.toThrow(/label 12/);
  });

  it('invariants: the pixel channel never changes, dead cells stay zero, cells fire at the fire rate', async () => {
    const s = smallSettings({
      steps: 1,
      height: 28,
      width: 28,
      residualNoise: 0.02,
      fireRate: 0.5,
      aliveOnly: false,
    });
    const specs = classifierParams(s.arch);
    const w = randomWeights(s).map((v, i) => (specs[i].name === 'update.out.kernel' ? v.fill(0) : v));
    const wt = specs.map((p, i) => tf.tensor(w[i], p.shape));
    const states = Array.from({ length: 8 }, (_, b) =>
      freshState(mnist.train.images.subarray(b * 784, (b + 1) * 784), s.arch.channels),
    );
    const before = states.map((x) => x.slice());
    // 1 step, zero output layer: a cell changes exactly when it fired (the noise makes it move)
    await trainShard(specs, wt, s, {
      states,
      labels: [0, 0, 0, 0, 0, 0, 0, 0],
      streams: states.map((_, b) => [3, 0, b]),
      batchTotal: 8,
    });
    let alive = 0;
    let fired = 0;
    const C = s.arch.channels;
    states.forEach((st, b) => {
      const am = aliveMask(before[b], 28, 28, 'threshold', 0.1, C);
      for (let i = 0; i < 784; i++) {
        expect(st[i * C]).toBe(before[b][i * C]);
        let changed = false;
        for (let k = 1; k < C; k++) if (st[i * C + k] !== before[b][i * C + k]) changed = true;
        if (!am[i]) expect(changed).toBe(false);
        else {
          alive++;
          if (changed) fired++;
        }
      }
    });
    const p = fired / alive;
    const sd = Math.sqrt(0.25 / alive);
    expect(Math.abs(p - 0.5)).toBeLessThan(4 * sd);
    tf.dispose(wt);
  });

  it('invariants over a training run: pixels untouched, dead cells zero (threshold mode)', async () => {
    const t = await createTrainer(
      small({ compute: { backend: 'wasm', threads: 1, aliveOnly: false } }),
      mnist,
      { keepBackend: true },
    );
    for (let i = 0; i < 3; i++) await t.step();
    const C = 14;
    const snap = t.snapshot([0, 1, 2, 3, 4, 5, 6, 7]);
    for (let b = 0; b < 8; b++) {
      const st = snap.subarray(b * 784 * C, (b + 1) * 784 * C);
      const pixels = Float32Array.from({ length: 784 }, (_, i) => st[i * C]);
      const am = aliveMask(pixels, 28, 28, 'threshold', 0.1);
      // every pixel value is one of the dataset's (k/255)
      for (let i = 0; i < 784; i++) {
        expect(Math.abs(pixels[i] * 255 - Math.round(pixels[i] * 255))).toBeLessThan(1e-3);
        if (!am[i]) for (let k = 1; k < C; k++) expect(st[i * C + k]).toBe(0);
      }
    }
    await t.dispose();
  });

  it('adversary masks have the asked fraction of cells', () => {
    const rng = new Rng(5);
    for (const p of [0.01, 0.1]) {
      let n = 0;
      const cells = 200 * 784;
      for (let i = 0; i < 200; i++) n += adversaryMask(784, p, rng).reduce((a, b) => a + b, 0);
      expect(Math.abs(n / cells - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / cells));
    }
  });
});
