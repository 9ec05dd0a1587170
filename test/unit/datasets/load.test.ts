import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  batchToFloat,
  DatasetService,
  generateGlyphs,
  loadDataset,
} from '../../../src/main/services/datasets/index.ts';
import { perClassCounts, removeDir, sharedDatasets, tempDir } from './helpers.ts';

/** Only the shared folder: nothing in the cache, no Debian lookup needed for these ids. */
const env = { NCA_DATASETS_PATH: sharedDatasets };

function mean(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i++) s += bytes[i];
  return s / bytes.length / 255;
}

describe('known figures', () => {
  it('MNIST (shared copy via NCA_DATASETS_PATH): per-class counts and pixel mean', async () => {
    const dataDir = await tempDir();
    const d = await loadDataset('mnist', { dataDir, env });
    expect([d.width, d.height, d.train.count, d.test.count]).toEqual([28, 28, 60000, 10000]);
    expect(d.train.images.length).toBe(60000 * 784);
    expect(perClassCounts(d.train.labels, 10)).toEqual([
      5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949,
    ]);
    expect(perClassCounts(d.test.labels, 10)).toEqual([
      980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009,
    ]);
    expect(mean(d.train.images)).toBeCloseTo(0.1307, 4);
    expect(d.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    await removeDir(dataDir);
  });

  it("Fashion-MNIST (Debian's package): 6,000 train and 1,000 test images per class", async () => {
    const dataDir = await tempDir();
    const d = await loadDataset('fashion-mnist', { dataDir, env: {} });
    expect(perClassCounts(d.train.labels, 10)).toEqual(new Array(10).fill(6000));
    expect(perClassCounts(d.test.labels, 10)).toEqual(new Array(10).fill(1000));
    expect(d.classNames[0]).toBe('T-shirt/top');
    expect(d.classNames[9]).toBe('Ankle boot');
    await removeDir(dataDir);
  });

  it('KMNIST: the test set has 1,000 per class; missing training images are named, with the way out', async () => {
    const dataDir = await tempDir();
    const d = await loadDataset('kmnist', { dataDir, env, splits: ['test'] });
    expect(perClassCounts(d.test.labels, 10)).toEqual(new Array(10).fill(1000));
    expect(d.classNames).toEqual(['お', 'き', 'す', 'つ', 'な', 'は', 'ま', 'や', 'れ', 'を']);
    const err = await loadDataset('kmnist', { dataDir, env }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('Kuzushiji-MNIST (kmnist): missing train-images-idx3-ubyte.gz');
    expect((err as Error).message).toContain(path.join(sharedDatasets, 'kmnist'));
    expect((err as Error).message).toContain("'kmnist-split'");
    await removeDir(dataDir);
  });

  it('kmnist-split: 800 / 200 per class, the first 800 of each class in file order train', async () => {
    const dataDir = await tempDir();
    const full = await loadDataset('kmnist', { dataDir, env, splits: ['test'] });
    const d = await loadDataset('kmnist-split', { dataDir, env });
    expect(perClassCounts(d.train.labels, 10)).toEqual(new Array(10).fill(800));
    expect(perClassCounts(d.test.labels, 10)).toEqual(new Array(10).fill(200));
    // The first test image of class 0 is the 801st class-0 image of the KMNIST test file.
    const idx: number[] = [];
    full.test.labels.forEach((l, i) => l === 0 && idx.push(i));
    const firstTest = d.test.labels.indexOf(0);
    const a = d.test.images.subarray(firstTest * 784, firstTest * 784 + 784);
    const b = full.test.images.subarray(idx[800] * 784, idx[800] * 784 + 784);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    await removeDir(dataDir);
  });

  it('mnist is not found without a source, and the message says where it looked', async () => {
    const dataDir = await tempDir();
    await expect(loadDataset('mnist', { dataDir, env: {} })).rejects.toThrow(
      /MNIST \(mnist\): missing train-images-idx3-ubyte.gz, .*looked in .*datasets\/mnist; run `npm run nca -- datasets fetch mnist`/,
    );
    await expect(loadDataset('no-such', { dataDir, env: {} })).rejects.toThrow('unknown dataset "no-such"');
    await removeDir(dataDir);
  });

  it('a registered local source is persisted and used', async () => {
    const dataDir = await tempDir();
    const svc = new DatasetService({ dataDir, env: {} });
    expect((await svc.entry('mnist')).availability).toBe('downloadable');
    await svc.addSource(path.join(sharedDatasets, 'mnist'), 'mnist');
    const again = new DatasetService({ dataDir, env: {} });
    const entry = await again.entry('mnist');
    expect(entry.availability).toBe('local');
    expect(entry.source).toBe(`local: ${path.join(sharedDatasets, 'mnist')}`);
    const d = await loadDataset('mnist', { dataDir, env: {}, splits: ['test'] });
    expect(d.test.count).toBe(10000);
    await again.removeSource(path.join(sharedDatasets, 'mnist'));
    expect((await again.entry('mnist')).availability).toBe('downloadable');
    await removeDir(dataDir);
  });
});

describe('local source settings', () => {
  it('a folder registered for kmnist-split is a kmnist folder; glyphs and unknown ids are refused', async () => {
    const dataDir = await tempDir();
    const svc = new DatasetService({ dataDir, env: {} });
    const sources = await svc.addSource(path.join(sharedDatasets, 'kmnist'), 'kmnist-split');
    expect(sources).toEqual([{ path: path.join(sharedDatasets, 'kmnist'), id: 'kmnist' }]);
    expect((await svc.entry('kmnist-split')).availability).toBe('local');
    await expect(svc.addSource(sharedDatasets, 'glyphs')).rejects.toThrow(
      'source id "glyphs": not a built-in dataset with files',
    );
    await expect(svc.addSource(path.join(dataDir, 'nope'))).rejects.toThrow(
      `${path.join(dataDir, 'nope')}: not a folder`,
    );
    await expect(svc.removeSource(dataDir)).rejects.toThrow(`${dataDir}: not a registered source`);
    await removeDir(dataDir);
  });

  it('a broken sources.json is reported with its path and the bad field', async () => {
    const dataDir = await tempDir();
    const svc = new DatasetService({ dataDir, env: {} });
    await mkdir(path.join(dataDir, 'datasets'), { recursive: true });
    const file = path.join(dataDir, 'datasets/sources.json');
    await writeFile(file, '{ "sources": [ ');
    await expect(svc.list()).rejects.toThrow(`${file}: not valid JSON`);
    await writeFile(file, JSON.stringify({ sources: [{ path: 42 }] }));
    await expect(svc.list()).rejects.toThrow(`${file}: field "sources.0.path":`);
    await writeFile(file, JSON.stringify({ mirrors: { mnist: 'not a url' } }));
    await expect(loadDataset('mnist', { dataDir, env: {} })).rejects.toThrow(
      `${file}: field "mirrors.mnist":`,
    );
    await removeDir(dataDir);
  });
});

describe('glyphs', () => {
  it('is deterministic by seed, balanced, and different for another seed', async () => {
    const a = generateGlyphs(200, 7);
    const b = generateGlyphs(200, 7);
    const c = generateGlyphs(200, 8);
    expect(Buffer.from(a.images).equals(Buffer.from(b.images))).toBe(true);
    expect(Buffer.from(a.images).equals(Buffer.from(c.images))).toBe(false);
    expect(perClassCounts(a.labels, 10)).toEqual(new Array(10).fill(20));
  });

  it('every glyph has ink on a clean background, and classes differ from each other', async () => {
    const dataDir = await tempDir();
    const d = await loadDataset('glyphs', { dataDir, env: {} });
    expect([d.train.count, d.test.count]).toEqual([6000, 1000]);
    expect(perClassCounts(d.train.labels, 10)).toEqual(new Array(10).fill(600));
    const meanImage = Array.from({ length: 10 }, () => new Float64Array(784));
    for (let i = 0; i < d.train.count; i++) {
      const img = d.train.images.subarray(i * 784, (i + 1) * 784);
      const ink = img.reduce((n, v) => n + (v > 25 ? 1 : 0), 0);
      expect(ink).toBeGreaterThan(8);
      expect(ink).toBeLessThan(400);
      expect(img[0] + img[27] + img[783 - 27] + img[783]).toBe(0);
      for (let p = 0; p < 784; p++) meanImage[d.train.labels[i]][p] += img[p] / 600;
    }
    // Mean images of distinct classes are far apart (a nearest-mean classifier could tell them).
    for (let a = 0; a < 10; a++) {
      for (let b = a + 1; b < 10; b++) {
        let dist = 0;
        for (let p = 0; p < 784; p++) dist += (meanImage[a][p] - meanImage[b][p]) ** 2;
        expect(Math.sqrt(dist), `${d.classNames[a]} vs ${d.classNames[b]}`).toBeGreaterThan(150);
      }
    }
    await removeDir(dataDir);
  });
});

describe('batchToFloat', () => {
  it('scales the chosen images to [0, 1] in order, into a reused buffer', () => {
    const split = {
      images: Uint8Array.from([0, 255, 51, 102, 204, 255]),
      labels: Uint8Array.from([0, 1, 2]),
      count: 3,
    };
    const out = new Float32Array(4);
    const b = batchToFloat(split, [2, 0], 2, out);
    expect(b).toBe(out);
    expect(Array.from(b)).toEqual([0.800000011920929, 1, 0, 1]);
    expect(Array.from(batchToFloat(split, [1], 2))).toEqual([Math.fround(0.2), Math.fround(0.4)]);
    expect(() => batchToFloat(split, [3], 2)).toThrow('index 3 outside the split (0..2)');
  });
});
