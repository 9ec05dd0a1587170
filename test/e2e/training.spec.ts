import type { Locator, Page } from '@playwright/test';
import { expect, shot, test } from './fixtures.ts';

/** The canvas pixels as a data URL: equal strings mean an unchanged picture. */
const pixels = (canvas: Locator) => canvas.evaluate((c: HTMLCanvasElement) => c.toDataURL());

async function openNewRun(page: Page): Promise<void> {
  await page.getByTestId('nav-new').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('New run');
}

test('the New-run form is generated from the schema and validates inline', async ({ page, server }) => {
  await page.goto(server.url);
  await openNewRun(page);
  await expect(page.getByTestId('preset-select')).toHaveValue('quick-demo');
  await expect(page.getByTestId('dataset-select')).toHaveValue('glyphs');
  await expect(page.getByTestId('dataset-preview').locator('img')).toHaveCount(10);
  for (const group of ['Model', 'Perception', 'Training', 'Pool', 'Evaluation']) {
    await expect(page.getByRole('group', { name: group, exact: true })).toBeVisible();
  }
  await expect(page.getByTestId('estimate-params')).toHaveText(/^[\d,]+$/, { timeout: 60_000 });
  await shot(page, 'new-run');
  // a classifier's best checkpoint can be ranked by agreement (growing runs have no such choice)
  const bestBy = page.getByLabel('Best by');
  await expect(bestBy).toHaveValue('accuracy');
  await expect(bestBy.locator('option')).toHaveText(['accuracy', 'agreement']);
  await bestBy.scrollIntoViewIfNeeded();
  await shot(page, 'new-run-checkpoints');

  // a value outside the schema's limits is named where the user typed it, and Start refuses
  const channels = page.getByLabel('State channels');
  await channels.fill('2');
  await expect(page.getByTestId('field-error-channels')).toHaveText('must be at least 3');
  await expect(channels).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Hidden layers').fill('80, x');
  await expect(page.getByTestId('field-error-hidden')).toContainText('"x" is not a number');
  await page.getByTestId('start-run').click();
  await expect(page.getByTestId('start-error')).toContainText('Fix the highlighted fields');
  await shot(page, 'new-run-invalid');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'new-run-invalid-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // switching task regenerates the form (growing has no perception group, has a target group)
  await page.getByTestId('task-grow').click();
  await expect(page.getByRole('group', { name: 'Target', exact: true })).toBeVisible();
  await expect(page.getByRole('group', { name: 'Perception', exact: true })).toHaveCount(0);
  await expect(page.getByLabel('Best by')).toHaveCount(0);
});

