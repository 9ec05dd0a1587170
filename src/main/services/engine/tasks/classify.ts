/**
 * Self-classifying NCA: rollouts of a batch (training with gradients, or evaluation with per-step
 * read-outs). Random numbers (fire masks, residual noise) come from one seeded stream per sample and
 * are drawn only for alive cells in row-major order, so the dense and alive-only paths, and any split
 * of a batch across threads, see the same numbers.
 */
import { tf } from '../tf.ts';
import { makeNeighbourGather, disposeTable, gatherMode } from '../ops.ts';
import { aliveMask, buildGeometry, gatherRows, scatterRows, type BatchGeometry } from '../grid.ts';
import {
  classifierKernel,
  classifierStep,
  ClassifierConstants,
  firedRows,
  firedStep,
  Weights,
  type ClassifierArch,
  type FiredRows,
} from '../nca.ts';
import type { ParamSpec } from '../params.ts';
import { Rng } from '../rng.ts';

export interface ClassifySettings {
  arch: ClassifierArch;
  steps: number;
  fireRate: number;
  residualNoise: number;
  loss: 'l2' | 'ce' | 'scce';
  aliveMode: 'threshold' | 'dilated' | 'none';
  aliveThreshold: number;
  /** which alive cells are trained and read out: all, or those whose pixel passes the threshold */
  readout: 'alive' | 'strokes';
  aliveOnly: boolean;
  height: number;
  width: number;
}

export interface Shard {
  /** full grids [height*width*channels], channel 0 = pixel; replaced by the final states */
  states: Float32Array[];
  /** the class each sample should show (adversarial runs: the target class) */
  labels: number[];
  /** seed parts of each sample's random stream */
  streams: number[][];
  /** loss normaliser: the whole batch's size (so shard losses and gradients add up) */
  batchTotal: number;
  /** adversarial runs: each sample's adversary mask [height*width] */
  adversaryMasks?: Uint8Array[];
  /** live frames: keep these samples' (shard positions) grids after these steps (1-based) */
  capture?: { samples: number[]; steps: number[] };
}

export interface ReadoutStats {
  /** alive cells whose argmax logit is the label */
  correct: number;
  aliveCells: number;
  /** images whose counted alive cells all show one label */
  agreeing: number;
  images: number;
}

export interface ShardResult extends ReadoutStats {
  loss: number;
  grads: Float32Array[] | null;
  /** shard.capture: per captured step, the captured samples' grids concatenated */
  captured?: Float32Array[];
}

/** Per-step random inputs of a batch: fire masks (alive & fired) and residual noise, as row arrays. */
function drawRandom(g: BatchGeometry, s: ClassifySettings, streams: number[][], steps: number) {
  const hw = g.height * g.width;
  const m = g.channels - 1;
  const aliveRow: Int32Array[] = g.aliveCells.map((cells) => new Int32Array(cells.length));
  for (let r = 0; r < g.rows; r++) {
    const o = g.rowAliveOrdinal[r];
    if (o >= 0) aliveRow[Math.floor(g.rowCell[r] / hw)][o] = r;
  }
  const masks = Array.from({ length: steps }, () => new Float32Array(g.rows));
  const noises =
    s.residualNoise > 0 ? Array.from({ length: steps }, () => new Float32Array(g.rows * m)) : null;
  for (let b = 0; b < g.batch; b++) {
    const rng = new Rng(...streams[b]);
    const rowsOfB = aliveRow[b];
    for (let t = 0; t < steps; t++) {
      const mask = masks[t];
      const noise = noises?.[t];
      for (let j = 0; j < rowsOfB.length; j++) {
        const r = rowsOfB[j];
        mask[r] = rng.uniform() <= s.fireRate ? 1 : 0;
        if (noise) for (let c = 0; c < m; c++) noise[r * m + c] = rng.normal() * s.residualNoise;
      }
    }
  }
  return { masks, noises };
}

