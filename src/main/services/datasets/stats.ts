/**
 * Dataset statistics: per-class counts, pixel mean/std, alive fraction and islands (8-connected
 * components of alive pixels per image). Islands make the paper's explanation of KMNIST's low
 * agreement measurable: a cell can only agree with cells it is connected to.
 */
import { ISLAND_BINS, type SplitStats } from '../../../shared/datasets.ts';
import type { Split } from './load.ts';

/**
 * Number of 8-connected components of pixels > cutoff in one image. `labels` and `stack` are
 * scratch buffers of width*height entries (reused across images for speed).
 */
export function countIslands(
  image: Uint8Array,
  width: number,
  height: number,
  cutoff: number,
  seen: Uint8Array,
  stack: Int32Array,
): number {
  const n = width * height;
  seen.fill(0, 0, n);
  let islands = 0;
  for (let start = 0; start < n; start++) {
    if (seen[start] || image[start] <= cutoff) continue;
    islands++;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const p = stack[--top];
      const y = (p / width) | 0;
      const x = p - y * width;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const q = yy * width + xx;
          if (!seen[q] && image[q] > cutoff) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
  }
  return islands;
}

/** Accumulates the statistics of one split image by image (so a long pass can yield in between). */
class StatsAccumulator {
  private readonly pixels: number;
  private readonly cutoff: number;
  private readonly perClass: number[];
  private readonly alivePerClass: number[];
  private readonly islandsPerClass: number[];
  private readonly histogram: number[][];
  private readonly seen: Uint8Array;
  private readonly stack: Int32Array;
  // Integer sums are exact: 70,000 x 784 x 255^2 < 2^53.
  private sum = 0;
  private sumSq = 0;
  private aliveTotal = 0;
  private islandsTotal = 0;

  constructor(
    private readonly split: Split,
    private readonly width: number,
    private readonly height: number,
    numClasses: number,
    threshold: number,
  ) {
    this.pixels = width * height;
    this.cutoff = threshold * 255;
    this.perClass = new Array<number>(numClasses).fill(0);
    this.alivePerClass = new Array<number>(numClasses).fill(0);
    this.islandsPerClass = new Array<number>(numClasses).fill(0);
    this.histogram = Array.from({ length: numClasses }, () => new Array<number>(ISLAND_BINS).fill(0));
    this.seen = new Uint8Array(this.pixels);
    this.stack = new Int32Array(this.pixels);
  }

  add(from: number, to: number): void {
    const { pixels, cutoff, split } = this;
    for (let i = from; i < to; i++) {
      const label = split.labels[i];
      const image = split.images.subarray(i * pixels, (i + 1) * pixels);
      let alive = 0;
      let s = 0;
      let sq = 0;
      for (let p = 0; p < pixels; p++) {
        const v = image[p];
        s += v;
        sq += v * v;
        if (v > cutoff) alive++;
      }
      this.sum += s;
      this.sumSq += sq;
      this.aliveTotal += alive;
      const islands =
        alive === 0 ? 0 : countIslands(image, this.width, this.height, cutoff, this.seen, this.stack);
      this.islandsTotal += islands;
      this.perClass[label]++;
      this.alivePerClass[label] += alive;
      this.islandsPerClass[label] += islands;
      this.histogram[label][Math.min(islands, ISLAND_BINS - 1)]++;
    }
  }

  result(): SplitStats {
    const { pixels, perClass } = this;
    const count = this.split.count;
    const totalPixels = count * pixels;
    const mean = totalPixels ? this.sum / totalPixels / 255 : 0;
    const meanSq = totalPixels ? this.sumSq / totalPixels / (255 * 255) : 0;
    return {
      count,
      perClass,
      pixelMean: mean,
      pixelStd: Math.sqrt(Math.max(0, meanSq - mean * mean)),
      aliveFraction: totalPixels ? this.aliveTotal / totalPixels : 0,
      aliveFractionPerClass: this.alivePerClass.map((a, c) => (perClass[c] ? a / (perClass[c] * pixels) : 0)),
      islandsMean: count ? this.islandsTotal / count : 0,
      islandsMeanPerClass: this.islandsPerClass.map((a, c) => (perClass[c] ? a / perClass[c] : 0)),
      islandsHistogram: this.histogram,
    };
  }
}

/** Statistics of one split; `threshold` is on the [0,1] scale (alive: value/255 > threshold). */
export function splitStats(
  split: Split,
  width: number,
  height: number,
  numClasses: number,
  threshold: number,
): SplitStats {
  const acc = new StatsAccumulator(split, width, height, numClasses, threshold);
  acc.add(0, split.count);
  return acc.result();
}

/**
 * The same, yielding to the event loop every `chunk` images: a 60k split takes ~1 s, and the
 * service runs in the app's main process, which must keep answering meanwhile.
 */
export async function splitStatsAsync(
  split: Split,
  width: number,
  height: number,
  numClasses: number,
  threshold: number,
  chunk = 2000,
): Promise<SplitStats> {
  const acc = new StatsAccumulator(split, width, height, numClasses, threshold);
  for (let from = 0; from < split.count; from += chunk) {
    acc.add(from, Math.min(split.count, from + chunk));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return acc.result();
}
