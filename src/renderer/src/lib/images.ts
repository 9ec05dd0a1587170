/** Small grey images (dataset samples) as data URLs for <img> thumbnails; pixelated by CSS. */
export function greyToDataUrl(pixels: Uint8Array, width: number, height: number, offset = 0): string {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = pixels[offset + i];
    img.data[i * 4] = v;
    img.data[i * 4 + 1] = v;
    img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL();
}

export interface SampleSet {
  width: number;
  height: number;
  count: number;
  images: Uint8Array;
  labels: number[];
  /** index of each image in its split */
  indices: number[];
  classNames: string[];
}
