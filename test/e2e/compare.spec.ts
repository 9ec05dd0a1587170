import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import type { Locator, Page } from '@playwright/test';
import { expect, shot, test, type ServerInfo } from './fixtures.ts';

interface Reply {
  ok: boolean;
  result?: { id: string; status: string; session: string; job: string };
  error?: { code: string; message: string };
}

/** API calls over the browser-mode WebSocket (setup outside the page). */
class Api {
  private ws!: WebSocket;
  private next = 1;
  private waiting = new Map<number, (m: unknown) => void>();
  static async connect(server: ServerInfo): Promise<Api> {
    const api = new Api();
    api.ws = new WebSocket(`${server.origin.replace('http', 'ws')}/api?token=${server.token}`);
    await new Promise((r) => api.ws.once('open', r));
    api.ws.on('message', (d, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(d.toString()) as { id?: number };
      if (m.id !== undefined) api.waiting.get(m.id)?.(m);
    });
    return api;
  }
  call(method: string, params: unknown): Promise<Reply> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve as (m: unknown) => void);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  close(): void {
    this.ws.close();
  }
}

/** a classifier small enough to train in seconds on two cores, evaluated and checkpointed */
/** distinct colours painted on a canvas (1: blank) */
const colours = (canvas: Locator) =>
  canvas.evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < d.length; i += 4)
      seen.add((d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3]);
    return seen.size;
  });

const tinyConfig = (lr: number, hidden: number) => ({
  task: 'classify',
  dataset: 'glyphs',
  channels: 14,
  perception: { kind: 'learned', kernel: 3, filters: 16 },
  hidden: [hidden],
  steps: 8,
  batch: 8,
  pool: { size: 32, freshFraction: 0.5, mutateFraction: 0 },
  iterations: 40,
  optimizer: { lr },
  evaluation: { every: 20, images: 40, steps: 20, mutateSteps: 0 },
  checkpoints: { every: 20, keepLatest: 2, keepBest: true },
});

let runIds: string[] = [];

async function trainedRuns(server: ServerInfo): Promise<string[]> {
  if (runIds.length) return runIds;
  const api = await Api.connect(server);
  try {
    const created = await Promise.all([
      api.call('runs.create', { name: 'compare A (lr 3e-3)', config: tinyConfig(3e-3, 16), start: true }),
      api.call('runs.create', { name: 'compare B (lr 1e-2)', config: tinyConfig(1e-2, 24), start: true }),
    ]);
    for (const c of created) expect(c, JSON.stringify(c.error)).toMatchObject({ ok: true });
    const ids = created.map((c) => c.result!.id);
    await expect
      .poll(
        async () =>
          (await Promise.all(ids.map((id) => api.call('runs.get', { id })))).map((r) => r.result?.status),
        { timeout: 180_000, intervals: [1000] },
      )
      .toEqual(['completed', 'completed']);
    runIds = ids;
    return ids;
  } finally {
    api.close();
  }
}

