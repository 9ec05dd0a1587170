import type { Locator } from '@playwright/test';
import WebSocket from 'ws';
import { expect, shot, test, type ServerInfo } from './fixtures.ts';

type Reply = { ok: boolean; result?: unknown; error?: unknown };

/** A WebSocket API client for seeding: trains a short quick-demo run to get a checkpoint. */
async function connect(server: ServerInfo) {
  const ws = new WebSocket(`${server.origin.replace('http', 'ws')}/api?token=${server.token}`);
  await new Promise((r) => ws.once('open', r));
  let next = 1;
  const pending = new Map<number, (r: Reply) => void>();
  ws.on('message', (d, isBinary) => {
    if (isBinary) return;
    const m = JSON.parse(d.toString());
    if (typeof m.id === 'number') pending.get(m.id)?.(m);
  });
  return {
    async call<T>(method: string, params: unknown): Promise<T> {
      const id = next++;
      const reply = await new Promise<Reply>((resolve) => {
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      });
      if (!reply.ok) throw new Error(`${method} failed: ${JSON.stringify(reply.error)}`);
      return reply.result as T;
    },
    close: () => ws.close(),
  };
}

const pixels = (canvas: Locator) => canvas.evaluate((c: HTMLCanvasElement) => c.toDataURL());

/**
 * Adversary cells of the painted frame (the grid's own count) once red dots are on the canvas; 0
 * while the canvas shows no adversary red at all.
 */
const redCells = (canvas: Locator) =>
  canvas.evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let red = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] === 255 && d[i + 1] === 40 && d[i + 2] === 40) red++;
    return red > 0 ? Number(c.dataset.adversaries) : 0;
  });

type Api = Awaited<ReturnType<typeof connect>>;

async function trainToCompletion(api: Api, name: string, config: unknown): Promise<string> {
  const run = await api.call<{ id: string }>('runs.create', { name, config, start: true });
  let message = '';
  await expect
    .poll(
      async () => {
        const r = await api.call<{ status: string; statusMessage: string | null }>('runs.get', {
          id: run.id,
        });
        message = r.statusMessage ?? '';
        return r.status;
      },
      { timeout: 180_000, intervals: [2000], message: `run "${name}" should complete` },
    )
    .toMatch(/completed|failed|diverged/);
  expect(message, `run "${name}" ended with`).toBe('');
  return run.id;
}

