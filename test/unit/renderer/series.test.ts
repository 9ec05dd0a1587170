import { describe, expect, it } from 'vitest';
import {
  decimateMinMax,
  emaSmooth,
  etaSeconds,
  formatDuration,
  formatNumber,
  interpolate,
  logTickLabelled,
  PointBuffer,
} from '../../../src/renderer/src/lib/series.ts';
import { bytesToBase64, toBytes, toNumbers } from '../../../src/renderer/src/lib/bytes.ts';

describe('emaSmooth', () => {
  it('returns the values at weight 0 and is debiased (no pull towards 0 at the start)', () => {
    expect(emaSmooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = emaSmooth([5, 5, 5, 5], 0.9);
    for (const v of s) expect(v).toBeCloseTo(5, 10);
  });

  it('smooths a step and lets NaN pass through without poisoning later points', () => {
    const s = emaSmooth([0, 0, NaN, 10, 10], 0.5);
    expect(s[2]).toBeNaN();
    expect(s[3]).toBeGreaterThan(0);
    expect(s[3]).toBeLessThan(10);
    expect(s[4]).toBeGreaterThan(s[3]);
    expect(Number.isFinite(s[4])).toBe(true);
  });
});

describe('decimateMinMax', () => {
  it('keeps short series whole, minus NaN', () => {
    expect(decimateMinMax([0, 1, 2], [1, NaN, 3], 10)).toEqual({ x: [0, 2], y: [1, 3] });
  });

  it('bounds the point count and keeps a spike', () => {
    const n = 10_000;
    const xs = Array.from({ length: n }, (_, i) => i);
    const ys = xs.map((i) => (i === 4321 ? 100 : Math.sin(i / 100)));
    const d = decimateMinMax(xs, ys, 500);
    expect(d.x.length).toBeLessThanOrEqual(500);
    expect(d.y).toContain(100);
    expect(d.x[d.y.indexOf(100)]).toBe(4321);
    for (let i = 1; i < d.x.length; i++) expect(d.x[i]).toBeGreaterThan(d.x[i - 1]);
  });
});

describe('PointBuffer', () => {
  it('grows past its capacity, ignores history overlap, and exposes views', () => {
    const b = new PointBuffer(2);
    for (const i of [0, 1, 2]) expect(b.push(i, i / 10, 1 / (i + 1))).toBe(true);
    expect(b.push(2, 0.2, 5)).toBe(false); // a live row the history already had
    expect(b.push(3, 0.3, null)).toBe(true);
    const v = b.view();
    expect(Array.from(v.it)).toEqual([0, 1, 2, 3]);
    expect(v.y[3]).toBeNaN();
    expect(b.last()).toBeCloseTo(1 / 3); // NaN skipped
    expect(b.recentMean(2)).toBeCloseTo((1 / 3 + 1 / 2) / 2);
    expect(new PointBuffer().recentMean()).toBeNull();
  });

  it('measures iterations per second from the engine wall clock', () => {
    const b = new PointBuffer();
    expect(b.rate()).toBeNull();
    for (let i = 0; i <= 10; i++) b.push(i, i * 0.1, 0);
    expect(b.rate()).toBeCloseTo(10);
    expect(etaSeconds(10, 110, b.rate())).toBeCloseTo(10);
    expect(etaSeconds(10, 110, null)).toBeNull();
  });

  it('interpolates (wall time of an evaluation iteration)', () => {
    expect(interpolate([0, 10, 20], [0, 5, 6], 15)).toBeCloseTo(5.5);
    expect(interpolate([0, 10], [1, 2], -5)).toBe(1);
    expect(interpolate([0, 10], [1, 2], 50)).toBe(2);
    expect(interpolate([], [], 1)).toBeNaN();
  });
});

describe('formatting', () => {
  it('formats durations and numbers for read-outs', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(192)).toBe('3 min 12 s');
    expect(formatDuration(3840)).toBe('1 h 04 min');
    expect(formatDuration(null)).toBe('—');
    expect(formatNumber(0.000123)).toBe('1.23e-4');
    expect(formatNumber(6e-4)).toBe('6e-4');
    expect(formatNumber(0.5432)).toBe('0.543');
  });
});

describe('byte payloads from any transport', () => {
  it('reads typed arrays, base64, JSON arrays and index-keyed objects alike', () => {
    const want = [0, 7, 255];
    expect(Array.from(toBytes(Uint8Array.from(want)))).toEqual(want);
    expect(Array.from(toBytes(bytesToBase64(Uint8Array.from(want))))).toEqual(want);
    expect(Array.from(toBytes(want))).toEqual(want);
    expect(Array.from(toBytes({ 0: 0, 1: 7, 2: 255 }))).toEqual(want);
    expect(Array.from(toBytes({ type: 'Buffer', data: want }))).toEqual(want);
    expect(toNumbers({ 0: 70000, 1: 3 })).toEqual([70000, 3]);
    expect(toNumbers(Uint32Array.from([70000]))).toEqual([70000]);
  });
});

describe('log-axis tick labels', () => {
  it('labels whole mantissas within a decade and 1-2-5 across decades', () => {
    expect([37, 40, 45, 50, 60].filter((v) => logTickLabelled(v, 37, 65))).toEqual([40, 50, 60]);
    const wide = [1e-4, 2e-4, 3e-4, 6e-4, 1e-3, 5e-3, 1e-2];
    expect(wide.filter((v) => logTickLabelled(v, 1e-4, 1e-2))).toEqual([1e-4, 2e-4, 1e-3, 5e-3, 1e-2]);
  });
});
