/**
 * export.*: video exports as background jobs (progress as 'export.progress' events) and metrics as
 * CSV / JSON files. Frame sources that need the engine come in as deps, so this module stays free
 * of engine details: without them, exporting playground sessions and comparisons answers
 * 'unavailable' while recordings still export.
 */
import { ApiError } from '../../shared/contract.ts';
import type { AppContext } from '../context.ts';
import {
  ExportInputError,
  ExportJobs,
  FfmpegError,
  exportMetrics,
  storedRecordingSource,
  type FrameSource,
  type MetricsStore,
  type RecordingStore,
} from '../services/export/index.ts';
import type { Handlers } from '../transport/router.ts';
import { mapped, toApiError } from './errors.ts';

export interface ExportDeps {
  /** the run store (RunStore) */
  store: MetricsStore & RecordingStore;
  /** job registry; by default one is made that emits 'export.progress' on ctx.hub */
  jobs?: ExportJobs;
  /**
   * Frames of an open playground session, from its current state on, one frame per NCA step; the
   * exporter stops after `steps + 1` frames and calls the iterator's return().
   */
  playgroundSource?: (session: string) => Promise<FrameSource> | FrameSource;
  /**
   * A run's NCA (its best checkpoint) on test image `testIndex`, from the seed state (step 0) on,
   * one frame per step: the panels of a side-by-side comparison.
   */
  runSource?: (runId: string, opts: { testIndex: number }) => Promise<FrameSource> | FrameSource;
}

function userError(err: unknown): unknown {
  if (err instanceof ExportInputError) return new ApiError('invalid_params', err.message);
  if (err instanceof FfmpegError) return new ApiError('unavailable', err.message);
  return toApiError(err);
}

export function exportHandlers(ctx: AppContext, deps: ExportDeps): Handlers {
  const jobs = deps.jobs ?? new ExportJobs((event) => ctx.hub.emit('export.progress', event));
  return {
    'export.video': mapped(({ source, format, file, steps, scale, fps, overlays }) => {
      let open: () => Promise<FrameSource | FrameSource[]> | FrameSource | FrameSource[];
      if (source.kind === 'recording') {
        // load now: a missing run or recording is the caller's mistake, answered right away
        try {
          const src = storedRecordingSource(deps.store, source.runId, source.recordingId);
          open = () => src;
        } catch (err) {
          throw userError(err);
        }
      } else if (source.kind === 'playground') {
        const make = deps.playgroundSource;
        if (!make) throw new ApiError('unavailable', 'exporting playground sessions is not available yet');
        open = () => make(source.session);
      } else {
        const make = deps.runSource;
        if (!make) throw new ApiError('unavailable', 'exporting run comparisons is not available yet');
        for (const id of source.runIds) deps.store.getRun(id); // unknown ids fail now, not in the job
        open = () => Promise.all(source.runIds.map((id) => make(id, { testIndex: source.testIndex })));
      }
      // step 0 plus `steps` NCA steps (a recording may hold fewer: it ends the video)
      const job = jobs.startVideo(open, { file, format, scale, fps, maxFrames: steps + 1, overlays });
      return { job: job.id };
    }),
    'export.cancel': mapped(({ job }) => {
      if (!jobs.cancel(job)) {
        const known = jobs.get(job);
        throw new ApiError(
          known ? 'conflict' : 'not_found',
          known ? `export ${job} already ended (${known.state})` : `no export job "${job}"`,
        );
      }
      return { ok: true as const };
    }),
    'export.metrics': async ({ ids, format, file }) => {
      try {
        await exportMetrics(deps.store, ids, format, file);
        return { ok: true as const };
      } catch (err) {
        throw userError(err);
      }
    },
  };
}
