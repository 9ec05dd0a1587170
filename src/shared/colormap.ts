/**
 * Colours shared by the live grid, the playground and the exported videos, so a class has the same
 * colour everywhere. The class palette is Paul Tol's "muted" scheme (colour-blind safe) plus a tenth
 * colour from his "bright" scheme; more than ten classes cycle through it with varied lightness.
 */
import { FLAG_ADVERSARY, FLAG_ALIVE, FRAME_BYTES_PER_CELL, NO_CLASS } from './frames.ts';

export const CLASS_COLORS = [
  '#CC6677',
  '#332288',
  '#DDCC77',
  '#117733',
  '#88CCEE',
  '#882255',
  '#44AA99',
  '#999933',
  '#AA4499',
  '#EE7733',
] as const;

export const DEAD_RGB: [number, number, number] = [18, 20, 26];
export const ADVERSARY_RGB: [number, number, number] = [255, 40, 40];

export function hexToRgb(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

export function classRgb(k: number): [number, number, number] {
  const [r, g, b] = hexToRgb(CLASS_COLORS[k % CLASS_COLORS.length]);
  const round = Math.floor(k / CLASS_COLORS.length);
  if (round === 0) return [r, g, b];
  const f = round % 2 ? 0.6 : 1.3;
  return [Math.min(255, r * f), Math.min(255, g * f), Math.min(255, b * f)].map(Math.round) as [
    number,
    number,
    number,
  ];
}

/** "Viridis"-like ramp for channel heat maps, 0..255 -> rgb. */
export function heatRgb(v: number): [number, number, number] {
  const t = v / 255;
  const stops: [number, number, number][] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(stops[i][c] + (stops[i + 1][c] - stops[i][c]) * f)) as [
    number,
    number,
    number,
  ];
}

export type FrameView = 'class' | 'channel' | 'rgba';

/**
 * Paint one sample of a frame into RGBA pixels (one pixel per cell). Classes: colour by class,
 * brightness by confidence, dead cells dark, adversaries red. Growing: RGBA over a checkerboard.
 */
export function paintSample(
  frame: Uint8Array,
  sample: number,
  height: number,
  width: number,
  view: FrameView,
  task: 'classify' | 'grow' | 'adversarial',
  out: Uint8ClampedArray = new Uint8ClampedArray(height * width * 4),
): Uint8ClampedArray {
  const base = sample * height * width;
  const channelOffset = task === 'grow' ? 4 : 3;
  for (let i = 0; i < height * width; i++) {
    const s = (base + i) * FRAME_BYTES_PER_CELL;
    const d = i * 4;
    let r: number, g: number, b: number;
    if (view === 'rgba') {
      const a = frame[s + 3] / 255;
      const checker = ((i % width) + Math.floor(i / width)) % 2 ? 235 : 205;
      r = frame[s] + checker * (1 - a);
      g = frame[s + 1] + checker * (1 - a);
      b = frame[s + 2] + checker * (1 - a);
    } else if (view === 'channel') {
      [r, g, b] = heatRgb(frame[s + channelOffset]);
    } else {
      const flags = frame[s + 4];
      const cls = frame[s + 1];
      if (flags & FLAG_ADVERSARY) [r, g, b] = ADVERSARY_RGB;
      else if (!(flags & FLAG_ALIVE)) {
        const p = frame[s] / 255;
        [r, g, b] = DEAD_RGB.map((c) => c + p * 40) as [number, number, number];
      } else if (cls === NO_CLASS) [r, g, b] = [90, 90, 96];
      else {
        const [cr, cg, cb] = classRgb(cls);
        const light = 0.35 + 0.65 * (frame[s + 2] / 255);
        r = cr * light;
        g = cg * light;
        b = cb * light;
      }
    }
    out[d] = r;
    out[d + 1] = g;
    out[d + 2] = b;
    out[d + 3] = 255;
  }
  return out;
}
