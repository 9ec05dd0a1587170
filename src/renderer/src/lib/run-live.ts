/**
 * The live state of one run's metrics for the charts: one PointBuffer per charted field, filled from
 * the stored (downsampled) history and then from 'run.metrics' event rows.
 */
import type { SeriesJson } from '../../../shared/contract-results.ts';
import type { IterationMetrics } from '../../../shared/metrics.ts';
import { interpolate, PointBuffer } from './series.ts';

export const CHART_FIELDS = ['loss', 'perCellAccuracy', 'agreement', 'lr'] as const;
export type ChartField = (typeof CHART_FIELDS)[number];

export class RunSeries {
  readonly buffers: Record<ChartField, PointBuffer> = {
    loss: new PointBuffer(),
    perCellAccuracy: new PointBuffer(),
    agreement: new PointBuffer(),
    lr: new PointBuffer(),
  };
  /** iteration -> wall seconds, for evaluation markers on the wall-time axis */
  private wallIt = new PointBuffer();

  /** Load stored history (each field may be downsampled at its own iterations). */
  loadHistory(series: Partial<Record<string, SeriesJson>>): void {
    const wall = series.wallMs;
    const wIt = wall?.iterations ?? [];
    const wVal = (wall?.values ?? []).map((v) => (v === null ? NaN : v / 1000));
    for (let i = 0; i < wIt.length; i++) this.wallIt.push(wIt[i], wVal[i], wVal[i]);
    for (const f of CHART_FIELDS) {
      const s = series[f];
      if (!s) continue;
      for (let i = 0; i < s.iterations.length; i++) {
        const it = s.iterations[i];
        this.buffers[f].push(it, interpolate(wIt, wVal, it), s.values[i]);
      }
    }
  }

  /** Append live rows; returns whether anything was new. */
  append(rows: readonly IterationMetrics[]): boolean {
    let added = false;
    for (const r of rows) {
      const wall = r.wallMs / 1000;
      this.wallIt.push(r.iteration, wall, wall);
      for (const f of CHART_FIELDS) added = this.buffers[f].push(r.iteration, wall, r[f]) || added;
    }
    return added;
  }

  wallAt(iteration: number): number {
    const v = this.wallIt.view();
    return interpolate(v.it, v.y, iteration);
  }

  get lastIteration(): number {
    const it = this.buffers.loss.lastIteration;
    return Number.isFinite(it) ? it : 0;
  }
}

/** "m:ss" or "h:mm:ss" for a wall-time axis in seconds. */
export function formatClock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
