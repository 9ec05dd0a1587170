import { describe, expect, it } from 'vitest';
import { classRgb } from '../../../src/shared/colormap.ts';
import { FLAG_ALIVE, FRAME_BYTES_PER_CELL } from '../../../src/shared/frames.ts';
import { FrameComposer, drawableText, textWidth } from '../../../src/main/services/export/index.ts';
import { BACKGROUND, TEXT } from '../../../src/main/services/export/compose.ts';

const NO_OVERLAYS = { step: false, legend: false, runName: false };

/** one sample, cells in a row, cell i of class classes[i] at full confidence */
function rowFrame(classes: number[]): Uint8Array {
  const f = new Uint8Array(classes.length * FRAME_BYTES_PER_CELL);
  classes.forEach((k, i) => {
    f[i * FRAME_BYTES_PER_CELL + 1] = k;
    f[i * FRAME_BYTES_PER_CELL + 2] = 255;
    f[i * FRAME_BYTES_PER_CELL + 4] = FLAG_ALIVE;
  });
  return f;
}

const pack = ([r, g, b]: [number, number, number]) => ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;

function pixelsOf(c: FrameComposer, colour: number): { x: number; y: number }[] {
  const px = new Uint32Array(c.rgba.buffer);
  const out: { x: number; y: number }[] = [];
  for (let i = 0; i < px.length; i++)
    if (px[i] === colour) out.push({ x: i % c.width, y: Math.floor(i / c.width) });
  return out;
}

