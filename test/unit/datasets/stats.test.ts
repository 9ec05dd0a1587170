import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISLAND_BINS } from '../../../src/shared/datasets.ts';
import {
  countIslands,
  DatasetService,
  generateGlyphs,
  splitStats,
  splitStatsAsync,
} from '../../../src/main/services/datasets/index.ts';
import { copyFixture, removeDir, sharedDatasets, tempDir } from './helpers.ts';

function picture(rows: string[]): Uint8Array {
  return Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 255 : c === '+' ? 20 : 0));
}

function islands(rows: string[], threshold = 0.1): number {
  const w = rows[0].length;
  const n = w * rows.length;
  return countIslands(picture(rows), w, rows.length, threshold * 255, new Uint8Array(n), new Int32Array(n));
}

describe('islands (8-connected components of alive pixels)', () => {
  it('joins diagonal neighbours, separates gaps, ignores pixels at or below the threshold', () => {
    expect(islands(['....', '....'])).toBe(0);
    expect(islands(['#...', '.#..', '..#.'])).toBe(1);
    expect(islands(['#.#.', '....', '#..#'])).toBe(4);
    expect(islands(['##.##', '#...#', '#####'])).toBe(1);
    // '+' is 20/255 = 0.078: dead at 0.1, alive at 0.05 where it bridges the two blobs.
    expect(islands(['#+#'])).toBe(2);
    expect(islands(['#+#'], 0.05)).toBe(1);
  });

  it('per-split statistics: counts, mean/std, alive fraction and the per-class histogram', () => {
    const imgs = [picture(['#.', '.#']), picture(['#.', '..']), picture(['..', '..'])];
    const split = {
      images: Uint8Array.from(imgs.flatMap((i) => Array.from(i))),
      labels: Uint8Array.from([1, 0, 1]),
      count: 3,
    };
    const s = splitStats(split, 2, 2, 2, 0.1);
    expect(s.perClass).toEqual([1, 2]);
    expect(s.pixelMean).toBeCloseTo(3 / 12, 10);
    expect(s.pixelStd).toBeCloseTo(Math.sqrt(3 / 12 - (3 / 12) ** 2), 10);
    expect(s.aliveFraction).toBeCloseTo(3 / 12, 10);
    expect(s.aliveFractionPerClass).toEqual([1 / 4, 2 / 8]);
    expect(s.islandsMeanPerClass).toEqual([1, 0.5]);
    expect(s.islandsHistogram[1].slice(0, 3)).toEqual([1, 1, 0]);
    expect(s.islandsHistogram[0].length).toBe(ISLAND_BINS);
  });
});

describe('splitStatsAsync', () => {
  it('gives the same result as splitStats while letting other events run', async () => {
    const split = generateGlyphs(3000, 3);
    const expected = splitStats(split, 28, 28, 10, 0.1);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const got = await splitStatsAsync(split, 28, 28, 10, 0.1, 500);
    clearInterval(timer);
    expect(got).toEqual(expected);
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('DatasetService.stats', () => {
  let dataDir: string;
  let svc: DatasetService;
  beforeAll(async () => {
    dataDir = await tempDir();
    svc = new DatasetService({ dataDir, env: { NCA_DATASETS_PATH: sharedDatasets } });
  });
  afterAll(() => removeDir(dataDir));

  it('MNIST train: known counts, mean 0.1307 and std 0.3081; cached as JSON in the data dir', async () => {
    const s = await svc.stats('mnist');
    expect(s.train!.perClass).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(s.train!.pixelMean).toBeCloseTo(0.1307, 4);
    expect(s.train!.pixelStd).toBeCloseTo(0.3081, 4);
    expect(s.test!.pixelMean).toBeCloseTo(0.1325, 4);
    expect(s.threshold).toBe(0.1);
    const file = path.join(dataDir, 'datasets/.stats/mnist-t0.1.json');
    expect(JSON.parse(await readFile(file, 'utf8')).computedAt).toBe(s.computedAt);
    expect((await svc.stats('mnist')).computedAt).toBe(s.computedAt);
  });

  it('KMNIST strokes break into more islands than MNIST digits (the paper, made measurable)', async () => {
    const m = await svc.stats('mnist'); // cached by the test above
    const k = await svc.stats('kmnist-split');
    const g = await svc.stats('glyphs');
    expect(m.train!.islandsMean).toBeLessThan(1.1);
    expect(k.train!.islandsMean).toBeGreaterThan(1.5);
    // Glyphs are drawn as connected strokes except "dots" (two blobs).
    expect(g.train!.islandsMeanPerClass.slice(0, 9).every((v) => v === 1)).toBe(true);
    expect(g.train!.islandsMeanPerClass[9]).toBe(2);
  });

  it('recomputes when a dataset is replaced under the same id', async () => {
    const dir = await tempDir();
    const own = new DatasetService({ dataDir: dir, env: {} });
    const src = await copyFixture('shapes', dir);
    await own.importFolder(src, { name: 'shapes', size: 8, testFraction: 1 / 3 });
    const first = await own.stats('shapes', { threshold: 0.2 });
    expect([first.train!.count, first.test!.count]).toEqual([4, 2]);
    await own.removeCustom('shapes');
    await own.importFolder(src, { name: 'shapes', size: 8, testFraction: 0 });
    const second = await own.stats('shapes', { threshold: 0.2 });
    expect(second.train!.count).toBe(6);
    expect(second.test).toBeNull();
    await expect(own.stats('shapes', { threshold: 1.5 })).rejects.toThrow(
      'stats threshold 1.5: must be in [0, 1)',
    );
    await removeDir(dir);
  });
});

describe('DatasetService.samples', () => {
  it('returns the first perClass images of each class as bytes, with paging and one-class requests', async () => {
    const dataDir = await tempDir();
    const svc = new DatasetService({ dataDir, env: { NCA_DATASETS_PATH: sharedDatasets } });
    const s = await svc.samples('mnist', { split: 'test', perClass: 3 });
    expect(s.count).toBe(30);
    expect(s.images.length).toBe(30 * 784);
    expect(Array.from(s.labels.subarray(0, 6))).toEqual([0, 0, 0, 1, 1, 1]);
    // MNIST test: the first 0 is item 3, the first 1 is item 2.
    expect(s.indices[0]).toBe(3);
    expect(s.indices[3]).toBe(2);
    const d = await svc.load('mnist');
    expect(
      Buffer.from(s.images.subarray(0, 784)).equals(Buffer.from(d.test.images.subarray(3 * 784, 4 * 784))),
    ).toBe(true);
    const page = await svc.samples('mnist', { split: 'test', perClass: 2, classIndex: 0, offset: 1 });
    expect(Array.from(page.indices)).toEqual([s.indices[1], s.indices[2]]);
    await expect(svc.samples('mnist', { perClass: 0 })).rejects.toThrow('samples option "perClass"');
    await expect(svc.samples('mnist', { classIndex: 10 })).rejects.toThrow(
      'samples classIndex 10: mnist has 10 classes',
    );
    await removeDir(dataDir);
  });
});
