/**
 * Shipped models: a weights-only export installs into a fresh data directory, opens in the
 * playground and refuses to resume training; and every model in resources/models scores what
 * docs/results.md says on its fixed test slice (2 points of tolerance), so an engine regression
 * shows up here.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/main/app.ts';
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
import type { Connection } from '../../../src/main/transport/router.ts';
import { memoryLogger } from '../../../src/main/util/log.ts';

const repo = path.resolve(import.meta.dirname, '../../..');
const modelsDir = path.join(repo, 'resources/models');
const datasetsEnv = { ...process.env, NCA_DATASETS_PATH: path.resolve(repo, '../shared/datasets') };
const nca = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/main/cli/index.ts', ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 120_000,
    env: datasetsEnv,
  });

describe('weights-only models', () => {
  it('export small, install once into a fresh data directory, open in the playground, refuse to resume', async () => {
    const trainDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-ship-'));
    const tiny = [
      '--set',
      'channels=12',
      '--set',
      'perception.filters=16',
      '--set',
      'hidden=[16]',
      '--set',
      'batch=4',
    ];
    const trained = nca([
      'train',
      '--preset',
      'quick-demo',
      '--iterations',
      '4',
      ...tiny,
      '--set',
      'evaluation.images=10',
      '--data-dir',
      trainDir,
      '--json',
    ]);
    expect(trained.status, trained.stderr).toBe(0);
    const runId = JSON.parse(trained.stdout).runId as string;
    const shipDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-models-'));
    const exported = nca([
      'runs',
      'export',
      runId,
      path.join(shipDir, 'demo.ncarun'),
      '--model-only',
      '--data-dir',
      trainDir,
      '--json',
    ]);
    expect(exported.status, exported.stderr).toBe(0);
    const full = nca([
      'runs',
      'export',
      runId,
      path.join(shipDir, 'full.ncarun'),
      '--data-dir',
      trainDir,
      '--json',
    ]);
    expect(JSON.parse(exported.stdout).bytes).toBeLessThan(JSON.parse(full.stdout).bytes / 4);
    fs.writeFileSync(
      path.join(shipDir, 'index.json'),
      JSON.stringify({
        models: [
          {
            id: 'demo',
            title: 'Demo model',
            file: 'demo.ncarun',
            task: 'classify',
            dataset: 'glyphs',
            command: 'test',
            iterations: 4,
          },
        ],
      }),
    );

    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-fresh-'));
    for (let start = 0; start < 2; start++) {
      const app = await createApp({ dataDir, mode: 'browser', log: memoryLogger(), pretrainedDir: shipDir });
      const conn: Connection = { id: 't', watchedRuns: new Set(), send: () => {} };
      const list = await app.router.handle({ id: 1, method: 'runs.list', params: {} }, conn);
      const runs = (list as { result: { id: string; name: string; tags: string[] }[] }).result;
      expect(runs).toHaveLength(1); // installed once, not again on the second start
      expect(runs[0]).toMatchObject({ name: 'Demo model', tags: ['pretrained'] });
      const opened = await app.router.handle(
        { id: 2, method: 'playground.open', params: { runId: runs[0].id } },
        conn,
      );
      expect(opened).toMatchObject({ ok: true, result: { width: 28, height: 28 } });
      const resume = await app.router.handle(
        { id: 3, method: 'training.start', params: { id: runs[0].id } },
        conn,
      );
      expect(resume).toMatchObject({ ok: false, error: { code: 'conflict' } });
      if (!resume.ok) expect(resume.error.message).toMatch(/start a new run/);
      await app.close();
    }
    // a shipped model evaluates like the run it came from (nca eval on the weights-only checkpoint)
    const installed = RunStore.open(dataDir);
    const installedId = installed.listRuns()[0].id;
    installed.close();
    const evalArgs = (id: string, dir: string) => [
      'eval',
      '--run',
      id,
      '--checkpoint',
      'latest',
      '--images',
      '12',
      '--threads',
      '1',
      '--data-dir',
      dir,
      '--json',
    ];
    const shippedEval = nca(evalArgs(installedId, dataDir));
    expect(shippedEval.status, shippedEval.stderr).toBe(0);
    const originalEval = nca(evalArgs(runId, trainDir));
    expect(originalEval.status, originalEval.stderr).toBe(0);
    const pick = (out: string) => {
      const r = JSON.parse(out) as { perCellAccuracy: number; agreement: number };
      return [r.perCellAccuracy, r.agreement];
    };
    expect(pick(shippedEval.stdout)).toEqual(pick(originalEval.stdout));
  });
});

describe('shipped models in resources/models', () => {
  const entries = readPretrainedIndex(modelsDir);

  it('are listed with how they were trained', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      expect(fs.existsSync(path.join(modelsDir, e.file)), e.file).toBe(true);
      // weights are float32 and barely compress: an adversary on a 5x5 classifier carries two ~180 KB networks
      expect(fs.statSync(path.join(modelsDir, e.file)).size).toBeLessThan(450_000);
      expect(e.command).toMatch(/npm run nca -- train/);
    }
  });

  // a model check rolls out hundreds of images: ~25 s on two free cores, more on a busy machine
  const CHECK_TIMEOUT = 240_000;

  /** Import a shipped model into a fresh store and hand its best checkpoint and the docs to `check`. */
  const withShipped = async (
    e: (typeof entries)[number],
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
    }
  };

  for (const e of entries.filter((x) => x.check)) {
    it(
      `${e.id} scores what docs/results.md states on test images ${e.check!.start}..${e.check!.start + e.check!.count - 1}`,
      () =>
        withShipped(e, async (ck, dir, docs) => {
          const dataset = await loadDataset(e.dataset, { dataDir: dir, env: datasetsEnv });
          const got = await evaluateModelSlice(ck, dataset, e.check!);
          expect(Math.abs(got.perCellAccuracy - e.check!.perCellAccuracy)).toBeLessThanOrEqual(0.02);
          expect(Math.abs(got.agreement - e.check!.agreement)).toBeLessThanOrEqual(0.02);
          expect(docs).toContain(`${(e.check!.perCellAccuracy * 100).toFixed(1)}%`);
        }),
      CHECK_TIMEOUT,
    );
  }

  // threshold mask: the alive cells are the stroke cells; dilated: strokes and a ring of background;
  // no mask with only strokes answering (readout 'strokes'): the answering cells are the strokes
  for (const [id, strokesAreAlive] of [
    ['mnist', true],
    ['kmnist-split', false],
    ['kmnist-relay', true],
  ] as const) {
    it(
      `${id}: one simulation scores a slice on alive and stroke cells as two simulations do, by islands`,
      () =>
        withShipped(
          entries.find((x) => x.id === id)!,
          async (ck, dir) => {
            const dataset = await loadDataset(entries.find((x) => x.id === id)!.dataset, {
              dataDir: dir,
              env: datasetsEnv,
            });
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
            if (strokesAreAlive) expect(strokes).toEqual(alive);
            else expect(sum(strokes, 'cells')).toBeLessThan(sum(alive, 'cells'));
          },
        ),
      CHECK_TIMEOUT,
    );
  }

  for (const e of entries.filter((x) => x.attack)) {
    it(
      `${e.id} flips what docs/results.md states at p = ${e.attack!.fraction}`,
      () =>
        withShipped(e, async (ck, dir, docs) => {
          const dataset = await loadDataset(e.dataset, { dataDir: dir, env: datasetsEnv });
          const got = await evaluateAttackSlice(ck, dataset, e.attack!);
          expect(Math.abs(got.success - e.attack!.success)).toBeLessThanOrEqual(0.02);
          expect(docs).toContain(`${(e.attack!.success * 100).toFixed(1)}%`);
        }),
      CHECK_TIMEOUT,
    );
  }

  for (const e of entries.filter((x) => x.grow)) {
    it(
      `${e.id} grows and regrows to the loss docs/results.md states`,
      () =>
        withShipped(e, async (ck, _dir, docs) => {
          const got = await evaluateGrowModel(ck, { steps: e.grow!.steps });
          // the loss is an MSE, not a percentage: 10% relative tolerance
          const near = (x: number, want: number) =>
            expect(Math.abs(x - want)).toBeLessThanOrEqual(0.1 * want + 1e-4);
          near(got.loss, e.grow!.loss);
          near(got.regrownLoss, e.grow!.regrownLoss);
          expect(got.damagedLoss).toBeGreaterThan(got.regrownLoss); // it does regrow
          expect(docs).toContain(e.grow!.loss.toFixed(4));
        }),
      CHECK_TIMEOUT,
    );
  }
});
