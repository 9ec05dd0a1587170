/**
 * The checks of the models shipped in resources/models, shared by the shipped-*.test.ts files.
 * They roll out hundreds of images for 200 steps (minutes each on one core), so they are split
 * into groups, one test file per group, which vitest runs side by side on separate workers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadDataset } from '../../../src/main/services/datasets/index.ts';
import { isModelOnly } from '../../../src/main/services/engine/checkpoint.ts';
import { readPretrainedIndex } from '../../../src/main/services/pretrained.ts';
import { RunStore } from '../../../src/main/services/store/index.ts';
import {
  evaluateAttackSlice,
  evaluateGrowModel,
  evaluateModelSlice,
  evaluateModelSliceOn,
} from '../../../src/main/services/training/evaluate-model.ts';

export const repo = path.resolve(import.meta.dirname, '../../..');
export const modelsDir = path.join(repo, 'resources/models');
export const datasetsEnv = { ...process.env, NCA_DATASETS_PATH: path.resolve(repo, '../shared/datasets') };
export const shippedModels = readPretrainedIndex(modelsDir);

/**
 * Which file checks which shipped model (test/unit/results/shipped-<group>.test.ts). The models
 * without a mask compute all 784 cells (~2 minutes each on their 100 images), so each has a file of its own.
 */
export const CHECK_GROUPS = {
  classifiers: ['mnist', 'fashion-mnist', 'kmnist-split'],
  'kmnist-nomask': ['kmnist-nomask'],
  'kmnist-relay': ['kmnist-relay'],
  'adversaries-growing': [
    'mnist-adversary',
    'fashion-adversary',
    'kmnist-adversary',
    'grow-fashion',
    'grow-ladybug',
  ],
} as const satisfies Record<string, readonly string[]>;
export type CheckGroup = keyof typeof CHECK_GROUPS;

// ~25-210 s each on a free core; generous so that a busy CI machine does not time out
const CHECK_TIMEOUT = 600_000;

/** Import a shipped model into a fresh store and hand its best checkpoint and the docs to `check`. */
const withShipped = async (
  e: (typeof shippedModels)[number],
  check: (ck: Uint8Array, dataDir: string, docs: string) => Promise<void>,
) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-check-'));
  const store = RunStore.open(dir);
  try {
    const run = store.importRun(path.join(modelsDir, e.file));
    const ck = store.loadCheckpoint(run.id, 'best');
    expect(isModelOnly(ck.data)).toBe(true);
    await check(ck.data, dir, fs.readFileSync(path.join(repo, 'docs/results.md'), 'utf8'));
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
};

// threshold mask: the alive cells are the stroke cells; dilated: strokes and a ring of background;
// no mask with only strokes answering (readout 'strokes'): the answering cells are the strokes
const STROKES_ARE_ALIVE: Record<string, boolean> = {
  mnist: true,
  'kmnist-split': false,
  'kmnist-relay': true,
};

/** Define the tests of one group: each model scores, flips or regrows what docs/results.md states. */
export function defineShippedChecks(group: CheckGroup): void {
  const ids: readonly string[] = CHECK_GROUPS[group];
  const models = shippedModels.filter((e) => ids.includes(e.id));
  it(`the group's models are shipped (${ids.join(', ')})`, () => {
    expect(models.map((e) => e.id).sort()).toEqual([...ids].sort());
  });

  for (const e of models.filter((x) => x.check)) {
    const c = e.check!;
    it(
      `${e.id} scores what docs/results.md states on test images ${c.start}..${c.start + c.count - 1}`,
      () =>
        withShipped(e, async (ck, dir, docs) => {
          const dataset = await loadDataset(e.dataset, { dataDir: dir, env: datasetsEnv });
          const got = await evaluateModelSlice(ck, dataset, c);
          expect(Math.abs(got.perCellAccuracy - c.perCellAccuracy)).toBeLessThanOrEqual(0.02);
          expect(Math.abs(got.agreement - c.agreement)).toBeLessThanOrEqual(0.02);
          expect(docs).toContain(`${(c.perCellAccuracy * 100).toFixed(1)}%`);
        }),
      CHECK_TIMEOUT,
    );
  }

  for (const e of models.filter((x) => x.id in STROKES_ARE_ALIVE)) {
    it(
      `${e.id}: one simulation scores a slice on alive and stroke cells as two simulations do, by islands`,
      () =>
        withShipped(e, async (ck, dir) => {
          const dataset = await loadDataset(e.dataset, { dataDir: dir, env: datasetsEnv });
          const o = { start: 0, count: 20, steps: 40, batch: 10 };
          const [alive, strokes] = await evaluateModelSliceOn(ck, dataset, o, ['alive', 'strokes']);
          expect(alive).toEqual(await evaluateModelSlice(ck, dataset, o));
          expect(strokes).toEqual(await evaluateModelSlice(ck, dataset, { ...o, scoreOn: 'strokes' }));
          const sum = (s: typeof alive, k: 'images' | 'cells' | 'correct' | 'agreeing') =>
            s.byIslands.reduce((a, r) => a + r[k], 0);
          for (const s of [alive, strokes]) {
            expect(sum(s, 'images')).toBe(o.count);
            expect(sum(s, 'correct') / sum(s, 'cells')).toBeCloseTo(s.perCellAccuracy, 10);
            expect(sum(s, 'agreeing') / o.count).toBeCloseTo(s.agreement, 10);
          }
          expect(sum(strokes, 'cells')).toBeGreaterThan(0);
          if (STROKES_ARE_ALIVE[e.id]) expect(strokes).toEqual(alive);
          else expect(sum(strokes, 'cells')).toBeLessThan(sum(alive, 'cells'));
        }),
      CHECK_TIMEOUT,
    );
  }

  for (const e of models.filter((x) => x.attack)) {
    const a = e.attack!;
    it(
      `${e.id} flips what docs/results.md states at p = ${a.fraction}`,
      () =>
        withShipped(e, async (ck, dir, docs) => {
          const dataset = await loadDataset(e.dataset, { dataDir: dir, env: datasetsEnv });
          const got = await evaluateAttackSlice(ck, dataset, a);
          expect(Math.abs(got.success - a.success)).toBeLessThanOrEqual(0.02);
          expect(docs).toContain(`${(a.success * 100).toFixed(1)}%`);
        }),
      CHECK_TIMEOUT,
    );
  }

  for (const e of models.filter((x) => x.grow)) {
    const g = e.grow!;
    it(
      `${e.id} grows and regrows to the loss docs/results.md states`,
      () =>
        withShipped(e, async (ck, _dir, docs) => {
          const got = await evaluateGrowModel(ck, { steps: g.steps });
          // the loss is an MSE, not a percentage: 10% relative tolerance
          const near = (x: number, want: number) =>
            expect(Math.abs(x - want)).toBeLessThanOrEqual(0.1 * want + 1e-4);
          near(got.loss, g.loss);
          near(got.regrownLoss, g.regrownLoss);
          expect(got.damagedLoss).toBeGreaterThan(got.regrownLoss); // it does regrow
          expect(docs).toContain(g.loss.toFixed(4));
        }),
      CHECK_TIMEOUT,
    );
  }
}
