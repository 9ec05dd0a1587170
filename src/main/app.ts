/**
 * The workbench without a window: every service, the router and the event hub, for one data
 * directory. The Electron main process, browser mode and the tests all start exactly this.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseRunConfig } from '../shared/nca-config.ts';
import type { ComputeInfo } from '../shared/contract-results.ts';
import { EventHub, Router, type Handlers } from './transport/router.ts';
import { SettingsStore } from './settings.ts';
import { consoleLogger, type Logger } from './util/log.ts';
import { APP_VERSION } from './version.ts';

export interface AppOptions {
  dataDir: string;
  mode: 'desktop' | 'browser';
  log?: Logger;
}

export interface WorkbenchApp {
  router: Router;
  hub: EventHub;
  log: Logger;
  dataDir: string;
  close(): Promise<void>;
}

export async function createApp(opts: AppOptions): Promise<WorkbenchApp> {
  const log = opts.log ?? consoleLogger();
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const hub = new EventHub();
  const settings = new SettingsStore(opts.dataDir, (m) => log.warn(m));
  const compute: ComputeInfo = {
    backend: 'wasm',
    device: os.cpus()[0]?.model ?? 'CPU',
    cores: os.cpus().length,
  };

  const handlers: Handlers = {
    'app.info': () => ({
      name: 'NCA Workbench',
      version: APP_VERSION,
      mode: opts.mode,
      dataDir: opts.dataDir,
      compute,
      activeRuns: 0,
    }),
    'app.settings.get': () => settings.get(),
    'app.settings.set': (patch) => settings.set(patch),
    'config.validate': ({ config }) => {
      const r = parseRunConfig(config);
      return r.ok ? { ok: true, errors: [], config: r.config } : { ok: false, errors: r.errors };
    },
  };

  const router = new Router(handlers, log);
  return {
    router,
    hub,
    log,
    dataDir: opts.dataDir,
    async close() {},
  };
}
