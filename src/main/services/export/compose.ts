/**
 * Turns compact cell frames into the RGBA video frames the encoder receives: every sample painted
 * with the shared colormap (same colours as the UI), upscaled nearest-neighbour so cells stay crisp,
 * panels side by side (one per compared run), and the overlays drawn with the built-in pixel font.
 * One output buffer is reused for every frame: memory does not grow with the video's length.
 */
import { classRgb, paintSample, type FrameView } from '../../../shared/colormap.ts';
import { GLYPH_HEIGHT, drawText, romanizeKana, textWidth } from './font.ts';
import { frameBytes, type FrameSource, type SourceFrame } from './frame-source.ts';

export interface Overlays {
  step: boolean;
  legend: boolean;
  runName: boolean;
}

export interface ComposeOptions {
  /** output pixels per cell (nearest neighbour) */
  scale: number;
  overlays: Overlays;
}

export type PanelSpec = Omit<FrameSource, 'frames'>;

interface PanelBox {
  spec: PanelSpec;
  view: FrameView;
  samples: number;
  cols: number;
  /** top-left corner of the sample grid */
  x: number;
  /** width of the panel's column (the grid, or its name when that is wider) */
  slot: number;
  y: number;
  frameLength: number;
}

const rgba = (r: number, g: number, b: number): number =>
  ((255 << 24) | (Math.round(b) << 16) | (Math.round(g) << 8) | Math.round(r)) >>> 0;

export const BACKGROUND = rgba(22, 24, 29);
export const TEXT = rgba(230, 232, 236);
const MUTED_TEXT = rgba(160, 165, 175);

/**
 * ASCII-only text for the pixel font: Hiragana becomes its reading (お -> o), other characters it
 * cannot draw are dropped, and a name left empty falls back to `fallback`.
 */
export function drawableText(text: string | undefined, fallback: string): string {
  const ascii = romanizeKana(text ?? '')
    .replace(/[^\x20-\x7e]/g, '')
    .trim();
  return ascii.length > 0 ? ascii : fallback;
}

export class FrameComposer {
  readonly width: number;
  readonly height: number;
  /** the RGBA bytes of the latest composed frame (reused: copy it to keep it) */
  readonly rgba: Uint8Array;
  private readonly pixels: Uint32Array;
  private readonly background: Uint32Array;
  private readonly panels: PanelBox[];
  private readonly scale: number;
  /** output pixels between the samples of a panel */
  private readonly gap: number;
  private readonly textScale: number;
  private readonly stepLine: { x: number; y: number; height: number } | null;
  private readonly sampleRgba: Uint8ClampedArray;

