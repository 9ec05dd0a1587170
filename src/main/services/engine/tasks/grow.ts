/**
 * Growing NCA (Mordvintsev et al., Distill 2020): RGBA + hidden channels grown from one seed cell.
 * Dense NHWC tensors: the alive set changes every step, so there is nothing to skip. Perception is a
 * fixed depthwise identity/Sobel filter whose input gradient is three depthwise convolutions with the
 * rotated kernels (wasm has no DepthwiseConv2dNativeBackpropInput); the MLP uses linear().
 */
import { readFile } from 'node:fs/promises';
import { tf } from '../tf.ts';
import { hostBackend, linear } from '../ops.ts';
import type { BackendInfo } from '../backends.ts';
import { encodeCheckpoint } from '../checkpoint.ts';
import { image, type EngineDataset } from '../dataset.ts';
import { ConfigError } from '../errors.ts';
import { Weights } from '../nca.ts';
import { flatten, type ParamSpec } from '../params.ts';
import { sobelDepthwiseFilter } from '../perceive.ts';
import { Rng } from '../rng.ts';
import { updateParams } from '../update.ts';
import type { GrowConfig } from '../../../../shared/nca-config.ts';
import type { Evaluation, IterationMetrics } from '../../../../shared/metrics.ts';
import type { Trainer, TrainerOptions } from '../trainer.ts';
import { TrainerBase } from '../trainer-base.ts';

export interface GrowArch {
  channels: number;
  hidden: number;
}

export function growParams(a: GrowArch): ParamSpec[] {
  return updateParams(3 * a.channels, [a.hidden], a.channels);
}

type CustomGradFn = (...args: unknown[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor[] };

/** Identity + Sobel-x + Sobel-y per channel, output channel c*3+m; gradient by rotated kernels. */
export function makePerceive(channels: number): {
  perceive: (x: tf.Tensor4D) => tf.Tensor4D;
  dispose: () => void;
} {
  const filt = sobelDepthwiseFilter(channels);
  const filter = tf.tensor4d(filt, [3, 3, channels, 3]);
  // The input gradient: every output channel c*3+m convolved with its kernel rotated by 180
  // degrees (one depthwise conv over 3C channels), then summed over m (a last-axis sum).
  const rot = new Float32Array(9 * channels * 3);
  for (let t = 0; t < 9; t++)
    for (let c = 0; c < channels; c++)
      for (let m = 0; m < 3; m++) rot[(t * channels + c) * 3 + m] = filt[((8 - t) * channels + c) * 3 + m];
  const rotated = tf.tensor4d(rot, [3, 3, channels * 3, 1]);
  const op = tf.customGrad(((x: tf.Tensor4D) => ({
    value: tf.depthwiseConv2d(x, filter, 1, 'same'),
    gradFunc: (dy: tf.Tensor) => {
      const [b, h, w] = dy.shape as number[];
      const g = tf.depthwiseConv2d(dy as tf.Tensor4D, rotated, 1, 'same');
      return [tf.sum(tf.reshape(g, [b, h, w, channels, 3]), 4)];
    },
  })) as unknown as CustomGradFn) as unknown as (x: tf.Tensor4D) => tf.Tensor4D;
  return { perceive: (x) => op(x), dispose: () => tf.dispose([filter, rotated]) };
}

/** alive = 3x3 max-pool of alpha > threshold; a constant for the gradient (as in the reference). */
const aliveOp = tf.customGrad(((x: tf.Tensor4D, thr: tf.Scalar) => {
  const [b, h, w, c] = x.shape;
  const alpha = tf.slice(x, [0, 0, 0, 3], [b, h, w, 1]);
  const value = tf.cast(tf.greater(tf.maxPool(alpha as tf.Tensor4D, 3, 1, 'same'), thr), 'float32');
  return { value, gradFunc: () => [tf.zeros([b, h, w, c]), tf.zeros([])] };
}) as unknown as CustomGradFn) as unknown as (x: tf.Tensor4D, thr: tf.Scalar) => tf.Tensor4D;

export function growStep(
  x: tf.Tensor4D,
  w: Map<string, tf.Tensor>,
  perceive: (x: tf.Tensor4D) => tf.Tensor4D,
  fire: tf.Tensor4D,
  thr: tf.Scalar,
): tf.Tensor4D {
  const [b, h, wd, c] = x.shape;
  const pre = aliveOp(x, thr);
  const p = tf.reshape(perceive(x), [b * h * wd, 3 * c]) as tf.Tensor2D;
  const hid = tf.relu(
    tf.add(linear(p, w.get('update.0.kernel') as tf.Tensor2D), w.get('update.0.bias') as tf.Tensor),
  ) as tf.Tensor2D;
  const dx = tf.add(
    linear(hid, w.get('update.out.kernel') as tf.Tensor2D),
    w.get('update.out.bias') as tf.Tensor,
  );
  const next = tf.add(x, tf.mul(tf.reshape(dx, [b, h, wd, c]), fire));
  const post = aliveOp(next as tf.Tensor4D, thr);
  return tf.mul(next, tf.mul(pre, post)) as tf.Tensor4D;
}

/** Bilinear resize of a grey or RGBA image to size x size (plain JS, targets are small). */
function resize(src: Float32Array, sw: number, sh: number, ch: number, size: number): Float32Array {
  const out = new Float32Array(size * size * ch);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const fy = Math.min(sh - 1, Math.max(0, ((y + 0.5) * sh) / size - 0.5));
      const fx = Math.min(sw - 1, Math.max(0, ((x + 0.5) * sw) / size - 0.5));
      const y0 = Math.floor(fy);
      const x0 = Math.floor(fx);
      const y1 = Math.min(sh - 1, y0 + 1);
      const x1 = Math.min(sw - 1, x0 + 1);
      const ay = fy - y0;
      const ax = fx - x0;
      for (let k = 0; k < ch; k++) {
        const v =
          (1 - ay) * ((1 - ax) * src[(y0 * sw + x0) * ch + k] + ax * src[(y0 * sw + x1) * ch + k]) +
          ay * ((1 - ax) * src[(y1 * sw + x0) * ch + k] + ax * src[(y1 * sw + x1) * ch + k]);
        out[(y * size + x) * ch + k] = v;
      }
    }
  return out;
}

