/**
 * Widening a trained classifier: more state channels, perception filters or hidden units, with the
 * trained function kept (Net2Net's "random padding", Chen et al. 2016). Every new unit gets random
 * incoming weights and zero outgoing ones, so it starts silent and its outgoing weights still get
 * gradients; new state channels get no update (zero columns of the last layer) and are read only by
 * new filters. The logits stay the last channels, so new hidden channels go in before them.
 * Deepening too (Net2DeeperNet): hidden layers appended after the last one, as wide as it, start as
 * the identity, which a ReLU layer keeps exactly because its input is already non-negative.
 */
import { ClassifyConfigSchema, type ClassifyConfig } from '../../../shared/nca-config.ts';
import { decodeCheckpoint, encodeCheckpoint, modelOnlyCheckpoint } from './checkpoint.ts';
import { classifierParams, initParams, type ClassifierArch } from './nca.ts';
import { flatten, unflatten, type ParamSpec } from './params.ts';
import { Rng } from './rng.ts';

/**
 * A classifier checkpoint widened to the model fields of `to`: weights only (a new optimiser state
 * and pool fit the new shapes), its meta naming `to` so the playground and a fork read the new model.
 */
export function widenCheckpoint(bytes: Uint8Array, to: ClassifyConfig): Uint8Array {
  const ck = decodeCheckpoint(bytes);
  if (ck.meta.task !== 'classify')
    throw new Error(`only a classifier can be widened, not a ${ck.meta.task} run`);
  const from = ClassifyConfigSchema.parse(ck.meta.config);
  const numClasses = ck.meta.numClasses as number;
  const arch = (c: ClassifyConfig): ClassifierArch => ({
    channels: c.channels,
    numClasses,
    perception: c.perception,
    hidden: c.hidden,
  });
  const values = unflatten(ck.arrays.weights as Float32Array, classifierParams(arch(from)));
  const wide = widenClassifier(arch(from), arch(to), values, to.seed);
  const { arrayKinds: _kinds, ...meta } = ck.meta as typeof ck.meta & { arrayKinds?: unknown };
  return modelOnlyCheckpoint(
    encodeCheckpoint({ meta: { ...meta, config: to }, arrays: { weights: flatten(wide) } }),
  );
}

/** Why `to` is not a widening of `from` (empty when it is). */
export function wideningProblems(from: ClassifierArch, to: ClassifierArch): string[] {
  const p: string[] = [];
  if (to.numClasses !== from.numClasses) p.push(`classes: ${from.numClasses} → ${to.numClasses}`);
  if (to.perception.kind !== from.perception.kind)
    p.push(`perception.kind: ${from.perception.kind} → ${to.perception.kind}`);
  if (to.perception.kernel !== from.perception.kernel && from.perception.kind === 'learned')
    p.push(`perception.kernel: ${from.perception.kernel} → ${to.perception.kernel}`);
  if (to.channels < from.channels) p.push(`channels: ${from.channels} → ${to.channels} (narrower)`);
  if (from.perception.kind === 'learned' && to.perception.filters < from.perception.filters)
    p.push(`perception.filters: ${from.perception.filters} → ${to.perception.filters} (narrower)`);
  const hidden = `hidden: [${from.hidden.join(', ')}] → [${to.hidden.join(', ')}]`;
  if (to.hidden.length < from.hidden.length || from.hidden.some((h, i) => to.hidden[i] < h))
    p.push(`${hidden} (a layer fewer or narrower)`);
  else if (to.hidden.length > from.hidden.length && from.hidden.length === 0)
    p.push(`${hidden} (a model without hidden layers cannot be deepened)`);
  else if (to.hidden.slice(from.hidden.length).some((h) => h !== to.hidden[from.hidden.length - 1]))
    p.push(`${hidden} (an added layer must be as wide as the last kept one: it starts as the identity)`);
  return p;
}

/**
 * The weights of `from` embedded in the wider `to`. With the same random inputs (no residual noise:
 * the noise is drawn per channel, so more channels draw other numbers) the wider model's logits are
 * the narrower one's, step for step.
 */
export function widenClassifier(
  from: ClassifierArch,
  to: ClassifierArch,
  values: Float32Array[],
  seed: number,
): Float32Array[] {
  const problems = wideningProblems(from, to);
  if (problems.length) throw new Error(`not a widening: ${problems.join('; ')}`);
  const oldSpecs = classifierParams(from);
  const newSpecs = classifierParams(to);
  if (values.length !== oldSpecs.length)
    throw new Error(`widen: ${values.length} arrays, the model has ${oldSpecs.length}`);
  const out = initParams(newSpecs, new Rng(seed)); // random where new units read, zero elsewhere below

  // a state channel's new index: pixel and hidden channels stay, the logits move to the end
  const firstLogit = from.channels - from.numClasses;
  const channel = (c: number) => (c < firstLogit ? c : c + to.channels - from.channels);
  const identity = (i: number) => i;
  // a perception output's new index: learned filters stay; fixed ones are 3 per channel
  const perceived =
    from.perception.kind === 'learned' ? identity : (i: number) => channel(Math.floor(i / 3)) * 3 + (i % 3);

  const byName = new Map(newSpecs.map((s, i) => [s.name, i]));
  oldSpecs.forEach((spec, k) => {
    const i = byName.get(spec.name);
    if (i === undefined) throw new Error(`widen: ${spec.name} has no counterpart`);
    const rows =
      spec.name === 'perceive.kernel'
        ? (r: number) => Math.floor(r / from.channels) * to.channels + channel(r % from.channels)
        : spec.name === 'update.0.kernel' || (spec.name === 'update.out.kernel' && from.hidden.length === 0)
          ? perceived
          : identity;
    // the last layer writes channels 1..C-1 (the pixel never changes)
    const cols = spec.name.startsWith('update.out') ? (c: number) => channel(c + 1) - 1 : identity;
    embed(spec, newSpecs[i], values[k], out[i], rows, cols);
  });
  // appended hidden layers: the identity (update.out's trained rows now read the last of them)
  for (let l = from.hidden.length; l < to.hidden.length; l++) {
    const w = to.hidden[l];
    const kernel = out[byName.get(`update.${l}.kernel`) as number];
    kernel.fill(0);
    for (let j = 0; j < w; j++) kernel[j * w + j] = 1;
    out[byName.get(`update.${l}.bias`) as number].fill(0);
  }
  return out;
}

/**
 * Copies `src` into `dst` at the mapped positions. In a kernel, a new row (an input the old model did
 * not have) is zeroed in the old columns, so old units do not hear it; new columns keep their random
 * init (the new units' outgoing weights are zero in the next layer).
 */
function embed(
  oldSpec: ParamSpec,
  newSpec: ParamSpec,
  src: Float32Array,
  dst: Float32Array,
  rows: (r: number) => number,
  cols: (c: number) => number,
): void {
  if (oldSpec.shape.length === 1) {
    for (let c = 0; c < oldSpec.shape[0]; c++) dst[cols(c)] = src[c];
    return;
  }
  const [r0, c0] = oldSpec.shape;
  const [r1, c1] = newSpec.shape;
  const oldRow = new Uint8Array(r1);
  for (let r = 0; r < r0; r++) oldRow[rows(r)] = 1;
  const oldCols = Array.from({ length: c0 }, (_, c) => cols(c));
  for (let r = 0; r < r1; r++) if (!oldRow[r]) for (const c of oldCols) dst[r * c1 + c] = 0;
  for (let r = 0; r < r0; r++) {
    const to = rows(r) * c1;
    for (let c = 0; c < c0; c++) dst[to + oldCols[c]] = src[r * c0 + c];
  }
}
