import WebSocket from 'ws';
import { expect, shot, test, type ServerInfo } from './fixtures.ts';

/** One API call over the server's WebSocket (to seed runs without training them). */
async function call(server: ServerInfo, method: string, params: unknown): Promise<Record<string, unknown>> {
  const ws = new WebSocket(`${server.origin.replace('http', 'ws')}/api?token=${server.token}`);
  await new Promise((r) => ws.once('open', r));
  const reply = await new Promise<{ ok: boolean; result?: Record<string, unknown>; error?: unknown }>(
    (resolve) => {
      ws.on('message', (d, isBinary) => {
        if (isBinary) return;
        const m = JSON.parse(d.toString());
        if (m.id === 1) resolve(m);
      });
      ws.send(JSON.stringify({ id: 1, method, params }));
    },
  );
  ws.close();
  if (!reply.ok) throw new Error(`${method} failed: ${JSON.stringify(reply.error)}`);
  return reply.result!;
}

test('the Runs view lists, searches, sorts, edits, deletes and selects runs to compare', async ({
  page,
  server,
}) => {
  const config = { task: 'classify', dataset: 'glyphs', iterations: 10 };
  const ids: string[] = [];
  for (const name of ['alpha glyphs', 'beta glyphs', 'gamma growing']) {
    const cfg = name.includes('growing')
      ? { task: 'grow', target: { kind: 'dataset', dataset: 'glyphs', index: 0 }, iterations: 10 }
      : config;
    const run = await call(server, 'runs.create', { name, config: cfg, start: false });
    ids.push(String(run.id));
  }

  await page.goto(server.url);
  const rows = page.getByTestId('run-row');
  await expect(rows).toHaveCount(3);
  await shot(page, 'runs-list');

  // search and filter
  await page.getByTestId('runs-search').fill('beta');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('beta glyphs');
  await page.getByTestId('runs-search').fill('');
  await expect(rows).toHaveCount(3);
  await page.getByLabel('Filter by task').selectOption('grow');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('gamma growing');
  await page.getByLabel('Filter by task').selectOption('');
  await expect(rows).toHaveCount(3);

  // sort by name, both ways
  await page.getByRole('button', { name: /^Name/ }).click();
  await expect(rows.first()).toContainText('alpha glyphs');
  await page.getByRole('button', { name: /^Name/ }).click();
  await expect(rows.first()).toContainText('gamma growing');

  // rename, tag and annotate; the store keeps it across a reload
  const alpha = page.locator(`[data-run-id="${ids[0]}"]`);
  await alpha.getByTestId('run-edit').click();
  await page.getByTestId('edit-name').fill('alpha renamed');
  await page.getByTestId('edit-tags').fill('baseline, e2e');
  await page.getByTestId('edit-notes').fill('seeded by the e2e test');
  await shot(page, 'runs-edit');
  await page.getByTestId('edit-save').click();
  await expect(alpha).toContainText('alpha renamed');
  await expect(alpha.locator('.tag')).toHaveText(['baseline', 'e2e']);
  await page.reload();
  await expect(page.locator(`[data-run-id="${ids[0]}"]`)).toContainText('alpha renamed');
  await page.getByLabel('Filter by tag').selectOption('baseline');
  await expect(rows).toHaveCount(1);
  await page.getByLabel('Filter by tag').selectOption('');

  // an empty name is refused where the user typed it
  await page.locator(`[data-run-id="${ids[1]}"]`).getByTestId('run-edit').click();
  await page.getByTestId('edit-name').fill('  ');
  await page.getByTestId('edit-save').click();
  await expect(page.getByRole('alert')).toContainText('A run needs a name');
  await page.getByRole('button', { name: 'Cancel' }).click();

  // delete asks first; "Keep it" keeps the run
  const gamma = page.locator(`[data-run-id="${ids[2]}"]`);
  await gamma.getByTestId('run-delete').click();
  await expect(page.getByTestId('delete-dialog')).toBeVisible();
  await shot(page, 'runs-delete-confirm');
  await page.getByRole('button', { name: 'Keep it' }).click();
  await expect(rows).toHaveCount(3);
  await gamma.getByTestId('run-delete').click();
  await page.getByTestId('confirm-delete').click();
  await expect(rows).toHaveCount(2);
  await expect(page.locator(`[data-run-id="${ids[2]}"]`)).toHaveCount(0);

  // multi-select opens Compare with the chosen ids
  await expect(page.getByTestId('compare-selected')).toBeDisabled();
  await page.getByLabel('Select alpha renamed for comparison').check();
  await page.getByLabel('Select beta glyphs for comparison').check();
  await page.getByTestId('compare-selected').click();
  await expect(page).toHaveURL(/#\/compare\//);
  const compared = decodeURIComponent(page.url().split('#/compare/')[1]).split(',');
  expect(compared.sort()).toEqual([ids[0], ids[1]].sort());

  // a run's name opens its live view
  await page.getByTestId('nav-runs').click();
  await page.getByRole('button', { name: 'beta glyphs', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`#/run/${ids[1]}`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('beta glyphs');
  // the live view follows the URL from one run straight to another (back button, edited address)
  await page.evaluate((id) => (location.hash = `#/run/${id}`), ids[0]);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('alpha renamed');
  await expect(page.getByTestId('start')).toBeVisible(); // a queued run offers Start
});