async function openCompare(page: Page, server: ServerInfo, ids: string[]): Promise<void> {
  await page.goto(`${server.url}#/compare/${ids.join(',')}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Compare');
  await expect(page.getByTestId('compare-legend')).toContainText('compare A');
  await expect(page.getByTestId('compare-legend')).toContainText('compare B');
}

test('compare: overlaid curves, metric and config tables, confusion difference, metrics export', async ({
  page,
  server,
}) => {
  test.setTimeout(300_000);
  const ids = await trainedRuns(server);
  await openCompare(page, server, ids);

  // both runs are picked, and the selection is what the URL says
  for (const id of ids) await expect(page.getByTestId(`pick-${id}`)).toBeChecked();
  for (const field of ['loss', 'perCellAccuracy', 'agreement', 'lr'])
    await expect(page.getByTestId(`compare-chart-${field}`).locator('canvas')).toBeVisible();

  // the hyper-parameters that differ are highlighted, the ones that agree are not
  const diffRows = page.getByTestId('config-row-diff');
  await expect(diffRows.filter({ has: page.locator('th', { hasText: /^optimizer\.lr$/ }) })).toHaveCount(1);
  await expect(diffRows.filter({ has: page.locator('th', { hasText: /^hidden$/ }) })).toHaveCount(1);
  await expect(page.locator('[data-testid="config-row"][data-key="dataset"]')).toHaveCount(1);
  await expect(page.getByTestId('config-diff-count')).toContainText(/^2 of \d+ settings differ$/);

  // final/best metrics: one row per run, the best of each column marked
  await expect(page.getByTestId('metrics-row')).toHaveCount(2);
  await expect(page.getByTestId('best-bestLoss')).toHaveCount(1);
  await expect(page.getByTestId('best-acc20').first()).toBeVisible();
  // every column fits beside the run names: no horizontal scrolling to reach agreement @200
  const overflow = await page
    .getByTestId('compare-metrics')
    .locator('.scroll')
    .evaluate((el) => el.scrollWidth - el.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);

  // the two evaluations' confusion matrices, B minus A
  await expect(page.getByTestId('confusion-canvas')).toBeVisible();
  await page.getByTestId('compare-confusion').scrollIntoViewIfNeeded();
  await shot(page, 'compare-tables');

  // PNG of a chart downloads
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('png-loss').click()]);
  expect(download.suggestedFilename()).toBe('compare-loss.png');
  const png = fs.readFileSync(await download.path());
  expect(png.subarray(1, 4).toString()).toBe('PNG');

  // metrics of both runs as CSV, written by the server
  const csv = path.join(server.dataDir, 'e2e-compare.csv');
  await page.getByTestId('metrics-file').fill(csv);
  await page.getByTestId('metrics-export').click();
  await expect.poll(() => fs.existsSync(csv)).toBe(true);
  const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
  expect(lines[0]).toMatch(/^runId,runName,iteration,loss/);
  expect(new Set(lines.slice(1).map((l) => l.split(',')[0]))).toEqual(new Set(ids));

  await page.locator('.content').evaluate((el) => el.scrollTo(0, 0));
  await shot(page, 'compare-curves');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.getByTestId('compare-metrics').scrollIntoViewIfNeeded();
  await shot(page, 'compare-dark');
});

test('compare: play side by side, then export a GIF and an MP4 from the UI', async ({ page, server }) => {
  test.setTimeout(300_000);
  const ids = await trainedRuns(server);
  await openCompare(page, server, ids);
  const panels = page.getByTestId('lockstep-panel');
  await expect(panels).toHaveCount(2);
  await expect(page.getByTestId('lockstep-play')).toBeEnabled({ timeout: 60_000 });
  // at step 0, before any step, every grid already shows the chosen test image (its first frame,
  // sent while the panel was opening, is not lost): more than one colour on the canvas
  for (const grid of await page.getByTestId('lockstep-grid').all())
    await expect.poll(() => colours(grid), { timeout: 5_000 }).toBeGreaterThan(1);
  await page.getByTestId('lockstep-step').click();
  await expect(page.getByTestId('lockstep-step-count')).toHaveText('step 1');
  await page.getByTestId('lockstep-play').click();
  await expect
    .poll(async () =>
      Number((await page.getByTestId('lockstep-step-count').textContent())?.replace('step ', '')),
    )
    .toBeGreaterThan(5);
  await page.getByTestId('lockstep-play').click(); // pause
  // a tick already sent lands; then Step is enabled again and nothing moves any more
  await expect(page.getByTestId('lockstep-step')).toBeEnabled();
  const paused = await page.getByTestId('lockstep-step-count').textContent();
  await page.waitForTimeout(500);
  await expect(page.getByTestId('lockstep-step-count')).toHaveText(paused!);
  await page.getByTestId('compare-lockstep').scrollIntoViewIfNeeded();
  await shot(page, 'compare-lockstep');

  for (const format of ['gif', 'mp4'] as const) {
    await page.getByTestId('lockstep-export').click();
    const dialog = page.getByTestId('export-dialog');
    await expect(dialog).toBeVisible();
    await page.getByTestId(`export-format-${format}`).check();
    const file = path.join(server.dataDir, `e2e-compare.${format}`);
    await page.getByTestId('export-file').fill(file);
    await page.getByTestId('export-steps').fill('30');
    await page.getByTestId('export-scale').fill('3');
    await page.getByTestId('export-start').click();
    await expect(page.getByTestId('export-progress')).toHaveAttribute('data-state', 'done', {
      timeout: 120_000,
    });
    await shot(page, `compare-export-${format}`);
    const out = execFileSync(
      'ffprobe',
      [
        '-v',
        'error',
        '-count_frames',
        '-show_entries',
        'stream=codec_name,nb_read_frames',
        '-of',
        'csv=p=0',
        file,
      ],
      { encoding: 'utf8' },
    ).trim();
    expect(out).toBe(`${format === 'gif' ? 'gif' : 'h264'},31`);
    await page.getByTestId('export-close').click();
    await expect(dialog).toBeHidden();
  }
});
