/**
 * How few hand-placed adversaries flip a character? For each test image the classifier gets right
 * (majority of alive cells = the label, no adversaries), adversary cells are added one at a time,
 * each at the alive cell that most lowers the share of cells voting for the true label (greedy
 * search over up to --candidates alive cells per round, chosen at random with a fixed seed), until
 * the majority is no longer the true label in most of --candidates fresh rollouts (they are
 * stochastic) or --max adversaries are placed.
 * Reports the distribution of the smallest number found (docs/results.md, experiment 5).
 *
 *   node --import tsx scripts/greedy-adversaries.ts --data-dir DIR --run ADVERSARIAL_RUN_ID \
 *        [--images 50] [--from 0] [--steps 100] [--max 8] [--candidates 64]
 *
 * --from: the first test image to consider, so that two processes can share the images between cores.
 */
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/main/services/datasets/index.ts';
import { ClassifySession, InferenceSession } from '../src/main/services/engine/inference.ts';
import { Rng } from '../src/main/services/engine/rng.ts';
import { RunStore } from '../src/main/services/store/index.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    run: { type: 'string' },
    images: { type: 'string', default: '50' },
    from: { type: 'string', default: '0' },
    steps: { type: 'string', default: '100' },
    max: { type: 'string', default: '8' },
    candidates: { type: 'string', default: '64' },
  },
});
if (!values['data-dir'] || !values.run) throw new Error('--data-dir and --run are required');
const images = Number(values.images);
const from = Number(values.from);
const steps = Number(values.steps);
const maxAdversaries = Number(values.max);
const candidates = Number(values.candidates);

const store = RunStore.open(values['data-dir'], { readonly: true });
const run = store.getSummary(values.run);
if (run.config.task !== 'adversarial') throw new Error(`${values.run} is not an adversarial run`);
const target = run.config.targetClass;
const ck = store.loadCheckpoint(values.run, 'best');
store.close();
const dataset = await loadDataset(run.dataset, { dataDir: values['data-dir'] });
const hw = dataset.width * dataset.height;
const pixelsOf = (i: number) => dataset.test.images.subarray(i * hw, (i + 1) * hw);
const opened = await InferenceSession.fromCheckpoint(ck.data, { samples: candidates, seed: 0 });
if (!(opened instanceof ClassifySession)) throw new Error('not a classifier');
const session: ClassifySession = opened;
const rng = new Rng(1, 0x6d);
const t0 = performance.now();

/** Roll out `sets` (one adversary set per sample) on one image; per sample: majority and truth share. */
async function rollout(index: number, sets: number[][]) {
  session.clearAdversaries();
  for (let b = 0; b < candidates; b++) {
    session.setImage(pixelsOf(index), b);
    const set = sets[Math.min(b, sets.length - 1)];
    if (set.length) session.placeAdversaries(set, b);
  }
  session.steps = 0;
  await session.step(steps);
  const { majority, counts } = session.readout();
  const truth = dataset.test.labels[index];
  return sets.map((_, b) => {
    const total = counts[b].reduce((a, x) => a + x, 0);
    return { majority: majority[b], truthShare: total ? counts[b][truth] / total : 0 };
  });
}

const found: number[] = []; // smallest number per image; Infinity = not flipped within --max
let flippedToTarget = 0;
let skipped = 0;
for (let index = from; found.length < images && index < dataset.test.count; index++) {
  const truth = dataset.test.labels[index];
  if (truth === target) continue;
  // the rollouts are stochastic (fire rate, noise): the clean image must be right in every sample
  const clean = await rollout(
    index,
    Array.from({ length: candidates }, () => []),
  );
  if (clean.some((o) => o.majority !== truth)) {
    skipped++; // misclassified already: nothing to flip
    continue;
  }
  const alive: number[] = [];
  const px = pixelsOf(index);
  for (let i = 0; i < hw; i++) if (px[i] > 0.1 * 255) alive.push(i);
  const chosen: number[] = [];
  let result = Infinity;
  for (let k = 1; k <= maxAdversaries; k++) {
    const pool = alive.filter((c) => !chosen.includes(c));
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    const tried = pool.slice(0, candidates);
    if (tried.length === 0) break;
    const outcome = await rollout(
      index,
      tried.map((c) => [...chosen, c]),
    );
    let best = 0;
    for (let b = 1; b < tried.length; b++) if (outcome[b].truthShare < outcome[best].truthShare) best = b;
    chosen.push(tried[best]);
    if (outcome[best].majority !== truth) {
      // the best of many stochastic rollouts may be luck: the set must flip most fresh rollouts too
      const check = await rollout(
        index,
        Array.from({ length: candidates }, () => chosen),
      );
      const flips = check.filter((o) => o.majority !== truth);
      if (flips.length * 2 > candidates) {
        result = k;
        if (flips.filter((o) => o.majority === target).length * 2 > flips.length) flippedToTarget++;
        break;
      }
    }
  }
  found.push(result);
  console.error(
    `image ${index} (label ${truth}): ${Number.isFinite(result) ? `flipped by ${result}` : `not flipped by ${maxAdversaries}`}`,
  );
}
session.dispose();

const flipped = found.filter(Number.isFinite).sort((a, b) => a - b);
const lines = [
  `Adversarial run ${values.run} (target class ${target}), ${dataset.id} test images from ${from}, ${steps} steps,`,
  `up to ${maxAdversaries} adversaries, ${candidates} candidate cells per round; ${found.length} images the`,
  `classifier gets right (${skipped} misclassified ones skipped), ${((performance.now() - t0) / 1000).toFixed(0)} s.`,
  '',
  `| adversaries | ${Array.from({ length: maxAdversaries }, (_, i) => i + 1).join(' | ')} | not flipped |`,
  `|---|${Array.from({ length: maxAdversaries + 1 }, () => '---').join('|')}|`,
  `| images flipped with exactly this many | ${Array.from({ length: maxAdversaries }, (_, i) => found.filter((f) => f === i + 1).length).join(' | ')} | ${found.length - flipped.length} |`,
  '',
  `Flipped: ${flipped.length} of ${found.length}; median ${flipped.length ? flipped[Math.floor(flipped.length / 2)] : '-'} adversaries; ` +
    `${flippedToTarget} of them mostly to the adversary's target class. A flip counts when the majority differs`,
  `from the label in more than half of ${candidates} fresh rollouts with those adversaries.`,
];
console.log(lines.join('\n'));
