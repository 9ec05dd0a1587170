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

/** Statistics of one split; `threshold` is on the [0,1] scale (alive: value/255 > threshold). */
export function splitStats(
  split: Split,
  width: number,
  height: number,
  numClasses: number,
  threshold: number,
): SplitStats {
  const pixels = width * height;
  const cutoff = threshold * 255;
  const perClass = new Array<number>(numClasses).fill(0);
  const alivePerClass = new Array<number>(numClasses).fill(0);
  const islandsPerClass = new Array<number>(numClasses).fill(0);
  const histogram = Array.from({ length: numClasses }, () => new Array<number>(ISLAND_BINS).fill(0));
  const seen = new Uint8Array(pixels);
  const stack = new Int32Array(pixels);
  // Integer sums are exact: 70,000 x 784 x 255^2 < 2^53.
  let sum = 0;
  let sumSq = 0;
  let aliveTotal = 0;
  let islandsTotal = 0;
  for (let i = 0; i < split.count; i++) {
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
    sum += s;
    sumSq += sq;
    aliveTotal += alive;
    const islands = alive === 0 ? 0 : countIslands(image, width, height, cutoff, seen, stack);
    islandsTotal += islands;
    perClass[label]++;
    alivePerClass[label] += alive;
    islandsPerClass[label] += islands;
    histogram[label][Math.min(islands, ISLAND_BINS - 1)]++;
  }
  const totalPixels = split.count * pixels;
  const mean = totalPixels ? sum / totalPixels / 255 : 0;
  const meanSq = totalPixels ? sumSq / totalPixels / (255 * 255) : 0;
  return {
    count: split.count,
    perClass,
    pixelMean: mean,
    pixelStd: Math.sqrt(Math.max(0, meanSq - mean * mean)),
    aliveFraction: totalPixels ? aliveTotal / totalPixels : 0,
    aliveFractionPerClass: alivePerClass.map((a, c) => (perClass[c] ? a / (perClass[c] * pixels) : 0)),
    islandsMean: split.count ? islandsTotal / split.count : 0,
    islandsMeanPerClass: islandsPerClass.map((a, c) => (perClass[c] ? a / perClass[c] : 0)),
    islandsHistogram: histogram,
  };
}
