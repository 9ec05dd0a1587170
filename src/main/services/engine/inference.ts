/**
 * Inference sessions: load a checkpoint, set an input (test image, drawn image, growing seed), step,
 * edit cells (erase a disk = damage, draw, place or sprinkle adversary cells), read frames and the
 * vote. Usable in a worker or on the main thread.
 *
 * The classifier keeps its state in JS and sends to the backend only the cells that fire this step:
 * without gradients there is no need to compute a cell whose update the fire mask throws away, and
 * dead cells never change. About a tenth of the grid's cells are computed per MNIST step.
 */
import { tf } from './tf.ts';
import {
  ClassifyConfigSchema,
  GrowConfigSchema,
  type ClassifyConfig,
  type GrowConfig,
} from '../../../shared/nca-config.ts';
import { currentBackend, initBackend, trimGpuBufferPool } from './backends.ts';
import { decodeCheckpoint } from './checkpoint.ts';
import { aliveMask } from './grid.ts';
import {
  cellUpdate,
  classifierKernel,
  classifierParams,
  ClassifierConstants,
  Weights,
  type ClassifierArch,
} from './nca.ts';
import { unflatten } from './params.ts';
import { Rng } from './rng.ts';
import { growParams, growStep, makePerceive } from './tasks/grow.ts';
import type { BackendName } from '../../../shared/nca-config.ts';
import { hostBackend } from './ops.ts';

export interface Readout {
  /** per sample: the class most answering cells show (-1 without any); answering = alive, or
   *  (config.readout 'strokes') alive with the pixel above the threshold */
  majority: number[];
  /** per sample: share of answering cells that show the majority class */
  agreement: number[];
  /** per sample: answering cells per class */
  counts: number[][];
  /** per cell (all samples): the class it shows, or -1 (dead, or not answering) */
  labels: Int8Array;
}

export interface SessionOptions {
  /** adversarial runs' checkpoint: its weights drive the adversary cells */
  adversaryCheckpoint?: Uint8Array;
  backend?: BackendName;
  /** parallel samples (default 1) */
  samples?: number;
  seed?: number;
}

export abstract class InferenceSession {
  abstract readonly task: 'classify' | 'grow';
  abstract readonly height: number;
  abstract readonly width: number;
  abstract readonly channels: number;
  abstract readonly samples: number;
  steps = 0;

  static async fromCheckpoint(bytes: Uint8Array, opts: SessionOptions = {}): Promise<InferenceSession> {
    if (!currentBackend() || opts.backend) await initBackend(opts.backend ?? 'auto');
    const ck = decodeCheckpoint(bytes);
    const task = ck.meta.task;
    if (task === 'grow')
      return new GrowSession(
        GrowConfigSchema.parse(ck.meta.config),
        ck.arrays.weights as Float32Array,
        ck.meta.grid as number,
        opts,
      );
    if (task !== 'classify' && task !== 'adversarial') throw new Error(`checkpoint: unknown task ${task}`);
    // An adversarial checkpoint carries the frozen classifier: it can serve as both models.
    const classifier =
      task === 'adversarial' ? (ck.arrays.frozen as Float32Array) : (ck.arrays.weights as Float32Array);
    let adversary: Float32Array | null = task === 'adversarial' ? (ck.arrays.weights as Float32Array) : null;
    if (opts.adversaryCheckpoint) {
      const adv = decodeCheckpoint(opts.adversaryCheckpoint);
      if (adv.meta.task !== 'adversarial') throw new Error('adversaryCheckpoint: not an adversarial run');
      adversary = adv.arrays.weights as Float32Array;
    }
    const config = ClassifyConfigSchema.parse({ ...(ck.meta.config as object), task: 'classify' });
    return new ClassifySession(
      config,
      ck.meta.numClasses as number,
      ck.meta.height as number,
      ck.meta.width as number,
      classifier,
      adversary,
      opts,
    );
  }

  /** The full state, [samples*height*width*channels] (a copy: safe to transfer). */
  abstract state(): Float32Array;
  abstract setState(s: Float32Array): void;
  abstract step(n?: number): Promise<void>;
  /** Damage: zero the mutable state in a disk (growing: every channel). */
  abstract erase(x: number, y: number, radius: number, sample?: number): void;
  abstract dispose(): void;

