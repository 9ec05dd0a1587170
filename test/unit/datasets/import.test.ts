import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetService, encodeIdx, loadDataset } from '../../../src/main/services/datasets/index.ts';
import { copyFixture, perClassCounts, removeDir, sharedDatasets, tempDir } from './helpers.ts';

let work: string;
beforeAll(async () => {
  work = await tempDir();
});
afterAll(() => removeDir(work));

async function freshService(): Promise<{ svc: DatasetService; dataDir: string }> {
  const dataDir = await tempDir();
  return { svc: new DatasetService({ dataDir, env: {} }), dataDir };
}

describe('import of an image folder (one sub-folder per class)', () => {
  it('converts PNG and JPEG of any size to the chosen grid, inverts paper-white, stores IDX.gz + manifest, loads by id', async () => {
    const { svc, dataDir } = await freshService();
    const src = await copyFixture('shapes', path.join(work, 'ok'));
    const entry = await svc.importFolder(src, { name: 'My Shapes!', size: 16, testFraction: 1 / 3 });
    expect(entry.id).toBe('my-shapes');
    expect(entry.classes.map((c) => c.name)).toEqual(['bar', 'disk']);
    expect([entry.width, entry.trainCount, entry.testCount]).toEqual([16, 4, 2]);
    expect(entry.availability).toBe('cached');
    const manifest = JSON.parse(
      await readFile(path.join(dataDir, 'datasets/my-shapes/manifest.json'), 'utf8'),
    );
    expect(manifest.files.trainImages).toBe('train-images-idx3-ubyte.gz');

    const d = await loadDataset('my-shapes', { dataDir });
    expect([d.width, d.height, d.train.count, d.test.count]).toEqual([16, 16, 4, 2]);
    expect(perClassCounts(d.test.labels, 2)).toEqual([1, 1]);
    // Inverted: the shape is bright, the paper is black.
    for (let i = 0; i < d.train.count; i++) {
      const img = d.train.images.subarray(i * 256, (i + 1) * 256);
      expect(img[0]).toBeLessThan(20);
      expect(img[8 * 16 + 8]).toBeGreaterThan(200);
      // bar: a vertical stripe, so the middle of the left edge stays dark; disk: the same.
      expect(img[8 * 16 + 1]).toBeLessThan(40);
    }
    expect((await svc.list()).map((e) => e.id)).toContain('my-shapes');
    await svc.removeCustom('my-shapes');
    expect((await svc.list()).map((e) => e.id)).not.toContain('my-shapes');
    await removeDir(dataDir);
  });

  it('honours train/ and test/ sub-folders and invert: false', async () => {
    const { svc, dataDir } = await freshService();
    const root = path.join(work, 'presplit');
    await copyFixture('shapes', path.join(root, 'x'));
    await copyFixture('shapes', path.join(root, 'y'));
    const { rename } = await import('node:fs/promises');
    await rename(path.join(root, 'x/shapes'), path.join(root, 'train'));
    await rename(path.join(root, 'y/shapes'), path.join(root, 'test'));
    const entry = await svc.importFolder(root, { name: 'presplit', size: 8, invert: false });
    expect([entry.trainCount, entry.testCount]).toEqual([6, 6]);
    const d = await svc.load('presplit');
    expect(d.train.images[0]).toBeGreaterThan(200); // paper stays white
    await removeDir(dataDir);
  });

  it('rejects a class folder with a non-image file and an unreadable image, naming each file', async () => {
    const { svc, dataDir } = await freshService();
    const src = await copyFixture('shapes', path.join(work, 'bad'));
    await writeFile(path.join(src, 'bar/notes.txt'), 'not an image');
    const png = await readFile(path.join(src, 'disk/0.png'));
    await writeFile(path.join(src, 'disk/broken.png'), png.subarray(0, 40));
    await writeFile(path.join(src, 'disk/.DS_Store'), 'ignored');
    const err = (await svc.importFolder(src, { name: 'bad' }).catch((e: Error) => e)) as Error;
    expect(err.message).toContain(`${src}: cannot import, 2 problem(s):`);
    expect(err.message).toContain(`${path.join(src, 'bar/notes.txt')}: unreadable: not a PNG or JPEG image`);
    expect(err.message).toContain(`${path.join(src, 'disk/broken.png')}: unreadable:`);
    expect(err.message).not.toContain('.DS_Store');
    expect((await svc.list()).map((e) => e.id)).not.toContain('bad');
    await removeDir(dataDir);
  });

  it('rejects bad options, a name taken by a built-in or an existing import, and a folder without classes', async () => {
    const { svc, dataDir } = await freshService();
    const src = await copyFixture('shapes', path.join(work, 'opts'));
    await expect(svc.importFolder(src, { name: 'big', size: 65 })).rejects.toThrow('import option "size":');
    await expect(svc.importFolder(src, { name: 'MNIST' })).rejects.toThrow(
      'id "mnist" is a built-in dataset',
    );
    await svc.importFolder(src, { name: 'twice', size: 8 });
    await expect(svc.importFolder(src, { name: 'Twice', size: 8 })).rejects.toThrow(
      'a dataset "twice" already exists',
    );
    const empty = path.join(work, 'empty');
    await mkdir(empty, { recursive: true });
    await expect(svc.importFolder(empty, { name: 'e' })).rejects.toThrow(
      `${empty}: no class sub-folders and no IDX files`,
    );
    await expect(svc.importFolder(path.join(work, 'nope'), { name: 'n' })).rejects.toThrow(
      'nope: not a folder',
    );
    await removeDir(dataDir);
  });
});

describe('import of an IDX folder', () => {
  it('imports MNIST-format files with class names from classes.txt', async () => {
    const { svc, dataDir } = await freshService();
    const src = path.join(work, 'idx');
    await mkdir(src, { recursive: true });
    const images = Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => i);
    await writeFile(path.join(src, 'train-images-idx3-ubyte'), encodeIdx([5, 4, 3], images));
    await writeFile(
      path.join(src, 'train-labels-idx1-ubyte.gz'),
      zlib.gzipSync(encodeIdx([5], Uint8Array.from([0, 1, 2, 1, 0]))),
    );
    await writeFile(path.join(src, 'classes.txt'), 'zero\none\ntwo\n');
    const entry = await svc.importFolder(src, { name: 'tiny idx' });
    expect([entry.width, entry.height, entry.trainCount, entry.testCount]).toEqual([3, 4, 5, 0]);
    expect(entry.classes.map((c) => c.name)).toEqual(['zero', 'one', 'two']);
    const d = await loadDataset('tiny-idx', { dataDir });
    expect(Array.from(d.train.images)).toEqual(Array.from(images));
    expect(d.test.count).toBe(0);
    await removeDir(dataDir);
  });

  it('refuses an IDX folder whose labels do not match its images', async () => {
    const { svc, dataDir } = await freshService();
    const src = path.join(work, 'idx-bad');
    await mkdir(src, { recursive: true });
    await writeFile(
      path.join(src, 'train-images-idx3-ubyte.gz'),
      await readFile(path.join(sharedDatasets, 'mnist/t10k-images-idx3-ubyte.gz')),
    );
    await writeFile(
      path.join(src, 'train-labels-idx1-ubyte.gz'),
      await readFile(path.join(sharedDatasets, 'mnist/train-labels-idx1-ubyte.gz')),
    );
    await expect(svc.importFolder(src, { name: 'mismatch' })).rejects.toThrow(
      'image/label count mismatch: train-images-idx3-ubyte.gz holds 10000 images but train-labels-idx1-ubyte.gz holds 60000 labels',
    );
    await removeDir(dataDir);
  });
});
