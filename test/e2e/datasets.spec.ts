import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { expect, shot, test } from './fixtures.ts';

/** One API call over the browser-mode WebSocket (test setup outside the page). */
async function apiCall(origin: string, token: string, method: string, params: unknown): Promise<unknown> {
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/api?token=${token}`);
  await new Promise((r) => ws.once('open', r));
  const reply = new Promise<unknown>((resolve) =>
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { id?: number };
      if (m.id === 1) resolve(m);
    }),
  );
  ws.send(JSON.stringify({ id: 1, method, params }));
  const r = await reply;
  ws.close();
  return r;
}

test('datasets: Hiragana classes with readings, samples per class, statistics, licence and citation', async ({
  page,
  server,
}) => {
  await page.goto(server.url + '#/datasets');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Datasets');
  for (const id of ['mnist', 'fashion-mnist', 'kmnist', 'kmnist-split', 'glyphs'])
    await expect(page.getByTestId(`dataset-item-${id}`)).toBeVisible();

  await page.getByTestId('dataset-item-kmnist-split').click();
  await expect(page.getByTestId('dataset-title')).toContainText('split');
  const rows = page.getByTestId('dataset-class-row');
  await expect(rows).toHaveCount(10);
  for (const [glyph, reading] of [
    ['お', 'o'],
    ['き', 'ki'],
    ['す', 'su'],
    ['つ', 'tsu'],
    ['な', 'na'],
    ['は', 'ha'],
    ['ま', 'ma'],
    ['や', 'ya'],
    ['れ', 're'],
    ['を', 'wo'],
  ]) {
    const row = rows.filter({ hasText: glyph });
    await expect(row.locator('.reading')).toHaveText(reading);
    await expect(row.locator('img')).toHaveCount(10);
  }
  await expect(page.getByTestId('dataset-licence')).toContainText('CC BY-SA 4.0');
  await page.getByText('Citation').click();
  await expect(page.getByTestId('dataset-citation')).toContainText(/Clanuwat/i);
  await expect(page.getByTestId('stats-class-row')).toHaveCount(10, { timeout: 60_000 });
  await expect(page.getByTestId('stats-count')).toHaveText('8,000');
  await page.getByTestId('stats-split-test').click();
  await expect(page.getByTestId('stats-count')).toHaveText('2,000');
  await expect(page.getByTestId('stats-alive')).toContainText('%');
  await page.waitForTimeout(300);
  await shot(page, 'datasets-kmnist-split');

  await page.getByTestId('dataset-item-fashion-mnist').click();
  await expect(page.getByTestId('dataset-class-row').first()).toContainText('T-shirt');
  await expect(page.getByTestId('stats-class-row')).toHaveCount(10, { timeout: 60_000 });
  await shot(page, 'datasets-fashion-mnist');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.getByTestId('dataset-item-kmnist-split').click();
  await expect(page.getByTestId('stats-class-row')).toHaveCount(10, { timeout: 60_000 });
  await page.locator('.content').evaluate((el) => el.scrollTo(0, 0));
  await shot(page, 'datasets-dark');
});

test('datasets: a download shows bytes, rate and ETA and can be cancelled', async ({ page, server }) => {
  // a mirror that trickles the missing KMNIST training images and never finishes on its own
  const mirror = http.createServer((req, res) => {
    const total = 18_165_135;
    res.writeHead(200, { 'content-length': String(total), 'content-type': 'application/octet-stream' });
    const timer = setInterval(() => res.write(Buffer.alloc(32 * 1024, 7)), 100);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => mirror.listen(0, '127.0.0.1', r));
  const port = (mirror.address() as AddressInfo).port;
  try {
    const set = await apiCall(server.origin, server.token, 'app.settings.set', {
      datasetMirrors: { kmnist: `http://127.0.0.1:${port}/` },
    });
    expect(set).toMatchObject({ ok: true });
    await page.goto(server.url + '#/datasets');
    await page.getByTestId('dataset-item-kmnist').click();
    await expect(page.getByTestId('dataset-availability')).toHaveText('files missing');
    await page.getByTestId('download-start').click();
    const numbers = page.getByTestId('download-numbers');
    await expect(numbers).toContainText(/of 17\.\d MB/);
    await expect(numbers).toContainText(/KB\/s|MB\/s/);
    await expect(numbers).toContainText(/left/);
    await shot(page, 'datasets-download-progress');
    await page.getByTestId('download-cancel').click();
    await expect(page.getByTestId('download-progress')).toHaveCount(0);
    await expect(page.getByTestId('download-start')).toBeVisible();
    await expect(page.getByText('Download of Kuzushiji-MNIST cancelled')).toBeVisible();
  } finally {
    mirror.closeAllConnections();
    await new Promise((r) => mirror.close(r));
  }
});

test('datasets: importing a folder that is not there says so', async ({ page, server }) => {
  await page.goto(server.url + '#/datasets');
  await page.getByTestId('import-path').fill('/nonexistent/folder');
  await page.getByTestId('import-name').fill('Nothing here');
  await page.getByTestId('import-submit').click();
  await expect(page.getByTestId('import-error')).toContainText('/nonexistent/folder');
});