/** Per-step inputs of the fired-only path: which rows fire, and their noise / adversary mix. */
interface FiredInputs {
  fired: FiredRows;
  noise: tf.Tensor2D | null;
  mix: tf.Tensor2D | null;
}

function firedInputs(
  g: BatchGeometry,
  mask: Float32Array,
  noise: Float32Array | null,
  mixRows: Float32Array | null,
): FiredInputs {
  const fired = firedRows(g.table, mask);
  const m = g.channels - 1;
  let noiseT: tf.Tensor2D | null = null;
  let mixT: tf.Tensor2D | null = null;
  if (fired.count > 0 && noise) {
    const n = new Float32Array(fired.count * m);
    for (let r = 0; r < g.rows; r++) {
      const f = fired.position[r];
      if (f >= 0) n.set(noise.subarray(r * m, (r + 1) * m), f * m);
    }
    noiseT = tf.tensor2d(n, [fired.count, m]);
  }
  if (fired.count > 0 && mixRows) {
    const x = new Float32Array(fired.count);
    for (let r = 0; r < g.rows; r++) if (fired.position[r] >= 0) x[fired.position[r]] = mixRows[r];
    mixT = tf.tensor2d(x, [fired.count, 1]);
  }
  return { fired, noise: noiseT, mix: mixT };
}

function disposeFired(f: FiredInputs[]): void {
  for (const x of f) {
    x.noise?.dispose();
    x.mix?.dispose();
  }
}

/** Adversary mask per row, or null. */
function mixOfRows(g: BatchGeometry, masks: Uint8Array[] | undefined): Float32Array | null {
  if (!masks) return null;
  const hw = g.height * g.width;
  const m = new Float32Array(g.rows);
  for (let r = 0; r < g.rows; r++) {
    const b = Math.floor(g.rowCell[r] / hw);
    m[r] = masks[b][g.rowCell[r] - b * hw];
  }
  return m;
}

/**
 * Rows that answer (are trained and read out): the alive rows, or (readout 'strokes') the alive rows
 * whose pixel passes the alive threshold; and how many each sample has.
 */
function scoredRows(g: BatchGeometry, s: ClassifySettings, states: Float32Array[]) {
  const hw = g.height * g.width;
  const rows = new Uint8Array(g.rows);
  const perSample = new Int32Array(g.batch);
  for (let r = 0; r < g.rows; r++) {
    if (g.rowAlive[r] === 0) continue;
    const b = Math.floor(g.rowCell[r] / hw);
    if (s.readout === 'strokes' && !(states[b][(g.rowCell[r] - b * hw) * g.channels] > s.aliveThreshold))
      continue;
    rows[r] = 1;
    perSample[b]++;
  }
  return { rows, perSample };
}

type ScoredRows = ReturnType<typeof scoredRows>;

function readoutStats(
  g: BatchGeometry,
  scored: ScoredRows,
  rowsData: Float32Array,
  labels: number[],
  nc: number,
): ReadoutStats {
  const hw = g.height * g.width;
  const C = g.channels;
  let correct = 0;
  let aliveCells = 0;
  const seen = Array.from({ length: g.batch }, () => -2);
  const disagree = new Uint8Array(g.batch);
  for (let r = 0; r < g.rows; r++) {
    if (scored.rows[r] === 0) continue;
    const b = Math.floor(g.rowCell[r] / hw);
    let best = 0;
    let bestV = -Infinity;
    for (let k = 0; k < nc; k++) {
      const v = rowsData[r * C + C - nc + k];
      if (v > bestV) {
        bestV = v;
        best = k;
      }
    }
    aliveCells++;
    if (best === labels[b]) correct++;
    // Reference detail: a zero "dead" logit is appended before the agreement argmax, so a cell
    // whose logits are all negative counts as dead and is left out.
    if (bestV <= 0) continue;
    if (seen[b] === -2) seen[b] = best;
    else if (seen[b] !== best) disagree[b] = 1;
  }
  let agreeing = 0;
  for (let b = 0; b < g.batch; b++) if (seen[b] >= 0 && !disagree[b]) agreeing++;
  return { correct, aliveCells, agreeing, images: g.batch };
}

