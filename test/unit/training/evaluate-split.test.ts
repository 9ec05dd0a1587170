/**
 * `nca eval --split train`: the same checkpoint scored on the first training images instead of the
 * test split (the generalisation gap), on the real glyphs dataset and a real wasm trainer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src/main/services/datasets/index.ts';
import { createTrainer } from '../../../src/main/services/engine/trainer.ts';
import { evaluateCheckpoint } from '../../../src/main/services/training/evaluate.ts';
import { presetConfig } from '../../../src/shared/presets.ts';

const config = presetConfig('quick-demo', {
  channels: 12,
  perception: { kind: 'learned', kernel: 3, filters: 8 },
  hidden: [8],
  batch: 2,
  steps: 3,
  evaluation: { every: 10, images: 24, steps: 3, mutateSteps: 0 },
});

/** images per true class among the first n of a split: what an evaluation's confusion rows must sum to */
const classCounts = (labels: Uint8Array, n: number) => {
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < n; i++) counts[labels[i]]++;
  return counts;
};

describe('evaluateCheckpoint on a chosen split', () => {
  let dataDir: string;
  let checkpoint: Uint8Array;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-eval-split-'));
    const trainer = await createTrainer(config, await loadDataset('glyphs', { dataDir }), { threads: 1 });
    try {
      await trainer.step();
      checkpoint = trainer.saveCheckpoint();
    } finally {
      await trainer.dispose();
    }
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('scores the first training images with --split train and the test images by default', async () => {
    const glyphs = await loadDataset('glyphs', { dataDir });
    const expectedTrain = classCounts(glyphs.train.labels, 24);
    const expectedTest = classCounts(glyphs.test.labels, 24);
    // the check below can only tell the splits apart when their first 24 labels differ
    expect(expectedTrain).not.toEqual(expectedTest);

    const onTrain = await evaluateCheckpoint({ config, checkpoint, dataDir, split: 'train', threads: 1 });
    const onTest = await evaluateCheckpoint({ config, checkpoint, dataDir, threads: 1 });
    const rowSums = (m: number[][]) => m.map((row) => row.reduce((a, b) => a + b, 0));
    expect(onTrain.images).toBe(24);
    expect(rowSums(onTrain.confusionImages)).toEqual(expectedTrain);
    expect(rowSums(onTest.confusionImages)).toEqual(expectedTest);
  }, 60_000);

  it('refuses a growing run, which has no training split', async () => {
    const grow = presetConfig('grow-fashion');
    await expect(
      evaluateCheckpoint({ config: grow, checkpoint, dataDir, split: 'train', threads: 1 }),
    ).rejects.toThrow(/growing run .* no training split/);
  });
});
