import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Where a worker entry lives. From the sources it is the .ts file itself. In the Electron build
 * (electron-vite bundles each worker entry as out/main/<name>.js) the .ts file is gone: the bundle
 * next to the calling chunk, or one folder up, is used instead.
 */
export function resolveWorkerEntry(entry: URL): URL {
  const file = fileURLToPath(entry);
  if (!file.endsWith('.ts') || fs.existsSync(file)) return entry;
  const name = path.basename(file, '.ts') + '.js';
  for (let dir = path.dirname(file), i = 0; i < 3; i++, dir = path.dirname(dir)) {
    const built = path.join(dir, name);
    if (fs.existsSync(built)) return pathToFileURL(built);
  }
  throw new Error(`worker entry ${file} is missing, and no built ${name} was found beside it`);
}

/**
 * Start a worker thread from a module URL. Source files (.ts, run under tsx in the CLI, browser mode
 * and tests) go through a tiny bootstrap that registers tsx inside the worker first: Node 20 does not
 * apply `--import tsx` hooks before a worker's entry loads. Built .js entries start directly.
 */
export function startWorker(entry: URL, options: WorkerOptions = {}): Worker {
  const resolved = resolveWorkerEntry(entry);
  if (!resolved.pathname.endsWith('.ts')) return new Worker(resolved, options);
  const boot = new URL('./worker-boot.mjs', import.meta.url);
  return new Worker(boot, {
    ...options,
    workerData: { __entry: resolved.href, data: options.workerData },
  });
}
