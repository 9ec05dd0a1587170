/**
 * Figures for docs/results.md, rendered by the workbench itself: starts browser mode on a data
 * directory, opens a run's view and the playground in Chromium, and saves the panels as PNG.
 *
 *   node --import tsx scripts/figures.ts --data-dir DIR --run ID --name PREFIX [--out docs/figures]
 *        [--steps N] [--screenshot] [--sprinkle [--share P]] [--sample K] [--damage]
 *   node --import tsx scripts/figures.ts --data-dir DIR --compare ID,ID[,...] --name PREFIX
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from '@playwright/test';
import { chromiumLaunchOptions, startServer } from '../test/e2e/browser-mode.ts';

const repo = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    run: { type: 'string' },
    name: { type: 'string' },
    out: { type: 'string', default: path.join(repo, 'docs/figures') },
    steps: { type: 'string', default: '60' },
    screenshot: { type: 'boolean', default: false },
    /** adversarial runs: sprinkle adversary cells (the playground's default share) before stepping */
    sprinkle: { type: 'boolean', default: false },
    /** adversarial runs: the share of cells --sprinkle makes adversaries (e.g. 0.05) */
    share: { type: 'string' },
    /** the playground's test image: the K-th of its sample strip (default the first) */
    sample: { type: 'string' },
    /** growing runs: after stepping, cut the centre out with the erase tool and step again */
    damage: { type: 'boolean', default: false },
    /** the playground's "Show" choice for the grid figures (e.g. ch3: the alpha channel as a heat map) */
    view: { type: 'string' },
    /** also (or only, without --run) the Datasets view's statistics of this dataset, test split */
    'dataset-stats': { type: 'string' },
    /** also (or only, without --run) the Compare view of these runs (comma-separated ids) */
    compare: { type: 'string' },
  },
});
if (!values['data-dir'] || !(values.run || values['dataset-stats'] || values.compare) || !values.name) {
  console.error(
    'usage: scripts/figures.ts --data-dir DIR (--run ID | --dataset-stats ID | --compare ID,ID) --name PREFIX [--out DIR] [--steps N]',
  );
  process.exit(2);
}
fs.mkdirSync(values.out!, { recursive: true });

// the pretrained models install into DIR if they are not there yet, as in the app
const server = await startServer({ dataDir: values['data-dir']!, pretrained: true });
const url = server.url;
const browser = await chromium.launch(chromiumLaunchOptions);
const save = async (page: Page, testId: string, file: string) => {
  const el = page.getByTestId(testId).first();
  await el.scrollIntoViewIfNeeded();
  await el.screenshot({ path: path.join(values.out!, file) });
  console.log(`wrote ${path.join(values.out!, file)}`);
};
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1.5 });
  await page.goto(url);
  if (values['dataset-stats']) {
    await page.goto(url + '#/datasets');
    await page.getByTestId(`dataset-item-${values['dataset-stats']}`).click();
    await page.getByTestId('dataset-stats').waitFor();
    await page.getByTestId('stats-split-test').click();
    await page.waitForTimeout(800);
    await save(page, 'dataset-stats', `${values.name}-stats.png`);
  }
  if (values.compare) {
    await page.goto(url + `#/compare/${encodeURIComponent(values.compare)}`);
    await page.getByTestId('compare-chart-perCellAccuracy').waitFor();
    await page.waitForTimeout(2500);
    for (const c of ['perCellAccuracy', 'agreement'])
      await save(page, `compare-chart-${c}`, `${values.name}-compare-${c}.png`);
    await save(page, 'compare-metrics', `${values.name}-compare-metrics.png`);
  }
  if (values.run) {
    await page.goto(url.replace('/?', '/?') + `#/run/${values.run}`);
    await page.getByTestId('chart-loss').waitFor();
    await page.waitForTimeout(2500);
    // growing runs chart only their loss
    for (const c of ['loss', 'accuracy', 'agreement'])
      if (await page.getByTestId(`chart-${c}`).count())
        await save(page, `chart-${c}`, `${values.name}-${c}.png`);
    if (await page.getByTestId('confusion').count())
      await save(page, 'evaluation', `${values.name}-evaluation.png`);
    if (await page.getByTestId('attack-success').count())
      await save(page, 'attack-success', `${values.name}-attack.png`);
    await page.goto(url + `#/playground/${values.run}`);
    await page.getByTestId('pg-grid').waitFor();
    await page.waitForTimeout(1500);
    if (values.view) await page.getByTestId('pg-view').selectOption(values.view);
    if (values.sample) {
      await page.getByTestId('pg-samples').locator('button').nth(Number(values.sample)).click();
      await page.waitForTimeout(500);
    }
    if (values.share) await page.getByLabel('Adversary share').fill(values.share);
    if (values.sprinkle) await page.getByTestId('pg-sprinkle').click();
    for (let i = 0; i < Number(values.steps); i++) await page.getByTestId('pg-step').click();
    await page.waitForTimeout(500);
    await page.locator('main').screenshot({ path: path.join(values.out!, `${values.name}-playground.png`) });
    console.log(`wrote ${values.name}-playground.png`);
    if (values.damage) {
      // the regrowth figure: grown, cut (a radius-7 cut at the centre), regrown
      const grid = page.getByTestId('pg-grid');
      await grid.screenshot({ path: path.join(values.out!, `${values.name}-1-grown.png`) });
      await page.getByTestId('pg-tool-erase').click();
      await page.getByLabel('Eraser radius in cells').fill('7');
      const box = (await grid.boundingBox())!;
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForTimeout(1500);
      await grid.screenshot({ path: path.join(values.out!, `${values.name}-2-damaged.png`) });
      for (let i = 0; i < Number(values.steps); i++) await page.getByTestId('pg-step').click();
      await page.waitForTimeout(500);
      await grid.screenshot({ path: path.join(values.out!, `${values.name}-3-regrown.png`) });
      console.log(`wrote ${values.name}-1-grown.png, -2-damaged.png, -3-regrown.png`);
    }
  }
  if (values.screenshot) {
    await page.screenshot({ path: path.join(values.out!, 'screenshot.png') });
    console.log('wrote screenshot.png');
  }
} finally {
  await browser.close();
  await server.stop();
}
