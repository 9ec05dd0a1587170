import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatasetError,
  encodeIdx,
  loadDataset,
  readIdxFile,
  readIdxSplit,
} from '../../../src/main/services/datasets/index.ts';
import { removeDir, sharedDatasets, tempDir } from './helpers.ts';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => removeDir(dir));

const images = (count: number, h = 3, w = 2) =>
  encodeIdx(
    [count, h, w],
    Uint8Array.from({ length: count * h * w }, (_, i) => i % 256),
  );
const labels = (values: number[]) => encodeIdx([values.length], Uint8Array.from(values));

async function put(name: string, bytes: Uint8Array): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, bytes);
  return p;
}

describe('IDX reader', () => {
  it('reads raw and gzipped files to the same bytes, in their own buffer', async () => {
    const raw = await put('a-raw', images(4));
    const gz = await put('a.gz', zlib.gzipSync(images(4)));
    const a = await readIdxFile(raw, 3);
    const b = await readIdxFile(gz, 3);
    expect(a.dims).toEqual([4, 3, 2]);
    expect(a.gzip).toBe(false);
    expect(b.gzip).toBe(true);
    expect(Buffer.from(b.data).equals(Buffer.from(a.data))).toBe(true);
    expect(a.data.byteLength).toBe(24);
    expect(a.data.buffer.byteLength).toBe(24);
    expect(a.data[23]).toBe(23);
  });

  it('reads the shared MNIST test labels (official content)', async () => {
    const l = await readIdxFile(path.join(sharedDatasets, 'mnist/t10k-labels-idx1-ubyte.gz'), 1);
    expect(l.dims).toEqual([10000]);
    expect(Array.from(l.data.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
  });

  it('rejects a zero-sized file, naming it', async () => {
    const p = await put('empty.gz', new Uint8Array(0));
    await expect(readIdxFile(p)).rejects.toThrow(`${p}: file is empty (0 bytes)`);
  });

  it('rejects a truncated gzip file', async () => {
    const whole = zlib.gzipSync(images(50, 28, 28));
    const p = await put('cut.gz', whole.subarray(0, Math.floor(whole.length / 2)));
    const err = await readIdxFile(p, 3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toMatch(new RegExp(`^${p}: gzip data is truncated or corrupt`));
  });

  it('rejects a wrong magic number', async () => {
    const bytes = images(2);
    bytes[0] = 0x50;
    bytes[1] = 0x4b;
    const p = await put('zip-like', bytes);
    await expect(readIdxFile(p, 3)).rejects.toThrow(`${p}: wrong magic number 0x504b0803: not an IDX file`);
  });

  it('rejects a non-byte dtype and a wrong dimension count', async () => {
    const f32 = images(2);
    f32[2] = 0x0d;
    const p1 = await put('float', f32);
    await expect(readIdxFile(p1, 3)).rejects.toThrow(`${p1}: unsupported IDX data type 0x0d (float32)`);
    const p2 = await put('labels-as-images', labels([1, 2]));
    await expect(readIdxFile(p2, 3)).rejects.toThrow(`${p2}: has 1 dimension(s), expected 3 (images)`);
  });

  it('rejects truncated and oversized data, with the sizes', async () => {
    const whole = images(3);
    const p1 = await put('short', whole.subarray(0, whole.length - 5));
    await expect(readIdxFile(p1, 3)).rejects.toThrow(
      `${p1}: truncated: header says 3x3x2 = 18 bytes of data, but only 13 follow`,
    );
    const p2 = await put('long', Buffer.concat([whole, Buffer.alloc(7)]));
    await expect(readIdxFile(p2, 3)).rejects.toThrow(`${p2}: oversized: 7 bytes beyond the 3x3x2 = 18 bytes`);
    const p3 = await put('header-only', whole.subarray(0, 9));
    await expect(readIdxFile(p3, 3)).rejects.toThrow(
      `${p3}: truncated: 9 bytes, the header of 3 dimensions needs 16`,
    );
  });

  it('rejects an image/label count mismatch, naming both files', async () => {
    const i = await put('m-images', images(3));
    const l = await put('m-labels', labels([0, 1]));
    await expect(readIdxSplit(i, l, 10)).rejects.toThrow(
      'image/label count mismatch: m-images holds 3 images but m-labels holds 2 labels',
    );
  });

  it('rejects a label out of range, naming the item and the value', async () => {
    const i = await put('r-images', images(3));
    const l = await put('r-labels', labels([0, 9, 10]));
    await expect(readIdxSplit(i, l, 10)).rejects.toThrow(
      `${l}: label out of range: item 2 has label 10, the dataset has 10 classes (0..9)`,
    );
  });

  it('a broken file in a dataset folder fails the load with that file named', async () => {
    const data = await tempDir();
    const src = path.join(data, 'src/mnist');
    await mkdir(src, { recursive: true });
    for (const f of [
      't10k-images-idx3-ubyte.gz',
      't10k-labels-idx1-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
    ]) {
      await writeFile(path.join(src, f), await readFile(path.join(sharedDatasets, 'mnist', f)));
    }
    const broken = path.join(src, 'train-images-idx3-ubyte.gz');
    await writeFile(broken, zlib.gzipSync(images(10, 28, 28)));
    const env = { NCA_DATASETS_PATH: path.join(data, 'src') };
    await expect(loadDataset('mnist', { dataDir: data, env })).rejects.toThrow(
      'image/label count mismatch: train-images-idx3-ubyte.gz holds 10 images but train-labels-idx1-ubyte.gz holds 60000 labels',
    );
    // The test split alone is intact and loads.
    const d = await loadDataset('mnist', { dataDir: data, env, splits: ['test'] });
    expect(d.test.count).toBe(10000);
    expect(d.train.count).toBe(0);
    await removeDir(data);
  });
});
