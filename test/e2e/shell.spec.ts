import WebSocket from 'ws';
import { expect, shot, test } from './fixtures.ts';

test('the tokened URL loads the app and every view is reachable from the sidebar', async ({
  page,
  server,
}) => {
  await page.goto(server.url);
  await expect(page.getByTestId('status-backend')).toContainText('Compute:');
  const views = [
    ['runs', 'Runs'],
    ['new', 'New run'],
    ['playground', 'Playground'],
    ['compare', 'Compare'],
    ['datasets', 'Datasets'],
    ['settings', 'Settings'],
  ] as const;
  for (const [id, title] of views) {
    await page.getByTestId(`nav-${id}`).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(title);
    await expect(page.getByTestId(`nav-${id}`)).toHaveAttribute('aria-current', 'page');
    await page.waitForTimeout(300);
    await shot(page, `view-${id}`);
  }
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.getByTestId('nav-settings').click();
  await shot(page, 'view-settings-dark');
});

test('without the token the page and the API are refused', async ({ page, server }) => {
  const res = await page.request.get(server.origin + '/', { headers: { cookie: '' } });
  expect(res.status()).toBe(403);
  const refused = await new Promise<string>((resolve) => {
    const ws = new WebSocket(server.origin.replace('http', 'ws') + '/api');
    ws.on('open', () => resolve('open'));
    ws.on('unexpected-response', (_req, r) => resolve(String(r.statusCode)));
    ws.on('error', () => resolve('error'));
  });
  expect(refused).toBe('401');
});

test('a malformed API message gets an error and the server keeps answering', async ({ server }) => {
  const ws = new WebSocket(`${server.origin.replace('http', 'ws')}/api?token=${server.token}`);
  await new Promise((r) => ws.once('open', r));
  const replies: unknown[] = [];
  ws.on('message', (d) => replies.push(JSON.parse(d.toString())));
  ws.send('{not json');
  ws.send(JSON.stringify({ id: 1, method: 'no.such.method' }));
  ws.send(JSON.stringify({ id: 2, method: 'app.settings.set', params: { frameRate: 'fast' } }));
  ws.send(JSON.stringify({ id: 3, method: 'app.info', params: {} }));
  await expect.poll(() => replies.length).toBe(4);
  expect(replies[0]).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  expect(replies[1]).toMatchObject({ id: 1, ok: false, error: { code: 'unknown_method' } });
  expect(replies[2]).toMatchObject({ id: 2, ok: false, error: { code: 'invalid_params' } });
  expect(replies[3]).toMatchObject({ id: 3, ok: true, result: { name: 'NCA Workbench', mode: 'browser' } });
  ws.close();
});
