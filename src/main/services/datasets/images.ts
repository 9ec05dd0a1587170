/**
 * Image decoding for folder imports. pngjs and jpeg-js are pure JavaScript: no native build or
 * install-time download (so they work the same in Electron, plain Node and CI), small, long-lived
 * and synchronous, which is all an import of small images needs.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export interface GrayImage {
  width: number;
  height: number;
  /** width*height grey levels, 0..255. */
  data: Uint8Array;
}

export function imageKind(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/**
 * Decode a PNG or JPEG to grey levels (Rec. 601 luma). Transparent pixels are composited onto
 * white, like a viewer shows them; the import's invert option then decides the polarity.
 * Throws an Error whose message says what is wrong (the caller adds the file name).
 */
export function decodeGray(bytes: Uint8Array): GrayImage {
  const kind = imageKind(bytes);
  if (!kind) throw new Error('not a PNG or JPEG image');
  let width: number;
  let height: number;
  let rgba: Uint8Array;
  if (kind === 'png') {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    ({ width, height } = png);
    rgba = png.data;
  } else {
    const img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      maxMemoryUsageInMB: 256,
    });
    ({ width, height } = img);
    rgba = img.data;
  }
  if (!width || !height) throw new Error('image has no pixels');
  const data = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < data.length; i++, j += 4) {
    const luma = 0.299 * rgba[j] + 0.587 * rgba[j + 1] + 0.114 * rgba[j + 2];
    const a = rgba[j + 3] / 255;
    data[i] = Math.round(luma * a + 255 * (1 - a));
  }
  return { width, height, data };
}

/** Centre-crop to a square, then area-average (box filter) to size x size. */
export function cropResize(img: GrayImage, size: number): Uint8Array {
  const side = Math.min(img.width, img.height);
  const x0 = Math.floor((img.width - side) / 2);
  const y0 = Math.floor((img.height - side) / 2);
  const out = new Uint8Array(size * size);
  const scale = side / size;
  for (let oy = 0; oy < size; oy++) {
    const sy0 = oy * scale;
    const sy1 = sy0 + scale;
    for (let ox = 0; ox < size; ox++) {
      const sx0 = ox * scale;
      const sx1 = sx0 + scale;
      let acc = 0;
      let weight = 0;
      // Each source pixel contributes by its overlap with the output pixel's footprint.
      for (let sy = Math.floor(sy0); sy < Math.min(side, Math.ceil(sy1)); sy++) {
        const wy = Math.min(sy + 1, sy1) - Math.max(sy, sy0);
        if (wy <= 0) continue;
        for (let sx = Math.floor(sx0); sx < Math.min(side, Math.ceil(sx1)); sx++) {
          const wx = Math.min(sx + 1, sx1) - Math.max(sx, sx0);
          if (wx <= 0) continue;
          acc += wx * wy * img.data[(y0 + sy) * img.width + x0 + sx];
          weight += wx * wy;
        }
      }
      out[oy * size + ox] = Math.round(acc / weight);
    }
  }
  return out;
}

/** Mean grey level of the outermost ring of pixels (for "auto" inversion). */
export function borderMean(data: Uint8Array, size: number): number {
  let acc = 0;
  let n = 0;
  for (let i = 0; i < size; i++) {
    acc += data[i] + data[(size - 1) * size + i];
    n += 2;
  }
  for (let j = 1; j < size - 1; j++) {
    acc += data[j * size] + data[j * size + size - 1];
    n += 2;
  }
  return acc / n;
}
