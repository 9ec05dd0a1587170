/**
 * Batches are converted to float only when used: a split stays Uint8Array (60,000 x 784 = 47 MB)
 * and a batch of 16-256 images becomes Float32 in [0, 1] on demand.
 */
import type { Split } from './load.ts';

/**
 * Copy the images at `indices` into `out` (allocated when absent) as value / 255, image after image,
 * row-major. `pixels` is width * height.
 */
export function batchToFloat(
  split: Split,
  indices: ArrayLike<number>,
  pixels: number,
  out?: Float32Array,
): Float32Array {
  const n = indices.length;
  const dst = out ?? new Float32Array(n * pixels);
  if (dst.length < n * pixels)
    throw new RangeError(`batchToFloat: out holds ${dst.length} floats, ${n * pixels} needed`);
  const scale = 1 / 255;
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < split.count))
      throw new RangeError(`batchToFloat: index ${i} outside the split (0..${split.count - 1})`);
    const src = i * pixels;
    const base = k * pixels;
    for (let p = 0; p < pixels; p++) dst[base + p] = split.images[src + p] * scale;
  }
  return dst;
}
