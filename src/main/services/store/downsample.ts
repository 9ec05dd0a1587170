/**
 * Min/max bucket downsampling: each of maxPoints/2 equal-count buckets keeps its lowest and its
 * highest point, in iteration order, so spikes and dips survive at any zoom. NaN rows are skipped
 * (growing runs report NaN accuracy).
 */
export interface Downsampled {
  iterations: Float64Array;
  values: Float64Array;
  method: 'all' | 'minmax';
}

export function downsampleMinMax(
  iterations: Float64Array,
  values: Float64Array,
  maxPoints: number,
): Downsampled {
  const n = values.length;
  if (n <= maxPoints) {
    let finite = 0;
    for (let i = 0; i < n; i++) if (!Number.isNaN(values[i])) finite++;
    if (finite === n) return { iterations: iterations.slice(), values: values.slice(), method: 'all' };
    const xs = new Float64Array(finite);
    const ys = new Float64Array(finite);
    for (let i = 0, j = 0; i < n; i++) {
      if (Number.isNaN(values[i])) continue;
      xs[j] = iterations[i];
      ys[j++] = values[i];
    }
    return { iterations: xs, values: ys, method: 'all' };
  }
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const xs = new Float64Array(buckets * 2);
  const ys = new Float64Array(buckets * 2);
  let out = 0;
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * n) / buckets);
    const end = Math.floor(((b + 1) * n) / buckets);
    let lo = -1;
    let hi = -1;
    let loValue = Infinity;
    let hiValue = -Infinity;
    for (let i = start; i < end; i++) {
      const v = values[i];
      // NaN fails both comparisons and is skipped.
      if (v < loValue) {
        loValue = v;
        lo = i;
      }
      if (v > hiValue) {
        hiValue = v;
        hi = i;
      }
    }
    if (lo < 0 && hi < 0) continue;
    if (lo < 0) lo = hi; // only +Infinity values
    if (hi < 0) hi = lo; // only -Infinity values
    const first = Math.min(lo, hi);
    const second = Math.max(lo, hi);
    xs[out] = iterations[first];
    ys[out++] = values[first];
    if (second !== first) {
      xs[out] = iterations[second];
      ys[out++] = values[second];
    }
  }
  return { iterations: xs.slice(0, out), values: ys.slice(0, out), method: 'minmax' };
}

/** View a little-endian Float64 blob as a Float64Array (copying only when it is misaligned). */
export function float64View(blob: Uint8Array): Float64Array {
  if (blob.byteLength % 8 !== 0)
    throw new Error(`metric column of ${blob.byteLength} bytes is not Float64 data`);
  if (blob.byteOffset % 8 === 0) return new Float64Array(blob.buffer, blob.byteOffset, blob.byteLength / 8);
  return new Float64Array(blob.slice().buffer);
}
