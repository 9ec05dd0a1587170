/**
 * Weight averaging: the mean of real checkpoint files, refused across models, and a new run in a real
 * SQLite store that takes checkpoints along one trajectory (a run and the run it was forked from).
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runsCommand } from '../../../src/main/cli/commands/runs.ts';
import { CliUsageError, type CliContext } from '../../../src/main/cli/types.ts';
import { averageCheckpoints } from '../../../src/main/services/engine/average.ts';
import {
  CHECKPOINT_FORMAT,
  decodeCheckpoint,
  encodeCheckpoint,
  modelOnlyCheckpoint,
} from '../../../src/main/services/engine/checkpoint.ts';
import { RunStore } from '../../../src/main/services/store/index.ts';
import { averageRunCheckpoints } from '../../../src/main/services/training/average-run.ts';
import { methods } from '../../../src/shared/contract.ts';
import { parseRunConfig, type RunConfig } from '../../../src/shared/nca-config.ts';
import { classifyConfig, evaluation, tempDir } from '../store/helpers.ts';

const config = (over: Record<string, unknown> = {}): RunConfig => {
  const parsed = parseRunConfig(classifyConfig(over));
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  return parsed.config;
};

/** A checkpoint file as the trainer writes it: weights, Adam moments, the pool and the RNG state. */
function checkpoint(iteration: number, weights: number[], cfg: RunConfig = config()): Uint8Array {
  return encodeCheckpoint({
    meta: { format: CHECKPOINT_FORMAT, task: cfg.task, iteration, config: cfg, numClasses: 10 },
    arrays: {
      weights: Float32Array.from(weights),
      adamM: Float32Array.from(weights, (w) => w * 10 + iteration),
      pool: new Float32Array([iteration, iteration]),
      rng: new Uint8Array([iteration % 256]),
    },
  });
}

const weightsOf = (bytes: Uint8Array) => Array.from(decodeCheckpoint(bytes).arrays.weights);

describe('averageCheckpoints', () => {
  it('means the weights and keeps the last checkpoint’s optimiser state, pool and iteration', () => {
    const out = decodeCheckpoint(
      averageCheckpoints([
        checkpoint(100, [1, -2, 4]),
        checkpoint(200, [2, 0, 4]),
        checkpoint(300, [6, 2, 1]),
      ]),
    );
    expect(Array.from(out.arrays.weights)).toEqual([3, 0, 3]);
    expect(Array.from(out.arrays.adamM)).toEqual([360, 320, 310]); // the 300 checkpoint's
    expect(Array.from(out.arrays.pool)).toEqual([300, 300]);
    expect(out.meta.iteration).toBe(300);
    expect(out.meta.averagedFrom).toEqual([100, 200, 300]);
  });

  it('keeps a weights-only (shipped) checkpoint weights-only', () => {
    const shipped = modelOnlyCheckpoint(checkpoint(300, [4, 4]));
    const out = decodeCheckpoint(averageCheckpoints([checkpoint(100, [0, 2]), shipped]));
    expect(out.meta.modelOnly).toBe(true);
    expect(Object.keys(out.arrays)).toEqual(['weights']);
    expect(Array.from(out.arrays.weights)).toEqual([2, 3]);
  });

  it('refuses another model, another size, a single checkpoint and a corrupt file, naming which', () => {
    expect(() => averageCheckpoints([checkpoint(1, [1])])).toThrow(/at least two/);
    expect(() =>
      averageCheckpoints([checkpoint(1, [1, 2]), checkpoint(2, [1, 2], config({ channels: 24 }))]),
    ).toThrow(/checkpoint 2 is another model: channels 20 → 24/);
    expect(() => averageCheckpoints([checkpoint(1, [1, 2]), checkpoint(2, [1, 2, 3])])).toThrow(
      /checkpoint 2 has 3 weights, checkpoint 1 has 2/,
    );
    expect(() => averageCheckpoints([checkpoint(1, [1]), new Uint8Array([1, 2, 3])])).toThrow(
      /checkpoint 2: checkpoint: not a checkpoint file/,
    );
    // the learning rate is not the model: a warm restart's checkpoints average with the rest
    expect(
      weightsOf(
        averageCheckpoints([checkpoint(1, [1]), checkpoint(2, [3], config({ optimizer: { lr: 1e-4 } }))]),
      ),
    ).toEqual([2]);
  });
});

