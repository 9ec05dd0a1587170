import type { EngineDataset } from '../../../src/main/services/engine/dataset.ts';

/**
 * 8x8 two-class toy data (a bar left or right): enough to run a worker end to end. `ink(i)` is the
 * bar's grey level in image i (distinct levels let a test tell images apart).
 */
export function toyDataset(ink: (i: number) => number = () => 255): EngineDataset {
  const n = 20;
  const images = new Uint8Array(n * 64);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    const x0 = labels[i] ? 5 : 1;
    for (let y = 1; y < 7; y++) for (let x = x0; x < x0 + 2; x++) images[i * 64 + y * 8 + x] = ink(i);
  }
  return {
    id: 'toy',
    width: 8,
    height: 8,
    classNames: ['left', 'right'],
    train: { images, labels, count: n },
    test: { images, labels, count: n },
  };
}

/** A tiny classifier config for the toy data; tests override what they exercise. */
export const toyConfig = (over: Record<string, unknown> = {}) => ({
  task: 'classify',
  dataset: 'toy',
  channels: 6,
  perception: { kind: 'learned', kernel: 3, filters: 8 },
  hidden: [8],
  steps: 4,
  batch: 4,
  pool: { size: 8, freshFraction: 0.25, mutateFraction: 0.25 },
  iterations: 6,
  evaluation: { every: 3, images: 6, steps: 4, mutateSteps: 2 },
  checkpoints: { every: 2, keepLatest: 3, keepBest: true },
  compute: { backend: 'wasm', threads: 1 },
  ...over,
});