  protected disk(x: number, y: number, radius: number): number[] {
    const cells: number[] = [];
    for (
      let yy = Math.max(0, Math.floor(y - radius));
      yy <= Math.min(this.height - 1, Math.ceil(y + radius));
      yy++
    )
      for (
        let xx = Math.max(0, Math.floor(x - radius));
        xx <= Math.min(this.width - 1, Math.ceil(x + radius));
        xx++
      )
        if ((xx - x) ** 2 + (yy - y) ** 2 <= radius * radius) cells.push(yy * this.width + xx);
    return cells;
  }
}

export class ClassifySession extends InferenceSession {
  readonly task = 'classify' as const;
  readonly channels: number;
  readonly samples: number;
  readonly numClasses: number;
  private readonly arch: ClassifierArch;
  private st: Float32Array;
  private alive: Uint8Array;
  private aliveList: Int32Array = new Int32Array(0);
  private adversaryMask: Uint8Array;
  private readonly weights: Weights;
  private readonly adversary: Weights | null;
  private readonly consts: ClassifierConstants;
  private readonly rng: Rng;
  private readonly neighbourOffsets: [number, number][];

  constructor(
    readonly config: ClassifyConfig,
    numClasses: number,
    readonly height: number,
    readonly width: number,
    classifier: Float32Array,
    adversary: Float32Array | null,
    opts: SessionOptions,
  ) {
    super();
    this.numClasses = numClasses;
    this.channels = config.channels;
    this.samples = opts.samples ?? 1;
    this.arch = {
      channels: config.channels,
      numClasses,
      perception: config.perception as ClassifierArch['perception'],
      hidden: config.hidden,
    };
    const specs = classifierParams(this.arch);
    this.weights = new Weights(specs, unflatten(classifier, specs));
    this.adversary = adversary ? new Weights(specs, unflatten(adversary, specs)) : null;
    this.consts = new ClassifierConstants(this.arch);
    this.rng = new Rng(opts.seed ?? 0, 0x1f);
    const hw = height * width;
    this.st = new Float32Array(this.samples * hw * this.channels);
    this.alive = new Uint8Array(this.samples * hw);
    this.adversaryMask = new Uint8Array(this.samples * hw);
    const k = classifierKernel(this.arch);
    const pad = (k - 1) >> 1;
    this.neighbourOffsets = [];
    for (let ky = 0; ky < k; ky++)
      for (let kx = 0; kx < k; kx++) this.neighbourOffsets.push([ky - pad, kx - pad]);
  }

  get hasAdversary(): boolean {
    return this.adversary !== null;
  }

  private refreshAlive(sample: number): void {
    const hw = this.height * this.width;
    const m = aliveMask(
      this.st.subarray(sample * hw * this.channels, (sample + 1) * hw * this.channels),
      this.height,
      this.width,
      this.config.aliveMode,
      this.config.aliveThreshold,
      this.channels,
    );
    this.alive.set(m, sample * hw);
    // dead cells hold their pixel and zeros (what their neighbours read)
    for (let i = 0; i < hw; i++)
      if (!m[i])
        this.st.fill(0, (sample * hw + i) * this.channels + 1, (sample * hw + i + 1) * this.channels);
    const list: number[] = [];
    for (let i = 0; i < this.alive.length; i++) if (this.alive[i]) list.push(i);
    this.aliveList = Int32Array.from(list);
  }

  /** A fresh state from an image (test set or drawn), 0..255 row-major. */
  setImage(pixels: Uint8Array, sample = 0): void {
    const hw = this.height * this.width;
    if (pixels.length !== hw)
      throw new Error(`image has ${pixels.length} pixels, the model's grid is ${this.width}x${this.height}`);
    const C = this.channels;
    this.st.fill(0, sample * hw * C, (sample + 1) * hw * C);
    for (let i = 0; i < hw; i++) this.st[(sample * hw + i) * C] = pixels[i] / 255;
    this.refreshAlive(sample);
  }

  /** Draw (value 0..255) or rub out (0) pixels in a disk, keeping the other cells' state. */
  paint(x: number, y: number, radius: number, value: number, sample = 0): void {
    const hw = this.height * this.width;
    for (const c of this.disk(x, y, radius)) this.st[(sample * hw + c) * this.channels] = value / 255;
    this.refreshAlive(sample);
  }

