/**
 * Main-side handle of a training run in its own worker thread. The training service creates one per
 * run and forwards its events to the store and the UI; the main thread never blocks.
 *
 *   const run = TrainingWorker.start({ config, dataset: { dataDir } });
 *   run.on('metrics', (m) => ...); run.on('status', (s) => ...);
 *   const { status, message } = await run.done;
 */
import { EventEmitter } from 'node:events';
import type { Worker, ResourceLimits } from 'node:worker_threads';
import { startWorker } from '../../util/worker.ts';
import type { Evaluation, IterationMetrics } from '../../../shared/metrics.ts';
import { datasetIdOf } from '../../../shared/nca-config.ts';
import { parseConfigOrThrow, preflight } from './trainer.ts';
import { ConfigError } from './errors.ts';
import type { BackendInfo } from './backends.ts';
import type { EngineDataset } from './dataset.ts';
import type {
  CheckpointMessage,
  FrameMessage,
  FrameOptions,
  FromWorker,
  RunStatus,
  ToWorker,
  WorkerInit,
} from './protocol.ts';

export interface TrainingStart {
  /** a run config (validated here: an invalid one throws ConfigError before any thread starts) */
  config: unknown;
  /** where the data comes from: a dataset id (default: config.dataset / target.dataset) and data dir, or the data itself */
  dataset?: { id?: string; dataDir: string; env?: Record<string, string> } | { data: EngineDataset };
  /** resume from this checkpoint */
  checkpoint?: Uint8Array;
  /** adversarial runs: the frozen classifier's checkpoint */
  classifierCheckpoint?: Uint8Array;
  threads?: number;
  frames?: FrameOptions;
  resourceLimits?: ResourceLimits;
  /** tests only */
  crashForTest?: WorkerInit['crashForTest'];
}

export interface TrainingEvents {
  backend: [info: BackendInfo & { threads: number; paramCount: number }];
  status: [status: RunStatus, message: string | undefined, iteration: number];
  metrics: [metrics: IterationMetrics];
  evaluation: [evaluation: Evaluation];
  checkpoint: [checkpoint: Omit<CheckpointMessage, 'type'>];
  frame: [frame: Omit<FrameMessage, 'type'>];
  log: [line: string];
}

const ENDED: RunStatus[] = ['completed', 'stopped', 'diverged', 'failed'];

export class TrainingWorker extends EventEmitter<TrainingEvents> {
  status: RunStatus = 'starting';
  message: string | undefined;
  iteration = 0;
  /** resolves when the run has ended, with its final status */
  readonly done: Promise<{ status: RunStatus; message?: string }>;
  private resolveDone!: (v: { status: RunStatus; message?: string }) => void;
  private nextRequest = 1;
  private readonly requests = new Map<number, (c: Omit<CheckpointMessage, 'type'>) => void>();
  /** frames arrive a whole iteration at a time; they leave spaced at the frame rate */
  private frameRate: number;
  private frameQueue: Omit<FrameMessage, 'type'>[] = [];
  private frameTimer: NodeJS.Timeout | null = null;
  private lastFrameAt = -Infinity;

