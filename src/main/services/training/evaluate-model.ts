/**
 * Score weights-only models with the inference engine, on fixed slices so the numbers are
 * reproducible (docs/results.md, the shipped-model test, scripts/ship-model.ts):
 * - classifiers: per-cell accuracy (scored cells whose argmax logit is the label) and total agreement
 *   (images whose voting cells all show one label; a cell whose logits are all negative does not
 *   vote, as in the reference), also broken down by the image's number of stroke islands;
 * - adversaries: attack success (images whose majority becomes the target class);
 * - growing NCAs: the RGBA loss after growing from the seed, and after damage and regrowth.
 */
import { ClassifySession, GrowSession, InferenceSession } from '../engine/inference.ts';
import { decodeCheckpoint } from '../engine/checkpoint.ts';
import type { EngineDataset } from '../engine/dataset.ts';
import { countIslands } from '../datasets/stats.ts';
import { ISLAND_BINS } from '../../../shared/datasets.ts';

/** Pixels above this (of 255) are strokes: the reference's alive threshold 0.1. */
const STROKE_CUTOFF = Math.floor(0.1 * 255);

export interface IslandsRow {
  /** islands of strokes in the image (the last row: ISLAND_BINS-1 or more) */
  islands: number;
  images: number;
  agreeing: number;
  cells: number;
  correct: number;
}

export interface SliceScore {
  perCellAccuracy: number;
  agreement: number;
  /** per number of stroke islands (8-connected components of pixels > 0.1) */
  byIslands: IslandsRow[];
}

export type ScoredCells = 'alive' | 'strokes';

export interface SliceOptions {
  start: number;
  count: number;
  steps: number;
  batch?: number;
  /**
   * Which cells are scored: the model's alive cells (default, as in training), or the stroke cells
   * (pixel > 0.1) whatever the model's alive mode, so models with different masks compare on the
   * same cells.
   */
  scoreOn?: ScoredCells;
}

export async function evaluateModelSlice(
  checkpoint: Uint8Array,
  dataset: EngineDataset,
  o: SliceOptions,
): Promise<SliceScore> {
  const [score] = await evaluateModelSliceOn(checkpoint, dataset, o, [o.scoreOn ?? 'alive']);
  return score;
}

/**
 * One simulation of the slice, scored on several cell sets (the islands comparison needs both the
 * model's alive cells and the stroke cells; simulating twice doubled its ~20 minutes).
 */
export async function evaluateModelSliceOn(
  checkpoint: Uint8Array,
  dataset: EngineDataset,
  o: Omit<SliceOptions, 'scoreOn'>,
  scoreOn: readonly ScoredCells[],
): Promise<SliceScore[]> {
  const batch = Math.min(o.batch ?? 50, o.count);
  const session = await InferenceSession.fromCheckpoint(checkpoint, { samples: batch, seed: 0 });
  if (!(session instanceof ClassifySession)) throw new Error('evaluateModelSlice: not a classifier');
  const hw = dataset.width * dataset.height;
  const C = session.channels;
  const K = session.numClasses;
  const tallies = scoreOn.map((on) => ({
    strokesOnly: on === 'strokes',
    correct: 0,
    scored: 0,
    agreeing: 0,
    byIslands: Array.from({ length: ISLAND_BINS }, (_, islands): IslandsRow => ({
      islands,
      images: 0,
      agreeing: 0,
      cells: 0,
      correct: 0,
    })),
  }));
  const seen = new Uint8Array(hw);
  const stack = new Int32Array(hw);
  try {
    for (let first = o.start; first < o.start + o.count; first += batch) {
      const n = Math.min(batch, o.start + o.count - first);
      for (let b = 0; b < batch; b++) {
        const index = first + Math.min(b, n - 1);
        session.setImage(dataset.test.images.subarray(index * hw, (index + 1) * hw), b);
      }
      session.steps = 0;
      await session.step(o.steps);
      const state = session.state();
      const { labels } = session.readout();
      for (let b = 0; b < n; b++) {
        const pixels = dataset.test.images.subarray((first + b) * hw, (first + b + 1) * hw);
        const truth = dataset.test.labels[first + b];
        const bin = Math.min(
          countIslands(pixels, dataset.width, dataset.height, STROKE_CUTOFF, seen, stack),
          ISLAND_BINS - 1,
        );
        for (const t of tallies) {
          const row = t.byIslands[bin];
          let voted = -1;
          let agrees = true;
          let voters = 0;
          for (let i = 0; i < hw; i++) {
            const cell = b * hw + i;
            const label = labels[cell];
            if (label < 0) continue;
            if (t.strokesOnly && pixels[i] <= STROKE_CUTOFF) continue;
            t.scored++;
            row.cells++;
            if (label === truth) {
              t.correct++;
              row.correct++;
            }
            if (!(state[cell * C + C - K + label] > 0)) continue; // no vote
            voters++;
            if (voted === -1) voted = label;
            else if (voted !== label) agrees = false;
          }
          row.images++;
          if (agrees && voters > 0) {
            t.agreeing++;
            row.agreeing++;
          }
        }
      }
    }
  } finally {
    session.dispose();
  }
  return tallies.map((t) => ({
    perCellAccuracy: t.scored ? t.correct / t.scored : 0,
    agreement: t.agreeing / o.count,
    byIslands: t.byIslands,
  }));
}

