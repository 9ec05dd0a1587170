/**
 * Evaluate a stored checkpoint on the run's test split, in this thread (the CLI's `nca eval`;
 * the app evaluates inside training workers instead).
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
}

export async function evaluateCheckpoint(o: EvaluateOptions): Promise<Evaluation> {
  let config = o.config;
  if (o.images !== undefined && config.task !== 'grow')
    config = { ...config, evaluation: { ...config.evaluation, images: o.images } };
  const datasetId = datasetIdOf(config);
  const dataset = datasetId ? await loadEngineDataset(datasetId, o.dataDir) : null;
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
