import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Start a worker thread from a module URL. Source files (.ts, run under tsx in the CLI, browser mode
 * and tests) go through a tiny bootstrap that registers tsx inside the worker first: Node 20 does not
 * apply `--import tsx` hooks before a worker's entry loads. Built .js entries start directly.
 */
export function startWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const boot = new URL('./worker-boot.mjs', import.meta.url);
  return new Worker(boot, {
    ...options,
    workerData: { __entry: entry.href, data: options.workerData },
  });
}
