import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Evaluation, IterationMetrics } from '../../../src/shared/metrics.ts';
import type { RunConfigInput } from '../../../src/shared/nca-config.ts';

export function tempDir(prefix = 'nca-store-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const classifyConfig = (over: Record<string, unknown> = {}): RunConfigInput =>
  ({ task: 'classify', dataset: 'mnist', iterations: 1000, ...over }) as RunConfigInput;

export const growConfig = (over: Record<string, unknown> = {}): RunConfigInput =>
  ({ task: 'grow', ...over }) as RunConfigInput;

/** A deterministic metric row whose loss falls and accuracy rises with the iteration. */
export function metricRow(iteration: number, over: Partial<IterationMetrics> = {}): IterationMetrics {
  return {
    iteration,
    loss: 1 / (1 + iteration),
    perCellAccuracy: iteration / (iteration + 10),
    agreement: iteration / (iteration + 20),
    lr: 1e-3,
    gradNorm: 1 + (iteration % 7),
    iterationMs: 20,
    cellsPerSec: 1e6,
    wallMs: iteration * 20,
    ...over,
  };
}

export function evaluation(iteration: number, accuracy: number): Evaluation {
  return {
    iteration,
    images: 100,
    perStep: [
      { step: 1, perCellAccuracy: accuracy / 2, agreement: 0.1 },
      { step: 2, perCellAccuracy: accuracy, agreement: 0.2 },
    ],
    mutationStep: 2,
    perCellAccuracy: accuracy,
    agreement: accuracy - 0.1,
    perClassAccuracy: [accuracy, accuracy],
    confusionCells: [
      [5, 1],
      [2, 6],
    ],
    confusionImages: [
      [3, 0],
      [1, 4],
    ],
    durationMs: 123,
  };
}