  private constructor(
    private readonly worker: Worker,
    frameRate: number,
  ) {
    super();
    this.frameRate = frameRate;
    this.done = new Promise((r) => (this.resolveDone = r));
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (e) => this.end('failed', `worker crashed: ${e.message}`));
    worker.on('exit', (code) => {
      if (!ENDED.includes(this.status)) this.end('failed', `worker exited unexpectedly (code ${code})`);
    });
  }

  static start(opts: TrainingStart): TrainingWorker {
    const config = parseConfigOrThrow(opts.config);
    const problems = preflight(
      config,
      opts.dataset && 'data' in opts.dataset ? opts.dataset.data.classNames.length : undefined,
    );
    if (problems.length) {
      const [field, ...rest] = problems[0].split(': ');
      throw new ConfigError(field, rest.join(': '));
    }
    const frames: Required<FrameOptions> = {
      samples: opts.frames?.samples ?? [0],
      maxPerSecond: opts.frames?.maxPerSecond ?? 30,
    };
    let dataset: WorkerInit['dataset'];
    const defaultId = datasetIdOf(config);
    if (opts.dataset && 'data' in opts.dataset) dataset = { kind: 'data', data: opts.dataset.data };
    else if (defaultId) {
      if (!opts.dataset) throw new Error('dataset: give a dataDir (or the data) for dataset ' + defaultId);
      dataset = {
        kind: 'id',
        id: opts.dataset.id ?? defaultId,
        dataDir: opts.dataset.dataDir,
        env: opts.dataset.env,
      };
    } else dataset = { kind: 'none' };
    const init: WorkerInit = {
      config,
      dataset,
      checkpoint: opts.checkpoint,
      classifierCheckpoint: opts.classifierCheckpoint,
      threads: opts.threads,
      frames,
      crashForTest: opts.crashForTest,
    };
    const worker = startWorker(new URL('./worker.ts', import.meta.url), {
      workerData: init,
      resourceLimits: opts.resourceLimits,
    });
    return new TrainingWorker(worker, frames.maxPerSecond);
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'backend':
        this.emit('backend', { ...m.info, threads: m.threads, paramCount: m.paramCount });
        break;
      case 'status':
        this.iteration = m.iteration;
        if (ENDED.includes(m.status)) this.end(m.status, m.message);
        else {
          this.status = m.status;
          this.emit('status', m.status, m.message, m.iteration);
        }
        break;
      case 'metrics':
        this.iteration = m.metrics.iteration;
        this.emit('metrics', m.metrics);
        break;
      case 'evaluation':
        this.emit('evaluation', m.evaluation);
        break;
      case 'checkpoint': {
        const { type: _t, ...c } = m;
        if (c.id !== undefined) {
          this.requests.get(c.id)?.(c);
          this.requests.delete(c.id);
        }
        this.emit('checkpoint', c);
        break;
      }
      case 'frame': {
        const { type: _t, ...f } = m;
        this.queueFrame(f);
        break;
      }
      case 'log':
        this.emit('log', m.line);
        break;
    }
  }

  private queueFrame(f: Omit<FrameMessage, 'type'>): void {
    if (this.frameRate <= 0) return;
    this.frameQueue.push(f);
    // at most about a second behind: drop the oldest when the view would lag more
    const most = Math.max(20, Math.ceil(this.frameRate));
    if (this.frameQueue.length > most) this.frameQueue.splice(0, this.frameQueue.length - most);
    this.pumpFrames();
  }

  private pumpFrames(): void {
    if (this.frameTimer || this.frameQueue.length === 0) return;
    const wait = this.lastFrameAt + 1000 / this.frameRate - performance.now();
    if (wait > 0) {
      this.frameTimer = setTimeout(() => {
        this.frameTimer = null;
        this.pumpFrames();
      }, wait);
      return;
    }
    this.lastFrameAt = performance.now();
    this.emit('frame', this.frameQueue.shift()!);
    this.pumpFrames();
  }

  private clearFrames(): void {
    this.frameQueue = [];
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.frameTimer = null;
  }

  private end(status: RunStatus, message?: string): void {
    if (ENDED.includes(this.status)) return;
    // the run's last frames go out now rather than after it has ended
    const last = this.frameQueue;
    this.clearFrames();
    for (const f of last) this.emit('frame', f);
    this.status = status;
    this.message = message;
    this.emit('status', status, message, this.iteration);
    for (const [, r] of this.requests)
      r({ bytes: new Uint8Array(0), iteration: this.iteration, reason: 'requested' });
    this.requests.clear();
    this.resolveDone({ status, message });
    if (status === 'failed') void this.worker.terminate();
  }

  private send(m: ToWorker): void {
    if (!ENDED.includes(this.status)) this.worker.postMessage(m);
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  resume(): void {
    this.send({ type: 'resume' });
  }

  /** Ask the run to stop after the current iteration (it posts a final checkpoint); resolves when ended. */
  stop(): Promise<{ status: RunStatus; message?: string }> {
    this.send({ type: 'stop' });
    return this.done;
  }

  /** A checkpoint of the current state (also emitted as a 'checkpoint' event). Empty bytes if the run ended first. */
  checkpointNow(): Promise<Omit<CheckpointMessage, 'type'>> {
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      if (ENDED.includes(this.status))
        return resolve({
          bytes: new Uint8Array(0),
          iteration: this.iteration,
          reason: 'requested',
        });
      this.requests.set(id, resolve);
      this.send({ type: 'checkpoint', id });
    });
  }

  setFrames(frames: FrameOptions): void {
    this.frameRate = frames.maxPerSecond ?? 30;
    if (this.frameRate <= 0) this.clearFrames();
    this.send({
      type: 'frames',
      frames: { samples: frames.samples ?? [0], maxPerSecond: this.frameRate },
    });
  }

  /** End the thread now, whatever it is doing (the run ends as stopped, without a final checkpoint). */
  async kill(): Promise<void> {
    this.end('stopped', 'killed');
    await this.worker.terminate();
  }
}
