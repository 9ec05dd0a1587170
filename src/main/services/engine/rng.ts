/**
 * Seeded random numbers of our own, so a run is reproducible for a seed on any backend and any
 * number of threads: tfjs's random ops differ per backend and cannot be checkpointed.
 * sfc32 (small fast counter generator): 128-bit state, passes PractRand, trivially serialisable.
 */

/** 32-bit mix (murmur3 finaliser): derives independent stream seeds from (seed, iteration, slot). */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(...seedParts: number[]) {
    let h = 0x9e3779b9;
    for (const p of seedParts) {
      h = mix32(h ^ mix32((p >>> 0) + 0x6a09e667));
    }
    this.a = mix32(h ^ 0x243f6a88);
    this.b = mix32(h ^ 0x85a308d3);
    this.c = mix32(h ^ 0x13198a2e);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** uniform in [0, 1) */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** standard normal (Box-Muller, pairs cached) */
  normal(): number {
    if (this.spareNormal !== null) {
      const s = this.spareNormal;
      this.spareNormal = null;
      return s;
    }
    let u = this.uniform();
    if (u < 1e-12) u = 1e-12;
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** k distinct integers from [0, n), in random order (partial Fisher-Yates) */
  sample(n: number, k: number): number[] {
    const idx = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < Math.min(k, n); i++) {
      const j = i + this.int(n - i);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return idx.slice(0, k);
  }

  getState(): Float64Array {
    return new Float64Array([
      this.a >>> 0,
      this.b >>> 0,
      this.c >>> 0,
      this.d >>> 0,
      this.spareNormal ?? NaN,
    ]);
  }

  setState(s: ArrayLike<number>): void {
    this.a = s[0] | 0;
    this.b = s[1] | 0;
    this.c = s[2] | 0;
    this.d = s[3] | 0;
    this.spareNormal = Number.isNaN(s[4]) ? null : s[4];
  }
}