/** The premultiplied RGBA target on the padded grid, [grid*grid*4]. */
export async function growTarget(
  c: GrowConfig,
  dataset: EngineDataset | null,
): Promise<{ rgba: Float32Array; grid: number }> {
  const size = c.targetSize;
  const grid = size + 2 * c.padding;
  if (grid > 128) throw new ConfigError('padding', `targetSize + 2*padding = ${grid} is above 128`);
  let rgba: Float32Array;
  if (c.target.kind === 'dataset') {
    if (!dataset) throw new ConfigError('target.dataset', 'the dataset was not loaded');
    const split = dataset.train.count > 0 ? dataset.train : dataset.test;
    if (c.target.index >= split.count)
      throw new ConfigError(
        'target.index',
        `${c.target.index} is beyond the ${split.count} images of ${dataset.id}`,
      );
    const px = image(split, c.target.index, dataset.width * dataset.height);
    const grey = resize(
      Float32Array.from(px, (v) => v / 255),
      dataset.width,
      dataset.height,
      1,
      size,
    );
    // Grey item on black: alpha is the threshold mask, colour the grey value (premultiplied).
    rgba = new Float32Array(size * size * 4);
    for (let i = 0; i < size * size; i++) {
      const a = grey[i] > c.aliveThreshold ? 1 : 0;
      rgba.set([grey[i] * a, grey[i] * a, grey[i] * a, a], i * 4);
    }
  } else {
    const path = c.target.path;
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new ConfigError('target.path', `${path}: cannot read (${(e as Error).message})`);
    }
    let w: number;
    let h: number;
    let data: Uint8Array;
    try {
      if (bytes[0] === 0x89 && bytes[1] === 0x50) {
        const { PNG } = await import('pngjs');
        const png = PNG.sync.read(bytes);
        [w, h, data] = [png.width, png.height, png.data];
      } else if (bytes[0] === 0xff && bytes[1] === 0xd8) {
        const jpeg = await import('jpeg-js');
        const img = jpeg.decode(bytes, { useTArray: true });
        [w, h, data] = [img.width, img.height, img.data];
      } else throw new Error('not a PNG or JPEG file');
    } catch (e) {
      throw new ConfigError('target.path', `${path}: ${(e as Error).message}`);
    }
    const src = Float32Array.from(data, (v) => v / 255);
    const r = resize(src, w, h, 4, size);
    rgba = new Float32Array(size * size * 4);
    for (let i = 0; i < size * size; i++) {
      const lum = 0.299 * r[i * 4] + 0.587 * r[i * 4 + 1] + 0.114 * r[i * 4 + 2];
      const a = c.target.mask === 'alpha' ? r[i * 4 + 3] : lum > c.aliveThreshold ? 1 : 0;
      rgba.set([r[i * 4] * a, r[i * 4 + 1] * a, r[i * 4 + 2] * a, a], i * 4);
    }
  }
  const padded = new Float32Array(grid * grid * 4);
  for (let y = 0; y < size; y++)
    padded.set(rgba.subarray(y * size * 4, (y + 1) * size * 4), ((y + c.padding) * grid + c.padding) * 4);
  return { rgba: padded, grid };
}

