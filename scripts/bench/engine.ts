/**
 * Engine benchmark rows. Same model and sizes for every training row (self-classifier, batch 16,
 * 20 steps, 28x28, 20 channels, 80 hidden, MNIST images); each row runs in its own process so peak
 * RSS and the backend belong to that row alone.
 *
 *   naive-cpu           plain tf.conv2d formulation, autodiff, cpu backend; timed at batch 1 and x16
 *   wasm-dense-1thread  the engine on wasm, every cell computed, 1 thread
 *   wasm-alive-1thread  alive cells only, 1 thread
 *   best                alive cells only, data-parallel over all cores
 *   stream-off / -on    the best config in a TrainingWorker without / with 30 frames/s to a listener
 *   flatness            numTensors and RSS over many iterations (small model)
 *
 * GFLOP/s are dense-equivalent: the FLOPs the dense formulation needs for the same work, divided by
 * the time (so skipping dead cells shows up as a higher rate). Inference cell-updates/s count every
 * grid cell of the batch per step, alive or not.
 * Standalone: `node --import tsx scripts/bench/engine.ts [--quick] [--row NAME]`.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchRow } from './types.ts';

const here = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(here), '../..');
const shared = path.resolve(repoRoot, '../shared/datasets');
const ROWS = ['naive-cpu', 'wasm-dense-1thread', 'wasm-alive-1thread', 'best', 'streaming', 'flatness'];

const BATCH = 16;
const STEPS = 20;
const HW = 28 * 28;
/** multiply-adds per cell per step of the default classifier (perception 180x80, 80x80, 80x19) */
const MACS = 180 * 80 + 80 * 80 + 80 * 19;
/** forward + backward of one training iteration, dense: ~3x the forward FLOPs */
const TRAIN_FLOPS = 3 * 2 * MACS * HW * STEPS * BATCH;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const peakRssMb = () => Math.round((process.resourceUsage().maxRSS * 1024) / 1e6);

async function mnist() {
  const { loadEngineDataset } = await import('../../src/main/services/engine/dataset.ts');
  return loadEngineDataset('mnist', path.join(os.tmpdir(), 'nca-bench-data'), { NCA_DATASETS_PATH: shared });
}

const baseConfig = (over: Record<string, unknown>) => ({
  task: 'classify',
  dataset: 'mnist',
  batch: BATCH,
  steps: STEPS,
  iterations: 1_000_000,
  ...over,
});

async function trainerRow(
  name: string,
  quick: boolean,
  aliveOnly: boolean,
  threads: number,
): Promise<BenchRow> {
  const { createTrainer } = await import('../../src/main/services/engine/trainer.ts');
  const { InferenceSession } = await import('../../src/main/services/engine/inference.ts');
  const ds = await mnist();
  const t = await createTrainer(baseConfig({ compute: { backend: 'wasm', aliveOnly, threads } }), ds);
  const warm = quick ? 1 : 2;
  const n = quick ? 2 : aliveOnly ? 8 : 3;
  for (let i = 0; i < warm; i++) await t.step();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push((await t.step()).iterationMs);
  const msPerIteration = median(ms);
  // inference: forward-only rollout of a batch of 16 images
  let cellUpdatesPerSec: number;
  if (name === 'best') {
    const s = (await InferenceSession.fromCheckpoint(t.saveCheckpoint(), {
      samples: BATCH,
    })) as import('../../src/main/services/engine/inference.ts').ClassifySession;
    for (let b = 0; b < BATCH; b++) s.setImage(ds.test.images.subarray(b * HW, (b + 1) * HW), b);
    await s.step(5);
    const steps = quick ? 20 : 100;
    const t0 = performance.now();
    await s.step(steps);
    cellUpdatesPerSec = (BATCH * HW * steps) / ((performance.now() - t0) / 1000);
    s.dispose();
  } else {
    const { LocalReplica } = await import('../../src/main/services/engine/replica.ts');
    const { classifySettings } = await import('../../src/main/services/engine/trainer.ts');
    const { freshState } = await import('../../src/main/services/engine/tasks/classify.ts');
    const { flatten } = await import('../../src/main/services/engine/params.ts');
    const { ClassifyConfigSchema } = await import('../../src/shared/nca-config.ts');
    const cfg = ClassifyConfigSchema.parse(
      baseConfig({ compute: { backend: 'wasm', aliveOnly, threads: 1 } }),
    );
    const settings = classifySettings(cfg, ds, 10);
    const w = t.weights();
    const rep = new LocalReplica({ settings, specs: w.specs, backend: 'wasm' });
    const states = flatten(
      Array.from({ length: BATCH }, (_, b) => freshState(ds.test.images.subarray(b * HW, (b + 1) * HW), 20)),
    );
    const steps = quick ? 5 : 20;
    const req = () => ({
      states: states.slice(),
      labels: Int32Array.from({ length: BATCH }, () => 0),
      streams: Int32Array.from({ length: BATCH * 3 }, (_, i) => i),
      streamWidth: 3,
      weights: flatten(w.values),
      steps,
    });
    await rep.evaluate({ ...req(), steps: 2 });
    const t0 = performance.now();
    await rep.evaluate(req());
    cellUpdatesPerSec = (BATCH * HW * steps) / ((performance.now() - t0) / 1000);
    rep.dispose();
  }
  await t.dispose();
  return {
    name,
    backend: 'wasm',
    threads,
    msPerIteration,
    cellUpdatesPerSec,
    gflops: TRAIN_FLOPS / (msPerIteration / 1000) / 1e9,
    peakRssMb: peakRssMb(),
    note: aliveOnly
      ? 'alive cells only (identical results); GFLOP/s dense-equivalent'
      : 'every cell computed',
  };
}