describe('FrameComposer', () => {
  it('paints each cell as a scale x scale block of its class colour, nearest neighbour', () => {
    const scale = 5;
    const c = new FrameComposer([{ width: 3, height: 1, task: 'classify' }], {
      scale,
      overlays: NO_OVERLAYS,
    });
    c.compose([{ step: 0, frame: rowFrame([2, 4, 2]) }]);
    const two = pixelsOf(c, pack(classRgb(2)));
    const four = pixelsOf(c, pack(classRgb(4)));
    expect(two.length).toBe(2 * scale * scale);
    expect(four.length).toBe(scale * scale);
    const x0 = Math.min(...two.map((p) => p.x));
    const y0 = Math.min(...two.map((p) => p.y));
    // the class-4 block sits exactly one cell to the right of the first class-2 block, same rows
    expect(Math.min(...four.map((p) => p.x))).toBe(x0 + scale);
    expect(Math.max(...four.map((p) => p.x))).toBe(x0 + 2 * scale - 1);
    expect(new Set(four.map((p) => p.y))).toEqual(new Set(Array.from({ length: scale }, (_, i) => y0 + i)));
    // everything else is background
    expect(pixelsOf(c, BACKGROUND).length).toBe(c.width * c.height - 3 * scale * scale);
  });

  it('makes even sizes (yuv420p) and tiles samples in a near-square grid', () => {
    for (const [w, h, samples, scale] of [
      [3, 5, 1, 1],
      [7, 3, 5, 3],
      [28, 28, 16, 2],
    ]) {
      const c = new FrameComposer([{ width: w, height: h, samples, task: 'classify' }], {
        scale,
        overlays: NO_OVERLAYS,
      });
      expect(c.width % 2).toBe(0);
      expect(c.height % 2).toBe(0);
      const cols = Math.ceil(Math.sqrt(samples));
      expect(c.width).toBeGreaterThanOrEqual(cols * w * scale);
      expect(c.height).toBeGreaterThanOrEqual(Math.ceil(samples / cols) * h * scale);
    }
  });

  it('places panels side by side and draws names, step and legend only when asked', () => {
    const spec = { width: 4, height: 4, task: 'classify' as const, classNames: ['a', 'b', 'c'] };
    const bare = new FrameComposer([spec, spec], { scale: 6, overlays: NO_OVERLAYS });
    const full = new FrameComposer(
      [
        { ...spec, name: 'first run' },
        { ...spec, name: 'second' },
      ],
      {
        scale: 6,
        overlays: { step: true, legend: true, runName: true },
      },
    );
    expect(bare.width).toBeGreaterThan(2 * 4 * 6);
    expect(full.height).toBeGreaterThan(bare.height);
    const frame = new Uint8Array(16 * FRAME_BYTES_PER_CELL); // all dead cells
    bare.compose([
      { step: 3, frame },
      { step: 3, frame },
    ]);
    expect(pixelsOf(bare, TEXT).length).toBe(0);
    full.compose([
      { step: 12, frame },
      { step: 12, frame },
    ]);
    expect(pixelsOf(full, TEXT).length).toBeGreaterThan(50);
    // one swatch per class in the legend, in that class's colour
    const swatch = 7 * 2; // glyph height x text scale (6 / 3)
    for (const k of [0, 1, 2]) expect(pixelsOf(full, pack(classRgb(k))).length).toBe(swatch * swatch);
  });

  it('widens a panel to show its run name, up to 48 characters', () => {
    const spec = { width: 4, height: 4, task: 'classify' as const };
    const overlays = { step: false, legend: false, runName: true };
    const short = new FrameComposer([{ ...spec, name: 'a' }], { scale: 3, overlays });
    const long = new FrameComposer([{ ...spec, name: 'compare A (lr 3e-3)' }], { scale: 3, overlays });
    const huge = new FrameComposer([{ ...spec, name: 'x'.repeat(200) }], { scale: 3, overlays });
    expect(long.width).toBeGreaterThanOrEqual(textWidth('compare A (lr 3e-3)', 1));
    expect(long.width).toBeGreaterThan(short.width);
    expect(huge.width).toBeLessThan(textWidth('x'.repeat(50), 1) + 20);
  });

  it('redraws the step counter each frame', () => {
    const spec = { width: 4, height: 4, task: 'classify' as const };
    const c = new FrameComposer([spec], {
      scale: 6,
      overlays: { step: true, legend: false, runName: false },
    });
    const frame = new Uint8Array(16 * FRAME_BYTES_PER_CELL);
    const a = c.compose([{ step: 1, frame }]).slice();
    const b = c.compose([{ step: 188, frame }]).slice();
    const a2 = c.compose([{ step: 1, frame }]).slice();
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a).equals(Buffer.from(a2))).toBe(true);
  });

  it('rejects a frame of the wrong size, naming the source and the sizes', () => {
    const c = new FrameComposer([{ width: 4, height: 4, samples: 2, task: 'classify', name: 'run x' }], {
      scale: 1,
      overlays: NO_OVERLAYS,
    });
    expect(() => c.compose([{ step: 7, frame: new Uint8Array(10) }])).toThrow(
      /frame source 1 \(run x\) sent a frame of 10 bytes at step 7; 2 samples of 4x4 cells need 160/,
    );
    expect(() => c.compose([])).toThrow(/expected 1 frames/);
  });

  it('rejects bad geometry with the field and value', () => {
    expect(() => new FrameComposer([], { scale: 2, overlays: NO_OVERLAYS })).toThrow(/at least one/);
    expect(
      () => new FrameComposer([{ width: 0, height: 4, task: 'grow' }], { scale: 2, overlays: NO_OVERLAYS }),
    ).toThrow(/width 0/);
    expect(
      () => new FrameComposer([{ width: 4, height: 4, task: 'grow' }], { scale: 0, overlays: NO_OVERLAYS }),
    ).toThrow(/scale must be a whole number 1..32, not 0/);
  });

  it('draws only what the pixel font has: Hiragana as readings, other names fall back', () => {
    expect(drawableText('お', '3')).toBe('o');
    expect(drawableText('を', '9')).toBe('wo');
    expect(drawableText('run 🐢 1', 'x')).toBe('run  1');
    expect(drawableText('日本', '4')).toBe('4');
    expect(textWidth('ab', 2)).toBe((2 * 6 - 1) * 2);
  });
});
