/**
 * The two primitives every NCA forward pass here is made of, each with a hand-written gradient that
 * runs fast on wasm (which lacks Conv2DBackpropFilter and UnsortedSegmentSum, and whose transposed
 * matMul is ~9x slower than an explicit transpose followed by a plain matMul).
 */
import { tf } from './tf.ts';

type GradFn = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
type CustomGradFn = (...args: (tf.Tensor | ((s: tf.Tensor[]) => void))[]) => {
  value: tf.Tensor;
  gradFunc: GradFn;
};

const linearOp = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: (s: tf.Tensor[]) => void) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    // dX = dY W^T and dW = X^T dY, each as an explicit transpose then a plain matMul.
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)];
    },
  };
}) as unknown as CustomGradFn) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** x [n, k] times w [k, m]: a 1x1 convolution, or a k x k convolution applied to im2col rows. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return linearOp(x, w);
}

/**
 * A fixed gather of neighbourhoods (im2col by index table) whose gradient is another gather.
 * Every output row reads one source row; `inverse` lists, for each (variable row, kernel offset),
 * the output row that read it (or a zero row), so the gradient is gather + sum over the taps:
 * exact, no scatter-add needed.
 */
export interface NeighbourTable {
  /** taps per variable row (kernel*kernel) */
  taps: number;
  /** number of variable rows */
  rows: number;
  /** row width (channels) */
  width: number;
  /** [rows*taps] indices into concat(variable rows, constant rows); the last constant row is zero */
  index: Int32Array;
  /** [rows*taps] indices into the gathered rows, or rows*taps for "nobody reads it here" */
  inverse: Int32Array;
  /** constant rows (dead cells' fixed state, then one zero row) [(k+1)*width] */
  constants: Float32Array;
  /** tensor copies for the on-device variant, made on first use */
  tensors?: { index: tf.Tensor1D; inverse: tf.Tensor1D; constants: tf.Tensor2D };
}

/**
 * Gather on the CPU side: wasm's GatherV2 costs ~50 ns per element (15 ms for one 18k x 20
 * gather), while reading the tensor out of the wasm heap, copying rows in JS and writing it back
 * costs well under a millisecond. Used on the wasm and cpu backends, where the data already lives
 * in this process.
 */
function gatherHost(t: NeighbourTable, x: Float32Array): Float32Array {
  const w = t.width;
  const n = t.rows * t.taps;
  const out = new Float32Array(n * w);
  const varEnd = t.rows;
  for (let r = 0; r < n; r++) {
    const src = t.index[r];
    const o = r * w;
    if (src < varEnd) {
      const i = src * w;
      for (let k = 0; k < w; k++) out[o + k] = x[i + k];
    } else {
      const i = (src - varEnd) * w;
      for (let k = 0; k < w; k++) out[o + k] = t.constants[i + k];
    }
  }
  return out;
}

function gatherGradHost(t: NeighbourTable, dy: Float32Array): Float32Array {
  const w = t.width;
  const taps = t.taps;
  const sentinel = t.rows * taps;
  const out = new Float32Array(t.rows * w);
  for (let j = 0; j < t.rows; j++) {
    const o = j * w;
    for (let k = 0; k < taps; k++) {
      const src = t.inverse[j * taps + k];
      if (src === sentinel) continue;
      const i = src * w;
      for (let c = 0; c < w; c++) out[o + c] += dy[i + c];
    }
  }
  return out;
}

function tableTensors(t: NeighbourTable) {
  t.tensors ??= {
    index: tf.tensor1d(t.index, 'int32'),
    inverse: tf.tensor1d(t.inverse, 'int32'),
    constants: tf.tensor2d(t.constants, [t.constants.length / t.width, t.width]),
  };
  return t.tensors;
}

/** Whether tensors of the current backend live in this process's memory (cheap to read). */
export function hostBackend(): boolean {
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}

let forcedMode: 'host' | 'device' | null = null;

/** Force the gather variant (tests compare both on one backend); null = by backend. */
export function setGatherMode(mode: 'host' | 'device' | null): void {
  forcedMode = mode;
}

/** The gather variant in effect now. */
export function gatherMode(): 'host' | 'device' {
  return forcedMode ?? (hostBackend() ? 'host' : 'device');
}

export function makeNeighbourGather(
  t: NeighbourTable,
  mode: 'host' | 'device' = forcedMode ?? (hostBackend() ? 'host' : 'device'),
): (x: tf.Tensor2D) => tf.Tensor2D {
  const n = t.rows * t.taps;
  if (mode === 'host') {
    const op = tf.customGrad(((x: tf.Tensor2D) => ({
      value: tf.tensor2d(gatherHost(t, x.dataSync() as Float32Array), [n, t.width]),
      gradFunc: (dy: tf.Tensor) => [
        tf.tensor2d(gatherGradHost(t, dy.dataSync() as Float32Array), [t.rows, t.width]),
      ],
    })) as unknown as CustomGradFn) as unknown as (x: tf.Tensor2D) => tf.Tensor2D;
    return (x) => op(x);
  }
  const tt = tableTensors(t);
  const op = tf.customGrad(((x: tf.Tensor2D) => {
    const full = tf.concat([x, tt.constants], 0);
    const value = tf.gather(full, tt.index);
    full.dispose();
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const padded = tf.concat([dy as tf.Tensor2D, tf.zeros([1, t.width])], 0);
        const g = tf.gather(padded, tt.inverse);
        return [tf.sum(tf.reshape(g, [t.rows, t.taps, t.width]), 1)];
      },
    };
  }) as unknown as CustomGradFn) as unknown as (x: tf.Tensor2D) => tf.Tensor2D;
  return (x) => op(x);
}

export function disposeTable(t: NeighbourTable): void {
  if (t.tensors) tf.dispose([t.tensors.index, t.tensors.inverse, t.tensors.constants]);
  t.tensors = undefined;
}

/**
 * A host-side row gather with a scatter-add gradient (wasm/cpu only): out[r] = src[index[r]], where
 * index >= src rows reads `constants` and -1 reads zeros. Used to compute only the cells that fire
 * in a step and to put their updates back in place.
 */
export function hostGather(
  x: tf.Tensor2D,
  index: Int32Array,
  constants: Float32Array | null = null,
): tf.Tensor2D {
  const rows = x.shape[0];
  const w = x.shape[1];
  const op = tf.customGrad(((src: tf.Tensor2D) => {
    const data = src.dataSync() as Float32Array;
    const out = new Float32Array(index.length * w);
    for (let r = 0; r < index.length; r++) {
      const s = index[r];
      if (s < 0) continue;
      const o = r * w;
      if (s < rows) {
        const i = s * w;
        for (let k = 0; k < w; k++) out[o + k] = data[i + k];
      } else if (constants) {
        const i = (s - rows) * w;
        for (let k = 0; k < w; k++) out[o + k] = constants[i + k];
      }
    }
    return {
      value: tf.tensor2d(out, [index.length, w]),
      gradFunc: (dy: tf.Tensor) => {
        const d = dy.dataSync() as Float32Array;
        const g = new Float32Array(rows * w);
        for (let r = 0; r < index.length; r++) {
          const s = index[r];
          if (s < 0 || s >= rows) continue;
          const o = r * w;
          const i = s * w;
          for (let k = 0; k < w; k++) g[i + k] += d[o + k];
        }
        return [tf.tensor2d(g, [rows, w])];
      },
    };
  }) as unknown as CustomGradFn) as unknown as (x: tf.Tensor2D) => tf.Tensor2D;
  return op(x);
}
