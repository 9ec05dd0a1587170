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
import { unzipSync } from 'fflate';
import { createApp } from '../../../src/main/app.ts';
import { decodeCheckpoint } from '../../../src/main/services/engine/checkpoint.ts';
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
    const exportTo = (file: string, ...flags: string[]) =>
      nca(['runs', 'export', runId, file, ...flags, '--data-dir', trainDir, '--json']);
    const exported = exportTo(path.join(shipDir, 'demo.ncarun'), '--model-only');
    expect(exported.status, exported.stderr).toBe(0);
    const full = exportTo(path.join(shipDir, 'full.ncarun'));
    expect(JSON.parse(exported.stdout).bytes).toBeLessThan(JSON.parse(full.stdout).bytes / 4);
    // how models ship: half-float weights and a compacted history, smaller still
    const halfFile = path.join(shipDir, 'half.ncarun');
    const half = exportTo(halfFile, '--model-only', '--precision', 'f16', '--compact-history');
    expect(half.status, half.stderr).toBe(0);
    expect(JSON.parse(half.stdout).bytes).toBeLessThan(JSON.parse(exported.stdout).bytes);
    const refused = exportTo(halfFile, '--precision', 'f16');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/--precision f16 needs --model-only/);
    const unknown = exportTo(halfFile, '--model-only', '--precision', 'f8');
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/--precision must be f32 or f16, not "f8"/);
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
    // the half-float export evaluates as the original does, to the rounding of its weights
    const halfDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-half-'));
    const imported = nca(['runs', 'import', halfFile, '--data-dir', halfDir, '--json']);
    expect(imported.status, imported.stderr).toBe(0);
    const halfEval = nca(evalArgs(JSON.parse(imported.stdout).run.id as string, halfDir));
    expect(halfEval.status, halfEval.stderr).toBe(0);
    expect(pick(halfEval.stdout)[0]).toBeCloseTo(pick(originalEval.stdout)[0], 2);
  }, 180_000);
});

describe('shipped models in resources/models', () => {
  it('are listed with how they were trained', () => {
    expect(shippedModels.length).toBeGreaterThan(0);
    for (const e of shippedModels) {
      expect(fs.existsSync(path.join(modelsDir, e.file)), e.file).toBe(true);
      // half-float weights barely compress: an adversary on a 5x5 classifier carries two ~90 KB
      // networks, the fashion-mnist classifier (hidden [256, 256]) has 209,311 weights, ~390 KB alone
      expect(fs.statSync(path.join(modelsDir, e.file)).size).toBeLessThan(500_000);
      // shipped as half floats, scored as such (scripts/ship-model.ts)
      const entries = unzipSync(fs.readFileSync(path.join(modelsDir, e.file)));
      const checkpoint = Object.keys(entries).find((f) => f.startsWith('checkpoints/'))!;
      const kinds = decodeCheckpoint(entries[checkpoint]).meta.arrayKinds as Record<string, string>;
      expect(kinds.weights, e.file).toBe('f16');
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