/** The plain formulation: tf.conv2d + autodiff + tf.train.adam on the cpu backend, batch 1 x16. */
async function naiveRow(quick: boolean): Promise<BenchRow> {
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const ds = await mnist();
  const C = 20;
  const x0 = new Float32Array(HW * C);
  for (let i = 0; i < HW; i++) x0[i * C] = ds.train.images[i] / 255;
  type T4 = import('@tensorflow/tfjs').Tensor4D;
  const pk = tf.variable(tf.randomUniform([3, 3, C, 80], -0.08, 0.08)) as unknown as T4;
  const pb = tf.variable(tf.zeros([80]));
  const k0 = tf.variable(tf.randomUniform([1, 1, 80, 80], -0.19, 0.19)) as unknown as T4;
  const b0 = tf.variable(tf.zeros([80]));
  const k1 = tf.variable(tf.zeros([1, 1, 80, C - 1])) as unknown as T4;
  const b1 = tf.variable(tf.zeros([C - 1]));
  const opt = tf.train.adam(1e-3);
  const target = tf.oneHot(tf.fill([1, 28, 28], ds.train.labels[0], 'int32'), 10);
  const iteration = () =>
    tf.tidy(() => {
      opt.minimize(() => {
        let x: T4 = tf.tensor4d(x0, [1, 28, 28, C]);
        const alive = tf.cast(tf.greater(tf.slice(x, [0, 0, 0, 0], [1, 28, 28, 1]), 0.1), 'float32');
        for (let s = 0; s < STEPS; s++) {
          const y = tf.relu(tf.add(tf.conv2d(x, pk, 1, 'same'), pb)) as T4;
          const h = tf.relu(tf.add(tf.conv2d(y, k0, 1, 'same'), b0)) as T4;
          const ds_ = tf.add(tf.conv2d(h, k1, 1, 'same'), b1);
          const fire = tf.cast(tf.lessEqual(tf.randomUniform([1, 28, 28, 1]), 0.5), 'float32');
          const upd = tf.mul(tf.add(ds_, tf.randomNormal(ds_.shape, 0, 0.02)), tf.mul(fire, alive));
          const pixel = tf.slice(x, [0, 0, 0, 0], [1, 28, 28, 1]);
          const rest = tf.slice(x, [0, 0, 0, 1], [1, 28, 28, C - 1]);
          x = tf.concat([pixel, tf.add(rest, upd)], 3) as T4;
        }
        const logits = tf.slice(x, [0, 0, 0, C - 10], [1, 28, 28, 10]);
        return tf.mul(
          0.5,
          tf.sum(tf.square(tf.sub(tf.mul(target, alive), logits))),
        ) as import('@tensorflow/tfjs').Scalar;
      });
    });
  const runs = quick ? 1 : 2;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    iteration();
    ms.push(performance.now() - t0);
  }
  const msPerIteration = median(ms) * BATCH;
  // inference: forward steps at batch 1
  const steps = quick ? 2 : 5;
  const t0 = performance.now();
  tf.tidy(() => {
    let x = tf.tensor4d(x0, [1, 28, 28, C]) as import('@tensorflow/tfjs').Tensor4D;
    for (let s = 0; s < steps; s++) {
      const y = tf.relu(tf.add(tf.conv2d(x, pk, 1, 'same'), pb)) as T4;
      const h = tf.relu(tf.add(tf.conv2d(y, k0, 1, 'same'), b0)) as T4;
      const d = tf.add(tf.conv2d(h, k1, 1, 'same'), b1);
      x = tf.concat(
        [tf.slice(x, [0, 0, 0, 0], [1, 28, 28, 1]), tf.add(tf.slice(x, [0, 0, 0, 1], [1, 28, 28, C - 1]), d)],
        3,
      ) as import('@tensorflow/tfjs').Tensor4D;
    }
    x.dataSync();
  });
  const cellUpdatesPerSec = (HW * steps) / ((performance.now() - t0) / 1000);
  return {
    name: 'naive-cpu',
    backend: 'cpu',
    threads: 1,
    msPerIteration,
    cellUpdatesPerSec,
    gflops: TRAIN_FLOPS / (msPerIteration / 1000) / 1e9,
    peakRssMb: peakRssMb(),
    note: `timed at batch 1 (${runs} iteration${runs > 1 ? 's' : ''}) and scaled x${BATCH}`,
  };
}

