/**
 * Everything a handler module may use: the services of one data directory. Built once by
 * createApp(); handler modules (src/main/handlers/*.ts) turn contract calls into service calls.
 */
import type { EventHub } from './transport/router.ts';
import type { SettingsStore } from './settings.ts';
import type { Logger } from './util/log.ts';

export interface AppContext {
  dataDir: string;
  mode: 'desktop' | 'browser';
  log: Logger;
  hub: EventHub;
  settings: SettingsStore;
}
