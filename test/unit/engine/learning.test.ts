import { describe, expect, it, beforeAll } from 'vitest';
import { initBackend } from '../../../src/main/services/engine/backends.ts';
import { createTrainer } from '../../../src/main/services/engine/trainer.ts';
import type { EngineDataset } from '../../../src/main/services/engine/dataset.ts';
import { mnistSubset } from './helpers.ts';

let data: EngineDataset;

describe('learning on real MNIST digits', () => {
  beforeAll(async () => {
    await initBackend('wasm');
    data = await mnistSubset(600, 100, [0, 1]);
  });

  it('a small classifier beats chance (0 vs 1) and learns within 200 iterations', async () => {
    const t = await createTrainer(
      {
        task: 'classify',
        dataset: 'mnist-subset',
        channels: 12,
        perception: { kind: 'learned', kernel: 3, filters: 32 },
        hidden: [32],
        steps: 8,
        loss: 'ce',
        batch: 16,
        pool: { size: 128, freshFraction: 0.5, mutateFraction: 0 },
        optimizer: { lr: 1e-2, schedule: [{ at: 100, lr: 2e-3 }], normalizeGradients: true },
        evaluation: { every: 1000, images: 100, steps: 8, mutateSteps: 0 },
        compute: { backend: 'wasm', threads: 2, aliveOnly: true },
      },
      data,
      { keepBackend: true },
    );
    const losses: number[] = [];
    const accs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const m = await t.step();
      losses.push(m.loss);
      accs.push(m.perCellAccuracy);
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const ev = await t.evaluate();
    console.log(
      `loss ${mean(losses.slice(0, 20)).toFixed(2)} -> ${mean(losses.slice(-20)).toFixed(2)}, train acc ${mean(accs.slice(-30)).toFixed(3)}, test acc ${ev.perCellAccuracy.toFixed(3)}`,
    );
    // (cross-entropy rises again as cells grow confident; accuracy is what must move)
    expect(mean(accs.slice(-30))).toBeGreaterThan(mean(accs.slice(0, 30)) + 0.15);
    expect(ev.perCellAccuracy).toBeGreaterThan(0.7);
    await t.dispose();
  });
});
