/**
 * Video exports run as background jobs: `export.video` answers at once with a job id, progress
 * arrives as 'export.progress' events, and `export.cancel` stops a job (ffmpeg is killed, partial
 * files are removed, the frame sources are closed).
 */
import { randomBytes } from 'node:crypto';
import type { FrameSource } from './frame-source.ts';
import {
  ExportCancelledError,
  exportVideo,
  type VideoFormat,
  type VideoOptions,
  type VideoProgress,
  type VideoResult,
} from './video.ts';

export type ExportJobState = 'running' | 'done' | 'failed' | 'cancelled';

/** The data of every 'export.progress' event. */
export interface ExportProgressEvent {
  job: string;
  file: string;
  format: VideoFormat;
  state: ExportJobState;
  /** while running: 'palette' (GIF pass 1) or 'encoding' */
  phase?: VideoProgress['phase'];
  frame: number;
  total: number | null;
  step: number;
  fps: number;
  /** state 'done' */
  result?: VideoResult;
  /** state 'failed': what went wrong, for the user */
  error?: string;
}

export interface ExportJob {
  id: string;
  file: string;
  format: VideoFormat;
  state: ExportJobState;
  last: ExportProgressEvent;
  /** settles when the job ends, never rejects */
  done: Promise<ExportProgressEvent>;
}

export type VideoJobOptions = Omit<VideoOptions, 'signal' | 'onProgress'>;

export class ExportJobs {
  private readonly jobs = new Map<string, ExportJob & { controller: AbortController }>();

  constructor(private readonly emit: (event: ExportProgressEvent) => void = () => undefined) {}

  /**
   * Start a video export. `open` builds the frame source(s) inside the job, so a slow start (loading
   * a checkpoint) already counts as running and can be cancelled.
   */
  startVideo(
    open: () => Promise<FrameSource | FrameSource[]> | FrameSource | FrameSource[],
    opts: VideoJobOptions,
  ): ExportJob {
    const id = randomBytes(6).toString('hex');
    const controller = new AbortController();
    const base = { job: id, file: opts.file, format: opts.format };
    const first: ExportProgressEvent = {
      ...base,
      state: 'running',
      frame: 0,
      total: opts.maxFrames ?? null,
      step: 0,
      fps: 0,
    };
    const job = {
      id,
      file: opts.file,
      format: opts.format,
      state: 'running' as ExportJobState,
      last: first,
      controller,
      done: Promise.resolve(first),
    };
    const publish = (event: ExportProgressEvent) => {
      job.last = event;
      job.state = event.state;
      try {
        this.emit(event);
      } catch {
        // a failing listener must not fail the export
      }
    };
    this.jobs.set(id, job);
    publish(first);
    job.done = (async (): Promise<ExportProgressEvent> => {
      try {
        // a tick first: the caller gets the job id before any other event of it
        await Promise.resolve();
        const source = await open();
        if (controller.signal.aborted) throw new ExportCancelledError(opts.file);
        const result = await exportVideo(source, {
          ...opts,
          signal: controller.signal,
          onProgress: (p) => publish({ ...base, state: 'running', ...p }),
        });
        publish({
          ...base,
          file: result.file,
          state: 'done',
          frame: result.frames,
          total: result.frames,
          step: job.last.step,
          fps: job.last.fps,
          result,
        });
      } catch (err) {
        if (err instanceof ExportCancelledError || controller.signal.aborted)
          publish({ ...job.last, state: 'cancelled', phase: undefined });
        else
          publish({
            ...job.last,
            state: 'failed',
            phase: undefined,
            error: err instanceof Error ? err.message : String(err),
          });
      }
      return job.last;
    })();
    void job.done.then(() => {
      // keep finished jobs briefly so a late status query still finds them
      setTimeout(() => this.jobs.delete(id), 60_000).unref();
    });
    return job;
  }

  get(id: string): ExportJob | undefined {
    return this.jobs.get(id);
  }

  list(): ExportJob[] {
    return [...this.jobs.values()];
  }

  /** Cancel a running job; false when there is no such running job. */
  cancel(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job || job.state !== 'running') return false;
    job.controller.abort();
    return true;
  }

  /** Cancel every running job and wait for them to end (app shutdown). */
  async close(): Promise<void> {
    for (const job of this.jobs.values()) if (job.state === 'running') job.controller.abort();
    await Promise.all([...this.jobs.values()].map((j) => j.done));
  }
}
