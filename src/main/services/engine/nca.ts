/**
 * The classifier NCA on rows of cells: one step = perceive (gather + matMul), update MLP, residual
 * noise, stochastic fire mask, add to the mutable channels. Channel 0 (the pixel) never changes.
 * The same code runs the dense grid (every cell a row) and alive-only rows; see grid.ts.
 */
import { tf } from './tf.ts';
import { hostGather, linear, type NeighbourTable } from './ops.ts';
import { type ParamSpec } from './params.ts';
import { Rng } from './rng.ts';
import {
  perceptionKernel,
  perceptionParams,
  perceptionWidth,
  sobelMatrix,
  type PerceptionConfig,
} from './perceive.ts';
import { updateParams } from './update.ts';

export interface ClassifierArch {
  channels: number;
  numClasses: number;
  perception: PerceptionConfig;
  hidden: number[];
}

export function classifierParams(a: ClassifierArch): ParamSpec[] {
  return [
    ...perceptionParams(a.channels, a.perception),
    ...updateParams(perceptionWidth(a.channels, a.perception), a.hidden, a.channels - 1),
  ];
}

export function classifierKernel(a: ClassifierArch): number {
  return perceptionKernel(a.perception);
}

/** Keras defaults: glorot_uniform kernels (conv fans = receptive field * channels), zero biases. */
export function initParams(specs: ParamSpec[], rng: Rng): Float32Array[] {
  return specs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    if (s.init === 'glorot') {
      const fanIn = s.shape[0];
      const fanOut = s.shape[1] * s.receptive;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < n; i++) v[i] = (rng.uniform() * 2 - 1) * limit;
    }
    return v;
  });
}

/** A model's weights as tensors, by name. */
export class Weights {
  readonly tensors: tf.Tensor[];
  private readonly byName = new Map<string, tf.Tensor>();

  constructor(
    readonly specs: ParamSpec[],
    values: Float32Array[],
  ) {
    this.tensors = specs.map((s, i) => tf.tensor(values[i], s.shape));
    specs.forEach((s, i) => this.byName.set(s.name, this.tensors[i]));
  }

  /** The same names bound to other tensors (the arguments tf.valueAndGrads passes in). */
  static bind(specs: ParamSpec[], tensors: tf.Tensor[]): Map<string, tf.Tensor> {
    const m = new Map<string, tf.Tensor>();
    specs.forEach((s, i) => m.set(s.name, tensors[i]));
    return m;
  }

  map(): Map<string, tf.Tensor> {
    return this.byName;
  }

  dispose(): void {
    for (const t of this.tensors) t.dispose();
  }
}

/** Constants a classifier step needs besides its weights (the fixed Sobel matrix). */
export class ClassifierConstants {
  readonly sobel: tf.Tensor2D | null;
  constructor(a: ClassifierArch) {
    this.sobel =
      a.perception.kind === 'sobel'
        ? tf.tensor2d(sobelMatrix(a.channels), [9 * a.channels, 3 * a.channels])
        : null;
  }
  dispose(): void {
    this.sobel?.dispose();
  }
}

/** The update MLP's output ds [rows, channels-1] for gathered neighbourhoods. */
export function cellUpdate(
  neighbourhoods: tf.Tensor2D,
  w: Map<string, tf.Tensor>,
  a: ClassifierArch,
  k: ClassifierConstants,
): tf.Tensor2D {
  let h: tf.Tensor2D;
  if (a.perception.kind === 'sobel') h = linear(neighbourhoods, k.sobel as tf.Tensor2D);
  else
    h = tf.relu(
      tf.add(
        linear(neighbourhoods, w.get('perceive.kernel') as tf.Tensor2D),
        w.get('perceive.bias') as tf.Tensor,
      ),
    );
  for (let i = 0; i < a.hidden.length; i++)
    h = tf.relu(
      tf.add(linear(h, w.get(`update.${i}.kernel`) as tf.Tensor2D), w.get(`update.${i}.bias`) as tf.Tensor),
    );
  return tf.add(linear(h, w.get('update.out.kernel') as tf.Tensor2D), w.get('update.out.bias') as tf.Tensor);
}

