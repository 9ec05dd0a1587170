import type { DatasetProgressEvent } from '../../shared/contract-results.ts';
import { ApiError } from '../../shared/contract.ts';
import type { AppContext } from '../context.ts';
import type { DatasetService } from '../services/datasets/service.ts';
import type { Handlers } from '../transport/router.ts';
import { mapped } from './errors.ts';

/** datasets.*: the catalogue, statistics, sample grids, downloads (with progress events) and imports. */
export function datasetHandlers(ctx: AppContext, datasets: DatasetService): Handlers {
  const downloads = new Map<string, AbortController>();
  const progress = (p: DatasetProgressEvent) => ctx.hub.emit('datasets.progress', p);

  return {
    'datasets.list': mapped(() => datasets.list()),
    'datasets.stats': mapped(({ id }) => datasets.stats(id)),
    'datasets.samples': mapped(async ({ id, ...request }) => {
      const s = await datasets.samples(id, request);
      return {
        id: s.id,
        split: s.split,
        width: s.width,
        height: s.height,
        classNames: s.classNames,
        perClass: s.perClass,
        count: s.count,
        labels: Array.from(s.labels),
        indices: Array.from(s.indices),
        bytes: s.images,
      };
    }),
    // Returns at once; progress and completion ('done', sent by the fetcher) or failure arrive as
    // 'datasets.progress' events.
    'datasets.fetch': ({ id }) => {
      if (downloads.has(id)) throw new ApiError('conflict', `"${id}" is already downloading`);
      const controller = new AbortController();
      downloads.set(id, controller);
      datasets
        .fetch(id, progress, controller.signal)
        .catch((err: Error) => {
          const cancelled = controller.signal.aborted;
          if (!cancelled) ctx.log.warn(`download of ${id} failed: ${err.message}`);
          progress({
            id,
            phase: cancelled ? 'cancelled' : 'failed',
            message: cancelled ? 'download cancelled' : err.message,
          });
        })
        .finally(() => downloads.delete(id));
      return { ok: true };
    },
    'datasets.cancelFetch': ({ id }) => {
      const c = downloads.get(id);
      if (!c) throw new ApiError('not_found', `"${id}" is not downloading`);
      c.abort();
      return { ok: true };
    },
    'datasets.import': mapped(({ path, name, size, testFraction }) =>
      datasets.importFolder(path, { name, size, testFraction }),
    ),
  };
}
