#!/usr/bin/env node
// Prepares better-sqlite3 for Electron's ABI in node_modules/.electron-native, leaving the Node build
// (CLI, browser mode, tests) untouched. Tries a prebuilt binary first, then builds from source.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..');
const target = path.join(root, 'node_modules/.electron-native/better_sqlite3.node');
const electronVersion = require('electron/package.json').version;
const stamp = `${target}.electron-${electronVersion}`;
if (fs.existsSync(target) && fs.existsSync(stamp)) process.exit(0);

const src = path.dirname(require.resolve('better-sqlite3/package.json'));
const work = path.join(root, 'node_modules/.electron-native/better-sqlite3');
fs.rmSync(work, { recursive: true, force: true });
fs.cpSync(src, work, { recursive: true, filter: (p) => !p.includes(`${path.sep}build${path.sep}`) });
const run = (cmd, args) => execFileSync(cmd, args, { cwd: work, stdio: 'inherit', env: process.env });
try {
  run(process.execPath, [
    require.resolve('prebuild-install/bin.js'),
    '--runtime',
    'electron',
    '--target',
    electronVersion,
  ]);
} catch {
  console.log(`no prebuilt better-sqlite3 for Electron ${electronVersion}; building from source`);
  run(process.platform === 'win32' ? 'npx.cmd' : 'npx', [
    '--yes',
    'node-gyp',
    'rebuild',
    '--release',
    `--target=${electronVersion}`,
    '--runtime=electron',
    '--dist-url=https://electronjs.org/headers',
  ]);
}
fs.copyFileSync(path.join(work, 'build/Release/better_sqlite3.node'), target);
fs.writeFileSync(stamp, '');
console.log(`better-sqlite3 ready for Electron ${electronVersion}: ${path.relative(root, target)}`);
