/**
 * The WebGPU path against the plain reference, on Chromium's SwiftShader Vulkan driver (no GPU
 * here): tiny shapes, it is slow. Skips, saying why, when no adapter can be found.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/main/services/engine/tf.ts';
import {
  gpuFreePoolBytes,
  initBackend,
  trimGpuBufferPool,
} from '../../../src/main/services/engine/backends.ts';
import { classifierParams } from '../../../src/main/services/engine/nca.ts';
import { trainShard } from '../../../src/main/services/engine/tasks/classify.ts';
import { maxAbsDiff, randomStates, randomWeights, referenceRollout, smallSettings } from './helpers.ts';

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(ICD)) process.env.VK_ICD_FILENAMES = ICD;

let skipReason = '';
try {
  await initBackend('webgpu', { allowSoftwareGpu: true });
} catch (e) {
  skipReason = (e as Error).message;
  console.warn(`WebGPU test skipped: ${skipReason}`);
}

describe.skipIf(skipReason !== '')(
  'WebGPU backend matches the reference (values and gradients, 1e-4)',
  () => {
    it('classifier rollout, loss and gradients (dense and alive-only)', async () => {
      const s = smallSettings({ height: 5, width: 5, steps: 2 });
      const labels = [1, 2];
      const streams = [
        [4, 0, 0],
        [4, 0, 1],
      ];
      const w = randomWeights(s);
      const states = randomStates(s, 2);
      await tf.setBackend('cpu');
      const ref = referenceRollout(s, w, states, labels, streams);
      await tf.setBackend('webgpu');
      const specs = classifierParams(s.arch);
      for (const aliveOnly of [false, true]) {
        const wt = specs.map((p, i) => tf.tensor(w[i], p.shape));
        const st = states.map((x) => x.slice());
        const r = await trainShard(
          specs,
          wt,
          { ...s, aliveOnly },
          { states: st, labels, streams, batchTotal: 2 },
        );
        tf.dispose(wt);
        expect(Math.abs(r.loss - ref.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.loss)));
        ref.grads.forEach((g, i) => expect(maxAbsDiff(r.grads![i], g)).toBeLessThan(1e-4));
        const final = new Float32Array(st.length * st[0].length);
        st.forEach((x, b) => final.set(x, b * x.length));
        expect(maxAbsDiff(final, ref.final)).toBeLessThan(1e-4);
      }
    });

    it("frees the buffers that alive-only batches of changing shape leave in tfjs's pool", async () => {
      await tf.setBackend('webgpu');
      const s = smallSettings({ height: 6, width: 6, steps: 2 });
      const specs = classifierParams(s.arch);
      const w = randomWeights(s);
      const shard = async (seed: number) => {
        const wt = specs.map((p, i) => tf.tensor(w[i], p.shape));
        const st = randomStates(s, 2, seed);
        const r = await trainShard(specs, wt, s, {
          states: st,
          labels: [0, 1],
          streams: [
            [seed, 0, 0],
            [seed, 0, 1],
          ],
          batchTotal: 2,
        });
        tf.dispose(wt);
        return r;
      };
      trimGpuBufferPool(0);
      expect(gpuFreePoolBytes()).toBe(0);
      // different random states: different alive counts, so different buffer sizes each time
      for (const seed of [3, 4, 5, 6]) await shard(seed);
      const held = gpuFreePoolBytes();
      expect(held).toBeGreaterThan(0);
      expect(trimGpuBufferPool(held)).toBe(0); // under the limit: kept
      expect(trimGpuBufferPool(0)).toBe(held);
      expect(gpuFreePoolBytes()).toBe(0);
      // nothing in use was destroyed: the next shard still matches the reference
      await tf.setBackend('cpu');
      const ref = referenceRollout(
        s,
        w,
        randomStates(s, 2, 7),
        [0, 1],
        [
          [7, 0, 0],
          [7, 0, 1],
        ],
      );
      await tf.setBackend('webgpu');
      const r = await shard(7);
      expect(Math.abs(r.loss - ref.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.loss)));
      ref.grads.forEach((g, i) => expect(maxAbsDiff(r.grads![i], g)).toBeLessThan(1e-4));
    });
  },
);
