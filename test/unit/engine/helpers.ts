/** Shared helpers for the engine tests: small random models and batches, and a plain tf.conv2d NCA. */
import { tf } from '../../../src/main/services/engine/tf.ts';
import { Rng } from '../../../src/main/services/engine/rng.ts';
import { aliveMask } from '../../../src/main/services/engine/grid.ts';
import { classifierParams } from '../../../src/main/services/engine/nca.ts';
import { trainShard, type ClassifySettings } from '../../../src/main/services/engine/tasks/classify.ts';

/** A small, fast classifier config on the mnistSubset dataset (createTrainer's input). */
export const smallClassifier = (over: Record<string, unknown> = {}) => ({
  task: 'classify',
  dataset: 'mnist-subset',
  channels: 14,
  perception: { kind: 'learned', kernel: 3, filters: 16 },
  hidden: [16],
  steps: 6,
  batch: 8,
  pool: { size: 32, freshFraction: 0.25, mutateFraction: 0.25 },
  evaluation: { every: 100, images: 20, steps: 6, mutateSteps: 3 },
  compute: { backend: 'wasm', threads: 1, aliveOnly: true },
  ...over,
});

export function smallSettings(over: Partial<ClassifySettings> = {}): ClassifySettings {
  return {
    arch: { channels: 6, numClasses: 3, perception: { kind: 'learned', kernel: 3, filters: 8 }, hidden: [8] },
    steps: 4,
    fireRate: 0.5,
    residualNoise: 0.02,
    loss: 'l2',
    aliveMode: 'threshold',
    aliveThreshold: 0.1,
    readout: 'alive',
    aliveOnly: true,
    height: 7,
    width: 7,
    ...over,
  };
}

/** Random non-zero weights (the zero-initialised last layer would hide gradient errors). */
export function randomWeights(s: ClassifySettings, seed = 1): Float32Array[] {
  const rng = new Rng(seed);
  return classifierParams(s.arch).map((p) => {
    const n = p.shape.reduce((a, b) => a * b, 1);
    return Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * 0.4);
  });
}

/** Random states: pixels with ~40% zeros and some in (0, 0.1], hidden channels random where alive. */
export function randomStates(s: ClassifySettings, batch: number, seed = 2): Float32Array[] {
  const rng = new Rng(seed);
  const C = s.arch.channels;
  const hw = s.height * s.width;
  return Array.from({ length: batch }, () => {
    const st = new Float32Array(hw * C);
    for (let i = 0; i < hw; i++) {
      const u = rng.uniform();
      st[i * C] = u < 0.4 ? 0 : u < 0.5 ? 0.05 : u;
    }
    const alive = aliveMask(st, s.height, s.width, s.aliveMode, s.aliveThreshold, C);
    for (let i = 0; i < hw; i++) if (alive[i]) for (let k = 1; k < C; k++) st[i * C + k] = rng.normal() * 0.5;
    return st;
  });
}

/**
 * The plain reference: NHWC tensors, tf.conv2d perception, autodiff gradients, the same random
 * numbers (per-sample stream, alive cells in row-major order: fire uniform, then channels-1 normals).
 */
