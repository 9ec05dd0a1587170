/**
 * `npm run gpu-check [-- --allow-software] [-- --quick]`: checks the WebGPU path on this machine's GPU,
 * the one part of the engine that the CI machine (no GPU) only ever runs on a software rasteriser.
 * One JSON object per line on stdout:
 *
 *   adapter       which adapter Dawn found (software adapters are refused unless --allow-software)
 *   reference     engine on WebGPU vs the plain tf.conv2d reference (cpu backend): loss, gradients and
 *                 final states, small shapes, dense and alive-only; max abs error must be < 1e-4
 *   full-size     engine on WebGPU vs the engine on cpu at the reference model's size (28x28,
 *                 20 channels, 80 filters, 80 hidden, 20 steps, 2 MNIST images): largest gradient
 *                 error relative to the gradient's scale must be < 1e-3 (float32 over 20 steps)
 *   speed         training ms/iteration (20 steps) of the MNIST model (3x3 kernel; batch 16 and 64,
 *                 alive cells only and dense) and the 5x5-kernel Fashion model (batch 16), and
 *                 inference cell-updates/s
 *
 * Exit status 1 when a check fails. Datasets come from NCA_DATASETS_PATH (MNIST IDX files).
 * --speed-only skips the correctness checks, --rows=a,b picks speed rows, --flag=NAME=VALUE sets a
 * tfjs flag once the backend is up (e.g. --flag=WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=1000).
 */
import os from 'node:os';
import path from 'node:path';
import { tf } from '../src/main/services/engine/tf.ts';
import { gpuFreePoolBytes, initBackend } from '../src/main/services/engine/backends.ts';
import { classifierParams } from '../src/main/services/engine/nca.ts';
import { freshState, trainShard, type ClassifySettings } from '../src/main/services/engine/tasks/classify.ts';
import { createTrainer } from '../src/main/services/engine/trainer.ts';
import { InferenceSession, type ClassifySession } from '../src/main/services/engine/inference.ts';
import { loadEngineDataset } from '../src/main/services/engine/dataset.ts';
import {
  maxAbsDiff,
  randomStates,
  randomWeights,
  referenceRollout,
  smallSettings,
} from '../test/unit/engine/helpers.ts';

const allowSoftware = process.argv.includes('--allow-software');
const quick = process.argv.includes('--quick');
/** --speed-only: skip the correctness checks; --rows a,b: only these speed rows */
const speedOnly = process.argv.includes('--speed-only');
const rowsArg = process.argv.find((a) => a.startsWith('--rows='))?.slice('--rows='.length);
/** --flag NAME=VALUE: set a tfjs environment flag after the backend starts (e.g. WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE) */
const flags = process.argv
  .filter((a) => a.startsWith('--flag='))
  .map((a) => a.slice('--flag='.length).split('='))
  .map(([k, v]) => [k, v === 'true' ? true : v === 'false' ? false : Number(v)] as const);
let failed = false;
const report = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

const info = await initBackend('webgpu', { allowSoftwareGpu: allowSoftware });
for (const [k, v] of flags) tf.env().set(k, v);
report({ check: 'adapter', backend: info.backend, device: info.device, flags: Object.fromEntries(flags) });

/** trainShard on the current backend; returns loss, gradients and final states */
async function engineShard(s: ClassifySettings, w: Float32Array[], states: Float32Array[], labels: number[]) {
  const specs = classifierParams(s.arch);
  const wt = specs.map((p, i) => tf.tensor(w[i], p.shape));
  const st = states.map((x) => x.slice());
  const streams = labels.map((_, b) => [4, 0, b]);
  const r = await trainShard(specs, wt, s, { states: st, labels, streams, batchTotal: labels.length });
  tf.dispose(wt);
  return { loss: r.loss, grads: r.grads!, final: st };
}

// 1. against the plain reference, small shapes
for (const shape of speedOnly
  ? []
  : [
      { height: 5, width: 5, steps: 2 },
      { height: 12, width: 12, steps: 6 },
    ]) {
  for (const aliveOnly of [false, true]) {
    const s = smallSettings({ ...shape, aliveOnly });
    const labels = [1, 2];
    const w = randomWeights(s);
    const states = randomStates(s, 2);
    await tf.setBackend('cpu');
    const ref = referenceRollout(s, w, states, labels, [
      [4, 0, 0],
      [4, 0, 1],
    ]);
    await tf.setBackend('webgpu');
    const r = await engineShard(s, w, states, labels);
    const gradErr = Math.max(...ref.grads.map((g, i) => maxAbsDiff(r.grads[i], g)));
    const finalErr = Math.max(
      ...r.final.map((x, b) => maxAbsDiff(x, ref.final.subarray(b * x.length, (b + 1) * x.length))),
    );
    const ok =
      Math.abs(r.loss - ref.loss) < 1e-4 * Math.max(1, Math.abs(ref.loss)) &&
      gradErr < 1e-4 &&
      finalErr < 1e-4;
    failed ||= !ok;
    report({
      check: 'reference',
      ...shape,
      aliveOnly,
      loss: r.loss,
      refLoss: ref.loss,
      gradErr,
      finalErr,
      ok,
    });
  }
}

