import { describe, expect, it } from 'vitest';
import { formatClock, RunSeries } from '../../../src/renderer/src/lib/run-live.ts';
import { classLabels } from '../../../src/renderer/src/lib/classes.ts';
import type { SeriesJson } from '../../../src/shared/contract-results.ts';

const series = (field: SeriesJson['field'], iterations: number[], values: (number | null)[]): SeriesJson => ({
  runId: 'r',
  field,
  iterations,
  values,
  totalRows: iterations.length,
  method: 'all',
});

const row = (iteration: number, perCellAccuracy = 0.5) => ({
  iteration,
  loss: 1,
  perCellAccuracy,
  agreement: 0.1,
  lr: 1e-3,
  gradNorm: 1,
  iterationMs: 100,
  cellsPerSec: 1,
  wallMs: iteration * 500,
});

describe('RunSeries: stored history, then live rows', () => {
  it('loads per-field downsampled history with wall time interpolated from the wallMs series', () => {
    const s = new RunSeries();
    s.loadHistory({
      wallMs: series('wallMs', [0, 10, 20], [0, 5000, 10000]),
      loss: series('loss', [0, 15], [2, 1]),
      perCellAccuracy: series('perCellAccuracy', [0, 20], [null, 0.4]),
    });
    const loss = s.buffers.loss.view();
    expect(Array.from(loss.it)).toEqual([0, 15]);
    expect(loss.wall[1]).toBeCloseTo(7.5); // iteration 15 lies between the wall samples of 10 and 20
    expect(s.buffers.perCellAccuracy.view().y[0]).toBeNaN(); // null (NaN on the wire) stays a gap
    expect(s.lastIteration).toBe(15);
  });

  it('appends live rows past the history, ignores rows it already has, and places evaluations in time', () => {
    const s = new RunSeries();
    s.loadHistory({ wallMs: series('wallMs', [0, 1], [0, 500]), loss: series('loss', [0, 1], [1, 1]) });
    expect(s.append([row(1), row(2), row(3)])).toBe(true);
    expect(s.append([row(3)])).toBe(false);
    expect(Array.from(s.buffers.loss.view().it)).toEqual([0, 1, 2, 3]);
    expect(Array.from(s.buffers.agreement.view().it)).toEqual([1, 2, 3]);
    expect(s.wallAt(2)).toBeCloseTo(1);
  });
});

describe('labels', () => {
  it('formats wall-clock ticks', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(75)).toBe('1:15');
    expect(formatClock(3725)).toBe('1:02:05');
  });

  it('shows KMNIST glyphs with their reading, other classes by name, indices when unknown', () => {
    expect(classLabels([{ name: 'お', glyph: 'お', reading: 'o' }])).toEqual(['お o']);
    expect(classLabels([{ name: 'T-shirt/top' }])).toEqual(['T-shirt/top']);
    expect(classLabels(undefined, 3)).toEqual(['0', '1', '2']);
  });
});