/** Per-row target one-hot and loss weight; zero on rows that do not answer (dead, or not strokes). */
function targets(
  g: BatchGeometry,
  scored: ScoredRows,
  labels: number[],
  nc: number,
  s: ClassifySettings,
  batchTotal: number,
) {
  const hw = g.height * g.width;
  const onehot = new Float32Array(g.rows * nc);
  const weight = new Float32Array(g.rows);
  for (let r = 0; r < g.rows; r++) {
    if (scored.rows[r] === 0) continue;
    const b = Math.floor(g.rowCell[r] / hw);
    onehot[r * nc + labels[b]] = 1;
    weight[r] = s.loss === 'l2' ? 0.5 / batchTotal : 1 / (scored.perSample[b] * batchTotal);
  }
  return { onehot, weight };
}

export function shardAliveMasks(states: Float32Array[], s: ClassifySettings): Uint8Array[] {
  return states.map((st) => aliveMask(st, s.height, s.width, s.aliveMode, s.aliveThreshold, s.arch.channels));
}

/**
 * What training and evaluating a shard both start from: its alive cells as rows, their random draws
 * for `steps` steps, and (wasm/cpu, alive-only) whether to compute only the rows that fire (same
 * values, half the FLOPs). The caller disposes `consts`.
 */
function prepareShard(s: ClassifySettings, shard: Shard, steps: number) {
  const alive = shardAliveMasks(shard.states, s);
  const g = buildGeometry(
    shard.states,
    alive,
    s.height,
    s.width,
    s.arch.channels,
    classifierKernel(s.arch),
    s.aliveOnly,
  );
  return {
    g,
    scored: scoredRows(g, s, shard.states),
    rnd: drawRandom(g, s, shard.streams, steps),
    consts: new ClassifierConstants(s.arch),
    gather: makeNeighbourGather(g.table),
    useFired: s.aliveOnly && gatherMode() === 'host',
    mixRows: mixOfRows(g, shard.adversaryMasks),
  };
}

/**
 * Run `steps` steps on a shard, then (training) the loss and the gradients with respect to `weights`
 * (or, adversarial, with respect to the adversary's weights, the classifier frozen).
 */
