import type { CliCommand } from '../types.ts';
import { datasetsCommand } from './datasets.ts';
import { exportCommand } from './export.ts';
import { runsCommand } from './runs.ts';
import { serveCommand } from './serve.ts';
import { evalCommand, trainCommand } from './train.ts';

/**
 * Every `nca` sub-command. Each service's owner adds its command module here
 * (datasets, train, eval, runs, export, serve).
 */
export const commands: CliCommand[] = [
  trainCommand,
  evalCommand,
  datasetsCommand,
  runsCommand,
  exportCommand,
  serveCommand,
];
