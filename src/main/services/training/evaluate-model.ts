/**
 * Score a weights-only model on a slice of a test split with the inference engine: per-cell accuracy
 * (alive cells whose argmax logit is the label) and total agreement (images whose voting cells all
 * show one label; a cell whose logits are all negative does not vote, as in the reference).
 */
import { ClassifySession, InferenceSession } from '../engine/inference.ts';
import type { EngineDataset } from '../engine/dataset.ts';

export async function evaluateModelSlice(
  checkpoint: Uint8Array,
  dataset: EngineDataset,
  o: { start: number; count: number; steps: number; batch?: number },
): Promise<{ perCellAccuracy: number; agreement: number }> {
  const batch = Math.min(o.batch ?? 50, o.count);
  const session = await InferenceSession.fromCheckpoint(checkpoint, { samples: batch, seed: 0 });
  if (!(session instanceof ClassifySession)) throw new Error('evaluateModelSlice: not a classifier');
  const hw = dataset.width * dataset.height;
  const C = session.channels;
  const K = session.numClasses;
  let correct = 0;
  let alive = 0;
  let agreeing = 0;
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
        const truth = dataset.test.labels[first + b];
        let voted = -1;
        let agrees = true;
        let voters = 0;
        for (let i = 0; i < hw; i++) {
          const cell = b * hw + i;
          const label = labels[cell];
          if (label < 0) continue;
          alive++;
          if (label === truth) correct++;
          if (!(state[cell * C + C - K + label] > 0)) continue; // no vote
          voters++;
          if (voted === -1) voted = label;
          else if (voted !== label) agrees = false;
        }
        if (agrees && voters > 0) agreeing++;
      }
    }
  } finally {
    session.dispose();
  }
  return { perCellAccuracy: alive ? correct / alive : 0, agreement: agreeing / o.count };
}