  erase(x: number, y: number, radius: number, sample = 0): void {
    const hw = this.height * this.width;
    for (const c of this.disk(x, y, radius))
      this.st.fill(0, (sample * hw + c) * this.channels + 1, (sample * hw + c + 1) * this.channels);
  }

  /** Make these cells (row-major indices) adversaries. */
  placeAdversaries(cells: number[], sample = 0): void {
    if (!this.adversary)
      throw new Error('this session has no adversary weights (load an adversarial checkpoint)');
    const hw = this.height * this.width;
    for (const c of cells) {
      if (c < 0 || c >= hw) throw new Error(`cell ${c} is outside the ${this.width}x${this.height} grid`);
      this.adversaryMask[sample * hw + c] = 1;
    }
  }

  /** Make a fraction p of all cells adversaries (Bernoulli per cell). */
  sprinkleAdversaries(p: number, sample = 0): number {
    if (!this.adversary)
      throw new Error('this session has no adversary weights (load an adversarial checkpoint)');
    const hw = this.height * this.width;
    let n = 0;
    for (let i = 0; i < hw; i++)
      if (this.rng.uniform() < p) {
        this.adversaryMask[sample * hw + i] = 1;
        n++;
      }
    return n;
  }

  clearAdversaries(): void {
    this.adversaryMask.fill(0);
  }

  adversaries(): Uint8Array {
    return this.adversaryMask.slice();
  }

  state(): Float32Array {
    return this.st.slice();
  }

  setState(s: Float32Array): void {
    if (s.length !== this.st.length)
      throw new Error(`state has ${s.length} values, expected ${this.st.length}`);
    this.st.set(s);
    for (let b = 0; b < this.samples; b++) this.refreshAlive(b);
  }

  /** im2col rows of the given cells from the current state (plain loops: this is the hot path). */
  private neighbourhoods(cells: number[]): Float32Array {
    const C = this.channels;
    const hw = this.height * this.width;
    const W = this.width;
    const H = this.height;
    const taps = this.neighbourOffsets.length;
    const out = new Float32Array(cells.length * taps * C);
    const st = this.st;
    for (let r = 0; r < cells.length; r++) {
      const g = cells[r];
      const b = (g / hw) | 0;
      const cell = g - b * hw;
      const y = (cell / W) | 0;
      const x = cell - y * W;
      for (let t = 0; t < taps; t++) {
        const yy = y + this.neighbourOffsets[t][0];
        const xx = x + this.neighbourOffsets[t][1];
        if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
        const src = (b * hw + yy * W + xx) * C;
        const dst = (r * taps + t) * C;
        for (let k = 0; k < C; k++) out[dst + k] = st[src + k];
      }
    }
    return out;
  }

  private async updates(cells: number[], w: Weights): Promise<Float32Array> {
    if (cells.length === 0) return new Float32Array(0);
    const taps = this.neighbourOffsets.length;
    const p = this.neighbourhoods(cells);
    const ds = tf.tidy(() =>
      cellUpdate(tf.tensor2d(p, [cells.length, taps * this.channels]), w.map(), this.arch, this.consts),
    );
    try {
      return (hostBackend() ? ds.dataSync() : await ds.data()) as Float32Array;
    } finally {
      ds.dispose();
    }
  }

  async step(n = 1): Promise<void> {
    const C = this.channels;
    const m = C - 1;
    const sigma = this.config.residualNoise;
    for (let s = 0; s < n; s++) {
      const orig: number[] = [];
      const adv: number[] = [];
      for (const c of this.aliveList)
        if (this.rng.uniform() <= this.config.fireRate)
          (this.adversary && this.adversaryMask[c] ? adv : orig).push(c);
      // every update is computed from the state before this step, then applied
      const [dsO, dsA] = await Promise.all([
        this.updates(orig, this.weights),
        this.adversary ? this.updates(adv, this.adversary) : new Float32Array(0),
      ]);
      const apply = (cells: number[], ds: Float32Array) =>
        cells.forEach((c, r) => {
          for (let k = 0; k < m; k++)
            this.st[c * C + 1 + k] += ds[r * m + k] + (sigma > 0 ? this.rng.normal() * sigma : 0);
        });
      apply(orig, dsO);
      apply(adv, dsA);
      this.steps++;
    }
    // the fired cells differ every step, so do the GPU buffers' sizes
    trimGpuBufferPool();
  }

