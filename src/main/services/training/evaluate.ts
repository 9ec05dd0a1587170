/**
 * Evaluate a stored checkpoint on the run's test split, in this thread (the CLI's `nca eval`;
 * the app evaluates inside training workers instead). On request, on the first training images
 * instead: the gap between the two tells over-fitting (more data, augmentation) from a model that
 * cannot fit (more capacity, longer training).
 */
import { datasetIdOf, type RunConfig } from '../../../shared/nca-config.ts';
import type { Evaluation } from '../../../shared/metrics.ts';
import { loadEngineDataset } from '../engine/dataset.ts';
import { createTrainer } from '../engine/trainer.ts';

export interface EvaluateOptions {
  config: RunConfig;
  checkpoint: Uint8Array;
  classifierCheckpoint?: Uint8Array;
  dataDir: string;
  /** test images (default: the run's evaluation.images) */
  images?: number;
  threads?: number;
  /** which images: the held-out test split (default) or the first training images */
  split?: 'test' | 'train';
}

export async function evaluateCheckpoint(o: EvaluateOptions): Promise<Evaluation> {
  let config = o.config;
  if (o.images !== undefined && config.task !== 'grow')
    config = { ...config, evaluation: { ...config.evaluation, images: o.images } };
  const datasetId = datasetIdOf(config);
  if (o.split === 'train' && config.task === 'grow')
    throw new Error('a growing run has one target and no training split to evaluate on');
  let dataset = datasetId ? await loadEngineDataset(datasetId, o.dataDir) : null;
  if (o.split === 'train' && dataset) {
    if (dataset.train.count === 0)
      throw new Error(`dataset ${dataset.id}: no training images to evaluate on`);
    // the trainer evaluates on dataset.test: hand it the training images in that place
    dataset = { ...dataset, test: dataset.train };
  }
  const trainer = await createTrainer(config, dataset, {
    threads: o.threads,
    classifierCheckpoint: o.classifierCheckpoint,
  });
  try {
    // evaluation needs the weights only: shipped (weights-only) models evaluate like any checkpoint
    trainer.loadWeights(o.checkpoint);
    return await trainer.evaluate();
  } finally {
    await trainer.dispose();
  }
}
