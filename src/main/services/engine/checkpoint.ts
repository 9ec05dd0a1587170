/**
 * Checkpoint files: a zip (fflate, stored uncompressed for speed) of meta.json plus raw little-endian
 * arrays. Holds weights, Adam state, the pool, the RNG state and the iteration, so a run resumes
 * exactly where it was.
 */
import { Float16Array } from '@petamoriken/float16';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';

export const CHECKPOINT_FORMAT = 'nca-checkpoint/1';

export interface CheckpointContents {
  meta: Record<string, unknown> & { format: string; task: string; iteration: number };
  arrays: Record<string, Float32Array | Int32Array | Uint8Array | Float64Array>;
}

const KINDS = { f32: Float32Array, i32: Int32Array, u8: Uint8Array, f64: Float64Array } as const;
/** 'f16': a Float32Array stored as IEEE half floats (a shipped model's weights); it reads back as f32 */
type Kind = keyof typeof KINDS | 'f16';

function kindOf(a: CheckpointContents['arrays'][string]): keyof typeof KINDS {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Float64Array) return 'f64';
  return 'u8';
}

export function encodeCheckpoint(c: CheckpointContents): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  const kinds: Record<string, Kind> = {};
  for (const [name, a] of Object.entries(c.arrays)) {
    kinds[name] = kindOf(a);
    files[`${name}.bin`] = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  }
  files['meta.json'] = strToU8(JSON.stringify({ ...c.meta, arrayKinds: kinds }));
  return zipSync(files, { level: 0 });
}

export function decodeCheckpoint(bytes: Uint8Array): CheckpointContents {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new Error(`checkpoint: not a checkpoint file (${(e as Error).message})`, { cause: e });
  }
  if (!files['meta.json']) throw new Error('checkpoint: meta.json is missing');
  const meta = JSON.parse(strFromU8(files['meta.json'])) as CheckpointContents['meta'] & {
    arrayKinds: Record<string, Kind>;
  };
  if (meta.format !== CHECKPOINT_FORMAT)
    throw new Error(`checkpoint: format "${meta.format}" is not ${CHECKPOINT_FORMAT}`);
  const arrays: CheckpointContents['arrays'] = {};
  for (const [name, kind] of Object.entries(meta.arrayKinds)) {
    const f = files[`${name}.bin`];
    if (!f) throw new Error(`checkpoint: array ${name} is missing`);
    const copy = f.slice(); // aligned copy
    if (kind === 'f16') {
      if (copy.byteLength % 2) throw new Error(`checkpoint: array ${name} is not whole half floats`);
      arrays[name] = Float32Array.from(new Float16Array(copy.buffer, 0, copy.byteLength / 2));
      continue;
    }
    const Ctor = KINDS[kind] as (typeof KINDS)[keyof typeof KINDS] | undefined;
    if (!Ctor) throw new Error(`checkpoint: array ${name} has an unknown kind "${String(kind)}"`);
    if (copy.byteLength % Ctor.BYTES_PER_ELEMENT)
      throw new Error(`checkpoint: array ${name} is not whole ${kind} values`);
    arrays[name] = new Ctor(copy.buffer, 0, copy.byteLength / Ctor.BYTES_PER_ELEMENT);
  }
  return { meta, arrays };
}

/** How a weights-only checkpoint stores the networks' weights. */
export type WeightPrecision = 'f32' | 'f16';

/**
 * A checkpoint reduced to what inference needs (the weights, an adversary's frozen classifier, a
 * growing NCA's target to score against):
 * no optimiser state, pool or RNG, compressed. Small enough to ship (~85 KB for the reference
 * classifier in f32, ~40 KB in f16); it opens in the playground but cannot resume training.
 * `precision: 'f16'` stores the networks' weights as half floats (rounding error <= 2^-11 relative,
 * 3e-8 absolute below 6e-5; it moves a shipped model's scores by a fraction of a point, results.md
 * "Shipped models");
 * the growing target stays f32, since it is what the loss is measured against.
 */
export function modelOnlyCheckpoint(
  bytes: Uint8Array,
  opts: { precision?: WeightPrecision } = {},
): Uint8Array {
  const ck = decodeCheckpoint(bytes);
  const arrays: CheckpointContents['arrays'] = {};
  for (const name of ['weights', 'frozen', 'target']) if (ck.arrays[name]) arrays[name] = ck.arrays[name];
  if (!arrays.weights) throw new Error('checkpoint: it has no weights');
  const kinds: Record<string, Kind> = {};
  const files: Record<string, Uint8Array> = {};
  for (const [name, a] of Object.entries(arrays)) {
    if (opts.precision === 'f16' && name !== 'target' && a instanceof Float32Array) {
      const half = new Uint16Array(new Float16Array(a).buffer); // round to nearest, ties to even
      kinds[name] = 'f16';
      files[`${name}.bin`] = new Uint8Array(half.buffer);
      continue;
    }
    kinds[name] = kindOf(a);
    files[`${name}.bin`] = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  }
  const { arrayKinds: _drop, ...meta } = ck.meta as CheckpointContents['meta'] & { arrayKinds?: unknown };
  files['meta.json'] = strToU8(JSON.stringify({ ...meta, modelOnly: true, arrayKinds: kinds }));
  return zipSync(files, { level: 9 });
}

export function isModelOnly(bytes: Uint8Array): boolean {
  return decodeCheckpoint(bytes).meta.modelOnly === true;
}
