/**
 * A shipped model's training history, made small: its curves and evaluations keep their shape at a
 * fraction of the bytes (most of a compressed history is the low digits of measured numbers, which
 * deflate cannot shrink). Used by `exportRun({ compactHistory: true })`.
 */
import type { MetricColumn } from '../../../shared/runs.ts';

/** significant digits kept of an evaluation's measured numbers (a share of <= 10,000 images needs 5) */
const EVALUATION_DIGITS = 5;
/** steps kept of an earlier evaluation's per-step curve (the UI draws only the latest one whole) */
const PER_STEP_EVERY = 10;

function roundNumbers(value: unknown): unknown {
  if (typeof value === 'number')
    return Number.isFinite(value) && !Number.isInteger(value)
      ? Number(value.toPrecision(EVALUATION_DIGITS))
      : value;
  if (Array.isArray(value)) return value.map(roundNumbers);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundNumbers(v)]));
  return value;
}

/**
 * Every evaluation's numbers to 5 significant digits; the per-step curves of all but the last
 * evaluation thinned to every 10th step (plus the first, the last and the steps around a mutation).
 */
export function compactEvaluations(bodies: unknown[]): unknown[] {
  return bodies.map((body, i) => {
    const e = body as { perStep?: { step: number }[]; mutationStep?: number };
    if (i === bodies.length - 1 || !Array.isArray(e.perStep) || e.perStep.length === 0)
      return roundNumbers(body);
    const first = e.perStep[0].step;
    const last = e.perStep[e.perStep.length - 1].step;
    const m = e.mutationStep;
    const perStep = e.perStep.filter(
      (p) =>
        p.step === first ||
        p.step === last ||
        p.step % PER_STEP_EVERY === 0 ||
        (m !== undefined && (p.step === m || p.step === m + 1)),
    );
    return roundNumbers({ ...e, perStep });
  });
}

/** The metric curves in float32 precision (kept as float64 in the file): iteration and wall time exact. */
export function compactMetricColumns<T extends Record<MetricColumn, Float64Array>>(columns: T): T {
  const out = { ...columns };
  for (const key of Object.keys(out) as MetricColumn[])
    if (key !== 'iteration' && key !== 'wallMs') out[key] = out[key].map(Math.fround) as T[MetricColumn];
  return out;
}
