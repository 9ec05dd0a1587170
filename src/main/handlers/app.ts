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

export function cpuComputeInfo(): ComputeInfo {
  return { backend: 'wasm', device: os.cpus()[0]?.model ?? 'CPU', cores: os.cpus().length };
}