export interface StepInputs {
  /** [rows, 1]: 1 where the cell fires this step and is alive */
  mask: tf.Tensor2D;
  /** [rows, channels-1] residual noise, or null */
  noise: tf.Tensor2D | null;
  /** adversarial runs: the adversary's weights and the [rows, 1] adversary mask */
  adversary?: { weights: Map<string, tf.Tensor>; mix: tf.Tensor2D };
}

/** One NCA step on rows x [rows, channels]. */
export function classifierStep(
  x: tf.Tensor2D,
  gather: (x: tf.Tensor2D) => tf.Tensor2D,
  w: Map<string, tf.Tensor>,
  a: ClassifierArch,
  k: ClassifierConstants,
  inputs: StepInputs,
): tf.Tensor2D {
  const rows = x.shape[0];
  const taps = classifierKernel(a) ** 2;
  const p = tf.reshape(gather(x), [rows, taps * a.channels]) as tf.Tensor2D;
  let ds = cellUpdate(p, w, a, k);
  if (inputs.adversary) {
    // state = original(state) * (1 - m) + adversary(state) * m, with both updates from one perception
    const dsAdv = cellUpdate(p, inputs.adversary.weights, a, k);
    ds = tf.add(ds, tf.mul(tf.sub(dsAdv, ds), inputs.adversary.mix));
  }
  if (inputs.noise) ds = tf.add(ds, inputs.noise);
  ds = tf.mul(ds, inputs.mask);
  const pixel = tf.slice(x, [0, 0], [rows, 1]);
  const mutable = tf.slice(x, [0, 1], [rows, a.channels - 1]);
  return tf.concat([pixel, tf.add(mutable, ds)], 1);
}

/**
 * The firing cells of one step: their neighbourhood index rows and, for every row, its position
 * among them (or -1). Built per step from the fire mask (see firedStep).
 */
export interface FiredRows {
  /** [fired*taps] indices into concat(rows, constant rows) */
  neighbourIndex: Int32Array;
  /** [rows] position among the fired rows, or -1 */
  position: Int32Array;
  count: number;
}

export function firedRows(table: NeighbourTable, mask: Float32Array): FiredRows {
  const taps = table.taps;
  const position = new Int32Array(mask.length).fill(-1);
  let count = 0;
  for (let r = 0; r < mask.length; r++) if (mask[r] !== 0) position[r] = count++;
  const neighbourIndex = new Int32Array(count * taps);
  for (let r = 0; r < mask.length; r++)
    if (position[r] >= 0)
      neighbourIndex.set(table.index.subarray(r * taps, (r + 1) * taps), position[r] * taps);
  return { neighbourIndex, position, count };
}

/**
 * One step computing only the cells that fire (wasm/cpu): the update of a cell that does not fire
 * is multiplied by zero, so computing it (forward and backward) is wasted work. Same values as
 * classifierStep with the same mask, about half the FLOPs at fire rate 0.5.
 * `noise` and `mix` are per fired row.
 */
export function firedStep(
  x: tf.Tensor2D,
  table: NeighbourTable,
  fired: FiredRows,
  w: Map<string, tf.Tensor>,
  a: ClassifierArch,
  k: ClassifierConstants,
  noise: tf.Tensor2D | null,
  adversary?: { weights: Map<string, tf.Tensor>; mix: tf.Tensor2D },
): tf.Tensor2D {
  const rows = x.shape[0];
  if (fired.count === 0) return x;
  const taps = classifierKernel(a) ** 2;
  const p = tf.reshape(hostGather(x, fired.neighbourIndex, table.constants), [
    fired.count,
    taps * a.channels,
  ]) as tf.Tensor2D;
  let ds = cellUpdate(p, w, a, k);
  if (adversary) ds = tf.add(ds, tf.mul(tf.sub(cellUpdate(p, adversary.weights, a, k), ds), adversary.mix));
  if (noise) ds = tf.add(ds, noise);
  const full = hostGather(ds, fired.position);
  const pixel = tf.slice(x, [0, 0], [rows, 1]);
  const mutable = tf.slice(x, [0, 1], [rows, a.channels - 1]);
  return tf.concat([pixel, tf.add(mutable, full)], 1);
}
