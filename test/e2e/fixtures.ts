/**
 * Starts the real browser-mode server (`nca serve`) as a child process on a free loopback port with
 * a fresh data directory, once per test file, and hands the tokened URL to the tests.
 */
import { test as base } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const sharedDatasets = path.resolve(repoRoot, '../shared/datasets');
export const screenshotDir = path.join(repoRoot, 'test-results/screenshots');

export interface ServerInfo {
  url: string;
  origin: string;
  token: string;
  dataDir: string;
}

export async function startServer(
  extraEnv: Record<string, string> = {},
  opts: { pretrained?: boolean } = {},
): Promise<ServerInfo & { proc: ChildProcess; stop(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-e2e-'));
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
      ...(opts.pretrained ? [] : ['--no-pretrained']),
      '--data-dir',
      dataDir,
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, NCA_DATASETS_PATH: sharedDatasets, ...extraEnv },
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

/**
 * One server (and one fresh data directory) per test file, shared by the tests of that file: a
 * file's tests may build on each other, and no file sees another file's runs.
 */
let current: { file: string; server: Awaited<ReturnType<typeof startServer>> } | null = null;

export const test = base.extend<{ server: ServerInfo }, { serverReaper: void }>({
  serverReaper: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form
    async ({}, use) => {
      await use();
      await current?.server.stop();
      current = null;
    },
    { scope: 'worker', auto: true },
  ],
  // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form
  server: async ({}, use, testInfo) => {
    if (current?.file !== testInfo.file) {
      await current?.server.stop();
      current = { file: testInfo.file, server: await startServer() };
    }
    await use(current.server);
  },
});

export { expect } from '@playwright/test';

export async function shot(page: import('@playwright/test').Page, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`) });
}
