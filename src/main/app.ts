/**
 * The workbench without a window: every service, the router and the event hub, for one data
 * directory. The Electron main process, browser mode and the tests all start exactly this.
 */
import fs from 'node:fs';
import type { AppContext } from './context.ts';
import { appHandlers, detectCompute } from './handlers/app.ts';
import { datasetHandlers } from './handlers/datasets.ts';
import { runHandlers } from './handlers/runs.ts';
import { presetHandlers, trainingHandlers } from './handlers/training.ts';
import { IterationEstimator } from './services/training/estimate.ts';
import { exportHandlers } from './handlers/export.ts';
import { playgroundHandlers } from './handlers/playground.ts';
import { PlaygroundService } from './services/playground/service.ts';
import { installPretrained } from './services/pretrained.ts';
import { TrainingService } from './services/training/service.ts';
import { DatasetService } from './services/datasets/service.ts';
import { RunStore } from './services/store/index.ts';
import { EventHub, Router, type Handlers } from './transport/router.ts';
import { SettingsStore } from './settings.ts';
import { consoleLogger, type Logger } from './util/log.ts';

export interface AppOptions {
  dataDir: string;
  mode: 'desktop' | 'browser';
  log?: Logger;
  /** resources/models: pretrained models imported into the store on first start */
  pretrainedDir?: string;
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
  const datasets = new DatasetService({ dataDir: opts.dataDir, mirrors: settings.get().datasetMirrors });
  const store = RunStore.open(opts.dataDir);
  if (opts.pretrainedDir) {
    const added = installPretrained(store, opts.pretrainedDir, opts.dataDir, log);
    if (added.length) log.info(`installed ${added.length} pretrained model(s)`);
  }
  const compute = detectCompute((m) => log.warn(m));
  const playground = new PlaygroundService({ store, loadDataset: (id) => datasets.load(id) });
  const training = new TrainingService({
    store,
    dataDir: opts.dataDir,
    events: hub,
    log,
    classNames: async (id) => (await datasets.entry(id)).classes.map((c) => c.name),
    frameRate: () => settings.get().frameRate,
  });

  const handlers: Handlers = {
    ...appHandlers(context, compute, () => training.activeCount),
    ...datasetHandlers(context, datasets),
    ...runHandlers(store),
    ...trainingHandlers(training, store),
    ...presetHandlers(new IterationEstimator(opts.dataDir)),
    ...playgroundHandlers(playground),
    ...exportHandlers(context, {
      store,
      playgroundSource: (session) => playground.frameSource(session),
      runSource: (runId, { testIndex }) => playground.runSource(runId, testIndex),
    }),
  };
  // mirrors set in Settings apply to the next download at once
  const setSettings = handlers['app.settings.set']!;
  handlers['app.settings.set'] = async (patch, conn) => {
    const next = await setSettings(patch, conn);
    datasets.setMirrors(next.datasetMirrors);
    return next;
  };

  const router = new Router(handlers, log);
  return {
    router,
    hub,
    log,
    dataDir: opts.dataDir,
    context,
    async close() {
      await training.shutdown();
      playground.closeAll();
      store.close();
    },
  };
}
