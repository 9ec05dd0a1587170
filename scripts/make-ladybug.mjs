/** Draws resources/targets/ladybug.png: a 40x40 RGBA target for growing NCAs (soft alpha edges, 4x4 supersampled). */
import { PNG } from 'pngjs';
import fs from 'node:fs';
// 40x40 RGBA ladybug, 4x supersampled for soft (antialiased) alpha edges
const N = 40,
  S = 4;
const png = new PNG({ width: N, height: N });
function shade(x, y) {
  // returns [r,g,b,a] in 0..1 at continuous coords (0..40)
  const cx = 20,
    cy = 22;
  const head = (x - 20) ** 2 / 49 + (y - 9) ** 2 / 25 <= 1;
  const body = (x - cx) ** 2 / 196 + (y - cy) ** 2 / 225 <= 1;
  const antL = Math.abs(x - 16 - (y - 5) * 0.8) < 0.6 && y > 1.5 && y < 6;
  const antR = Math.abs(x - 24 + (y - 5) * 0.8) < 0.6 && y > 1.5 && y < 6;
  if (body) {
    const spots = [
      [14, 17, 3],
      [26, 17, 3],
      [13, 27, 2.6],
      [27, 27, 2.6],
      [20, 31, 2.2],
    ];
    if (Math.abs(x - 20) < 0.7 && y > 10) return [0.05, 0.05, 0.05, 1];
    for (const [sx, sy, r] of spots) if ((x - sx) ** 2 + (y - sy) ** 2 <= r * r) return [0.05, 0.05, 0.05, 1];
    const light = 0.75 + 0.25 * (1 - ((x - 15) ** 2 + (y - 15) ** 2) / 500);
    return [0.9 * light, 0.12 * light, 0.1 * light, 1];
  }
  if (head) {
    if ((x - 17) ** 2 + (y - 8) ** 2 <= 1.6 || (x - 23) ** 2 + (y - 8) ** 2 <= 1.6)
      return [0.95, 0.95, 0.95, 1];
    return [0.08, 0.08, 0.1, 1];
  }
  if (antL || antR) return [0.08, 0.08, 0.1, 1];
  return [0, 0, 0, 0];
}
for (let y = 0; y < N; y++)
  for (let x = 0; x < N; x++) {
    let r = 0,
      g = 0,
      b = 0,
      a = 0;
    for (let j = 0; j < S; j++)
      for (let i = 0; i < S; i++) {
        const [cr, cg, cb, ca] = shade(x + (i + 0.5) / S, y + (j + 0.5) / S);
        r += cr * ca;
        g += cg * ca;
        b += cb * ca;
        a += ca;
      }
    const o = (y * N + x) * 4;
    png.data[o] = a ? Math.round((255 * r) / a) : 0;
    png.data[o + 1] = a ? Math.round((255 * g) / a) : 0;
    png.data[o + 2] = a ? Math.round((255 * b) / a) : 0;
    png.data[o + 3] = Math.round((255 * a) / (S * S));
  }
fs.writeFileSync('resources/targets/ladybug.png', PNG.sync.write(png));
