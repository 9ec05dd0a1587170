/**
 * Pure helpers for live metric charts: a growing columnar buffer of iteration rows, exponential
 * moving-average smoothing and min/max decimation. Kept free of the DOM so they are unit-tested.
 */
/**
 * TensorBoard-style debiased EMA: weight 0 returns the values, 0.99 is very smooth. The first points
 * are not pulled towards 0 (debiasing), and NaN / infinite values pass through without poisoning the
 * average that follows them.
 */
export function emaSmooth(values: ArrayLike<number>, weight: number, out: number[] = []): number[] {
  out.length = values.length;
  const w = Math.min(Math.max(weight, 0), 0.999);
  let last = 0;
  let debias = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * w + (1 - w) * v;
    debias = debias * w + (1 - w);
    out[i] = last / debias;
  }
  return out;
}

/**
 * Reduce a series to at most ~maxPoints by keeping the lowest and highest point of each bucket (in x
 * order), so spikes stay visible; short series are returned as they are. NaN points are skipped.
 */
export function decimateMinMax(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  maxPoints: number,
): { x: number[]; y: number[] } {
  const n = Math.min(xs.length, ys.length);
  const x: number[] = [];
  const y: number[] = [];
  if (n <= maxPoints) {
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(ys[i])) continue;
      x.push(xs[i]);
      y.push(ys[i]);
    }
    return { x, y };
  }
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const size = n / buckets;
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size);
    const end = Math.min(n, Math.floor((b + 1) * size));
    let lo = -1;
    let hi = -1;
    for (let i = start; i < end; i++) {
      const v = ys[i];
      if (Number.isNaN(v)) continue;
      if (lo < 0 || v < ys[lo]) lo = i;
      if (hi < 0 || v > ys[hi]) hi = i;
    }
    if (lo < 0) continue;
    const first = Math.min(lo, hi);
    const second = Math.max(lo, hi);
    x.push(xs[first]);
    y.push(ys[first]);
    if (second !== first) {
      x.push(xs[second]);
      y.push(ys[second]);
    }
  }
  return { x, y };
}

/**
 * One metric as growable Float64 columns (iteration, wall seconds, value); append is amortised O(1)
 * and charts read subarray views, so live updates never copy the history.
 */
export class PointBuffer {
  length = 0;
  it: Float64Array;
  wall: Float64Array;
  y: Float64Array;

  constructor(capacity = 1024) {
    this.it = new Float64Array(capacity);
    this.wall = new Float64Array(capacity);
    this.y = new Float64Array(capacity);
  }

  private grow(): void {
    const cap = this.it.length * 2;
    for (const k of ['it', 'wall', 'y'] as const) {
      const next = new Float64Array(cap);
      next.set(this[k].subarray(0, this.length));
      this[k] = next;
    }
  }

  get lastIteration(): number {
    return this.length ? this.it[this.length - 1] : -Infinity;
  }

  /** Append a point; points at or before the last iteration (history overlap) are ignored. */
  push(iteration: number, wallSeconds: number, value: number | null): boolean {
    if (!Number.isFinite(iteration) || iteration <= this.lastIteration) return false;
    if (this.length === this.it.length) this.grow();
    this.it[this.length] = iteration;
    this.wall[this.length] = wallSeconds;
    this.y[this.length] = value === null ? NaN : value;
    this.length++;
    return true;
  }

  /** Views of the stored points (no copy). */
  view(): { it: Float64Array; wall: Float64Array; y: Float64Array } {
    return {
      it: this.it.subarray(0, this.length),
      wall: this.wall.subarray(0, this.length),
      y: this.y.subarray(0, this.length),
    };
  }

  /** The last finite value, or null (growing runs have no accuracy). */
  last(): number | null {
    for (let i = this.length - 1; i >= 0; i--) if (Number.isFinite(this.y[i])) return this.y[i];
    return null;
  }

  /** Mean of the last n finite values (a steadier read-out than the last, noisy batch), or null. */
  recentMean(n = 20): number | null {
    let sum = 0;
    let count = 0;
    for (let i = this.length - 1; i >= 0 && count < n; i--) {
      if (!Number.isFinite(this.y[i])) continue;
      sum += this.y[i];
      count++;
    }
    return count ? sum / count : null;
  }

  /** Iterations per second over the last `window` points, from the engine's wall clock (pauses excluded). */
  rate(window = 50): number | null {
    if (this.length < 2) return null;
    const b = this.length - 1;
    const a = Math.max(0, b - window);
    const dt = this.wall[b] - this.wall[a];
    const di = this.it[b] - this.it[a];
    return dt > 0 && di > 0 ? di / dt : null;
  }
}

/** Linear interpolation of y at x over increasing xs (clamped at the ends); NaN when empty. */
export function interpolate(xs: ArrayLike<number>, ys: ArrayLike<number>, x: number): number {
  const n = Math.min(xs.length, ys.length);
  if (n === 0) return NaN;
  if (x <= xs[0]) return ys[0];
  if (x >= xs[n - 1]) return ys[n - 1];
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  const f = (x - xs[lo]) / (xs[hi] - xs[lo] || 1);
  return ys[lo] + f * (ys[hi] - ys[lo]);
}

/** Seconds left at `rate` iterations/s from `done` to `total`; null when unknown. */
export function etaSeconds(done: number, total: number, rate: number | null): number | null {
  if (!rate || rate <= 0 || !Number.isFinite(rate)) return null;
  return Math.max(0, (total - done) / rate);
}

/** "1 h 04 min", "3 min 12 s", "42 s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(s / 3600);
  return `${h} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** 0.9731 -> "97.3 %"; null -> "—". */
export function formatPercent(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(digits)} %`;
}

/** Compact number for metric read-outs: 3 significant digits, exponent when tiny or huge. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) {
    // 6.00e-4 -> 6e-4, 1.50e-5 -> 1.5e-5
    const [m, e] = v.toExponential(2).split('e');
    return `${Number(m)}e${e}`;
  }
  return Number(v.toPrecision(3)).toString();
}

/**
 * Whether a log-axis tick gets a label: within one decade every whole mantissa (40, 50, 60), over
 * several decades only 1, 2 and 5 of each, so labels never crowd.
 */
export function logTickLabelled(value: number, min: number, max: number): boolean {
  if (!(value > 0)) return false;
  const m = value / 10 ** Math.floor(Math.log10(value) + 1e-9);
  const whole = Math.abs(m - Math.round(m)) < 1e-6;
  if (!whole) return false;
  return max / min < 10 ? true : [1, 2, 5].includes(Math.round(m));
}