// 2. full size, real images: WebGPU vs the same engine on the cpu backend
const datasets = process.env.NCA_DATASETS_PATH ?? path.resolve(import.meta.dirname, '../../shared/datasets');
const mnist = await loadEngineDataset('mnist', path.join(os.tmpdir(), 'nca-gpu-check-data'), {
  NCA_DATASETS_PATH: datasets,
});
const HW = 28 * 28;
if (!speedOnly) {
  const s: ClassifySettings = {
    ...smallSettings({ height: 28, width: 28, steps: 20 }),
    arch: {
      channels: 20,
      numClasses: 10,
      perception: { kind: 'learned', kernel: 3, filters: 80 },
      hidden: [80],
    },
  };
  const w = randomWeights(s).map((x) => x.map((v) => v * 0.25));
  const labels = [mnist.test.labels[0], mnist.test.labels[1]];
  const states = labels.map((_, b) => freshState(mnist.test.images.subarray(b * HW, (b + 1) * HW), 20));
  await tf.setBackend('cpu');
  const ref = await engineShard(s, w, states, labels);
  await tf.setBackend('webgpu');
  const r = await engineShard(s, w, states, labels);
  const gradRelErr = Math.max(
    ...ref.grads.map((g, i) => maxAbsDiff(r.grads[i], g) / Math.max(1e-12, maxAbs(g))),
  );
  const lossRelErr = Math.abs(r.loss - ref.loss) / Math.abs(ref.loss);
  const ok = gradRelErr < 1e-3 && lossRelErr < 1e-4;
  failed ||= !ok;
  report({ check: 'full-size', loss: r.loss, cpuLoss: ref.loss, lossRelErr, gradRelErr, ok });
}

// 3. speed: the trainer as a run uses it (one replica on the GPU)
for (const [name, over, aliveOnly] of [
  ['mnist-3x3', {}, true],
  ['mnist-3x3-dense', {}, false],
  ['mnist-3x3-batch64', { batch: 64 }, true],
  ['mnist-3x3-batch64-dense', { batch: 64 }, false],
  ['fashion-model-5x5', { perception: { kind: 'learned', kernel: 5, filters: 80 } }, true],
] as const) {
  if (rowsArg && !rowsArg.split(',').includes(name)) continue;
  const t = await createTrainer(
    {
      task: 'classify',
      dataset: 'mnist',
      batch: 16,
      steps: 20,
      iterations: 1e6,
      ...over,
      compute: { backend: 'webgpu', allowSoftwareGpu: allowSoftware, aliveOnly },
    },
    mnist,
    { keepBackend: true },
  );
  for (let i = 0; i < 3; i++) await t.step();
  const ms: number[] = [];
  for (let i = 0; i < (quick ? 3 : 20); i++) ms.push((await t.step()).iterationMs);
  const row: Record<string, unknown> = {
    check: 'speed',
    model: name,
    backend: t.backend.backend,
    msPerIteration: median(ms),
    // released buffers tfjs still holds: bounded by trimGpuBufferPool's limit (256 MiB)
    gpuFreePoolMB: Math.round(gpuFreePoolBytes() / 2 ** 20),
  };
  if (name === 'mnist-3x3') {
    const sess = (await InferenceSession.fromCheckpoint(t.saveCheckpoint(), {
      samples: 16,
    })) as ClassifySession;
    for (let b = 0; b < 16; b++) sess.setImage(mnist.test.images.subarray(b * HW, (b + 1) * HW), b);
    await sess.step(5);
    const steps = quick ? 10 : 200;
    const t0 = performance.now();
    await sess.step(steps);
    row.inferenceCellUpdatesPerSec = Math.round((16 * HW * steps) / ((performance.now() - t0) / 1000));
    sess.dispose();
  }
  await t.dispose();
  report(row);
}

report({ check: 'done', ok: !failed });
process.exit(failed ? 1 : 0);
