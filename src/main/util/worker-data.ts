import { workerData } from 'node:worker_threads';

/** The data a worker was started with, whether it came through the tsx bootstrap or directly. */
export function workerPayload<T>(): T {
  const wd = workerData as { __entry?: string; data?: unknown } | undefined;
  return (wd && typeof wd === 'object' && '__entry' in wd ? wd.data : wd) as T;
}
