/**
 * Strict IDX reader and writer (the MNIST file format: http://yann.lecun.com/exdb/mnist/).
 * Layout: two zero bytes, a dtype byte, a dimension count byte, one big-endian uint32 per dimension,
 * then the data. Only unsigned bytes (0x08) are used by image datasets; anything else is refused with
 * a message that names the file and what is wrong. Gzip is detected by its magic bytes, not the name.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

/** A user-visible dataset problem (bad file, missing file, bad option): printed without a stack. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

const gunzipAsync = promisify(zlib.gunzip);
const gzipAsync = promisify(zlib.gzip);

const DTYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

export interface IdxArray {
  dims: number[];
  /** Exactly product(dims) bytes, in its own ArrayBuffer (safe to transfer to a worker). */
  data: Uint8Array;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompress when the bytes are gzip, else return them as they are. Errors name the file. */
export async function gunzipIfNeeded(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  if (bytes.length === 0) throw new DatasetError(`${file}: file is empty (0 bytes)`);
  if (!isGzip(bytes)) return bytes;
  try {
    return await gunzipAsync(bytes);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new DatasetError(`${file}: gzip data is truncated or corrupt (${why})`);
  }
}

/**
 * Parse IDX bytes (already decompressed). `ndims`, when given, is the dimension count the caller
 * needs (3 for images, 1 for labels).
 */
export function parseIdx(bytes: Uint8Array, file: string, ndims?: number): IdxArray {
  const what = ndims === 3 ? ' (images)' : ndims === 1 ? ' (labels)' : '';
  if (bytes.length === 0) throw new DatasetError(`${file}: file is empty (0 bytes)`);
  if (bytes.length < 4)
    throw new DatasetError(`${file}: truncated: ${bytes.length} bytes, shorter than an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Buffer.from(bytes.subarray(0, 4)).toString('hex');
    throw new DatasetError(
      `${file}: wrong magic number 0x${magic}: not an IDX file (expected 0x0000 followed by dtype and dimension count, e.g. 0x00000803)`,
    );
  }
  const dtype = bytes[2];
  if (dtype !== 0x08) {
    const name = DTYPE_NAMES[dtype] ?? 'unknown';
    throw new DatasetError(
      `${file}: unsupported IDX data type 0x${dtype.toString(16).padStart(2, '0')} (${name}); image datasets need 0x08 (unsigned byte)`,
    );
  }
  const count = bytes[3];
  if (count === 0 || count > 4)
    throw new DatasetError(`${file}: invalid IDX dimension count ${count} (expected 1 to 4)`);
  if (ndims !== undefined && count !== ndims) {
    throw new DatasetError(`${file}: has ${count} dimension(s), expected ${ndims}${what}`);
  }
  const headerLength = 4 + 4 * count;
  if (bytes.length < headerLength) {
    throw new DatasetError(
      `${file}: truncated: ${bytes.length} bytes, the header of ${count} dimensions needs ${headerLength}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let expected = 1;
  for (let i = 0; i < count; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0) throw new DatasetError(`${file}: dimension ${i} is 0 (the file holds no data)`);
    dims.push(d);
    expected *= d;
  }
  if (expected > 2 ** 32)
    throw new DatasetError(`${file}: dimensions ${dims.join('x')} are implausibly large`);
  const actual = bytes.length - headerLength;
  if (actual < expected) {
    throw new DatasetError(
      `${file}: truncated: header says ${dims.join('x')} = ${expected} bytes of data, but only ${actual} follow`,
    );
  }
  if (actual > expected) {
    throw new DatasetError(
      `${file}: oversized: ${actual - expected} bytes beyond the ${dims.join('x')} = ${expected} bytes the header declares`,
    );
  }
  // A copy into its own ArrayBuffer: Buffer#slice would return a view into the file (or Node's pool).
  return { dims, data: new Uint8Array(bytes.subarray(headerLength)) };
}

/** Read an IDX file (raw or gzip) from disk; `ndims` as in parseIdx. */
export async function readIdxFile(file: string, ndims?: number): Promise<IdxArray & { gzip: boolean }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError(`${file}: cannot read (${code ?? String(err)})`);
  }
  const gzip = isGzip(bytes);
  const raw = await gunzipIfNeeded(bytes, file);
  return { ...parseIdx(raw, file, ndims), gzip };
}

export interface IdxSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  width: number;
  height: number;
}

/** Check images and labels agree (count, label range) and return them as one split. */
export function pairImagesLabels(
  images: IdxArray,
  labels: IdxArray,
  imagesFile: string,
  labelsFile: string,
  numClasses: number,
): IdxSplit {
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new DatasetError(
      `image/label count mismatch: ${path.basename(imagesFile)} holds ${count} images but ${path.basename(labelsFile)} holds ${labels.dims[0]} labels (${path.dirname(imagesFile)})`,
    );
  }
  const data = labels.data;
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= numClasses) {
      throw new DatasetError(
        `${labelsFile}: label out of range: item ${i} has label ${data[i]}, the dataset has ${numClasses} classes (0..${numClasses - 1})`,
      );
    }
  }
  return { images: images.data, labels: labels.data, count, width, height };
}

export async function readIdxSplit(
  imagesFile: string,
  labelsFile: string,
  numClasses: number,
): Promise<IdxSplit> {
  const [images, labels] = await Promise.all([readIdxFile(imagesFile, 3), readIdxFile(labelsFile, 1)]);
  return pairImagesLabels(images, labels, imagesFile, labelsFile, numClasses);
}

/** Encode unsigned-byte IDX data (optionally gzipped). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== data.length)
    throw new Error(`encodeIdx: ${dims.join('x')} needs ${expected} bytes, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

export async function encodeIdxGz(dims: number[], data: Uint8Array): Promise<Uint8Array> {
  return gzipAsync(encodeIdx(dims, data), { level: 6 });
}

export function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}
