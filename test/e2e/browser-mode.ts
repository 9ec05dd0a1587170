/**
 * Browser mode under test: start the real server (`nca serve`) on a free loopback port, and the
 * Chromium launch options every driver uses (Debian's Chromium, never a downloaded browser). Shared by
 * the e2e fixtures, playwright.config.ts and scripts/figures.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const sharedDatasets = path.resolve(repoRoot, '../shared/datasets');

export const chromiumLaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
};

export interface ServerInfo {
  url: string;
  origin: string;
  token: string;
  dataDir: string;
}

export interface StartServerOptions {
  /** the run store to serve (default: a fresh temporary directory) */
  dataDir?: string;
  /** install the shipped pretrained models on start (default: no, a test starts empty) */
  pretrained?: boolean;
  env?: Record<string, string>;
}

export async function startServer(
  o: StartServerOptions = {},
): Promise<ServerInfo & { proc: ChildProcess; stop(): Promise<void> }> {
  const dataDir = o.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'nca-e2e-'));
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/main/cli/index.ts',
      'serve',
      '--port',
      '0',
      '--json',
      ...(o.pretrained ? [] : ['--no-pretrained']),
      '--data-dir',
      dataDir,
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, NCA_DATASETS_PATH: process.env.NCA_DATASETS_PATH ?? sharedDatasets, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    proc.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    setTimeout(() => reject(new Error(`serve did not start in 60 s: ${stderr}`)), 60_000);
  });
  const { url } = JSON.parse(line) as { url: string };
  const u = new URL(url);
  return {
    url,
    origin: u.origin,
    token: u.searchParams.get('token')!,
    dataDir,
    proc,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
    },
  };
}