/**
 * Attack success of an adversarial checkpoint on a test slice: a share p of the cells (Bernoulli,
 * seeded) are adversaries; success = the alive cells' majority shows the target class after `steps`.
 * Images of the target class are left out (they need no attack).
 */
export async function evaluateAttackSlice(
  adversarialCheckpoint: Uint8Array,
  dataset: EngineDataset,
  o: { start: number; count: number; steps: number; fraction: number; seed?: number },
): Promise<{ success: number; images: number }> {
  const target = decodeCheckpoint(adversarialCheckpoint).meta.config as { targetClass?: number };
  if (typeof target.targetClass !== 'number') throw new Error('evaluateAttackSlice: not an adversarial run');
  const hw = dataset.width * dataset.height;
  const indices: number[] = [];
  for (let i = o.start; i < o.start + o.count; i++)
    if (dataset.test.labels[i] !== target.targetClass) indices.push(i);
  const batch = Math.min(50, indices.length);
  const session = await InferenceSession.fromCheckpoint(adversarialCheckpoint, {
    samples: batch,
    seed: o.seed ?? 0,
  });
  if (!(session instanceof ClassifySession)) throw new Error('evaluateAttackSlice: not a classifier');
  let flipped = 0;
  try {
    for (let first = 0; first < indices.length; first += batch) {
      const n = Math.min(batch, indices.length - first);
      session.clearAdversaries();
      for (let b = 0; b < batch; b++) {
        const index = indices[first + Math.min(b, n - 1)];
        session.setImage(dataset.test.images.subarray(index * hw, (index + 1) * hw), b);
        session.sprinkleAdversaries(o.fraction, b);
      }
      session.steps = 0;
      await session.step(o.steps);
      const { majority } = session.readout();
      for (let b = 0; b < n; b++) if (majority[b] === target.targetClass) flipped++;
    }
  } finally {
    session.dispose();
  }
  return { success: indices.length ? flipped / indices.length : 0, images: indices.length };
}

/**
 * A growing NCA's RGBA loss (MSE against its target, as in training) after growing from the seed for
 * `steps`, and after cutting a disc of radius grid/5 out of the centre and growing `steps` more.
 */
export async function evaluateGrowModel(
  checkpoint: Uint8Array,
  o: { steps: number; seed?: number },
): Promise<{ loss: number; regrownLoss: number; damagedLoss: number }> {
  const ck = decodeCheckpoint(checkpoint);
  const target = ck.arrays.target as Float32Array | undefined;
  if (!target) throw new Error('evaluateGrowModel: the checkpoint has no target (not a growing run?)');
  const session = await InferenceSession.fromCheckpoint(checkpoint, { seed: o.seed ?? 0 });
  if (!(session instanceof GrowSession)) throw new Error('evaluateGrowModel: not a growing NCA');
  const cells = session.height * session.width;
  const C = session.channels;
  const loss = (s: Float32Array) => {
    let sum = 0;
    for (let i = 0; i < cells; i++)
      for (let k = 0; k < 4; k++) sum += (s[i * C + k] - target[i * 4 + k]) ** 2;
    return sum / (cells * 4);
  };
  try {
    await session.step(o.steps);
    const grown = loss(session.state());
    session.erase(session.width / 2, session.height / 2, session.width / 5);
    const damaged = loss(session.state());
    await session.step(o.steps);
    return { loss: grown, damagedLoss: damaged, regrownLoss: loss(session.state()) };
  } finally {
    session.dispose();
  }
}
