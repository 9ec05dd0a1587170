/**
 * The e2e fixture: one browser-mode server (browser-mode.ts) per test file, a check that no test
 * leaves an uncaught error in the page, and screenshots.
 */
import { test as base, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, startServer, type ServerInfo } from './browser-mode.ts';

export { repoRoot, startServer, type ServerInfo } from './browser-mode.ts';
export const screenshotDir = path.join(repoRoot, 'test-results/screenshots');

/**
 * One server (and one fresh data directory) per test file, shared by the tests of that file: a
 * file's tests may build on each other, and no file sees another file's runs.
 */
let current: { file: string; server: Awaited<ReturnType<typeof startServer>> } | null = null;

export const test = base.extend<{ server: ServerInfo; pageErrors: string[] }, { serverReaper: void }>({
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
  // Every test fails on an uncaught exception in the renderer, even one that leaves the UI looking fine.
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await use(errors);
      expect(errors, 'uncaught errors in the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect } from '@playwright/test';

export async function shot(page: import('@playwright/test').Page, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`) });
}
