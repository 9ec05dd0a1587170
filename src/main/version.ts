import { createRequire } from 'node:module';

/** The version in package.json, stored with every run so results can be traced to a build. */
export const APP_VERSION: string = (
  createRequire(import.meta.url)('../../package.json') as { version: string }
).version;