/**
 * Frame streaming overhead: one TrainingWorker (best config), frames toggled off and on in
 * alternating blocks of iterations so both see the same machine load; median ms/iteration of each.
 */
async function streamRows(quick: boolean): Promise<BenchRow[]> {
  const { TrainingWorker } = await import('../../src/main/services/engine/training-worker.ts');
  const block = quick ? 3 : 6;
  const blocks = quick ? 4 : 12;
  const warm = 3;
  const total = warm + block * blocks;
  const run = TrainingWorker.start({
    config: baseConfig({
      iterations: total + 1,
      evaluation: { every: 1_000_000, images: 1, steps: 1, mutateSteps: 0 },
      checkpoints: { every: 1_000_000, keepLatest: 1, keepBest: false },
      compute: { backend: 'wasm', aliveOnly: true },
    }),
    dataset: { dataDir: path.join(os.tmpdir(), 'nca-bench-data'), env: { NCA_DATASETS_PATH: shared } },
    frames: { samples: [], maxPerSecond: 0 },
  });
  const on: number[] = [];
  const off: number[] = [];
  let frames = 0;
  let threads = 0;
  let streaming = false;
  run.on('backend', (b) => (threads = b.threads));
  run.on('frame', (f) => {
    frames++;
    void new Float32Array(f.buffer)[0]; // a listener that touches the data
  });
  await new Promise<void>((resolve) =>
    run.on('metrics', (m) => {
      if (m.iteration > warm) (streaming ? on : off).push(m.iterationMs);
      if (m.iteration >= warm && (m.iteration - warm) % block === 0) {
        streaming = ((m.iteration - warm) / block) % 2 === 1;
        run.setFrames(
          streaming ? { samples: [0, 1, 2, 3], maxPerSecond: 30 } : { samples: [], maxPerSecond: 0 },
        );
      }
      if (m.iteration >= total) resolve();
    }),
  );
  await run.kill();
  const msOff = median(off);
  const msOn = median(on);
  return [
    {
      name: 'stream-off',
      backend: 'wasm',
      threads,
      msPerIteration: msOff,
      peakRssMb: peakRssMb(),
      note: 'no frames (alternating blocks with stream-on)',
    },
    {
      name: 'stream-on',
      backend: 'wasm',
      threads,
      msPerIteration: msOn,
      peakRssMb: peakRssMb(),
      extra: { frames, overheadPct: +((100 * (msOn - msOff)) / msOff).toFixed(1) },
      note: '4 samples at <= 30 frames/s to a listener',
    },
  ];
}

