/**
 * Ship a trained run as a pretrained model: export its best (or --checkpoint latest) checkpoint weights-only into
 * resources/models/<id>.ncarun, score it on a fixed test slice with the inference engine, and
 * record both (with the training command) in resources/models/index.json. The unit test
 * test/unit/results/pretrained.test.ts re-scores every shipped model against these figures.
 *
 *   node --import tsx scripts/ship-model.ts --data-dir DIR --run ID --id mnist --title "..." \
 *        --command "npm run nca -- train ..." [--count 500] [--steps 200] [--fraction 0.05] [--checkpoint best|latest]
 *        [--precision f16|f32]
 *
 * The weights ship as half floats (--precision f16, the default) and the history compacted (curves
 * in f32, evaluations to 5 digits with thinned per-step curves): that halves a model's file; the
 * figures are measured on the shipped f16 weights.
 *
 * Classifiers are scored by per-cell accuracy and agreement, adversaries by attack success at
 * --fraction (steps default 100 for them), growing NCAs by the loss grown from the seed and regrown
 * after a cut (steps: the run's stepsMax).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/main/services/datasets/index.ts';
import { modelOnlyCheckpoint } from '../src/main/services/engine/checkpoint.ts';
import { PretrainedIndexSchema, type PretrainedEntry } from '../src/main/services/pretrained.ts';
import { RunStore } from '../src/main/services/store/index.ts';
import {
  evaluateAttackSlice,
  evaluateGrowModel,
  evaluateModelSlice,
} from '../src/main/services/training/evaluate-model.ts';

const repo = path.resolve(import.meta.dirname, '..');
const modelsDir = path.join(repo, 'resources/models');
const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    run: { type: 'string' },
    id: { type: 'string' },
    title: { type: 'string' },
    command: { type: 'string' },
    count: { type: 'string', default: '500' },
    steps: { type: 'string' },
    fraction: { type: 'string', default: '0.05' },
    // best (default) or latest: a run ranked by agreement may ship its last, more accurate state
    checkpoint: { type: 'string', default: 'best' },
    precision: { type: 'string', default: 'f16' },
  },
});
for (const k of ['data-dir', 'run', 'id', 'title', 'command'] as const)
  if (!values[k]) throw new Error(`--${k} is required`);
const which = values.checkpoint;
if (which !== 'best' && which !== 'latest') throw new Error(`--checkpoint: "${which}" is not best or latest`);
const precision = values.precision;
if (precision !== 'f16' && precision !== 'f32')
  throw new Error(`--precision: "${precision}" is not f16 or f32`);

const store = RunStore.open(values['data-dir']!, { readonly: true });
try {
  const run = store.getSummary(values.run!);
  const file = `${values.id}.ncarun`;
  fs.mkdirSync(modelsDir, { recursive: true });
  store.exportRun(run.id, path.join(modelsDir, file), {
    checkpoints: which,
    transformCheckpoint: (ck) => modelOnlyCheckpoint(ck, { precision }),
    maxMetricRows: 500,
    compactHistory: true,
  });
  const best = store.loadCheckpoint(run.id, which);
  const entry: PretrainedEntry = {
    id: values.id!,
    title: values.title!,
    file,
    task: run.task,
    dataset: run.dataset,
    command: values.command!,
    iterations: best.iteration,
  };
  const weights = modelOnlyCheckpoint(best.data, { precision });
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  if (run.task === 'classify') {
    const dataset = await loadDataset(run.dataset, { dataDir: values['data-dir']! });
    const check = {
      split: 'test' as const,
      start: 0,
      count: Number(values.count),
      steps: Number(values.steps ?? 200),
    };
    const score = await evaluateModelSlice(weights, dataset, check);
    entry.check = { ...check, perCellAccuracy: score.perCellAccuracy, agreement: score.agreement };
    console.log(
      `${values.id}: per-cell ${pct(score.perCellAccuracy)}, agreement ${pct(score.agreement)} ` +
        `on test images 0..${check.count - 1} at step ${check.steps}`,
    );
  } else if (run.task === 'adversarial') {
    const dataset = await loadDataset(run.dataset, { dataDir: values['data-dir']! });
    const attack = {
      split: 'test' as const,
      start: 0,
      count: Number(values.count),
      steps: Number(values.steps ?? 100),
      fraction: Number(values.fraction),
    };
    const { success } = await evaluateAttackSlice(weights, dataset, attack);
    entry.attack = { ...attack, success };
    console.log(
      `${values.id}: attack success ${pct(success)} at p = ${attack.fraction}, ${attack.steps} steps`,
    );
  } else {
    const steps = Number(values.steps ?? (run.config as { stepsMax: number }).stepsMax);
    const g = await evaluateGrowModel(weights, { steps });
    entry.grow = { steps, loss: g.loss, regrownLoss: g.regrownLoss };
    console.log(`${values.id}: loss ${g.loss.toFixed(5)}, regrown after a cut ${g.regrownLoss.toFixed(5)}`);
  }
  const indexFile = path.join(modelsDir, 'index.json');
  const index = fs.existsSync(indexFile)
    ? PretrainedIndexSchema.parse(JSON.parse(fs.readFileSync(indexFile, 'utf8')))
    : { models: [] };
  // a re-shipped model keeps its place in the list (the UI lists them in this order)
  const at = index.models.findIndex((m) => m.id === entry.id);
  if (at >= 0) index.models[at] = entry;
  else index.models.push(entry);
  fs.writeFileSync(indexFile, JSON.stringify(index, null, 2) + '\n');
  console.log(
    `wrote ${path.join(modelsDir, file)} (${(fs.statSync(path.join(modelsDir, file)).size / 1024).toFixed(0)} KB) and index.json`,
  );
} finally {
  store.close();
}
