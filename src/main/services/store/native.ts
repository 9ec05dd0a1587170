/**
 * better-sqlite3 is a native addon, built for one ABI. Node (CLI, browser mode, tests) uses the
 * build in node_modules; Electron needs one built for its own ABI, which `npm start` prepares in
 * node_modules/.electron-native (scripts/electron-native.mjs) so both can live side by side.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function sqliteNativeBinding(): string | undefined {
  if (process.env.NCA_SQLITE_BINDING) return process.env.NCA_SQLITE_BINDING;
  if (!process.versions.electron) return undefined;
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', '.electron-native', 'better_sqlite3.node');
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}
