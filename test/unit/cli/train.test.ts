/**
 * `nca train` / `nca eval` as real child processes, including a SIGKILL in the middle of training:
 * the store stays sound, the run shows as interrupted and resumes from its checkpoint.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore } from '../../../src/main/services/store/index.ts';

const repo = path.resolve(import.meta.dirname, '../../..');
const nca = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/main/cli/index.ts', ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 120_000,
  });

const small = [
  '--set',
  'channels=12',
  '--set',
  'perception.filters=16',
  '--set',
  'hidden=[16]',
  '--set',
  'batch=4',
  '--set',
  'steps=6',
];

describe('nca train and eval', () => {
  it('trains a preset and prints one JSON object with the run and its metrics', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-cli-'));
    const r = nca([
      'train',
      '--preset',
      'quick-demo',
      '--iterations',
      '6',
      ...small,
      '--set',
      'evaluation.images=20',
      '--data-dir',
      dir,
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ status: 'completed', iterations: 6, backend: 'wasm' });
    expect(out.final).toHaveProperty('perCellAccuracy');
    expect(out.evaluation).toMatchObject({ iteration: 6, images: 20 });
    expect(r.stderr).toMatch(/iter 6\/6/);
    const ev = nca(['eval', '--run', out.runId as string, '--images', '10', '--data-dir', dir, '--json']);
    expect(ev.status, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout)).toMatchObject({
      runId: out.runId,
      iteration: 6,
      images: 10,
      split: 'test',
    });
    const onTrain = nca([
      'eval',
      '--run',
      out.runId as string,
      '--split',
      'train',
      '--images',
      '10',
      '--data-dir',
      dir,
    ]);
    expect(onTrain.status, onTrain.stderr).toBe(0);
    expect(onTrain.stdout).toMatch(/@6 on 10 training images: per-cell accuracy/);
    // a run's saved evaluations are test-split figures: a training-split one is not stored with them
    const saveTrain = nca([
      'eval',
      '--run',
      out.runId as string,
      '--split',
      'train',
      '--save',
      '--data-dir',
      dir,
    ]);
    expect(saveTrain.status).toBe(2);
    expect(saveTrain.stderr).toMatch(/--save stores test-split evaluations only/);

    // a completed run trains further only when its total is raised, and only upwards
    const again = nca(['train', '--resume', out.runId as string, '--data-dir', dir, '--json']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/completed its 6 iterations; raise them/);
    const lower = nca(['train', '--resume', out.runId as string, '--iterations', '4', '--data-dir', dir]);
    expect(lower.status).toBe(1);
    expect(lower.stderr).toMatch(/iterations 4 must be an integer above its current 6/);
    const further = nca([
      'train',
      '--resume',
      out.runId as string,
      '--iterations',
      '8',
      '--data-dir',
      dir,
      '--json',
    ]);
    expect(further.status, further.stderr).toBe(0);
    expect(JSON.parse(further.stdout)).toMatchObject({
      runId: out.runId,
      status: 'completed',
      iterations: 8,
    });
    expect(further.stderr).toMatch(/iter 8\/8/);

    // --fork: a new run from the parent's checkpoint with a changed learning rate; the parent stays
    const fork = nca([
      'train',
      '--fork',
      out.runId as string,
      '--iterations',
      '10',
      '--set',
      'optimizer.lr=0.0005',
      '--threads',
      '1',
      '--data-dir',
      dir,
      '--json',
    ]);
    expect(fork.status, fork.stderr).toBe(0);
    const forked = JSON.parse(fork.stdout) as { runId: string };
    expect(forked).toMatchObject({ status: 'completed', iterations: 10 });
    expect(forked.runId).not.toBe(out.runId);
    expect(fork.stderr).toMatch(new RegExp(`continues run ${out.runId as string} from iteration 8`));
    // the same continuation without changes trains exactly as the parent resumed would
    const same = nca([
      'train',
      '--fork',
      out.runId as string,
      '--iterations',
      '10',
      '--threads',
      '1',
      '--data-dir',
      dir,
      '--json',
    ]);
    expect(same.status, same.stderr).toBe(0);
    const resumed = nca([
      'train',
      '--resume',
      out.runId as string,
      '--iterations',
      '10',
      '--threads',
      '1',
      '--data-dir',
      dir,
      '--json',
    ]);
    expect(resumed.status, resumed.stderr).toBe(0);
    // a model field cannot change (the checkpoint's weights were trained with it); a classifier's
    // widths may only grow (the widened fork itself: test/unit/training/service.test.ts)
    const narrower = nca(['train', '--fork', out.runId as string, '--set', 'channels=10', '--data-dir', dir]);
    expect(narrower.status).toBe(2);
    expect(narrower.stderr).toMatch(/channels: must stay 12 or grow/);

    // an attack takes the classifier's network and cells (the preset says MNIST; the classifier is
    // on glyphs with 12 channels), while --set still wins
    const attack = nca([
      'train',
      '--preset',
      'adversarial',
      '--classifier',
      out.runId as string,
      '--iterations',
      '2',
      '--set',
      'batch=4',
      '--set',
      'steps=4',
      '--set',
      'fireRate=0.25',
      '--set',
      'targetClass=1',
      '--set',
      'evaluation={"every":2,"images":6,"steps":4,"mutateSteps":0}',
      '--threads',
      '1',
      '--data-dir',
      dir,
      '--json',
    ]);
    expect(attack.status, attack.stderr).toBe(0);
    const attacked = JSON.parse(attack.stdout) as { runId: string; evaluation: { attackSuccess: unknown[] } };
    expect(attacked.evaluation.attackSuccess).toHaveLength(5);

    const store = RunStore.open(dir, { readonly: true });
    try {
      expect(store.getRun(attacked.runId).config).toMatchObject({
        task: 'adversarial',
        dataset: 'glyphs',
        channels: 12,
        perception: { filters: 16 },
        hidden: [16],
        fireRate: 0.25,
        targetClass: 1,
      });
      const child = store.getRun(forked.runId);
      expect(child.parentRunId).toBe(out.runId);
      expect(child.config.optimizer.lr).toBe(0.0005);
      const cols = store.metricColumns(forked.runId);
      expect(Array.from(cols.iteration)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const parentCols = store.metricColumns(out.runId as string);
      // the history up to the checkpoint is the parent's; after it, the new learning rate
      expect(Array.from(cols.loss.slice(0, 8))).toEqual(Array.from(parentCols.loss.slice(0, 8)));
      expect(Array.from(cols.lr.slice(8))).toEqual([0.0005, 0.0005]);
      const sameCols = store.metricColumns(JSON.parse(same.stdout).runId as string);
      expect(Array.from(sameCols.loss)).toEqual(Array.from(parentCols.loss));
      expect(
        store
          .events(forked.runId)
          .map((e) => e.message)
          .join('\n'),
      ).toMatch(
        /continued from run \w+ .* at iteration 8: changed iterations 8 → 10, optimizer.lr 0.002 → 0.0005/,
      );
    } finally {
      store.close();
    }
  }, 240_000); // eight CLI processes (tsx start-up, training, evaluation): ~40 s on a free core

  it('refuses an invalid configuration before anything starts, naming the field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-cli-'));
    const r = nca(['train', '--preset', 'quick-demo', '--set', 'fireRate=7', '--data-dir', dir, '--json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/fireRate/);
    expect(r.stdout).toBe('');
  });

  it('survives SIGKILL mid-run: sound database, interrupted run, resume from the checkpoint', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-kill-'));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/main/cli/index.ts',
        'train',
        '--preset',
        'quick-demo',
        '--iterations',
        '40',
        ...small,
        '--set',
        'checkpoints.every=4',
        '--set',
        'evaluation.every=1000',
        '--set',
        'evaluation.images=20',
        '--data-dir',
        dir,
      ],
      { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    let runId = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        err += d;
        runId ||= /run (\w+) \(/.exec(err)?.[1] ?? '';
        const its = [...err.matchAll(/iter (\d+)\//g)].map((m) => Number(m[1]));
        if (its.length && Math.max(...its) >= 9) resolve();
      });
      child.once('exit', () => reject(new Error(`train ended early: ${err}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const store = RunStore.open(dir);
    try {
      expect(store.integrityCheck()).toEqual(['ok']);
      const run = store.getSummary(runId);
      expect(run.status).toBe('interrupted');
      const ckpt = store.loadCheckpoint(runId, 'latest');
      expect(ckpt.iteration).toBeGreaterThanOrEqual(4);
      expect(ckpt.data.byteLength).toBeGreaterThan(0);
    } finally {
      store.close();
    }
    const resumed = nca(['train', '--resume', runId, '--data-dir', dir, '--json', '--threads', '1']);
    // the resumed run goes on to the end
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ runId, status: 'completed', iterations: 40 });
    const after = RunStore.open(dir);
    try {
      const its = Array.from(after.metricColumns(runId).iteration);
      expect(its).toEqual(Array.from({ length: 40 }, (_, i) => i + 1)); // no gap, no duplicate
    } finally {
      after.close();
    }
  }, 120_000);
});
