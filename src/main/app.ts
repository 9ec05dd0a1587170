/**
 * The workbench without a window: every service, the router and the event hub, for one data
 * directory. The Electron main process, browser mode and the tests all start exactly this.
 */
import fs from 'node:fs';
import type { AppContext } from './context.ts';
import { appHandlers, cpuComputeInfo } from './handlers/app.ts';
import { EventHub, Router, type Handlers } from './transport/router.ts';
import { SettingsStore } from './settings.ts';
import { consoleLogger, type Logger } from './util/log.ts';

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
  context: AppContext;
  close(): Promise<void>;
}

export async function createApp(opts: AppOptions): Promise<WorkbenchApp> {
  const log = opts.log ?? consoleLogger();
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const hub = new EventHub();
  const settings = new SettingsStore(opts.dataDir, (m) => log.warn(m));
  const context: AppContext = { dataDir: opts.dataDir, mode: opts.mode, log, hub, settings };
  const compute = cpuComputeInfo();

  const handlers: Handlers = {
    ...appHandlers(
      context,
      () => compute,
      () => 0,
    ),
  };

  const router = new Router(handlers, log);
  return {
    router,
    hub,
    log,
    dataDir: opts.dataDir,
    context,
    async close() {},
  };
}