  readout(): Readout {
    const C = this.channels;
    const nc = this.numClasses;
    const hw = this.height * this.width;
    const labels = new Int8Array(this.samples * hw).fill(-1);
    const counts = Array.from({ length: this.samples }, () => new Array<number>(nc).fill(0));
    // readout 'strokes': the background computes but does not answer (label -1, no vote)
    const strokesOnly = this.config.readout === 'strokes';
    const threshold = this.config.aliveThreshold;
    for (const c of this.aliveList) {
      if (strokesOnly && !(this.st[c * C] > threshold)) continue;
      let best = 0;
      for (let k = 1; k < nc; k++) if (this.st[c * C + C - nc + k] > this.st[c * C + C - nc + best]) best = k;
      labels[c] = best;
      counts[Math.floor(c / hw)][best]++;
    }
    const majority = counts.map((row) => {
      const total = row.reduce((a, b) => a + b, 0);
      return total ? row.indexOf(Math.max(...row)) : -1;
    });
    const agreement = counts.map((row, b) => {
      const total = row.reduce((a, x) => a + x, 0);
      return total ? row[majority[b]] / total : 0;
    });
    return { majority, agreement, counts, labels };
  }

  dispose(): void {
    this.weights.dispose();
    this.adversary?.dispose();
    this.consts.dispose();
  }
}

export class GrowSession extends InferenceSession {
  readonly task = 'grow' as const;
  readonly channels: number;
  readonly samples: number;
  readonly height: number;
  readonly width: number;
  private st: Float32Array;
  private readonly weights: Weights;
  private readonly perception: ReturnType<typeof makePerceive>;
  private readonly thr: tf.Scalar;
  private readonly rng: Rng;

  constructor(
    readonly config: GrowConfig,
    weights: Float32Array,
    grid: number,
    opts: SessionOptions,
  ) {
    super();
    this.channels = config.channels;
    this.samples = opts.samples ?? 1;
    this.height = grid;
    this.width = grid;
    const specs = growParams({ channels: config.channels, hidden: config.hidden });
    this.weights = new Weights(specs, unflatten(weights, specs));
    this.perception = makePerceive(config.channels);
    this.thr = tf.scalar(config.aliveThreshold);
    this.rng = new Rng(opts.seed ?? 0, 0x9f);
    this.st = new Float32Array(this.samples * grid * grid * this.channels);
    this.setSeed();
  }

  /** Every sample back to the single seed cell. */
  setSeed(): void {
    const C = this.channels;
    const hw = this.height * this.width;
    this.st.fill(0);
    const centre = Math.floor(this.height / 2) * this.width + Math.floor(this.width / 2);
    for (let b = 0; b < this.samples; b++) for (let k = 3; k < C; k++) this.st[(b * hw + centre) * C + k] = 1;
    this.steps = 0;
  }

  state(): Float32Array {
    return this.st.slice();
  }

  setState(s: Float32Array): void {
    if (s.length !== this.st.length)
      throw new Error(`state has ${s.length} values, expected ${this.st.length}`);
    this.st.set(s);
  }

  erase(x: number, y: number, radius: number, sample = 0): void {
    const hw = this.height * this.width;
    for (const c of this.disk(x, y, radius))
      this.st.fill(0, (sample * hw + c) * this.channels, (sample * hw + c + 1) * this.channels);
  }

  async step(n = 1): Promise<void> {
    const hw = this.height * this.width;
    const shape: [number, number, number, number] = [this.samples, this.height, this.width, this.channels];
    let x = tf.tensor4d(this.st, shape);
    try {
      for (let s = 0; s < n; s++) {
        const fire = new Float32Array(this.samples * hw);
        for (let i = 0; i < fire.length; i++) fire[i] = this.rng.uniform() <= this.config.fireRate ? 1 : 0;
        const next = tf.tidy(() =>
          growStep(
            x,
            this.weights.map(),
            this.perception.perceive,
            tf.tensor4d(fire, [this.samples, this.height, this.width, 1]),
            this.thr,
          ),
        );
        x.dispose();
        x = next;
        this.steps++;
      }
      this.st = (await x.data()) as Float32Array;
      this.st = this.st.slice();
    } finally {
      x.dispose();
    }
  }

  dispose(): void {
    this.weights.dispose();
    this.perception.dispose();
    this.thr.dispose();
  }
}