test('the playground runs a checkpoint on a test image and on a drawing, and the eraser damages cells', async ({
  page,
  server,
}) => {
  test.setTimeout(240_000);

  // a short quick-demo run leaves a checkpoint to play with
  const api = await connect(server);
  const presets = await api.call<{ id: string; config: Record<string, unknown> }[]>('presets.list', {});
  const quick = presets.find((p) => p.id === 'quick-demo')!;
  const config = {
    ...quick.config,
    iterations: 40,
    checkpoints: { every: 20, keepLatest: 2, keepBest: true },
    evaluation: { every: 40, images: 50, steps: 20, mutateSteps: 0 },
  };
  const runId = await trainToCompletion(api, 'playground seed', config);
  api.close();

  await page.goto(`${server.url}#/playground/${runId}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Playground');
  const grid = page.getByTestId('pg-grid');
  const stepCount = page.getByTestId('pg-step-count');
  await expect(page.getByTestId('pg-samples').locator('button')).not.toHaveCount(0);
  await expect(stepCount).toHaveText('step 0');
  await expect(grid).toBeVisible();

  // single steps and a short run move the cells on
  const atStart = await pixels(grid);
  await page.getByTestId('pg-step').click();
  await expect(stepCount).toHaveText('step 1');
  await page.getByTestId('pg-run-toggle').click();
  await expect
    .poll(async () => Number((await stepCount.textContent())!.replace('step ', '')))
    .toBeGreaterThan(20);
  await page.getByTestId('pg-run-toggle').click();
  expect(await pixels(grid)).not.toBe(atStart);
  await expect(page.getByTestId('pg-majority')).not.toHaveText('');
  await shot(page, 'playground-test-image');

  // draw a stroke: the cells take the drawing (step back to 0) and vote on it after some steps
  await page.getByTestId('pg-tab-draw').click();
  const pad = page.getByTestId('pg-drawpad');
  const box = (await pad.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) {
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.2 + i * 0.05));
  }
  await page.mouse.up();
  await expect(stepCount).toHaveText('step 0');
  const drawnFrame = await pixels(grid);
  expect(drawnFrame).not.toBe(atStart);
  const agreementBefore = await page.getByTestId('pg-agreement').textContent();
  await page.getByTestId('pg-run-toggle').click();
  await expect
    .poll(async () => Number((await stepCount.textContent())!.replace('step ', '')))
    .toBeGreaterThan(30);
  await page.getByTestId('pg-run-toggle').click();
  await expect(page.getByTestId('pg-agreement')).not.toHaveText(agreementBefore!);
  await shot(page, 'playground-drawn');

  // eraser: a drag across the grid removes cells, so fewer cells vote; the picture changes
  await page.getByTestId('pg-tool-erase').click();
  const beforeErase = await pixels(grid);
  const voters = async () => Number(await grid.getAttribute('data-voters'));
  const votersBefore = await voters();
  expect(votersBefore).toBeGreaterThan(0);
  const g = (await grid.boundingBox())!;
  await page.mouse.move(g.x + g.width * 0.2, g.y + g.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(g.x + g.width * 0.8, g.y + g.height * 0.5, { steps: 10 });
  await page.mouse.up();
  await expect.poll(() => pixels(grid)).not.toBe(beforeErase);
  await expect.poll(voters).toBeLessThan(votersBefore);
  const votersAfterErase = await voters();
  await shot(page, 'playground-erased');

  // the NCA reacts to the damage: the surviving cells pass messages into the hole and vote again
  await page.getByTestId('pg-run-toggle').click();
  await expect.poll(voters).toBeGreaterThan(votersAfterErase);
  await page.getByTestId('pg-run-toggle').click();
  await shot(page, 'playground-after-damage');

  // every channel can be shown as a heat map (the session renders the chosen one)
  const viewPicker = page.getByTestId('pg-view');
  await expect(viewPicker.locator('option[value="ch0"]')).toHaveText('0 · pixel');
  await expect(viewPicker.locator('option[value="ch1"]')).toHaveText('1 · hidden 1');
  await expect(viewPicker.locator('option[value^="ch"]')).toHaveCount(20);
  await expect(viewPicker.locator('option[value="ch10"]')).toHaveText('10 · logit: ring');
  const classView = await pixels(grid);
  await viewPicker.selectOption('ch0');
  await expect.poll(() => pixels(grid)).not.toBe(classView);
  const pixelView = await pixels(grid);
  await viewPicker.selectOption('ch12');
  await expect(viewPicker).toHaveValue('ch12');
  await expect.poll(() => pixels(grid)).not.toBe(pixelView);
  await shot(page, 'playground-heat-map');
  await viewPicker.selectOption('class');

  // export what the session shows as an animation
  await page.getByTestId('pg-export').click();
  const dialog = page.getByTestId('export-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('export-format-gif').check();
  await dialog.getByTestId('export-steps').fill('10');
  await dialog.getByTestId('export-scale').fill('3');
  await dialog.getByTestId('export-start').click();
  await expect(dialog.getByTestId('export-progress')).toHaveAttribute('data-state', 'done', {
    timeout: 60_000,
  });
  await shot(page, 'playground-export-done');
  await dialog.getByTestId('export-close').click();
  await expect(dialog).toHaveCount(0);

  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'playground-dark');
  await expect(page.getByTestId('pg-error')).toHaveCount(0);
});

test('with an adversarial run, clicked and sprinkled cells become adversaries (red) and the votes move', async ({
  page,
  server,
}) => {
  test.setTimeout(300_000);

  const api = await connect(server);
  const presets = await api.call<{ id: string; config: Record<string, unknown> }[]>('presets.list', {});
  const quick = presets.find((p) => p.id === 'quick-demo')!.config;
  const short = { checkpoints: { every: 10, keepLatest: 2, keepBest: true } };
  const classifier = await trainToCompletion(api, 'victim', {
    ...quick,
    ...short,
    iterations: 20,
    evaluation: { every: 20, images: 30, steps: 10, mutateSteps: 0 },
  });
  const attack = await trainToCompletion(api, 'attack', {
    ...quick,
    ...short,
    task: 'adversarial',
    classifierRunId: classifier,
    targetClass: 8,
    adversaryFraction: 0.05,
    iterations: 10,
    evaluation: { every: 10, images: 20, steps: 10, mutateSteps: 0 },
  });
  const [evaluation] = await api.call<{ attackSuccess: { fraction: number; successRate: number }[] }[]>(
    'runs.evaluations',
    { id: attack },
  );
  api.close();

  // the run's page reads the attack out: success per adversary share, as evaluated
  await page.goto(`${server.url}#/run/${attack}`);
  const table = page.getByTestId('attack-success');
  await expect(table.locator('thead th')).toHaveText([
    'iteration',
    'p = 0.5 %',
    'p = 1 %',
    'p = 2 %',
    'p = 5 %',
    'p = 10 %',
  ]);
  await expect(table.locator('tbody tr')).toHaveCount(1);
  await expect(table.locator('tbody tr td')).toHaveText(
    evaluation.attackSuccess.map((a) => `${(a.successRate * 100).toFixed(1)} %`),
  );
  await expect(page.getByTestId('evaluation')).toContainText('The attacked classifier alone at iteration 10');
  // its training curves count the cells showing the target, without the classifier's evaluations
  await expect(page.getByTestId('chart-accuracy')).toBeVisible();
  await expect(page.locator('figcaption', { hasText: /^Cells showing tee/ })).toBeVisible();
  await page.waitForTimeout(2000); // the curves' history loads field by field: let the screenshot have them
  await shot(page, 'run-adversary');

  await page.goto(`${server.url}#/playground/${attack}`);
  const grid = page.getByTestId('pg-grid');
  await expect(page.getByTestId('pg-samples').locator('button')).not.toHaveCount(0);
  await expect(grid).toBeVisible();
  await page.getByTestId('pg-step').click();
  await expect(page.getByTestId('pg-step-count')).toHaveText('step 1');
  expect(await redCells(grid)).toBe(0);

  // click cells along the middle row with the adversary tool: each becomes a red dot
  await page.getByTestId('pg-tool-adversary').click();
  const g = (await grid.boundingBox())!;
  for (const fx of [0.35, 0.45, 0.55, 0.65]) {
    await page.mouse.click(g.x + g.width * fx, g.y + g.height * 0.5);
  }
  await expect.poll(() => redCells(grid)).toBeGreaterThanOrEqual(4);
  await shot(page, 'playground-adversary-clicked');

  // sprinkle 10 %: many more adversaries; stepping lets them act on the votes
  const votesBefore = await page.getByTestId('pg-votes').textContent();
  await page.getByLabel('Adversary share').fill('0.1');
  await page.getByTestId('pg-sprinkle').click();
  await expect.poll(() => redCells(grid)).toBeGreaterThan(30);
  for (let i = 0; i < 5; i++) await page.getByTestId('pg-step').click();
  await expect(page.getByTestId('pg-votes')).not.toHaveText(votesBefore!);
  await shot(page, 'playground-adversary-sprinkled');
  await expect(page.getByTestId('pg-error')).toHaveCount(0);
});
