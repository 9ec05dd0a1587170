/**
 * Checkpoint files: a zip (fflate, stored uncompressed for speed) of meta.json plus raw little-endian
 * arrays. Holds weights, Adam state, the pool, the RNG state and the iteration, so a run resumes
 * exactly where it was.
 */
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';

export const CHECKPOINT_FORMAT = 'nca-checkpoint/1';

export interface CheckpointContents {
  meta: Record<string, unknown> & { format: string; task: string; iteration: number };
  arrays: Record<string, Float32Array | Int32Array | Uint8Array | Float64Array>;
}

const KINDS = { f32: Float32Array, i32: Int32Array, u8: Uint8Array, f64: Float64Array } as const;
type Kind = keyof typeof KINDS;

function kindOf(a: CheckpointContents['arrays'][string]): Kind {
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
    const Ctor = KINDS[kind];
    arrays[name] = new Ctor(copy.buffer, 0, copy.byteLength / Ctor.BYTES_PER_ELEMENT);
  }
  return { meta, arrays };
}

/**
 * A checkpoint reduced to what inference needs (the weights, an adversary's frozen classifier, a
 * growing NCA's target to score against):
 * no optimiser state, pool or RNG, compressed. Small enough to ship (~100 KB for the reference
 * classifier); it opens in the playground but cannot resume training.
 */
export function modelOnlyCheckpoint(bytes: Uint8Array): Uint8Array {
  const ck = decodeCheckpoint(bytes);
  const arrays: CheckpointContents['arrays'] = {};
  for (const name of ['weights', 'frozen', 'target']) if (ck.arrays[name]) arrays[name] = ck.arrays[name];
  if (!arrays.weights) throw new Error('checkpoint: it has no weights');
  const kinds: Record<string, Kind> = {};
  const files: Record<string, Uint8Array> = {};
  for (const [name, a] of Object.entries(arrays)) {
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
