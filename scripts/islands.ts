/**
 * Agreement by islands of strokes: scores classifiers' best checkpoints on the same test slice and
 * breaks per-cell accuracy and total agreement down by the number of 8-connected stroke islands
 * (pixels > 0.1) in each image. This is the measurement behind the paper's explanation of KMNIST's
 * low agreement (islands cannot talk through the alive mask) and docs/results.md's experiment 3.
 * Cells are scored twice: on the model's own alive cells, and on the stroke cells only, so models
 * with different alive masks compare on the same cells.
 *
 *   node --import tsx scripts/islands.ts --data-dir DIR --runs ID1,ID2 [--count 2000] [--steps 200]
 */
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/main/services/datasets/index.ts';
import { RunStore } from '../src/main/services/store/index.ts';
import { evaluateModelSliceOn } from '../src/main/services/training/evaluate-model.ts';
import { ISLAND_BINS } from '../src/shared/datasets.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    runs: { type: 'string' },
    count: { type: 'string', default: '2000' },
    steps: { type: 'string', default: '200' },
    checkpoint: { type: 'string', default: 'best' },
  },
});
if (!values['data-dir'] || !values.runs) throw new Error('--data-dir and --runs are required');
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const store = RunStore.open(values['data-dir'], { readonly: true });
try {
  const rows: string[] = [];
  let histogram: number[] | null = null;
  const byIslandsRows: string[] = [];
  for (const id of values.runs.split(',')) {
    const run = store.getSummary(id);
    if (run.config.task !== 'classify') throw new Error(`${id} is not a classifier`);
    const ck = store.loadCheckpoint(id, values.checkpoint as 'best');
    const dataset = await loadDataset(run.dataset, { dataDir: values['data-dir'] });
    const o = { start: 0, count: Number(values.count), steps: Number(values.steps) };
    const [alive, strokes] = await evaluateModelSliceOn(ck.data, dataset, o, ['alive', 'strokes']);
    // the mask, and which cells answer when not all alive ones do
    const mode = run.config.aliveMode + (run.config.readout === 'strokes' ? ' (strokes answer)' : '');
    rows.push(
      `| ${mode} | ${id} | ${ck.iteration} | ${pct(alive.perCellAccuracy)} | ${pct(alive.agreement)} | ${pct(strokes.perCellAccuracy)} | ${pct(strokes.agreement)} |`,
    );
    histogram ??= strokes.byIslands.map((r) => r.images);
    byIslandsRows.push(
      `| agreement, ${mode} mask (stroke cells) | ${strokes.byIslands.map((r) => (r.images ? pct(r.agreeing / r.images) : '-')).join(' | ')} |`,
    );
    console.error(`${id} (${mode}) scored`);
  }
  const bins = Array.from({ length: ISLAND_BINS }, (_, i) => (i === ISLAND_BINS - 1 ? `${i}+` : `${i}`));
  console.log(
    [
      `Test images 0..${Number(values.count) - 1}, step ${values.steps}, ${values.checkpoint} checkpoints.`,
      '',
      '| mask | run | iteration | per-cell (alive cells) | agreement (alive cells) | per-cell (stroke cells) | agreement (stroke cells) |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `| islands of strokes | ${bins.join(' | ')} |`,
      `|---|${bins.map(() => '---').join('|')}|`,
      `| images | ${histogram!.join(' | ')} |`,
      ...byIslandsRows,
    ].join('\n'),
  );
} finally {
  store.close();
}
