import { ApiError } from '../../shared/contract.ts';
import type { RunConfig } from '../../shared/nca-config.ts';
import { PRESETS, presetConfig } from '../../shared/presets.ts';
import type { IterationEstimator } from '../services/training/estimate.ts';
import type { RunStore } from '../services/store/index.ts';
import type { TrainingService } from '../services/training/service.ts';
import type { Handlers } from '../transport/router.ts';
import { mapped } from './errors.ts';
import { averageRunCheckpoints } from '../services/training/average-run.ts';

/** runs.create / runs.fork / runs.average / runs.delete and training.*: everything that touches a run's worker. */
export function trainingHandlers(training: TrainingService, store: RunStore): Handlers {
  return {
    'runs.create': mapped(({ name, config, start }) => training.create({ name, config, start })),
    'runs.fork': mapped(({ id, checkpoint, name, config, start }) =>
      training.fork({ parentId: id, checkpoint, name, config, start }),
    ),
    'runs.average': mapped(({ id, checkpoints, fromIteration, toIteration, name }) =>
      averageRunCheckpoints(store, {
        runId: id,
        select: checkpoints ? { ids: checkpoints } : { fromIteration: fromIteration ?? 0, toIteration },
        name,
      }),
    ),
    'runs.delete': mapped(async ({ id }) => {
      await training.delete(id);
      return { ok: true as const };
    }),
    'training.start': mapped(async ({ id }) => {
      await training.start(id);
      return { ok: true as const };
    }),
    'training.pause': mapped(({ id }) => {
      training.pause(id);
      return { ok: true as const };
    }),
    'training.resume': mapped(({ id }) => {
      training.resume(id);
      return { ok: true as const };
    }),
    'training.stop': mapped(async ({ id }) => {
      await training.stop(id);
      return { ok: true as const };
    }),
    'training.checkpoint': mapped(async ({ id }) => {
      await training.checkpointNow(id);
      return { ok: true as const };
    }),
    'training.watch': mapped(({ id, frames, samples, channel }, conn) => {
      store.getRun(id); // a clear not_found for an unknown run
      if (frames) conn.watchedRuns.add(id);
      else conn.watchedRuns.delete(id);
      training.updateFrames(id, samples, channel);
      if (frames && !training.isActive(id))
        throw new ApiError('conflict', `run ${id} is not training right now`);
      return { ok: true as const };
    }),
  };
}

/** presets.list and config.estimate: what the New-run form needs before a run exists. */
export function presetHandlers(estimator: IterationEstimator): Handlers {
  return {
    'presets.list': () =>
      PRESETS.map((p) => {
        // required fields (e.g. the classifier an adversary attacks) get a stand-in to fill the defaults
        const stand = Object.fromEntries((p.requires ?? []).map((f) => [f, 'required']));
        const config = presetConfig(p.id, stand) as RunConfig & Record<string, unknown>;
        for (const f of p.requires ?? []) config[f] = '';
        return { id: p.id, title: p.title, description: p.description, config, requires: p.requires ?? [] };
      }),
    'config.estimate': mapped(({ config }) => estimator.estimate(config)),
  };
}
