/**
 * Cell-state frames as they travel to the UI and the exporter: compact bytes, not the full float
 * state (16 samples x 28x28 x 20 float channels would be 1 MB a frame; this is 63 KB).
 *
 * Layout: Uint8Array [samples][height][width][FRAME_BYTES_PER_CELL], row-major.
 * - classify / adversarial: [pixel, class, confidence, channelView, flags]
 *     pixel       grey input 0..255
 *     class       argmax of the class logits, or NO_CLASS for a dead cell or one whose logits are all
 *                 negative (the reference counts those as "dead", see nca-models.md)
 *     confidence  softmax probability of that class, 0..255
 *     channelView the picked channel, mapped from [-1, 1] to 0..255 (heat map)
 *     flags       bit 0 alive, bit 1 adversary
 * - grow: [r, g, b, a, channelView], colours premultiplied by alpha, clipped to 0..255
 */

export const FRAME_BYTES_PER_CELL = 5;
export const NO_CLASS = 255;
export const FLAG_ALIVE = 1;
export const FLAG_ADVERSARY = 2;

export interface FrameMeta {
  /** run or playground session the frame belongs to */
  source: string;
  task: 'classify' | 'grow' | 'adversarial';
  iteration: number;
  step: number;
  samples: number;
  height: number;
  width: number;
  /** the channel shown in channelView */
  channel: number;
  /** the image class of each sample, when known (for colouring correctness) */
  labels?: number[];
}

export interface EncodeOptions {
  task: FrameMeta['task'];
  samples: number;
  height: number;
  width: number;
  channels: number;
  /** index of the first class logit (classifiers: channels - classCount) */
  firstLogit?: number;
  classCount?: number;
  /** channel for channelView (default 0) */
  channel?: number;
  /** per-cell alive mask [samples*h*w], 1 = alive; classifiers without it treat pixel > 0.1 as alive */
  alive?: Uint8Array;
  /** per-cell adversary mask [samples*h*w] */
  adversary?: Uint8Array;
  aliveThreshold?: number;
}

const clampByte = (v: number) => (v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255));

/** Reduce float states [samples][h][w][channels] to frame bytes. Pure and allocation-light. */
export function encodeCellFrame(state: Float32Array, o: EncodeOptions): Uint8Array {
  const cells = o.samples * o.height * o.width;
  if (state.length !== cells * o.channels) {
    throw new Error(
      `frame state has ${state.length} values, expected ${cells} cells x ${o.channels} channels`,
    );
  }
  const out = new Uint8Array(cells * FRAME_BYTES_PER_CELL);
  const ch = o.channel ?? 0;
  const C = o.channels;
  if (o.task === 'grow') {
    for (let i = 0; i < cells; i++) {
      const s = i * C;
      const d = i * FRAME_BYTES_PER_CELL;
      const a = Math.min(1, Math.max(0, state[s + 3]));
      out[d] = clampByte(state[s]);
      out[d + 1] = clampByte(state[s + 1]);
      out[d + 2] = clampByte(state[s + 2]);
      out[d + 3] = clampByte(a);
      out[d + 4] = clampByte((state[s + ch] + 1) / 2);
    }
    return out;
  }
  const K = o.classCount ?? 10;
  const first = o.firstLogit ?? C - K;
  const threshold = o.aliveThreshold ?? 0.1;
  for (let i = 0; i < cells; i++) {
    const s = i * C;
    const d = i * FRAME_BYTES_PER_CELL;
    const pixel = state[s];
    const alive = o.alive ? o.alive[i] === 1 : pixel > threshold;
    out[d] = clampByte(pixel);
    out[d + 3] = clampByte((state[s + ch] + 1) / 2);
    out[d + 4] = (alive ? FLAG_ALIVE : 0) | (o.adversary && o.adversary[i] ? FLAG_ADVERSARY : 0);
    if (!alive) {
      out[d + 1] = NO_CLASS;
      continue;
    }
    let best = 0;
    let bestV = -Infinity;
    for (let k = 0; k < K; k++) {
      const v = state[s + first + k];
      if (v > bestV) {
        bestV = v;
        best = k;
      }
    }
    if (!(bestV > 0)) {
      out[d + 1] = NO_CLASS;
      continue;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(state[s + first + k] - bestV);
    out[d + 1] = best;
    out[d + 2] = clampByte(1 / sum);
  }
  return out;
}

/** Votes per class over the alive, voting cells of one sample, and the majority class. */
export function frameVotes(
  frame: Uint8Array,
  sample: number,
  height: number,
  width: number,
  classCount: number,
): { votes: number[]; majority: number | null; agreement: number } {
  const votes = new Array<number>(classCount).fill(0);
  const base = sample * height * width;
  let voters = 0;
  for (let i = 0; i < height * width; i++) {
    const c = frame[(base + i) * FRAME_BYTES_PER_CELL + 1];
    if (c !== NO_CLASS && c < classCount) {
      votes[c]++;
      voters++;
    }
  }
  let majority: number | null = null;
  let top = 0;
  votes.forEach((v, k) => {
    if (v > top) {
      top = v;
      majority = k;
    }
  });
  return {
    votes: votes.map((v) => (voters ? v / voters : 0)),
    majority,
    agreement: voters ? top / voters : 0,
  };
}