  constructor(specs: PanelSpec[], opts: ComposeOptions) {
    if (specs.length === 0) throw new Error('an animation needs at least one frame source');
    const scale = opts.scale;
    if (!Number.isInteger(scale) || scale < 1 || scale > 32)
      throw new Error(`scale must be a whole number 1..32, not ${scale}`);
    for (const [i, s] of specs.entries()) {
      for (const key of ['width', 'height'] as const)
        if (!Number.isInteger(s[key]) || s[key] < 1 || s[key] > 1024)
          throw new Error(`frame source ${i + 1} (${s.name ?? 'unnamed'}): ${key} ${s[key]} is not 1..1024`);
      const n = s.samples ?? 1;
      if (!Number.isInteger(n) || n < 1 || n > 256)
        throw new Error(`frame source ${i + 1} (${s.name ?? 'unnamed'}): samples ${n} is not 1..256`);
    }
    this.scale = scale;
    const ts = Math.max(1, Math.min(4, Math.floor(scale / 3)));
    this.textScale = ts;
    const margin = 3 * ts;
    const gap = Math.max(1, Math.floor(scale / 4));
    const lineHeight = GLYPH_HEIGHT * ts + 2 * ts;
    const header = opts.overlays.runName ? lineHeight : 0;

    // panels in one row, each a near-square grid of its samples
    let x = margin;
    let tallest = 0;
    const boxes: PanelBox[] = [];
    for (const spec of specs) {
      const samples = spec.samples ?? 1;
      const cols = Math.ceil(Math.sqrt(samples));
      const rows = Math.ceil(samples / cols);
      const w = cols * spec.width * scale + (cols - 1) * gap;
      const h = rows * spec.height * scale + (rows - 1) * gap;
      boxes.push({
        spec,
        view: spec.view ?? (spec.task === 'grow' ? 'rgba' : 'class'),
        samples,
        cols,
        x,
        slot: w,
        y: margin + header,
        frameLength: frameBytes(spec),
      });
      // a panel widens to show its run's name, up to 48 characters; longer names are clipped
      const nameWidth = opts.overlays.runName ? textWidth(drawableText(spec.name, 'run'), ts) : 0;
      const slot = Math.max(w, Math.min(nameWidth, textWidth('x'.repeat(48), ts)));
      boxes[boxes.length - 1].slot = slot;
      x += slot + margin * 2;
      tallest = Math.max(tallest, h);
    }
    let width = x - margin;
    let y = margin + header + tallest + margin;

    const stepLine = opts.overlays.step ? { x: margin, y, height: lineHeight } : null;
    if (stepLine) {
      y += lineHeight;
      // room for a five-digit step counter even under one small sample
      width = Math.max(width, margin * 2 + textWidth('step 00000', ts));
    }

    // legend: the class names of the first classifier panel, wrapped to the video's width
    const legendSpec = specs.find((s) => s.task !== 'grow' && s.classNames && s.classNames.length > 0);
    const legendItems: { text: string; colour: number; x: number; y: number }[] = [];
    if (opts.overlays.legend && legendSpec?.classNames) {
      const swatch = GLYPH_HEIGHT * ts;
      width = Math.max(width, margin * 2 + swatch + 2 * ts + textWidth('00000000', ts));
      let lx = margin;
      let ly = y;
      legendSpec.classNames.forEach((name, k) => {
        const text = drawableText(name, String(k));
        const itemWidth = swatch + 2 * ts + textWidth(text, ts) + 4 * ts;
        if (lx > margin && lx + itemWidth - 4 * ts > width - margin) {
          lx = margin;
          ly += lineHeight;
        }
        legendItems.push({ text, colour: rgba(...classRgb(k)), x: lx, y: ly });
        lx += itemWidth;
      });
      y = ly + lineHeight;
    }
    let height = y + margin;
    // H.264 / VP9 in yuv420p need even sizes
    width += width % 2;
    height += height % 2;
    this.width = width;
    this.height = height;
    this.panels = boxes;
    this.stepLine = stepLine;

    this.rgba = new Uint8Array(width * height * 4);
    this.pixels = new Uint32Array(this.rgba.buffer);
    this.background = new Uint32Array(width * height).fill(BACKGROUND);
    const maxSampleCells = Math.max(...specs.map((s) => s.width * s.height));
    this.sampleRgba = new Uint8ClampedArray(maxSampleCells * 4);

    // the parts that never change are drawn once into the background
    if (opts.overlays.runName)
      for (const [i, b] of boxes.entries()) {
        drawText(
          this.background,
          width,
          height,
          drawableText(b.spec.name, `run ${i + 1}`),
          b.x,
          margin,
          ts,
          TEXT,
          b.x + b.slot,
        );
      }
    const swatch = GLYPH_HEIGHT * ts;
    for (const item of legendItems) {
      for (let yy = item.y; yy < item.y + swatch && yy < height; yy++)
        this.background.fill(item.colour, yy * width + item.x, yy * width + Math.min(width, item.x + swatch));
      drawText(this.background, width, height, item.text, item.x + swatch + 2 * ts, item.y, ts, MUTED_TEXT);
    }
    this.gap = gap;
  }

  /** Compose one video frame from one source frame per panel; returns the reused RGBA buffer. */
  compose(frames: SourceFrame[]): Uint8Array {
    if (frames.length !== this.panels.length)
      throw new Error(`expected ${this.panels.length} frames (one per panel), got ${frames.length}`);
    this.pixels.set(this.background);
    const scale = this.scale;
    const W = this.width;
    for (const [p, box] of this.panels.entries()) {
      const { frame } = frames[p];
      if (!(frame instanceof Uint8Array) || frame.length !== box.frameLength)
        throw new Error(
          `frame source ${p + 1} (${box.spec.name ?? 'unnamed'}) sent a frame of ${frame?.length} bytes at step ${frames[p].step}; ` +
            `${box.samples} samples of ${box.spec.height}x${box.spec.width} cells need ${box.frameLength}`,
        );
      const sw = box.spec.width;
      const sh = box.spec.height;
      const cells = new Uint32Array(this.sampleRgba.buffer, 0, sw * sh);
      for (let s = 0; s < box.samples; s++) {
        paintSample(frame, s, sh, sw, box.view, box.spec.task, this.sampleRgba);
        const ox = box.x + (s % box.cols) * (sw * scale + this.gap);
        const oy = box.y + Math.floor(s / box.cols) * (sh * scale + this.gap);
        for (let cy = 0; cy < sh; cy++) {
          const rowStart = (oy + cy * scale) * W + ox;
          let d = rowStart;
          for (let cx = 0; cx < sw; cx++) {
            const c = cells[cy * sw + cx];
            for (let k = 0; k < scale; k++) this.pixels[d++] = c;
          }
          // the other rows of this cell row are copies of the first
          for (let k = 1; k < scale; k++)
            this.pixels.copyWithin(rowStart + k * W, rowStart, rowStart + sw * scale);
        }
      }
    }
    if (this.stepLine) {
      const step = frames[0].step;
      drawText(
        this.pixels,
        W,
        this.height,
        `step ${step}`,
        this.stepLine.x,
        this.stepLine.y,
        this.textScale,
        TEXT,
      );
    }
    return this.rgba;
  }
}