test('a quick-demo run learns live: chart passes chance, the grid animates, pause and resume work', async ({
  page,
  server,
}) => {
  test.setTimeout(240_000);
  await page.goto(server.url);
  await openNewRun(page);
  await expect(page.getByTestId('preset-select')).toHaveValue('quick-demo');
  await page.getByTestId('run-name').fill('e2e quick demo');
  await page.getByTestId('start-run').click();

  await expect(page).toHaveURL(/#\/run\//);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('e2e quick demo');
  await expect(page.getByTestId('status-badge')).toHaveAttribute('data-status', 'running', {
    timeout: 60_000,
  });

  // the grid's pixels change between frames
  const grid = page.getByTestId('live-grid');
  await expect(grid).toBeVisible({ timeout: 60_000 });
  const first = await pixels(grid);
  await expect.poll(async () => (await pixels(grid)) !== first, { timeout: 30_000 }).toBe(true);

  // frames of intermediate rollout steps: the grid paints over 20 frames a second (its measured
  // rate, a second at a time) and one iteration shows several steps
  await expect
    .poll(async () => Number(await grid.getAttribute('data-fps')), { timeout: 30_000, intervals: [500] })
    .toBeGreaterThan(20);
  const info = page.getByTestId('grid-info');
  const seen = new Map<string, Set<string>>();
  for (let i = 0; i < 40; i++) {
    const it = (await info.getAttribute('data-iteration'))!;
    seen.set(it, (seen.get(it) ?? new Set()).add((await info.getAttribute('data-step'))!));
    await page.waitForTimeout(20);
  }
  expect(Math.max(...[...seen.values()].map((s) => s.size))).toBeGreaterThanOrEqual(2);
  await expect(info).toContainText(/step \d+ · iteration [\d,]+ · \d+ fps/);

  // every channel can be shown as a heat map: pixel, hidden channels, one logit per class
  const viewPicker = page.getByTestId('grid-view');
  await expect(viewPicker.locator('option[value="ch0"]')).toHaveText('0 · pixel');
  await expect(viewPicker.locator('option[value^="ch"]')).toHaveCount(20);
  await expect(viewPicker.locator('option[value="ch19"]')).toContainText('logit');
  const beforeHeat = await pixels(grid);
  await viewPicker.selectOption('ch19');
  await expect(info).toContainText('channel 19', { timeout: 10_000 });
  await expect.poll(async () => (await pixels(grid)) !== beforeHeat, { timeout: 10_000 }).toBe(true);
  await shot(page, 'run-live-heat-map');
  await viewPicker.selectOption('class');

  // per-cell accuracy (what the chart plots), averaged over the last 20 iterations so one lucky
  // batch does not count, passes chance (10 classes) by a clear margin
  const accuracy = page.getByTestId('stat-accuracy');
  await expect
    .poll(async () => Number((await accuracy.getAttribute('data-recent')) || 0), {
      timeout: 150_000,
      intervals: [1000],
    })
    .toBeGreaterThan(0.2);
  await expect(page.getByTestId('chart-accuracy')).not.toHaveAttribute('data-revision', '0');
  await shot(page, 'run-live');

  // pause: the status says so and the iteration count stops
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('status-badge')).toHaveAttribute('data-status', 'paused');
  const iteration = page.getByTestId('stat-iteration');
  await page.waitForTimeout(1000);
  const pausedAt = await iteration.textContent();
  await page.waitForTimeout(1500);
  await expect(iteration).toHaveText(pausedAt!);
  await shot(page, 'run-paused');

  // resume: iterations move on again
  await page.getByTestId('resume').click();
  await expect(page.getByTestId('status-badge')).toHaveAttribute('data-status', 'running');
  await expect(iteration).not.toHaveText(pausedAt!, { timeout: 30_000 });

  // smoothing and the wall-time axis re-draw without errors
  await page.getByTestId('smoothing').fill('0.9');
  await page.getByRole('radio', { name: 'Wall time' }).click();
  await page.waitForTimeout(500);
  await shot(page, 'run-live-wall-time');

  await page.getByTestId('stop').click();
  await expect(page.getByTestId('status-badge')).toHaveAttribute('data-status', /stopped|completed/, {
    timeout: 30_000,
  });

  // no more frames: the measured rate falls to 0
  await expect(grid).toHaveAttribute('data-fps', '0', { timeout: 10_000 });

  // a finished run exports its best checkpoint on a test image as an animation
  await page.getByTestId('export-video').click();
  const dialog = page.getByTestId('export-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('export-format-gif').check();
  await dialog.getByTestId('export-steps').fill('12');
  await dialog.getByTestId('export-scale').fill('3');
  await expect(dialog.getByTestId('export-file')).toHaveValue(new RegExp(`${server.dataDir}/.+\\.gif$`));
  await dialog.getByTestId('export-start').click();
  await expect(dialog.getByTestId('export-progress')).toHaveAttribute('data-state', 'done', {
    timeout: 60_000,
  });
  await shot(page, 'run-export-done');
});

test('a stopped run continues as a new run from a checkpoint, with a changed learning rate', async ({
  page,
  server,
}) => {
  test.setTimeout(120_000);
  // the run stopped by the previous test (same server): open it from the list
  await page.goto(`${server.url}#/runs`);
  await page.getByTestId('run-open').filter({ hasText: 'e2e quick demo' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('e2e quick demo');
  const parentUrl = page.url();
  // the run's history has loaded (its iteration count is not 0)
  await expect(page.getByTestId('stat-iteration')).not.toHaveText(/^0\D/);
  const parentIteration = await page.getByTestId('stat-iteration').textContent();

  await page.getByTestId('continue-run').click();
  const dialog = page.getByTestId('continue-dialog');
  await expect(dialog).toBeVisible();
  // the latest checkpoint is offered first; the model fields are shown but kept, except that a
  // classifier may grow (its checkpoint is widened) and may not shrink
  await expect(dialog.getByTestId('continue-checkpoint').locator('option').first()).toContainText('latest');
  await expect(dialog.locator('#cfg-perception-kernel')).toBeDisabled();
  await expect(dialog.getByTestId('continue-changes')).toContainText('No changes');
  const channels = dialog.locator('#cfg-channels');
  await expect(channels).toBeEnabled();
  await channels.fill('19');
  await expect(dialog.getByTestId('continue-model-error')).toContainText('channels: must stay 20 or grow');
  await expect(dialog.getByTestId('continue-start')).toBeDisabled();
  await channels.fill('24');
  await expect(dialog.getByTestId('continue-model-error')).toHaveCount(0);
  await expect(dialog.getByTestId('continue-widening')).toContainText('new units start silent');
  // each growable field says how it may grow: only hidden layers may also be appended
  await expect(dialog.locator('#cfg-hidden-help')).toContainText('appended as wide as the last');
  await expect(dialog.locator('#cfg-channels-help')).not.toContainText('appended');
  await shot(page, 'run-continue-widen');
  await channels.fill('20');
  await expect(dialog.getByTestId('continue-widening')).toHaveCount(0);
  await expect(dialog.getByTestId('continue-changes')).toContainText('No changes');
  // a bad value is caught in the form, before anything starts
  await dialog.locator('#cfg-optimizer-lr').fill('5');
  await expect(dialog.getByTestId('field-error-optimizer.lr')).toBeVisible();
  await expect(dialog.getByTestId('continue-start')).toBeDisabled();
  await dialog.locator('#cfg-optimizer-lr').fill('0.0005');
  await expect(dialog.getByTestId('continue-changes')).toContainText('optimizer.lr 0.002 → 0.0005');
  await expect(dialog.getByTestId('continue-name')).toHaveValue(/^e2e quick demo \(from [\d,]+\)$/);
  await shot(page, 'run-continue-dialog');
  await dialog.getByTestId('continue-start').click();

  // the new run opens, trains on from the checkpoint (its count starts there, not at 0)
  await expect(page).not.toHaveURL(parentUrl);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^e2e quick demo \(from [\d,]+\)$/);
  await expect(page.getByTestId('status-badge')).toHaveAttribute('data-status', 'running', {
    timeout: 60_000,
  });
  const from = Number(
    (await page.getByRole('heading', { level: 1 }).textContent())!
      .match(/from ([\d,]+)/)![1]
      .replace(/,/g, ''),
  );
  expect(from).toBeGreaterThan(0);
  // the new run links back to its parent
  await expect(page.getByTestId('parent-run')).toHaveAttribute('href', parentUrl.replace(/^.*#/, '#'));
  expect(from).toBeLessThanOrEqual(Number(parentIteration!.split('/')[0].replace(/\D/g, '')));
  const iteration = page.getByTestId('stat-iteration');
  await expect
    .poll(async () => Number((await iteration.textContent())!.split('/')[0].replace(/\D/g, '')), {
      timeout: 60_000,
    })
    .toBeGreaterThan(from);
  await page.getByTestId('stop').click();
  await expect(page.getByTestId('status-badge')).toHaveAttribute('data-status', /stopped|completed/, {
    timeout: 30_000,
  });
});

test('a run’s checkpoints average into a new run that opens in the playground', async ({ page, server }) => {
  test.setTimeout(90_000);
  // the continued run of the previous test (same server) keeps its start and its stop checkpoints
  await page.goto(`${server.url}#/runs`);
  await page
    .getByTestId('run-open')
    .filter({ hasText: /^e2e quick demo \(from [\d,]+\)$/ })
    .click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^e2e quick demo \(from [\d,]+\)$/);
  const parentUrl = page.url();
  // a stopped run's toolbar: no Stop or Checkpoint now, which it cannot use, and its actions on one line
  await expect(page.getByTestId('status-badge')).toHaveAttribute('data-status', /stopped|completed/);
  await expect(page.getByTestId('stop')).toHaveCount(0);
  await expect(page.getByTestId('checkpoint')).toHaveCount(0);
  const tops = await page
    .getByRole('toolbar', { name: 'Training controls' })
    .getByRole('button')
    .evaluateAll((buttons) => buttons.map((b) => Math.round(b.getBoundingClientRect().top)));
  expect(tops.length).toBeGreaterThanOrEqual(4);
  expect(new Set(tops).size).toBe(1);
  await shot(page, 'run-stopped-toolbar');
  await page.getByTestId('average-run').click();
  const dialog = page.getByTestId('average-dialog');
  await expect(dialog).toBeVisible();
  const boxes = dialog.getByTestId('average-checkpoints').locator('input[type=checkbox]');
  await expect.poll(() => boxes.count()).toBeGreaterThanOrEqual(2);
  const count = await boxes.count();
  await expect(dialog.getByTestId('average-checkpoints')).toContainText(`${count} of ${count} chosen`);
  // one checkpoint is no average: the button waits for a second
  for (let i = 1; i < count; i++) await boxes.nth(i).uncheck();
  await expect(dialog.getByTestId('average-save')).toBeDisabled();
  for (let i = 1; i < count; i++) await boxes.nth(i).check();
  await shot(page, 'run-average-dialog');
  await dialog.getByTestId('average-save').click();

  await expect(page).not.toHaveURL(parentUrl);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(
    new RegExp(`^e2e quick demo \\(from [\\d,]+\\) \\(weights averaged over ${count} checkpoints, `),
  );
  await expect(page.getByTestId('status-badge')).toHaveAttribute('data-status', 'stopped');
  await expect(page.getByTestId('parent-run')).toHaveAttribute('href', parentUrl.replace(/^.*#/, '#'));
  await page.getByTestId('open-playground').click();
  await page.getByTestId('pg-open').click();
  await expect(page.getByTestId('pg-step-count')).toContainText('step 0');
  for (let i = 0; i < 5; i++) await page.getByTestId('pg-step').click();
  await expect(page.getByTestId('pg-step-count')).toContainText('5');
  await expect(page.getByTestId('pg-majority')).not.toBeEmpty();
});