describe('averaging a run’s checkpoints into a new run', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  /** A parent with checkpoints at 100, 200, 300 and a child forked at 200 that went on to 400, 500. */
  function trajectory() {
    const dir = tempDir();
    dirs.push(dir);
    const store = RunStore.open(dir);
    const parent = store.createRun({ name: 'parent', config: classifyConfig() });
    const keep = { checkpoints: { every: 100, keepLatest: 10 } };
    const ids: Record<string, string> = {};
    for (const it of [100, 200, 300])
      ids[`p${it}`] = store.saveCheckpoint(parent.id, {
        iteration: it,
        metric: 0.5,
        data: checkpoint(it, [it]),
      }).id;
    const child = store.forkRun({
      parentId: parent.id,
      checkpoint: ids.p200,
      name: 'child',
      config: classifyConfig({ ...keep, optimizer: { lr: 1e-4 } }),
    });
    store.addEvaluation(child.id, evaluation(500, 0.6));
    for (const it of [400, 500])
      ids[`c${it}`] = store.saveCheckpoint(child.id, {
        iteration: it,
        metric: 0.6,
        data: checkpoint(it, [it]),
      }).id;
    ids.c200 = store.listCheckpoints(child.id).find((c) => c.iteration === 200)!.id;
    return { dir, store, parent, child, ids };
  }

  it('takes the trajectory from an iteration on: the child’s checkpoints and its parent’s before the fork', () => {
    const { store, child, ids } = trajectory();
    try {
      const averaged = averageRunCheckpoints(store, { runId: child.id, select: { fromIteration: 100 } });
      // 100 (parent), 200 (the child's copy, counted once), 400, 500; not the parent's 300 (after the fork)
      const latest = store.loadCheckpoint(averaged.id, 'latest');
      expect(weightsOf(latest.data)).toEqual([300]);
      expect(latest.iteration).toBe(500);
      expect(latest.metric).toBeNull(); // its score was the 500 weights', not the average's
      expect(store.evaluations(averaged.id)).toEqual([]); // nor is the evaluation at 500 the average's
      expect(store.evaluations(child.id).map((e) => e.iteration)).toEqual([500]);
      expect(averaged.parentRunId).toBe(child.id);
      expect(averaged.status).toBe('stopped');
      expect(averaged.name).toBe('child (weights averaged over 4 checkpoints, 100–500)');
      expect(averaged.config).toEqual(child.config);
      expect(
        store
          .events(averaged.id, 10)
          .map((e) => e.message)
          .join('\n'),
      ).toMatch(
        /weights averaged over 4 checkpoints \(iterations 100, 200, 400, 500; runs [a-z0-9]+, [a-z0-9]+\)/,
      );
      // a range, and explicit ids (any of the lineage's, the parent's 300 included)
      const ranged = averageRunCheckpoints(store, {
        runId: child.id,
        select: { fromIteration: 400, toIteration: 500 },
        name: 'late',
      });
      expect(weightsOf(store.loadCheckpoint(ranged.id, 'latest').data)).toEqual([450]);
      const picked = averageRunCheckpoints(store, { runId: child.id, select: { ids: [ids.p300, ids.c400] } });
      expect(weightsOf(store.loadCheckpoint(picked.id, 'latest').data)).toEqual([350]);
      expect(store.loadCheckpoint(picked.id, 'latest').iteration).toBe(400);
      // a long name is cut to fit, the suffix kept
      store.updateRun(child.id, { name: 'n'.repeat(200) });
      const long = averageRunCheckpoints(store, { runId: child.id, select: { fromIteration: 400 } });
      expect(long.name).toHaveLength(200);
      expect(long.name).toMatch(/n… \(weights averaged over 2 checkpoints, 400–500\)$/);
      // nothing changed in place
      expect(weightsOf(store.loadCheckpoint(child.id, 'latest').data)).toEqual([500]);
    } finally {
      store.close();
    }
  });

  it('says why it cannot average', () => {
    const { store, parent, child, ids } = trajectory();
    try {
      const bad =
        (select: Parameters<typeof averageRunCheckpoints>[1]['select'], runId = child.id) =>
        () =>
          averageRunCheckpoints(store, { runId, select });
      expect(bad({ fromIteration: 450 })).toThrow(/at least two checkpoints; 1 chosen/);
      expect(bad({ ids: [ids.c400, ids.c400] })).toThrow(/listed twice/);
      expect(bad({ ids: [ids.c400, '999999'] })).toThrow(/checkpoint 999999 is not one of run/);
      expect(bad({ ids: [ids.p100, ids.p300] })).toThrow(/choose at least one of run .* own checkpoints/);
      // a parent does not reach its child's checkpoints
      expect(bad({ ids: [ids.p100, ids.c400] }, parent.id)).toThrow(/checkpoint \d+ is not one of run/);
      expect(store.listRuns({}).length).toBe(2); // no half-made run
    } finally {
      store.close();
    }
  });

  it('is a runs.average call with either ids or an iteration range', () => {
    const schema = methods['runs.average'];
    expect(schema.safeParse({ id: 'r', checkpoints: ['1', '2'] }).success).toBe(true);
    expect(schema.safeParse({ id: 'r', fromIteration: 1000, toIteration: 2000 }).success).toBe(true);
    expect(schema.safeParse({ id: 'r' }).success).toBe(false);
    expect(schema.safeParse({ id: 'r', checkpoints: ['1', '2'], fromIteration: 3 }).success).toBe(false);
    expect(schema.safeParse({ id: 'r', checkpoints: ['1'] }).success).toBe(false);
  });

  it('nca runs average --from / --checkpoints', async () => {
    const { dir, store, child, ids } = trajectory();
    store.close();
    const out: string[] = [];
    const ctx: CliContext = {
      dataDir: dir,
      json: true,
      stdout: (t) => out.push(t),
      stderr: () => {},
      signal: new AbortController().signal,
    };
    expect(await runsCommand.run(['average', child.id, '--from', '400', '--name', 'swa'], ctx)).toBe(0);
    const { run } = JSON.parse(out[0]) as { run: { id: string; name: string } };
    expect(run.name).toBe('swa');
    expect(
      await runsCommand.run(['average', child.id, '--checkpoints', `${ids.p100},${ids.c500}`], ctx),
    ).toBe(0);
    await expect(runsCommand.run(['average', child.id], ctx)).rejects.toBeInstanceOf(CliUsageError);
    await expect(runsCommand.run(['average', child.id, '--from', 'x'], ctx)).rejects.toThrow(
      /--from must be/,
    );
    await expect(
      runsCommand.run(['average', child.id, '--to', '5', '--checkpoints', '1,2'], ctx),
    ).rejects.toThrow(/--to goes with --from/);
    const reopened = RunStore.open(dir);
    try {
      expect(weightsOf(reopened.loadCheckpoint(run.id, 'latest').data)).toEqual([450]);
      const second = JSON.parse(out[1]) as { run: { id: string } };
      expect(weightsOf(reopened.loadCheckpoint(second.run.id, 'latest').data)).toEqual([300]);
    } finally {
      reopened.close();
    }
  });
});