export async function trainShard(
  specs: ParamSpec[],
  weights: tf.Tensor[],
  s: ClassifySettings,
  shard: Shard,
  frozen?: { specs: ParamSpec[]; weights: tf.Tensor[] },
): Promise<ShardResult> {
  const a = s.arch;
  const nc = a.numClasses;
  const { g, scored, rnd, consts, gather, useFired, mixRows } = prepareShard(s, shard, s.steps);
  const x0 = tf.tensor2d(gatherRows(g, shard.states), [g.rows, a.channels]);
  const fired = useFired ? rnd.masks.map((m, t) => firedInputs(g, m, rnd.noises?.[t] ?? null, mixRows)) : [];
  const masks = useFired ? [] : rnd.masks.map((m) => tf.tensor2d(m, [g.rows, 1]));
  const noises = useFired ? null : (rnd.noises?.map((n) => tf.tensor2d(n, [g.rows, a.channels - 1])) ?? null);
  const tg = targets(g, scored, shard.labels, nc, s, shard.batchTotal);
  const onehot = tf.tensor2d(tg.onehot, [g.rows, nc]);
  const weight = tf.tensor2d(tg.weight, [g.rows, 1]);
  const mix = mixRows && !useFired ? tf.tensor2d(mixRows, [g.rows, 1]) : null;
  let finalRows: tf.Tensor2D | null = null;
  // live frames: the rows after chosen steps, kept out of the tape's clean-up (read after backward)
  const captureAt = new Set(shard.capture?.steps ?? []);
  const capturedRows: tf.Tensor[] = [];
  const lossFn = (...args: tf.Tensor[]): tf.Scalar => {
    const w = Weights.bind(specs, args);
    const model = frozen ? Weights.bind(frozen.specs, frozen.weights) : w;
    const adversary = frozen && mix ? { weights: w, mix } : undefined;
    let x = x0;
    for (let t = 0; t < s.steps; t++) {
      const f = fired[t];
      x = useFired
        ? firedStep(
            x,
            g.table,
            f.fired,
            model,
            a,
            consts,
            f.noise,
            frozen && f.mix ? { weights: w, mix: f.mix } : undefined,
          )
        : classifierStep(x, gather, model, a, consts, {
            mask: masks[t],
            noise: noises?.[t] ?? null,
            adversary,
          });
      if (captureAt.has(t + 1)) capturedRows.push(tf.keep(x));
    }
    finalRows = tf.keep(x);
    const logits = tf.slice(x, [0, a.channels - nc], [g.rows, nc]);
    if (s.loss === 'l2') return tf.sum(tf.mul(tf.square(tf.sub(onehot, logits)), weight)) as tf.Scalar;
    return tf.neg(tf.sum(tf.mul(tf.mul(onehot, tf.logSoftmax(logits)), weight))) as tf.Scalar;
  };
  try {
    const { value, grads } = tf.valueAndGrads(lossFn)(weights);
    // data(), not dataSync(): GPU backends in Node cannot read synchronously
    const loss = (await value.data())[0];
    const gradArrays = (await Promise.all(grads.map((gr) => gr.data()))) as Float32Array[];
    value.dispose();
    for (const gr of grads) gr.dispose();
    const rowsData = (await (finalRows as unknown as tf.Tensor).data()) as Float32Array;
    const captured = shard.capture
      ? await captureGrids(g, capturedRows, shard.states, shard.capture.samples)
      : undefined;
    scatterRows(g, rowsData, shard.states);
    return { loss, grads: gradArrays, captured, ...readoutStats(g, scored, rowsData, shard.labels, nc) };
  } finally {
    (finalRows as tf.Tensor | null)?.dispose();
    tf.dispose(capturedRows);
    tf.dispose([x0, onehot, weight, ...masks, ...(noises ?? [])]);
    disposeFired(fired);
    mix?.dispose();
    consts.dispose();
    disposeTable(g.table);
  }
}

/** Full grids of some samples from rows after a step: the start state with the rows written in. */
async function captureGrids(
  g: BatchGeometry,
  rows: tf.Tensor[],
  start: Float32Array[],
  samples: number[],
): Promise<Float32Array[]> {
  const hw = g.height * g.width;
  const size = hw * g.channels;
  const slot = new Map(samples.map((b, k) => [b, k]));
  const out: Float32Array[] = [];
  for (const t of rows) {
    const data = (await t.data()) as Float32Array;
    const grids = new Float32Array(samples.length * size);
    samples.forEach((b, k) => grids.set(start[b], k * size));
    for (let r = 0; r < g.rows; r++) {
      const b = Math.floor(g.rowCell[r] / hw);
      const k = slot.get(b);
      if (k === undefined) continue;
      const cell = g.rowCell[r] - b * hw;
      grids.set(data.subarray(r * g.channels, (r + 1) * g.channels), k * size + cell * g.channels);
    }
    out.push(grids);
  }
  return out;
}

export interface RolloutStep {
  step: number;
  stats: ReadoutStats;
}

/**
 * Forward-only rollout with a read-out after every step (evaluation, inference, attack success).
 * `onStep` may return new states to continue from (the mutation); they replace the geometry.
 */
