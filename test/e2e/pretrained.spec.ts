import fs from 'node:fs';
import path from 'node:path';
import { expect, repoRoot, shot, startServer, test } from './fixtures.ts';

const index = JSON.parse(fs.readFileSync(path.join(repoRoot, 'resources/models/index.json'), 'utf8')) as {
  models: { id: string; title: string }[];
};

test('a fresh install lists the shipped models and opens one in the playground', async ({ page }) => {
  const server = await startServer({ pretrained: true });
  try {
    await page.goto(server.url);
    const rows = page.getByTestId('run-row');
    await expect(rows).toHaveCount(index.models.length);
    for (const m of index.models) await expect(page.getByText(m.title).first()).toBeVisible();
    await shot(page, 'runs-pretrained');
    // a shipped model cannot resume (weights only) but can be fine-tuned as a new run
    const mnistTitle = index.models.find((m) => m.id === 'mnist')!.title;
    await page.getByTestId('run-open').filter({ hasText: mnistTitle }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(mnistTitle);
    await expect(page.getByTestId('resume')).toHaveCount(0);
    await expect(page.getByTestId('continue-run')).toHaveText('Fine-tune as new run…');
    await page.getByTestId('continue-run').click();
    await expect(page.getByTestId('continue-dialog')).toBeVisible();
    await expect(page.getByTestId('continue-dialog')).toContainText('Fine-tune as a new run');
    await expect(page.getByTestId('continue-changes')).toContainText('fine-tunes these weights');
    await expect(page.getByTestId('continue-dialog').locator('#cfg-perception-kernel')).toBeDisabled();
    await expect(page.getByTestId('continue-dialog').locator('#cfg-channels')).toBeEnabled(); // may grow
    await shot(page, 'run-pretrained-finetune');
    await page.goto(server.url);
    await page.getByTestId('nav-playground').click();
    await expect(page.getByTestId('pg-grid')).toBeVisible();
    const open = async (title: string) => {
      const option = page.getByTestId('pg-run').locator('option', { hasText: title });
      await page.getByTestId('pg-run').selectOption((await option.getAttribute('value'))!);
      await page.getByTestId('pg-open').click();
      await expect(page.getByTestId('pg-step-count')).toContainText('step 0');
    };
    // a classifier: it predicts
    await open(index.models.find((m) => m.id === 'mnist')!.title);
    for (let i = 0; i < 20; i++) await page.getByTestId('pg-step').click();
    await expect(page.getByTestId('pg-step-count')).toContainText('20');
    await expect(page.getByTestId('pg-majority')).not.toBeEmpty();
    await shot(page, 'playground-pretrained');
    // a growing NCA: it grows from its seed, with no prediction panel
    const grow = index.models.find((m) => m.id.startsWith('grow-'));
    if (grow) {
      await open(grow.title);
      for (let i = 0; i < 30; i++) await page.getByTestId('pg-step').click();
      await expect(page.getByTestId('pg-step-count')).toContainText('30');
      await expect(page.getByTestId('pg-prediction')).toHaveCount(0);
      await shot(page, 'playground-pretrained-grow');
    }
  } finally {
    await server.stop();
  }
});
