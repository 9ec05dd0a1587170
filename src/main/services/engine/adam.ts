/**
 * Adam on plain Float32Arrays with the reference's per-variable gradient normalisation. Plain JS so
 * its state is trivially checkpointed and identical in every thread (22k parameters: microseconds).
 */
export interface AdamState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

export function newAdamState(values: Float32Array[]): AdamState {
  return {
    step: 0,
    m: values.map((v) => new Float32Array(v.length)),
    v: values.map((v) => new Float32Array(v.length)),
  };
}

export function l2(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** Global L2 norm of the raw gradients (reported as gradNorm). */
export function globalNorm(grads: Float32Array[]): number {
  return Math.sqrt(grads.reduce((s, g) => s + l2(g) ** 2, 0));
}

/** One Adam update in place; gradients are normalised per variable first when asked. */
export function adamUpdate(
  values: Float32Array[],
  grads: Float32Array[],
  state: AdamState,
  lr: number,
  normalize: boolean,
): void {
  state.step++;
  const { beta1, beta2, epsilon } = ADAM;
  const c1 = 1 - beta1 ** state.step;
  const c2 = 1 - beta2 ** state.step;
  const alpha = (lr * Math.sqrt(c2)) / c1;
  for (let p = 0; p < values.length; p++) {
    const g = grads[p];
    const scale = normalize ? 1 / (l2(g) + 1e-8) : 1;
    const m = state.m[p];
    const v = state.v[p];
    const w = values[p];
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] * scale;
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      w[i] -= (alpha * m[i]) / (Math.sqrt(v[i]) + epsilon * Math.sqrt(c2));
    }
  }
}

/** Piecewise-constant learning rate: the last schedule entry at or before the iteration. */
export function learningRate(
  base: number,
  schedule: { at: number; lr: number }[],
  iteration: number,
): number {
  let lr = base;
  for (const s of [...schedule].sort((a, b) => a.at - b.at)) if (iteration >= s.at) lr = s.lr;
  return lr;
}
