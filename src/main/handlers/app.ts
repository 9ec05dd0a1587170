import os from 'node:os';
import { parseRunConfig } from '../../shared/nca-config.ts';
import type { ComputeInfo } from '../../shared/contract-results.ts';
import type { AppContext } from '../context.ts';
import type { Handlers } from '../transport/router.ts';
import { APP_VERSION } from '../version.ts';

export function appHandlers(ctx: AppContext, compute: () => ComputeInfo, activeRuns: () => number): Handlers {
  return {
    'app.info': () => ({
      name: 'NCA Workbench',
      version: APP_VERSION,
      mode: ctx.mode,
      dataDir: ctx.dataDir,
      compute: compute(),
      activeRuns: activeRuns(),
    }),
    'app.settings.get': () => ctx.settings.get(),
    'app.settings.set': (patch) => ctx.settings.set(patch),
    'config.validate': ({ config }) => {
      const r = parseRunConfig(config);
      return r.ok ? { ok: true, errors: [], config: r.config } : { ok: false, errors: r.errors };
    },
  };
}

/**
 * What the status bar shows: the backend this process picked ('auto': CUDA, WebGPU, native, wasm),
 * detected once in the background at start (the playground uses the same one). Training workers
 * pick theirs the same way; each run records its own.
 */
export function detectCompute(log: (m: string) => void): () => ComputeInfo {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  let info: ComputeInfo = { backend: 'detecting…', device: os.cpus()[0]?.model ?? 'CPU', cores };
  import('../services/engine/backends.ts')
    .then(({ initBackend }) => initBackend('auto'))
    .then((b) => (info = { backend: b.backend, device: b.device, cores }))
    .catch((err: Error) => {
      log(`no compute backend could start: ${err.message}`);
      info = { ...info, backend: 'unavailable' };
    });
  return () => info;
}
