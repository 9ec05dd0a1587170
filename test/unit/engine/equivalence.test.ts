import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { tf } from '../../../src/main/services/engine/tf.ts';
import { initBackend } from '../../../src/main/services/engine/backends.ts';
import { setGatherMode } from '../../../src/main/services/engine/ops.ts';
import type { ClassifySettings } from '../../../src/main/services/engine/tasks/classify.ts';
import {
  BATCH_LABELS,
  BATCH_STREAMS,
  engineRollout,
  maxAbsDiff,
  randomStates,
  randomWeights,
  referenceRollout,
  smallSettings,
} from './helpers.ts';

const labels = BATCH_LABELS;
const streams = BATCH_STREAMS;
const engine = engineRollout;

describe('gather + matMul NCA matches plain tf.conv2d (values and gradients, 1e-4)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });
  afterAll(() => setGatherMode(null));

  for (const variant of [
    { name: '3x3 threshold', over: {} },
    {
      name: '5x5 threshold',
      over: { arch: { ...smallSettings().arch, perception: { kind: 'learned', kernel: 5, filters: 8 } } },
    },
    { name: '3x3 dilated', over: { aliveMode: 'dilated' } },
    { name: '3x3 no mask, strokes answer', over: { aliveMode: 'none', readout: 'strokes' } },
  ] as { name: string; over: Partial<ClassifySettings> }[]) {
    it(variant.name, async () => {
      const s = smallSettings(variant.over);
      const w = randomWeights(s);
      const states = randomStates(s, 3);
      await tf.setBackend('cpu');
      const ref = referenceRollout(s, w, states, labels, streams);
      await initBackend('wasm');
      // host gather (wasm/cpu) and device gather (tf.gather, the GPU path) variants
      for (const [aliveOnly, mode] of [
        [false, 'host'],
        [true, 'host'],
        [true, 'device'],
      ] as const) {
        setGatherMode(mode);
        const got = await engine({ ...s, aliveOnly }, w, states);
        expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.loss)));
        ref.grads.forEach((g, i) => expect(maxAbsDiff(got.grads![i], g)).toBeLessThan(1e-4));
        expect(maxAbsDiff(got.final, ref.final)).toBeLessThan(1e-4);
      }
      expect(ref.grads.every((g) => g.some((v) => Math.abs(v) > 1e-3))).toBe(true);
      await tf.setBackend('cpu');
    });
  }

  it('readout strokes: the same dynamics, but only stroke cells are trained and scored', async () => {
    const s = smallSettings({ aliveMode: 'none' });
    const w = randomWeights(s);
    const states = randomStates(s, 3);
    await initBackend('wasm');
    setGatherMode('host');
    const all = await engine(s, w, states);
    const strokes = await engine({ ...s, readout: 'strokes' }, w, states);
    const C = s.arch.channels;
    const strokeCells = states.reduce(
      (n, st) =>
        n + Array.from({ length: s.height * s.width }, (_, i) => st[i * C]).filter((p) => p > 0.1).length,
      0,
    );
    expect(maxAbsDiff(all.final, strokes.final)).toBe(0);
    expect(all.aliveCells).toBe(3 * s.height * s.width);
    expect(strokes.aliveCells).toBe(strokeCells);
    expect(strokeCells).toBeLessThan(all.aliveCells);
    expect(strokes.loss).toBeLessThan(all.loss);
    expect(maxAbsDiff(all.grads![0], strokes.grads![0])).toBeGreaterThan(1e-3);
    await tf.setBackend('cpu');
  });
});
