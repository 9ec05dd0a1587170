/**
 * Adversarial reprogramming: a frozen classifier, and a new NCA of the same architecture trained so
 * that all cells show a target class. Which cells run the adversary is a per-sample Bernoulli mask
 * (fraction p) kept with each pool sample; each step mixes the two updates per cell (see nca.ts).
 */
import { Rng } from '../rng.ts';

/** A Bernoulli(p) mask over the grid, from its own stream. */
export function adversaryMask(hw: number, p: number, rng: Rng): Uint8Array {
  const m = new Uint8Array(hw);
  for (let i = 0; i < hw; i++) m[i] = rng.uniform() < p ? 1 : 0;
  return m;
}

/** Majority label of alive cells (ties: the lowest label); -1 without alive cells. */
export function majority(labels: Int32Array, numClasses: number): number {
  if (labels.length === 0) return -1;
  const counts = new Int32Array(numClasses);
  for (const l of labels) counts[l]++;
  let best = 0;
  for (let k = 1; k < numClasses; k++) if (counts[k] > counts[best]) best = k;
  return best;
}
