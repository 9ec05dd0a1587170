/** Named weight arrays: the one plain-data form of a model (checkpoints, workers, Adam all use it). */
export interface ParamSpec {
  name: string;
  shape: number[];
  /** 'glorot': Keras glorot_uniform with conv fan-in/fan-out; 'zeros' */
  init: 'glorot' | 'zeros';
  /** receptive field (kernel*kernel) for the conv fan computation; 1 for dense layers */
  receptive: number;
}

export interface ParamSet {
  specs: ParamSpec[];
  values: Float32Array[];
}

export function paramCount(specs: ParamSpec[]): number {
  return specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** Concatenate all values into one buffer (worker messages, checkpoints). */
export function flatten(values: Float32Array[]): Float32Array {
  const out = new Float32Array(values.reduce((n, v) => n + v.length, 0));
  let o = 0;
  for (const v of values) {
    out.set(v, o);
    o += v.length;
  }
  return out;
}

export function unflatten(flat: Float32Array, specs: ParamSpec[]): Float32Array[] {
  const out: Float32Array[] = [];
  let o = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (o + n > flat.length)
      throw new Error(`weights too short for ${s.name}: need ${o + n}, have ${flat.length}`);
    out.push(flat.slice(o, o + n));
    o += n;
  }
  if (o !== flat.length) throw new Error(`weights have ${flat.length} values, the model needs ${o}`);
  return out;
}
