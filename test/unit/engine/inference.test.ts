import { describe, expect, it, beforeAll } from 'vitest';
import { initBackend } from '../../../src/main/services/engine/backends.ts';
import { createTrainer } from '../../../src/main/services/engine/trainer.ts';
import {
  InferenceSession,
  ClassifySession,
  GrowSession,
} from '../../../src/main/services/engine/inference.ts';
import type { EngineDataset } from '../../../src/main/services/engine/dataset.ts';
import { aliveMask } from '../../../src/main/services/engine/grid.ts';
import { mnistSubset, smallClassifier } from './helpers.ts';

let mnist: EngineDataset;
const small = (over: Record<string, unknown> = {}) =>
  smallClassifier({
    pool: { size: 16, freshFraction: 0.25, mutateFraction: 0.25 },
    evaluation: { every: 100, images: 20, steps: 10, mutateSteps: 0 },
    compute: { backend: 'wasm', threads: 1 },
    ...over,
  });

describe('inference sessions', () => {
  beforeAll(async () => {
    await initBackend('wasm');
    mnist = await mnistSubset(100, 20);
  });

  it('classifier: image in, steps, pixel channel kept, dead cells zero, erase, readout', async () => {
    const t = await createTrainer(small(), mnist, { keepBackend: true });
    for (let i = 0; i < 3; i++) await t.step();
    const s = (await InferenceSession.fromCheckpoint(t.saveCheckpoint())) as ClassifySession;
    expect(s.task).toBe('classify');
    const img = mnist.test.images.subarray(0, 784);
    s.setImage(img);
    await s.step(10);
    const st = s.state();
    const C = s.channels;
    const alive = aliveMask(
      Float32Array.from(img, (v) => v / 255),
      28,
      28,
      'threshold',
      0.1,
    );
    let moved = 0;
    for (let i = 0; i < 784; i++) {
      expect(st[i * C]).toBeCloseTo(img[i] / 255, 6);
      for (let k = 1; k < C; k++) {
        if (!alive[i]) expect(st[i * C + k]).toBe(0);
        else if (st[i * C + k] !== 0) moved++;
      }
    }
    expect(moved).toBeGreaterThan(0);
    const r = s.readout();
    expect(r.majority[0]).toBeGreaterThanOrEqual(0);
    expect(r.counts[0].reduce((a, b) => a + b, 0)).toBe(alive.reduce((a, b) => a + b, 0));
    // erase a disk: the mutable channels inside are zero, the pixels stay
    s.erase(14, 14, 4);
    const e = s.state();
    expect(e[(14 * 28 + 14) * C + 1]).toBe(0);
    expect(e[(14 * 28 + 14) * C]).toBeCloseTo(img[14 * 28 + 14] / 255, 6);
    expect(() => s.placeAdversaries([3])).toThrow(/no adversary weights/);
    s.dispose();
    await t.dispose();
  });

  it('readout strokes without a mask: every cell computes, only stroke cells answer', async () => {
    const t = await createTrainer(small({ aliveMode: 'none', readout: 'strokes' }), mnist, {
      keepBackend: true,
    });
    for (let i = 0; i < 3; i++) await t.step();
    const s = (await InferenceSession.fromCheckpoint(t.saveCheckpoint())) as ClassifySession;
    const img = mnist.test.images.subarray(0, 784);
    s.setImage(img);
    await s.step(10);
    const st = s.state();
    const C = s.channels;
    const r = s.readout();
    let strokes = 0;
    let movedBackground = 0;
    for (let i = 0; i < 784; i++) {
      const stroke = img[i] / 255 > 0.1;
      if (stroke) strokes++;
      else if (st[i * C + 1] !== 0) movedBackground++;
      expect(r.labels[i] >= 0).toBe(stroke);
    }
    expect(movedBackground).toBeGreaterThan(100);
    expect(r.counts[0].reduce((a, b) => a + b, 0)).toBe(strokes);
    s.dispose();
    await t.dispose();
  });

  it('adversarial checkpoint: adversaries placed or sprinkled at the asked cells and fraction', async () => {
    const cls = await createTrainer(small(), mnist, { keepBackend: true });
    await cls.step();
    const adv = await createTrainer(
      small({ task: 'adversarial', classifierRunId: 'run-1', targetClass: 1, adversaryFraction: 0.1 }),
      mnist,
      { keepBackend: true, classifierCheckpoint: cls.saveCheckpoint() },
    );
    const m = await adv.step();
    expect(Number.isFinite(m.loss)).toBe(true);
    const ev = await adv.evaluate();
    expect(ev.attackSuccess?.map((a) => a.fraction)).toEqual([0.005, 0.01, 0.02, 0.05, 0.1]);
    for (const a of ev.attackSuccess ?? []) expect(a.successRate).toBeGreaterThanOrEqual(0);
    const s = (await InferenceSession.fromCheckpoint(adv.saveCheckpoint())) as ClassifySession;
    expect(s.hasAdversary).toBe(true);
    s.setImage(mnist.test.images.subarray(0, 784));
    s.placeAdversaries([100, 200]);
    expect(Array.from(s.adversaries()).reduce((a, b) => a + b, 0)).toBe(2);
    s.clearAdversaries();
    const n = s.sprinkleAdversaries(0.1);
    expect(n).toBeGreaterThan(30);
    expect(n).toBeLessThan(130);
    await s.step(5);
    s.dispose();
    await adv.dispose();
    await cls.dispose();
  });

  it('growing: seed, steps, damage', async () => {
    const img = new Uint8Array(100).fill(0);
    for (let i = 30; i < 70; i++) img[i] = 255;
    const ds: EngineDataset = {
      id: 'bar',
      width: 10,
      height: 10,
      classNames: ['a'],
      train: { images: img, labels: new Uint8Array(1), count: 1 },
      test: { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 },
    };
    const t = await createTrainer(
      {
        task: 'grow',
        target: { kind: 'dataset', dataset: 'bar', index: 0 },
        targetSize: 10,
        padding: 2,
        hidden: 16,
        stepsMin: 4,
        stepsMax: 6,
        poolSize: 8,
        batch: 2,
        damaged: 1,
        compute: { backend: 'wasm' },
      },
      ds,
      { keepBackend: true },
    );
    await t.step();
    const s = (await InferenceSession.fromCheckpoint(t.saveCheckpoint())) as GrowSession;
    expect(s.height).toBe(14);
    const seed = s.state();
    expect(seed.reduce((a, b) => a + b, 0)).toBe(13);
    await s.step(3);
    s.erase(7, 7, 2);
    expect(s.state()[(7 * 14 + 7) * 16 + 3]).toBe(0);
    s.dispose();
    await t.dispose();
  });
});