async function flatnessRow(quick: boolean): Promise<BenchRow> {
  const { tf } = await import('../../src/main/services/engine/tf.ts');
  const { createTrainer } = await import('../../src/main/services/engine/trainer.ts');
  const ds = await mnist();
  const n = quick ? 100 : 1000;
  const t = await createTrainer(
    baseConfig({
      channels: 14,
      perception: { kind: 'learned', kernel: 3, filters: 16 },
      hidden: [16],
      steps: 8,
      batch: 8,
      pool: { size: 64, freshFraction: 0.25, mutateFraction: 0.25 },
      compute: { backend: 'wasm', aliveOnly: true, threads: 1 },
    }),
    ds,
  );
  for (let i = 0; i < 10; i++) await t.step();
  const tensors0 = tf.memory().numTensors;
  const rss0 = Math.round(process.memoryUsage().rss / 1e6);
  const mid = n / 2;
  let rssMid = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await t.step();
    if (i === mid) rssMid = Math.round(process.memoryUsage().rss / 1e6);
  }
  const msPerIteration = (performance.now() - t0) / n;
  const tensors1 = tf.memory().numTensors;
  const rss1 = Math.round(process.memoryUsage().rss / 1e6);
  await t.dispose();
  return {
    name: 'flatness',
    backend: 'wasm',
    threads: 1,
    msPerIteration,
    peakRssMb: peakRssMb(),
    extra: {
      iterations: n,
      numTensorsStart: tensors0,
      numTensorsEnd: tensors1,
      rssStartMb: rss0,
      rssMidMb: rssMid,
      rssEndMb: rss1,
    },
    note: 'small model (14 ch, 16 filters, batch 8, 8 steps): memory over many iterations',
  };
}

async function runRow(name: string, quick: boolean): Promise<BenchRow | BenchRow[]> {
  const cores = Math.max(1, Math.min(os.availableParallelism(), 8));
  switch (name) {
    case 'naive-cpu':
      return naiveRow(quick);
    case 'wasm-dense-1thread':
      return trainerRow(name, quick, false, 1);
    case 'wasm-alive-1thread':
      return trainerRow(name, quick, true, 1);
    case 'best':
      return trainerRow(name, quick, true, cores);
    case 'streaming':
      return streamRows(quick);
    case 'flatness':
      return flatnessRow(quick);
  }
  throw new Error(`unknown engine bench row ${name}`);
}

/** Each row in a child process; ratios against naive-cpu and wasm-dense-1thread added at the end. */
export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const name of ROWS) {
    try {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', here, '--row', name, ...(opts.quick ? ['--quick'] : [])],
        {
          cwd: repoRoot,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          maxBuffer: 1 << 24,
        },
      );
      const line = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{') || l.startsWith('['))
        .at(-1);
      if (!line) throw new Error(`no result line from row ${name}`);
      const parsed = JSON.parse(line) as BenchRow | BenchRow[];
      rows.push(...(Array.isArray(parsed) ? parsed : [parsed]));
      process.stderr.write(`engine: ${name} done\n`);
    } catch (e) {
      rows.push({ name, note: `failed: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  // The share of cells alive-only mode computes, per data set (threshold 0.1 on the test split).
  for (const id of ['mnist', 'fashion-mnist', 'kmnist-split']) {
    try {
      const { loadEngineDataset } = await import('../../src/main/services/engine/dataset.ts');
      const ds = await loadEngineDataset(id, path.join(os.tmpdir(), 'nca-bench-data'), {
        NCA_DATASETS_PATH: shared,
      });
      const px = ds.test.images;
      let alive = 0;
      for (let i = 0; i < px.length; i++) if (px[i] / 255 > 0.1) alive++;
      rows.push({
        name: `alive-fraction ${id}`,
        extra: { aliveFraction: +(alive / px.length).toFixed(3) },
        note: 'pixel > 0.1, test split',
      });
    } catch (e) {
      rows.push({ name: `alive-fraction ${id}`, note: `skipped: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  const by = (n: string) => rows.find((r) => r.name === n);
  const naive = by('naive-cpu')?.msPerIteration;
  const dense = by('wasm-dense-1thread')?.msPerIteration;
  for (const r of rows) {
    if (!r.msPerIteration || r.name.startsWith('stream') || r.name === 'flatness') continue;
    r.extra = { ...r.extra };
    if (naive) r.extra.speedupVsNaive = +(naive / r.msPerIteration).toFixed(2);
    if (dense) r.extra.speedupVsWasmDense = +(dense / r.msPerIteration).toFixed(2);
  }
  const on = by('stream-on')?.msPerIteration;
  const off = by('stream-off')?.msPerIteration;
  if (on && off)
    by('stream-on')!.extra = {
      ...by('stream-on')!.extra,
      overheadPct: +((100 * (on - off)) / off).toFixed(1),
    };
  return rows;
}

if (process.argv[1] === here) {
  const quick = process.argv.includes('--quick');
  const i = process.argv.indexOf('--row');
  if (i >= 0) {
    const row = await runRow(process.argv[i + 1], quick);
    process.stdout.write(`${JSON.stringify(row)}\n`);
    process.exit(0);
  } else console.log(JSON.stringify({ rows: await run({ quick }) }, null, 2));
}
