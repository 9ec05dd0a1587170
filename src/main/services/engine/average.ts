/**
 * Weight averaging along a training trajectory (Polyak averaging; "stochastic weight averaging",
 * Izmailov et al. 2018): late checkpoints of one run, taken at a small or cyclic learning rate, sit
 * around a minimum that none of them reaches; their mean weights are often closer to it than any
 * one of them. Only the weights are averaged: the Adam state, pool and RNG are the last checkpoint's,
 * so the averaged model evaluates like any checkpoint and can be trained on.
 */
import { configChanges, MODEL_FIELDS, type RunConfig, type Task } from '../../../shared/nca-config.ts';
import { decodeCheckpoint, encodeCheckpoint, modelOnlyCheckpoint } from './checkpoint.ts';

/**
 * The element-wise mean of the checkpoints' weights, in the last checkpoint's container (its
 * iteration, optimiser state, pool and meta). Throws, naming the checkpoint, when one is not of the
 * same task and model as the first.
 */
export function averageCheckpoints(checkpoints: Uint8Array[]): Uint8Array {
  if (checkpoints.length < 2) throw new Error('averaging needs at least two checkpoints');
  const decoded = checkpoints.map((bytes, i) => {
    try {
      return decodeCheckpoint(bytes);
    } catch (err) {
      throw new Error(`checkpoint ${i + 1}: ${(err as Error).message}`, { cause: err });
    }
  });
  const first = decoded[0];
  const weights0 = first.arrays.weights;
  if (!(weights0 instanceof Float32Array)) throw new Error('checkpoint 1 has no weights');
  const sum = new Float64Array(weights0.length);
  decoded.forEach((ck, i) => {
    const w = ck.arrays.weights;
    if (ck.meta.task !== first.meta.task)
      throw new Error(
        `checkpoint ${i + 1} is a ${ck.meta.task} model, checkpoint 1 a ${first.meta.task} model`,
      );
    // the fields a fork may not change: the weights' shapes and what they were trained on
    const locked = MODEL_FIELDS[first.meta.task as Task] ?? [];
    const changed = configChanges(first.meta.config as RunConfig, ck.meta.config as RunConfig).filter((c) =>
      locked.includes(c.path.split('.')[0]),
    );
    if (changed.length > 0)
      throw new Error(
        `checkpoint ${i + 1} is another model: ${changed.map((c) => `${c.path} ${c.from} → ${c.to}`).join(', ')}`,
      );
    if (!(w instanceof Float32Array) || w.length !== weights0.length)
      throw new Error(
        `checkpoint ${i + 1} has ${w?.length ?? 0} weights, checkpoint 1 has ${weights0.length}`,
      );
    for (let j = 0; j < w.length; j++) sum[j] += w[j];
  });
  const mean = Float32Array.from(sum, (s) => s / decoded.length);
  const last = decoded[decoded.length - 1];
  const { arrayKinds: _kinds, ...meta } = last.meta as typeof last.meta & { arrayKinds?: unknown };
  const averagedFrom = decoded.map((ck) => ck.meta.iteration);
  const bytes = encodeCheckpoint({
    meta: { ...meta, averagedFrom },
    arrays: { ...last.arrays, weights: mean },
  });
  // a weights-only checkpoint stays one (compressed, no optimiser state)
  return last.meta.modelOnly === true ? modelOnlyCheckpoint(bytes) : bytes;
}
