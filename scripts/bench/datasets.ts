/**
 * Dataset benchmark rows: loading all of Fashion-MNIST (70,000 images from Debian's gzipped IDX
 * files; target < 1 s), MNIST from ../shared/datasets when present, generating the glyphs dataset,
 * and computing Fashion-MNIST statistics (islands included). Median of a few runs after a warm-up.
 * Standalone: `node --import tsx scripts/bench/datasets.ts [--quick]`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadDataset, splitStats } from '../../src/main/services/datasets/index.ts';
import type { BenchOptions, BenchRow } from './types.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repoRoot, '../shared/datasets');

async function timed(repeats: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn(); // warm-up: module JIT, page cache
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

const rssMb = () => Math.round(process.memoryUsage().rss / 1e6);

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const repeats = opts.quick ? 1 : 3;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-bench-datasets-'));
  const rows: BenchRow[] = [];
  try {
    try {
      const ms = await timed(repeats, () => loadDataset('fashion-mnist', { dataDir, env: {} }));
      rows.push({
        name: 'load fashion-mnist (70k images, gzip IDX)',
        peakRssMb: rssMb(),
        extra: { ms: Math.round(ms), targetMs: 1000 },
        note: ms < 1000 ? 'ok: under 1 s' : 'SLOW: target is under 1 s',
      });
    } catch (err) {
      rows.push({
        name: 'load fashion-mnist (70k images, gzip IDX)',
        note: `skipped: ${(err as Error).message}`,
      });
    }
    if (fs.existsSync(path.join(shared, 'mnist'))) {
      const ms = await timed(repeats, () =>
        loadDataset('mnist', { dataDir, env: { NCA_DATASETS_PATH: shared } }),
      );
      rows.push({ name: 'load mnist (70k images, gzip IDX)', extra: { ms: Math.round(ms) } });
    }
    const glyphMs = await timed(repeats, () => loadDataset('glyphs', { dataDir, env: {} }));
    rows.push({ name: 'generate glyphs (6k + 1k images)', extra: { ms: Math.round(glyphMs) } });
    try {
      const d = await loadDataset('fashion-mnist', { dataDir, env: {}, splits: ['train'] });
      const ms = await timed(opts.quick ? 1 : 2, () => splitStats(d.train, d.width, d.height, 10, 0.1));
      rows.push({ name: 'stats fashion-mnist train (60k images, islands)', extra: { ms: Math.round(ms) } });
    } catch (err) {
      rows.push({
        name: 'stats fashion-mnist train (60k images, islands)',
        note: `skipped: ${(err as Error).message}`,
      });
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  run({ quick: process.argv.includes('--quick') }).then(
    (rows) => console.table(rows.map((r) => ({ name: r.name, ...r.extra, note: r.note ?? '' }))),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
