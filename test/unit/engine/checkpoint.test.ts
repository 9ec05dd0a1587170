/**
 * Checkpoint files: weights-only checkpoints in f32 and f16 (the shipped models' format), and the
 * errors a damaged checkpoint gets.
 */
import { zipSync, strToU8 } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/services/engine/backends.ts';
import {
  CHECKPOINT_FORMAT,
  decodeCheckpoint,
  encodeCheckpoint,
  modelOnlyCheckpoint,
} from '../../../src/main/services/engine/checkpoint.ts';
import { ClassifySession, InferenceSession } from '../../../src/main/services/engine/inference.ts';
import { createTrainer } from '../../../src/main/services/engine/trainer.ts';
import { maxAbsDiff, mnistSubset, smallClassifier } from './helpers.ts';

const meta = { format: CHECKPOINT_FORMAT, task: 'classify', iteration: 7 };

describe('weights-only checkpoints', () => {
  beforeAll(() => initBackend('wasm'));

  it('stores weights as half floats on request: half the bytes, rounded to nearest, target kept exact', () => {
    const n = 4096;
    const weights = new Float32Array(n);
    for (let i = 0; i < n; i++) weights[i] = Math.sin(i * 12.9898) * 0.3 * (i % 7 === 0 ? 1e-4 : 1);
    weights.set([0, -0, 0.5, -0.125, 1024, 65504], 0); // exactly representable in half floats
    const frozen = Float32Array.from({ length: n }, (_, i) => Math.cos(i) * 0.05);
    const target = Float32Array.from({ length: 64 }, (_, i) => i / 63 + 1e-7); // not representable in f16
    const full = encodeCheckpoint({
      meta,
      arrays: { weights, frozen, target, adamM: new Float32Array(n), iteration: new Int32Array([7]) },
    });
    const f32 = modelOnlyCheckpoint(full);
    const f16 = modelOnlyCheckpoint(full, { precision: 'f16' });
    const back = decodeCheckpoint(f16);
    expect(back.meta).toMatchObject({
      ...meta,
      modelOnly: true,
      arrayKinds: { weights: 'f16', frozen: 'f16' },
    });
    expect(Object.keys(back.arrays).sort()).toEqual(['frozen', 'target', 'weights']); // no Adam state
    expect(back.arrays.weights).toBeInstanceOf(Float32Array);
    expect(Array.from(back.arrays.weights.subarray(0, 6))).toEqual([0, -0, 0.5, -0.125, 1024, 65504]);
    for (const [name, a] of [
      ['weights', weights],
      ['frozen', frozen],
    ] as const) {
      const b = back.arrays[name];
      for (let i = 0; i < n; i++) {
        // half floats: 11 significant bits; below 2^-14 a fixed step of 2^-24
        const bound = Math.abs(a[i]) >= 2 ** -14 ? Math.abs(a[i]) * 2 ** -11 : 2 ** -25;
        expect(Math.abs(b[i] - a[i]), `${name}[${i}] = ${a[i]}`).toBeLessThanOrEqual(bound);
      }
    }
    expect(back.arrays.target).toEqual(target);
    expect(decodeCheckpoint(f32).arrays.weights).toEqual(weights); // the default stays lossless
    expect(f16.byteLength).toBeLessThan(0.6 * f32.byteLength);
  });

  it('a half-float model rolls out as its f32 original does', async () => {
    const mnist = await mnistSubset(40, 4);
    const trainer = await createTrainer(smallClassifier(), mnist, { keepBackend: true });
    for (let i = 0; i < 5; i++) await trainer.step();
    const full = trainer.saveCheckpoint();
    await trainer.dispose();
    const image = mnist.test.images.subarray(0, 28 * 28);
    const rollout = async (bytes: Uint8Array) => {
      const s = (await InferenceSession.fromCheckpoint(bytes)) as ClassifySession;
      s.setImage(image);
      await s.step(30);
      const out = { state: s.state(), labels: s.readout().labels };
      s.dispose();
      return out;
    };
    const a = await rollout(modelOnlyCheckpoint(full));
    const b = await rollout(modelOnlyCheckpoint(full, { precision: 'f16' }));
    expect(maxAbsDiff(a.state, b.state)).toBeGreaterThan(0); // the weights did change...
    expect(maxAbsDiff(a.state, b.state)).toBeLessThan(0.02); // ...by less than the model can tell
    let same = 0;
    for (let i = 0; i < a.labels.length; i++) same += a.labels[i] === b.labels[i] ? 1 : 0;
    expect(same / a.labels.length).toBeGreaterThan(0.98);
  });

  it('refuses an array of an unknown kind or a cut-off array, naming it', () => {
    const file = (kind: string, bytes: number) =>
      zipSync({
        'meta.json': strToU8(JSON.stringify({ ...meta, arrayKinds: { weights: kind } })),
        'weights.bin': new Uint8Array(bytes),
      });
    expect(() => decodeCheckpoint(file('f8', 8))).toThrow(/array weights has an unknown kind "f8"/);
    expect(() => decodeCheckpoint(file('f16', 7))).toThrow(/array weights is not whole half floats/);
    expect(() => decodeCheckpoint(file('f32', 6))).toThrow(/array weights is not whole f32 values/);
    expect(decodeCheckpoint(file('f16', 8)).arrays.weights).toEqual(new Float32Array(4));
  });
});
