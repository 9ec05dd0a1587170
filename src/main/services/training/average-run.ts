/**
 * A new run holding the weight average of checkpoints of one run and its ancestors (the runs it was
 * forked from, so a trajectory continued over several forks can be averaged whole). The child
 * starts at its run's latest chosen checkpoint (iteration, Adam state, pool) with the mean weights;
 * it evaluates, opens in the playground and trains on like any run. Nothing is changed in place.
 */
import { ApiError } from '../../../shared/contract.ts';
import type { CheckpointMeta, RunRecord } from '../../../shared/runs.ts';
import { averageCheckpoints } from '../engine/average.ts';
import type { RunStore } from '../store/index.ts';

/** Checkpoints to average: explicit ids, or every kept checkpoint in an iteration range. */
export type CheckpointSelection = { ids: string[] } | { fromIteration: number; toIteration?: number };

/** The run and the runs it was forked from, nearest first. */
function lineage(store: RunStore, runId: string): RunRecord[] {
  const runs: RunRecord[] = [];
  const seen = new Set<string>();
  for (let id: string | null = runId; id !== null && !seen.has(id);) {
    seen.add(id);
    const run = store.getRun(id);
    runs.push(run);
    // an adversary's parent is the classifier it attacks, not an earlier state of itself
    id =
      run.config.task === 'adversarial' && run.parentRunId === run.config.classifierRunId
        ? null
        : run.parentRunId;
  }
  return runs;
}

/** A run name (200 characters at most) with a suffix: a long name is cut, the suffix kept. */
function withSuffix(name: string, suffix: string): string {
  return name.length + suffix.length <= 200
    ? name + suffix
    : `${name.slice(0, 199 - suffix.length)}…${suffix}`;
}

export function averageRunCheckpoints(
  store: RunStore,
  input: { runId: string; select: CheckpointSelection; name?: string },
): RunRecord {
  const runs = lineage(store, input.runId);
  const run = runs[0];
  const all = runs.flatMap((r) => store.listCheckpoints(r.id));
  // the trajectory: an ancestor's checkpoints before where the nearer run's begin (a fork copies its
  // parent's checkpoint, so the same state is counted once; a parent's later ones went elsewhere)
  const trajectory: CheckpointMeta[] = [];
  let before = Infinity;
  for (const r of runs) {
    const kept = all.filter((c) => c.runId === r.id);
    trajectory.push(...kept.filter((c) => c.iteration < before));
    before = Math.min(before, ...kept.map((c) => c.iteration));
  }
  let chosen: CheckpointMeta[];
  if ('ids' in input.select) {
    const ids = input.select.ids;
    if (new Set(ids).size !== ids.length)
      throw new ApiError('invalid_params', 'a checkpoint is listed twice');
    chosen = ids.map((id) => {
      const c = all.find((m) => m.id === id);
      if (!c)
        throw new ApiError(
          'invalid_params',
          `checkpoint ${id} is not one of run ${run.id}'s checkpoints or those of the runs it was forked from`,
        );
      return c;
    });
  } else {
    const { fromIteration, toIteration = Infinity } = input.select;
    chosen = trajectory.filter((c) => c.iteration >= fromIteration && c.iteration <= toIteration);
  }
  chosen.sort((a, b) => a.iteration - b.iteration || Number(a.id) - Number(b.id));
  if (chosen.length < 2)
    throw new ApiError(
      'invalid_params',
      `averaging needs at least two checkpoints; ${chosen.length} chosen (run ${run.id} and its ancestors keep ${all.length})`,
    );
  // the child continues from its run's own latest chosen checkpoint
  const own = chosen.filter((c) => c.runId === run.id);
  const base = own[own.length - 1];
  if (!base)
    throw new ApiError(
      'invalid_params',
      `choose at least one of run ${run.id}'s own checkpoints (the averaged run continues from it)`,
    );
  let data: Uint8Array;
  try {
    const ordered = [...chosen.filter((c) => c !== base), base];
    data = averageCheckpoints(ordered.map((c) => store.loadCheckpoint(c.runId, c.id).data));
  } catch (err) {
    throw new ApiError('invalid_params', `cannot average these checkpoints: ${(err as Error).message}`);
  }
  const iterations = chosen.map((c) => c.iteration.toLocaleString('en-US'));
  const span = `${iterations[0]}–${iterations[iterations.length - 1]}`;
  const child = store.forkRun({
    parentId: run.id,
    checkpoint: base.id,
    name:
      input.name ?? withSuffix(run.name, ` (weights averaged over ${chosen.length} checkpoints, ${span})`),
    config: run.config,
    because: `weights averaged over ${chosen.length} checkpoints (iterations ${iterations.join(', ')}${
      chosen.some((c) => c.runId !== run.id)
        ? `; runs ${[...new Set(chosen.map((c) => c.runId))].join(', ')}`
        : ''
    }); Adam state, pool and iteration are the checkpoint at ${base.iteration.toLocaleString('en-US')}'s`,
    // the same scoring, but the copied checkpoint's score was its own weights': not this average's
    checkpointMetric: null,
    checkpointData: data,
    evaluationAtCheckpoint: false,
  });
  return store.setStatus(
    child.id,
    'stopped',
    'weights averaged: evaluate it, open it in the playground or train on',
  );
}