let tapeBudget: number | null = null;
/** Tests: force the tape budget in bytes (null: by backend). */
export function setGrowTapeBudget(bytes: number | null): void {
  tapeBudget = bytes;
}

/**
 * Samples per backprop chunk: the tape holds roughly (3 + 3 + 2) * channels + 3 * hidden floats per
 * cell and step (state, perception, update, MLP activations and their masks). Host backends (wasm,
 * cpu) get 384 MB of tape, GPU backends 2 GB; at least one sample.
 */
export function growChunk(
  cells: number,
  channels: number,
  hidden: number,
  steps: number,
  batch: number,
): number {
  const perSample = cells * steps * (8 * channels + 3 * hidden) * 4;
  const budget = tapeBudget ?? (hostBackend() ? 384 * 2 ** 20 : 2 * 2 ** 30);
  return Math.max(1, Math.min(batch, Math.floor(budget / perSample)));
}

export class GrowTrainer extends TrainerBase implements Trainer {
  readonly task = 'grow' as const;
  readonly threads = 1;
  private rng: Rng;
  private pool: Float32Array[] = [];
  private lastBatch: Float32Array[] = [];
  private readonly cells: number;
  private readonly perception: ReturnType<typeof makePerceive>;
  private readonly thr: tf.Scalar;
  private readonly targetT: tf.Tensor4D;

  private constructor(
    readonly config: GrowConfig,
    readonly backend: BackendInfo,
    private readonly target: Float32Array,
    private readonly grid: number,
  ) {
    super(growParams({ channels: config.channels, hidden: config.hidden }), config.seed);
    this.cells = grid * grid;
    this.rng = new Rng(config.seed, 0x67);
    this.perception = makePerceive(config.channels);
    this.thr = tf.scalar(config.aliveThreshold);
    this.targetT = tf.tensor4d(target, [1, grid, grid, 4]);
    if (config.experiment !== 'growing')
      for (let i = 0; i < config.poolSize; i++) this.pool.push(this.seed());
  }

  static async create(
    c: GrowConfig,
    dataset: EngineDataset | null,
    backend: BackendInfo,
    _o: TrainerOptions,
  ): Promise<GrowTrainer> {
    if (c.stepsMax <= c.stepsMin)
      throw new ConfigError('stepsMax', `${c.stepsMax} must be above stepsMin ${c.stepsMin}`);
    if (c.batch > c.poolSize)
      throw new ConfigError('batch', `${c.batch} is larger than poolSize ${c.poolSize}`);
    if (c.damaged > c.batch) throw new ConfigError('damaged', `${c.damaged} is larger than batch ${c.batch}`);
    const { rgba, grid } = await growTarget(c, dataset);
    return new GrowTrainer(c, backend, rgba, grid);
  }

  get frameShape() {
    return { height: this.grid, width: this.grid, channels: this.config.channels };
  }

  /** One centre cell with channels 3.. set to 1. */
  seed(): Float32Array {
    const C = this.config.channels;
    const s = new Float32Array(this.cells * C);
    const centre = Math.floor(this.grid / 2) * this.grid + Math.floor(this.grid / 2);
    for (let k = 3; k < C; k++) s[centre * C + k] = 1;
    return s;
  }

