/**
 * Shipped models: a weights-only export installs into a fresh data directory, opens in the
 * playground and refuses to resume training; every model in resources/models is listed with how it
 * was trained, and each one with a figure in docs/results.md is checked by one of the
 * shipped-<group>.test.ts files (its score on a fixed test slice, 2 points of tolerance, so an engine
 * regression shows up in CI).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/main/app.ts';
import { RunStore } from '../../../src/main/services/store/index.ts';
import type { Connection } from '../../../src/main/transport/router.ts';
import { memoryLogger } from '../../../src/main/util/log.ts';
import { CHECK_GROUPS, datasetsEnv, modelsDir, repo, shippedModels } from './shipped.ts';

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
  }, 180_000);
});

describe('shipped models in resources/models', () => {
  it('are listed with how they were trained', () => {
    expect(shippedModels.length).toBeGreaterThan(0);
    for (const e of shippedModels) {
      expect(fs.existsSync(path.join(modelsDir, e.file)), e.file).toBe(true);
      // weights are float32 and barely compress: an adversary on a 5x5 classifier carries two ~180 KB
      // networks, the fashion-mnist classifier (hidden [256, 256]) has 209,311 weights, ~770 KB alone
      expect(fs.statSync(path.join(modelsDir, e.file)).size).toBeLessThan(1_000_000);
      expect(e.command).toMatch(/npm run nca -- train/);
    }
  });

  it('each model with a stated figure is checked by exactly one shipped-<group>.test.ts file', () => {
    const stated = shippedModels.filter((e) => e.check || e.attack || e.grow).map((e) => e.id);
    const grouped = Object.values(CHECK_GROUPS).flat();
    expect([...grouped].sort()).toEqual([...stated].sort()); // no model twice, none left out
    for (const group of Object.keys(CHECK_GROUPS)) {
      const file = path.join(import.meta.dirname, `shipped-${group}.test.ts`);
      expect(fs.existsSync(file), file).toBe(true);
      expect(fs.readFileSync(file, 'utf8')).toContain(`defineShippedChecks('${group}')`);
    }
  });
});
