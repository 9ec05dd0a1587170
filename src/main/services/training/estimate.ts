/**
 * "How long will an iteration take?": a short probe on the current backend in a worker thread (the
 * main thread never trains). Two iterations run; the second one's time is the estimate (the first
 * pays for compilation and warm-up). Results are cached per configuration.
 */
import type { RunConfig } from '../../../shared/nca-config.ts';
import type { Estimate } from '../../../shared/contract-results.ts';
import { TrainingWorker } from '../engine/training-worker.ts';

export class IterationEstimator {
  private readonly cache = new Map<string, Promise<Estimate>>();

  constructor(
    private readonly dataDir: string,
    private readonly env?: Record<string, string>,
  ) {}

  estimate(config: RunConfig, timeoutMs = 120_000): Promise<Estimate> {
    // the schedule, length and evaluation settings do not change an iteration's cost
    const key = JSON.stringify({
      ...config,
      iterations: 0,
      evaluation: null,
      checkpoints: null,
      optimizer: null,
    });
    let p = this.cache.get(key);
    if (!p) {
      p = this.probe(config, timeoutMs);
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }

  private probe(config: RunConfig, timeoutMs: number): Promise<Estimate> {
    const probeConfig = {
      ...config,
      iterations: 1000,
      checkpoints: { ...config.checkpoints, every: 1_000_000 },
      evaluation: { ...config.evaluation, every: 1_000_000 },
    } as RunConfig;
    const worker = TrainingWorker.start({
      config: probeConfig,
      dataset: { dataDir: this.dataDir, env: this.env },
      frames: { samples: [], maxPerSecond: 0 },
    });
    return new Promise<Estimate>((resolve, reject) => {
      let parameters = 0;
      let backend = '';
      let seen = 0;
      const timer = setTimeout(
        () => finish(new Error(`the probe took longer than ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      const finish = (result: Estimate | Error) => {
        clearTimeout(timer);
        void worker.kill();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      worker.on('backend', (b) => {
        parameters = b.paramCount;
        backend = b.backend;
      });
      worker.on('metrics', (m) => {
        if (++seen === 2) finish({ parameters, msPerIteration: m.iterationMs, backend });
      });
      worker.on('status', (status, message) => {
        if (status === 'failed' || status === 'diverged') finish(new Error(message ?? `the probe ${status}`));
      });
    });
  }
}
