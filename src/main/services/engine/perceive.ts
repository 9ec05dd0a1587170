/**
 * Perception: what a cell sees of its neighbourhood. Learned (a k x k conv, ReLU) or fixed
 * (identity + Sobel-x + Sobel-y per channel, /8 as in Growing NCA). Both are im2col rows times a
 * matrix: `linear(gather(state), kernel)`.
 */
import type { ParamSpec } from './params.ts';

export interface PerceptionConfig {
  kind: 'learned' | 'sobel';
  kernel: 3 | 5;
  filters: number;
}

export function perceptionParams(channels: number, p: PerceptionConfig): ParamSpec[] {
  if (p.kind === 'sobel') return [];
  const taps = p.kernel * p.kernel;
  return [
    { name: 'perceive.kernel', shape: [taps * channels, p.filters], init: 'glorot', receptive: taps },
    { name: 'perceive.bias', shape: [p.filters], init: 'zeros', receptive: 1 },
  ];
}

/** Width of a cell's perception vector. */
export function perceptionWidth(channels: number, p: PerceptionConfig): number {
  return p.kind === 'sobel' ? channels * 3 : p.filters;
}

/** Taps of the neighbourhood: the kernel for learned perception, 3x3 for Sobel. */
export function perceptionKernel(p: PerceptionConfig): number {
  return p.kind === 'sobel' ? 3 : p.kernel;
}

const SOBEL_X = [-1, 0, 1, -2, 0, 2, -1, 0, 1].map((v) => v / 8);
const SOBEL_Y = [-1, -2, -1, 0, 0, 0, 1, 2, 1].map((v) => v / 8);
const IDENTITY = [0, 0, 0, 0, 1, 0, 0, 0, 0];

/** The fixed perception as a [9*channels, 3*channels] matrix; output column c*3+m (TF depthwise order). */
export function sobelMatrix(channels: number): Float32Array {
  const m = new Float32Array(9 * channels * 3 * channels);
  const kernels = [IDENTITY, SOBEL_X, SOBEL_Y];
  for (let t = 0; t < 9; t++)
    for (let c = 0; c < channels; c++)
      for (let k = 0; k < 3; k++) m[(t * channels + c) * 3 * channels + c * 3 + k] = kernels[k][t];
  return m;
}

/** The fixed depthwise filter [3, 3, channels, 3] for tf.depthwiseConv2d (identity, Sobel-x, Sobel-y). */
export function sobelDepthwiseFilter(channels: number): Float32Array {
  const f = new Float32Array(9 * channels * 3);
  const kernels = [IDENTITY, SOBEL_X, SOBEL_Y];
  for (let t = 0; t < 9; t++)
    for (let c = 0; c < channels; c++)
      for (let k = 0; k < 3; k++) f[(t * channels + c) * 3 + k] = kernels[k][t];
  return f;
}
