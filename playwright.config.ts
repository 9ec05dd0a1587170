import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './test/e2e/browser-mode.ts';

/** E2E tests drive browser mode in Debian's Chromium (never a downloaded browser). */
export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results/playwright',
  timeout: 120_000,
  expect: { timeout: 20_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    viewport: { width: 1360, height: 860 },
    launchOptions: chromiumLaunchOptions,
  },
});