  /** MSE of a state's RGBA against the target. */
  sampleLoss(s: Float32Array): number {
    const C = this.config.channels;
    let sum = 0;
    for (let i = 0; i < this.cells; i++)
      for (let k = 0; k < 4; k++) {
        const d = s[i * C + k] - this.target[i * 4 + k];
        sum += d * d;
      }
    return sum / (this.cells * 4);
  }

  /** Zero a random disc (damage) in place: radius 0.1..0.4 of the grid, centred in the middle half. */
  damage(s: Float32Array, rng: Rng): void {
    const C = this.config.channels;
    const g = this.grid;
    const r = (0.1 + 0.3 * rng.uniform()) * g * 0.5;
    const cx = (0.25 + 0.5 * rng.uniform()) * g;
    const cy = (0.25 + 0.5 * rng.uniform()) * g;
    for (let y = 0; y < g; y++)
      for (let x = 0; x < g; x++)
        if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 < r * r)
          s.fill(0, (y * g + x) * C, (y * g + x + 1) * C);
  }

  private fireMasks(batch: number, steps: number, iteration: number): Float32Array {
    const out = new Float32Array(steps * batch * this.cells);
    for (let b = 0; b < batch; b++) {
      const rng = new Rng(this.runSeed, iteration, b);
      for (let t = 0; t < steps; t++) {
        const o = (t * batch + b) * this.cells;
        for (let i = 0; i < this.cells; i++) out[o + i] = rng.uniform() <= this.config.fireRate ? 1 : 0;
      }
    }
    return out;
  }

  async step(): Promise<IterationMetrics> {
    const t0 = performance.now();
    const c = this.config;
    const C = c.channels;
    const B = c.batch;
    let idx: number[] = [];
    let batch: Float32Array[];
    if (c.experiment === 'growing') batch = Array.from({ length: B }, () => this.seed());
    else {
      idx = this.rng.sample(this.pool.length, B);
      // worst first: the worst is replaced by the seed, the best ones get damaged
      idx.sort((a, b) => this.sampleLoss(this.pool[b]) - this.sampleLoss(this.pool[a]));
      batch = idx.map((i) => this.pool[i].slice());
      batch[0] = this.seed();
      if (c.experiment === 'regenerating')
        for (let k = 0; k < c.damaged; k++) this.damage(batch[B - 1 - k], this.rng);
    }
    const steps = c.stepsMin + this.rng.int(c.stepsMax - c.stepsMin);
    const fire = this.fireMasks(B, steps, this.iteration);
    const weights = this.specs.map((s, i) => tf.tensor(this.values[i], s.shape));
    // Backprop through the rollout keeps every step's activations: the batch runs in chunks small
    // enough for the backend's memory (wasm's heap is a few GB at most), gradients summed.
    const chunk = growChunk(this.cells, C, c.hidden, steps, B);
    let loss = 0;
    const grads: Float32Array[] = this.values.map((v) => new Float32Array(v.length));
    const out: Float32Array[] = [];
    try {
      for (let b0 = 0; b0 < B; b0 += chunk) {
        const m = Math.min(chunk, B - b0);
        const x0 = tf.tensor4d(flatten(batch.slice(b0, b0 + m)), [m, this.grid, this.grid, C]);
        const fires = Array.from({ length: steps }, (_, t) =>
          tf.tensor4d(fire.subarray((t * B + b0) * this.cells, (t * B + b0 + m) * this.cells), [
            m,
            this.grid,
            this.grid,
            1,
          ]),
        );
        let final: tf.Tensor | null = null;
        try {
          const f = (...args: tf.Tensor[]): tf.Scalar => {
            const w = Weights.bind(this.specs, args);
            let x = x0;
            for (let t = 0; t < steps; t++) x = growStep(x, w, this.perception.perceive, fires[t], this.thr);
            final = tf.keep(x);
            const rgba = tf.slice(x, [0, 0, 0, 0], [m, this.grid, this.grid, 4]);
            // this chunk's share of the batch mean
            return tf.mul(tf.mean(tf.square(tf.sub(rgba, this.targetT))), m / B) as tf.Scalar;
          };
          const r = tf.valueAndGrads(f)(weights);
          loss += (await r.value.data())[0];
          const g = (await Promise.all(r.grads.map((x) => x.data()))) as Float32Array[];
          g.forEach((gi, i) => {
            for (let j = 0; j < gi.length; j++) grads[i][j] += gi[j];
          });
          tf.dispose([r.value, ...r.grads]);
          const o = (await (final as unknown as tf.Tensor).data()) as Float32Array;
          for (let b = 0; b < m; b++) out.push(o.slice(b * this.cells * C, (b + 1) * this.cells * C));
        } finally {
          tf.dispose([x0, ...fires]);
          (final as tf.Tensor | null)?.dispose();
        }
      }
      batch = out;
    } finally {
      tf.dispose(weights);
    }
    const { lr, gradNorm } = this.applyGradients(loss, grads, c.optimizer);
    if (c.experiment !== 'growing') idx.forEach((i, k) => (this.pool[i] = batch[k]));
    this.lastBatch = batch;
    const ms = this.finishIteration(t0);
    return {
      iteration: this.iteration,
      loss,
      perCellAccuracy: NaN,
      agreement: NaN,
      lr,
      gradNorm,
      iterationMs: ms,
      cellsPerSec: (B * this.cells * steps) / (ms / 1000),
      wallMs: this.wallMs,
    };
  }

  /** Grow from the seed for stepsMax steps (no gradients); the loss against the target. */
  async grow(steps: number, from?: Float32Array): Promise<Float32Array> {
    const C = this.config.channels;
    const fire = this.fireMasks(1, steps, 0x7e57);
    const w = new Weights(this.specs, this.values);
    let x = tf.tensor4d(from ?? this.seed(), [1, this.grid, this.grid, C]);
    try {
      for (let t = 0; t < steps; t++) {
        const next = tf.tidy(() => {
          const f = tf.tensor4d(fire.subarray(t * this.cells, (t + 1) * this.cells), [
            1,
            this.grid,
            this.grid,
            1,
          ]);
          return growStep(x, w.map(), this.perception.perceive, f, this.thr);
        });
        x.dispose();
        x = next;
      }
      return ((await x.data()) as Float32Array).slice();
    } finally {
      x.dispose();
      w.dispose();
    }
  }

  async evaluate(): Promise<Evaluation> {
    const t0 = performance.now();
    const s = await this.grow(this.config.stepsMax);
    const durationMs = performance.now() - t0;
    this.wallMs += durationMs;
    return {
      iteration: this.iteration,
      images: 1,
      perStep: [],
      perCellAccuracy: NaN,
      agreement: NaN,
      perClassAccuracy: [],
      confusionCells: [],
      confusionImages: [],
      loss: this.sampleLoss(s),
      durationMs,
    };
  }

  saveCheckpoint(): Uint8Array {
    const shared = this.sharedCheckpoint();
    return encodeCheckpoint({
      meta: {
        ...shared.meta,
        config: this.config,
        grid: this.grid,
        params: this.specs.map((s) => ({ name: s.name, shape: s.shape })),
        backend: this.backend.backend,
      },
      arrays: {
        ...shared.arrays,
        pool: flatten(this.pool),
        target: this.target,
        rng: this.rng.getState(),
      },
    });
  }

  restoreCheckpoint(bytes: Uint8Array): void {
    const size = this.cells * this.config.channels;
    const ck = this.restoreShared(bytes, (ck) => {
      if (!ck.arrays.pool || ck.arrays.pool.length % size)
        throw new Error(
          `checkpoint: pool states do not fit a ${this.grid}x${this.grid}x${this.config.channels} grid`,
        );
    });
    const pool = ck.arrays.pool as Float32Array;
    this.pool = Array.from({ length: pool.length / size }, (_, i) => pool.slice(i * size, (i + 1) * size));
    this.rng.setState(ck.arrays.rng as Float64Array);
    this.lastBatch = [];
  }

  snapshot(sampleIndices: number[]): Float32Array {
    const size = this.cells * this.config.channels;
    const out = new Float32Array(sampleIndices.length * size);
    sampleIndices.forEach((i, k) => {
      const s = this.lastBatch[i] ?? this.pool[i] ?? this.seed();
      out.set(s, k * size);
    });
    return out;
  }

  async dispose(): Promise<void> {
    this.perception.dispose();
    tf.dispose([this.thr, this.targetT]);
  }
}
