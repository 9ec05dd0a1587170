import os from 'node:os';
import path from 'node:path';

export const APP_ID = 'nca-workbench';

/**
 * The platform's per-user data directory, the same one Electron's `userData` resolves to, so the
 * desktop app, browser mode and the CLI share runs and datasets by default.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.NCA_DATA_DIR) return path.resolve(env.NCA_DATA_DIR);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_ID);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_ID);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), APP_ID);
}

export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ? path.resolve(flag) : defaultDataDir(env);
}
