/**
 * The procedural "glyphs" dataset: 10 classes of simple stroke shapes drawn on a 28x28 grid with a
 * random affine transform (rotation, scale, shear, shift), jittered stroke vertices, random stroke
 * width and brightness. Deterministic by seed (mulberry32), so a fresh install trains offline and
 * tests can rely on exact bytes. The background stays exactly 0 so alive masks are clean.
 */
import { GLYPH_CLASS_NAMES } from './catalogue.ts';

type Point = [number, number];
interface Shape {
  /** Polylines in unit coordinates ([-1, 1], y down). */
  lines: Point[][];
  /** Filled disks: centre and radius in unit coordinates. */
  dots: [number, number, number][];
}

const circle = (r: number, n = 20): Point[] =>
  Array.from({ length: n + 1 }, (_, i) => [
    r * Math.cos((2 * Math.PI * i) / n),
    r * Math.sin((2 * Math.PI * i) / n),
  ]);

/** One entry per class, in GLYPH_CLASS_NAMES order. */
const SHAPES: Shape[] = [
  { lines: [circle(0.62)], dots: [] }, // ring
  {
    lines: [
      [
        [0, -0.75],
        [0, 0.75],
      ],
    ],
    dots: [],
  }, // bar
  {
    lines: [
      [
        [0, -0.7],
        [0, 0.7],
      ],
      [
        [-0.7, 0],
        [0.7, 0],
      ],
    ],
    dots: [],
  }, // plus
  {
    lines: [
      [
        [-0.6, -0.6],
        [0.6, 0.6],
      ],
      [
        [-0.6, 0.6],
        [0.6, -0.6],
      ],
    ],
    dots: [],
  }, // cross
  {
    lines: [
      [
        [-0.6, -0.6],
        [0.6, -0.6],
        [0.6, 0.6],
        [-0.6, 0.6],
        [-0.6, -0.6],
      ],
    ],
    dots: [],
  }, // square
  {
    lines: [
      [
        [0, -0.7],
        [0.7, 0.55],
        [-0.7, 0.55],
        [0, -0.7],
      ],
    ],
    dots: [],
  }, // triangle
  {
    lines: [
      [
        [0, -0.8],
        [0.65, 0],
        [0, 0.8],
        [-0.65, 0],
        [0, -0.8],
      ],
    ],
    dots: [],
  }, // diamond
  {
    lines: [
      [
        [-0.65, -0.6],
        [0, 0.65],
        [0.65, -0.6],
      ],
    ],
    dots: [],
  }, // chevron
  {
    lines: [
      [
        [-0.7, -0.65],
        [0.7, -0.65],
      ],
      [
        [0, -0.65],
        [0, 0.75],
      ],
    ],
    dots: [],
  }, // tee
  {
    lines: [],
    dots: [
      [0, -0.45, 0.25],
      [0, 0.45, 0.25],
    ],
  }, // dots
];

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SIZE = 28;

/** Draw one glyph of class `label` into `out` (SIZE*SIZE bytes, must be zero). */
function drawGlyph(out: Uint8Array, label: number, rand: () => number): void {
  const shape = SHAPES[label];
  const u = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const angle = u(-0.3, 0.3);
  const scale = u(0.75, 1.05);
  const aspect = u(0.88, 1.12);
  const shear = u(-0.15, 0.15);
  const tx = u(-0.12, 0.12);
  const ty = u(-0.12, 0.12);
  const half = 10.5; // unit 1 -> 10.5 px, so a shape of radius ~0.8 leaves a margin
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const sx = scale * aspect * half;
  const sy = (scale / aspect) * half;
  const toPixel = ([x0, y0]: Point): Point => {
    const x = x0 + shear * y0 + u(-0.05, 0.05);
    const y = y0 + u(-0.05, 0.05);
    return [13.5 + tx * half + sx * (cos * x - sin * y), 13.5 + ty * half + sy * (sin * x + cos * y)];
  };
  const radius = u(0.9, 1.7); // stroke half-width in px
  const brightness = u(0.75, 1);

  const plot = (px: number, py: number, dist: number, r: number) => {
    const v = Math.min(1, Math.max(0, r + 0.5 - dist)); // ~1 px anti-aliased edge
    if (v <= 0) return;
    // Stroke noise: grain along the stroke, never on the background.
    const value = Math.round(255 * brightness * v * u(0.82, 1));
    const i = py * SIZE + px;
    if (value > out[i]) out[i] = value;
  };

  for (const line of shape.lines) {
    const pts = line.map(toPixel);
    for (let s = 0; s + 1 < pts.length; s++) {
      const [ax, ay] = pts[s];
      const [bx, by] = pts[s + 1];
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy || 1e-9;
      const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - radius - 1));
      const x1 = Math.min(SIZE - 1, Math.ceil(Math.max(ax, bx) + radius + 1));
      const y0 = Math.max(0, Math.floor(Math.min(ay, by) - radius - 1));
      const y1 = Math.min(SIZE - 1, Math.ceil(Math.max(ay, by) + radius + 1));
      for (let py = y0; py <= y1; py++) {
        for (let px = x0; px <= x1; px++) {
          const t = Math.min(1, Math.max(0, ((px - ax) * dx + (py - ay) * dy) / len2));
          const ex = px - (ax + t * dx);
          const ey = py - (ay + t * dy);
          plot(px, py, Math.sqrt(ex * ex + ey * ey), radius);
        }
      }
    }
  }
  for (const [cx0, cy0, r0] of shape.dots) {
    const [cx, cy] = toPixel([cx0, cy0]);
    const r = r0 * scale * half;
    for (
      let py = Math.max(0, Math.floor(cy - r - 1));
      py <= Math.min(SIZE - 1, Math.ceil(cy + r + 1));
      py++
    ) {
      for (
        let px = Math.max(0, Math.floor(cx - r - 1));
        px <= Math.min(SIZE - 1, Math.ceil(cx + r + 1));
        px++
      ) {
        plot(px, py, Math.hypot(px - cx, py - cy), r);
      }
    }
  }
}

export interface GlyphSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** `count` glyphs, classes balanced (count/10 each, remainder to the first classes), shuffled. */
export function generateGlyphs(count: number, seed: number): GlyphSplit {
  const rand = mulberry32(seed);
  const classesCount = GLYPH_CLASS_NAMES.length;
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % classesCount;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = labels[i];
    labels[i] = labels[j];
    labels[j] = t;
  }
  const images = new Uint8Array(count * SIZE * SIZE);
  for (let i = 0; i < count; i++)
    drawGlyph(images.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE), labels[i], rand);
  return { images, labels, count };
}