export function referenceRollout(
  s: ClassifySettings,
  weights: Float32Array[],
  states: Float32Array[],
  labels: number[],
  streams: number[][],
): { loss: number; grads: Float32Array[]; final: Float32Array } {
  const a = s.arch;
  const C = a.channels;
  const B = states.length;
  const hw = s.height * s.width;
  const k = a.perception.kernel;
  const masks: Float32Array[] = Array.from({ length: s.steps }, () => new Float32Array(B * hw));
  const noises: Float32Array[] = Array.from({ length: s.steps }, () => new Float32Array(B * hw * (C - 1)));
  const alive = states.map((st) => aliveMask(st, s.height, s.width, s.aliveMode, s.aliveThreshold, C));
  for (let b = 0; b < B; b++) {
    const rng = new Rng(...streams[b]);
    const cells = [...alive[b].keys()].filter((i) => alive[b][i]);
    for (let t = 0; t < s.steps; t++)
      for (const c of cells) {
        masks[t][b * hw + c] = rng.uniform() <= s.fireRate ? 1 : 0;
        for (let ch = 0; ch < C - 1; ch++)
          noises[t][(b * hw + c) * (C - 1) + ch] = rng.normal() * s.residualNoise;
      }
  }
  const flatStates = new Float32Array(B * hw * C);
  states.forEach((st, b) => flatStates.set(st, b * hw * C));
  const onehot = new Float32Array(B * hw * a.numClasses);
  // cells the loss counts: alive ones (dead logits stay zero), or only strokes (readout 'strokes')
  const answers = new Float32Array(B * hw);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < hw; c++)
      if (alive[b][c] && (s.readout !== 'strokes' || states[b][c * C] > s.aliveThreshold)) {
        onehot[(b * hw + c) * a.numClasses + labels[b]] = 1;
        answers[b * hw + c] = 1;
      }
  const nc = a.numClasses;
  const f = (...w: tf.Tensor[]) => {
    const [pk, pb, k0, b0, ko, bo] = w;
    let x = tf.tensor4d(flatStates, [B, s.height, s.width, C]);
    for (let t = 0; t < s.steps; t++) {
      const y = tf.relu(
        tf.add(tf.conv2d(x, tf.reshape(pk, [k, k, C, a.perception.filters]) as tf.Tensor4D, 1, 'same'), pb),
      );
      const h = tf.relu(tf.add(tf.matMul(tf.reshape(y, [B * hw, -1]) as tf.Tensor2D, k0 as tf.Tensor2D), b0));
      let ds = tf.add(tf.matMul(h, ko as tf.Tensor2D), bo);
      ds = tf.add(ds, tf.tensor2d(noises[t], [B * hw, C - 1]));
      ds = tf.mul(ds, tf.tensor2d(masks[t], [B * hw, 1]));
      const flat = tf.reshape(x, [B * hw, C]) as tf.Tensor2D;
      const next = tf.concat(
        [tf.slice(flat, [0, 0], [B * hw, 1]), tf.add(tf.slice(flat, [0, 1], [B * hw, C - 1]), ds)],
        1,
      );
      x = tf.reshape(next, [B, s.height, s.width, C]);
    }
    const logits = tf.slice(tf.reshape(x, [B * hw, C]), [0, C - nc], [B * hw, nc]);
    return tf.div(
      tf.mul(
        0.5,
        tf.sum(
          tf.mul(
            tf.square(tf.sub(tf.tensor2d(onehot, [B * hw, nc]), logits)),
            tf.tensor2d(answers, [B * hw, 1]),
          ),
        ),
      ),
      B,
    ) as tf.Scalar;
  };
  const specs = classifierParams(a);
  const wt = specs.map((p, i) => tf.tensor(weights[i], p.shape));
  const { value, grads } = tf.valueAndGrads(f)(wt);
  // final state: rerun forward without gradients
  let final: Float32Array;
  {
    const [pk, pb, k0, b0, ko, bo] = wt;
    let x = tf.tensor4d(flatStates, [B, s.height, s.width, C]) as tf.Tensor;
    for (let t = 0; t < s.steps; t++) {
      const y = tf.relu(
        tf.add(
          tf.conv2d(
            x as tf.Tensor4D,
            tf.reshape(pk, [k, k, C, a.perception.filters]) as tf.Tensor4D,
            1,
            'same',
          ),
          pb,
        ),
      );
      const h = tf.relu(tf.add(tf.matMul(tf.reshape(y, [B * hw, -1]) as tf.Tensor2D, k0 as tf.Tensor2D), b0));
      let ds = tf.add(tf.matMul(h, ko as tf.Tensor2D), bo);
      ds = tf.mul(tf.add(ds, tf.tensor2d(noises[t], [B * hw, C - 1])), tf.tensor2d(masks[t], [B * hw, 1]));
      const flat = tf.reshape(x, [B * hw, C]) as tf.Tensor2D;
      x = tf.concat(
        [tf.slice(flat, [0, 0], [B * hw, 1]), tf.add(tf.slice(flat, [0, 1], [B * hw, C - 1]), ds)],
        1,
      );
      x = tf.reshape(x, [B, s.height, s.width, C]);
    }
    final = x.dataSync() as Float32Array;
  }
  return { loss: value.dataSync()[0], grads: grads.map((g) => g.dataSync() as Float32Array), final };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A small real MNIST subset (first `train`/`test` images of the given classes, relabelled 0..k-1). */
export async function mnistSubset(train: number, test: number, classes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
  const { loadEngineDataset } = await import('../../../src/main/services/engine/dataset.ts');
  const path = await import('node:path');
  const os = await import('node:os');
  const shared = path.resolve(import.meta.dirname, '../../../../shared/datasets');
  const full = await loadEngineDataset('mnist', path.join(os.tmpdir(), 'nca-engine-test-data'), {
    NCA_DATASETS_PATH: shared,
  });
  const hw = full.width * full.height;
  const pick = (sp: typeof full.train, n: number) => {
    const idx: number[] = [];
    for (let i = 0; i < sp.count && idx.length < n; i++) if (classes.includes(sp.labels[i])) idx.push(i);
    const images = new Uint8Array(idx.length * hw);
    idx.forEach((i, k) => images.set(sp.images.subarray(i * hw, (i + 1) * hw), k * hw));
    return {
      images,
      labels: Uint8Array.from(idx.map((i) => classes.indexOf(sp.labels[i]))),
      count: idx.length,
    };
  };
  return {
    id: 'mnist-subset',
    width: full.width,
    height: full.height,
    classNames: classes.map(String),
    train: pick(full.train, train),
    test: pick(full.test, test),
  };
}

/** Labels and random streams of the three-sample test batch (randomStates(s, 3)). */
export const BATCH_LABELS = [0, 2, 1];
export const BATCH_STREAMS = [
  [7, 0, 0],
  [7, 0, 1],
  [7, 0, 2],
];

/** One training rollout of the engine on copies of `states`: loss, gradients, the final states. */
export async function engineRollout(s: ClassifySettings, w: Float32Array[], states: Float32Array[]) {
  const specs = classifierParams(s.arch);
  const wt = specs.map((p, i) => tf.tensor(w[i], p.shape));
  const st = states.map((x) => x.slice());
  const r = await trainShard(specs, wt, s, {
    states: st,
    labels: BATCH_LABELS,
    streams: BATCH_STREAMS,
    batchTotal: states.length,
  });
  tf.dispose(wt);
  const final = new Float32Array(st.length * st[0].length);
  st.forEach((x, b) => final.set(x, b * x.length));
  return { ...r, states: st, final, names: specs.map((p) => p.name) };
}
