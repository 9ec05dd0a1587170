import fs from 'node:fs';
import path from 'node:path';
import { expect, repoRoot, shot, startServer, test } from './fixtures.ts';

const index = JSON.parse(fs.readFileSync(path.join(repoRoot, 'resources/models/index.json'), 'utf8')) as {
  models: { id: string; title: string }[];
};

test('a fresh install lists the shipped models and opens one in the playground', async ({ page }) => {
  const server = await startServer({}, { pretrained: true });
  try {
    await page.goto(server.url);
    const rows = page.getByTestId('run-row');
    await expect(rows).toHaveCount(index.models.length);
    for (const m of index.models) await expect(page.getByText(m.title).first()).toBeVisible();
    await shot(page, 'runs-pretrained');
    await page.getByTestId('nav-playground').click();
    await expect(page.getByTestId('pg-grid')).toBeVisible();
    for (let i = 0; i < 20; i++) await page.getByTestId('pg-step').click();
    await expect(page.getByTestId('pg-step-count')).toContainText('20');
    await expect(page.getByTestId('pg-majority')).not.toBeEmpty();
    await shot(page, 'playground-pretrained');
  } finally {
    await server.stop();
  }
});
