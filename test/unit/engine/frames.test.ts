import { describe, expect, it } from 'vitest';
import { TrainingWorker } from '../../../src/main/services/engine/training-worker.ts';
import { toyConfig, toyDataset as toyImages } from './toy.ts';
import { createTrainer } from '../../../src/main/services/engine/trainer.ts';

// distinct ink per image, and settings that keep the frames test about one iteration's rollout
const toyDataset = () => toyImages((i) => 200 + i);
const config = (over: Record<string, unknown> = {}) =>
  toyConfig({
    steps: 6,
    iterations: 5,
    evaluation: { every: 100, images: 4, steps: 4, mutateSteps: 0 },
    checkpoints: { every: 100, keepLatest: 1, keepBest: false },
    ...over,
  });

async function framesOf(maxPerSecond: number) {
  const run = TrainingWorker.start({
    config: config(),
    dataset: { data: toyDataset() },
    frames: { samples: [0, 2], maxPerSecond },
  });
  const frames: { iteration: number; step: number; bytes: number }[] = [];
  run.on('frame', (f) => frames.push({ iteration: f.iteration, step: f.step, bytes: f.buffer.byteLength }));
  expect((await run.done).status).toBe('completed');
  return frames;
}

describe('live frames inside an iteration', () => {
  it('a worker with frames on posts several distinct rollout steps of one iteration; none when off', async () => {
    // 10,000/s: any iteration longer than 0.6 ms has room for all 6 steps
    const on = await framesOf(10_000);
    const stepsByIteration = new Map<number, number[]>();
    for (const f of on)
      stepsByIteration.set(f.iteration, [...(stepsByIteration.get(f.iteration) ?? []), f.step]);
    const richest = Math.max(...[...stepsByIteration.values()].map((s) => new Set(s).size));
    expect(richest).toBeGreaterThanOrEqual(3);
    for (const steps of stepsByIteration.values()) {
      expect(steps).toEqual([...steps].sort((a, b) => a - b)); // in rollout order
      for (const s of steps) expect(s).toBeGreaterThanOrEqual(1);
      for (const s of steps) expect(s).toBeLessThanOrEqual(6);
    }
    expect(on.every((f) => f.bytes === 2 * 8 * 8 * 6 * 4)).toBe(true);
    expect(await framesOf(0)).toEqual([]);
  });

  it('captured steps are the rollout states: the last is the final state, any split of the batch gives the same', async () => {
    const grab = async (threads: number) => {
      const t = await createTrainer(config(), toyDataset(), { threads });
      try {
        await t.step();
        await t.step({ capture: { samples: [3, 0], steps: [6, 2, 4] } });
        return { frames: t.takeFrames!(), final: t.snapshot([3, 0]), again: t.takeFrames!() };
      } finally {
        await t.dispose();
      }
    };
    const one = await grab(1);
    expect(one.frames.map((f) => f.step)).toEqual([2, 4, 6]);
    expect(one.again).toEqual([]); // taken once
    expect(Array.from(one.frames[2].states)).toEqual(Array.from(one.final));
    // the NCA moves between steps (the weights are non-zero after one update)
    expect(Array.from(one.frames[0].states)).not.toEqual(Array.from(one.frames[1].states));
    // channel 0 (the pixel) never changes
    for (let i = 0; i < one.final.length; i += 6) expect(one.frames[0].states[i]).toBe(one.final[i]);
    // sample 3 sits in the second shard with 2 threads (a replica worker): same grids
    const two = await grab(2);
    two.frames.forEach((f, j) => {
      expect(f.step).toBe(one.frames[j].step);
      const a = one.frames[j].states;
      for (let i = 0; i < a.length; i++) expect(f.states[i]).toBeCloseTo(a[i], 4);
    });
  });
});