export async function evaluateShard(
  specs: ParamSpec[],
  weights: tf.Tensor[],
  s: ClassifySettings,
  shard: Shard,
  steps: number,
  adversary?: { specs: ParamSpec[]; weights: tf.Tensor[] },
): Promise<{ perStep: ReadoutStats[]; finalPredictions: { cells: Int32Array; labels: Int32Array }[] }> {
  const a = s.arch;
  const nc = a.numClasses;
  const { g, scored, rnd, consts, gather, useFired, mixRows } = prepareShard(s, shard, steps);
  const w = Weights.bind(specs, weights);
  const mix = mixRows && !useFired ? tf.tensor2d(mixRows, [g.rows, 1]) : null;
  const advWeights = adversary ? Weights.bind(adversary.specs, adversary.weights) : null;
  let x = tf.tensor2d(gatherRows(g, shard.states), [g.rows, a.channels]);
  const perStep: ReadoutStats[] = [];
  let rowsData = new Float32Array(0) as Float32Array<ArrayBufferLike>;
  try {
    for (let t = 0; t < steps; t++) {
      const next = tf.tidy(() => {
        if (useFired) {
          const f = firedInputs(g, rnd.masks[t], rnd.noises?.[t] ?? null, mixRows);
          const adv = advWeights && f.mix ? { weights: advWeights, mix: f.mix } : undefined;
          return firedStep(x, g.table, f.fired, w, a, consts, f.noise, adv);
        }
        const mask = tf.tensor2d(rnd.masks[t], [g.rows, 1]);
        const noise = rnd.noises ? tf.tensor2d(rnd.noises[t], [g.rows, a.channels - 1]) : null;
        const adv = advWeights && mix ? { weights: advWeights, mix } : undefined;
        return classifierStep(x, gather, w, a, consts, { mask, noise, adversary: adv });
      });
      if (next !== x) x.dispose();
      x = next;
      rowsData = (await x.data()) as Float32Array;
      perStep.push(readoutStats(g, scored, rowsData, shard.labels, nc));
    }
    scatterRows(g, rowsData, shard.states);
    const hw = s.height * s.width;
    // the answering cells' classes, in row-major order
    const finalPredictions = shard.states.map((_, b) => ({
      cells: new Int32Array(scored.perSample[b]),
      labels: new Int32Array(scored.perSample[b]),
    }));
    const filled = new Int32Array(g.batch);
    for (let r = 0; r < g.rows; r++) {
      if (scored.rows[r] === 0) continue;
      const b = Math.floor(g.rowCell[r] / hw);
      const o = filled[b]++;
      let best = 0;
      for (let k = 1; k < nc; k++)
        if (
          rowsData[r * a.channels + a.channels - nc + k] > rowsData[r * a.channels + a.channels - nc + best]
        )
          best = k;
      finalPredictions[b].cells[o] = g.rowCell[r] - b * hw;
      finalPredictions[b].labels[o] = best;
    }
    return { perStep, finalPredictions };
  } finally {
    x.dispose();
    mix?.dispose();
    consts.dispose();
    disposeTable(g.table);
  }
}

/** A fresh state: zeros except the pixel channel. */
export function freshState(
  image: Uint8Array | Float32Array,
  channels: number,
  scale = 1 / 255,
): Float32Array {
  const st = new Float32Array(image.length * channels);
  for (let i = 0; i < image.length; i++) st[i * channels] = image[i] * scale;
  return st;
}

/**
 * The target switch: a new image is swapped in; the old state is kept only where the new image is
 * alive, the rest (dead cells) goes back to zero.
 */
export function mutateState(
  old: Float32Array,
  image: Uint8Array | Float32Array,
  s: ClassifySettings,
  scale = 1 / 255,
): Float32Array {
  const C = s.arch.channels;
  const st = freshState(image, C, scale);
  const alive = aliveMask(st, s.height, s.width, s.aliveMode, s.aliveThreshold, C);
  for (let i = 0; i < image.length; i++)
    if (alive[i]) for (let k = 1; k < C; k++) st[i * C + k] = old[i * C + k];
  return st;
}
