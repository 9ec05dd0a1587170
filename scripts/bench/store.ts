/**
 * Run-store benchmark rows: metric logging overhead per training iteration, 1 M metric rows
 * inserted through the batched writer, and a 10 runs x 100,000 iterations downsampled comparison.
 * Everything runs against a real SQLite file in a temporary data directory.
 * Standalone: `node --import tsx scripts/bench/store.ts [--quick]`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { IterationMetrics } from '../../src/shared/metrics.ts';
import { RunStore } from '../../src/main/services/store/index.ts';
import type { BenchOptions, BenchRow } from './types.ts';

const row = (i: number): IterationMetrics => ({
  iteration: i,
  loss: 1 / (1 + i) + Math.random() * 1e-3,
  perCellAccuracy: i / (i + 100),
  agreement: i / (i + 200),
  lr: 1e-3,
  gradNorm: 1 + Math.random(),
  iterationMs: 20,
  cellsPerSec: 1e6,
  wallMs: i * 20,
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-bench-store-'));
  const store = RunStore.open(dir);
  const rows: BenchRow[] = [];
  try {
    // 1. Logging overhead: one push per iteration, a flush every 25 rows (0.5 s at 20 ms per iteration).
    {
      const run = store.createRun({ name: 'overhead', config: { task: 'classify' } });
      const writer = store.metricWriter(run.id, { intervalMs: 3_600_000, batchRows: 1_000_000 });
      const n = opts.quick ? 5_000 : 50_000;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        writer.push(row(i));
        if (i % 25 === 24) writer.flush();
      }
      writer.close();
      const usPerIteration = ((performance.now() - t0) * 1000) / n;
      rows.push({
        name: 'store: metric logging per iteration',
        extra: {
          rows: n,
          usPerIteration: +usPerIteration.toFixed(2),
          percentOf20msIteration: +((usPerIteration / 20_000) * 100).toFixed(3),
          percentOf5msIteration: +((usPerIteration / 5_000) * 100).toFixed(3),
        },
        note: 'target: under 1% of an iteration (push + amortised flush of 25-row batches)',
      });
    }

    // 2. 1 M rows through the batched writer (default batch sizes; a loop that never yields).
    {
      const run = store.createRun({ name: 'insert', config: { task: 'classify' } });
      const n = opts.quick ? 200_000 : 1_000_000;
      const prepared = Array.from({ length: n }, (_, i) => row(i));
      const writer = store.metricWriter(run.id);
      const t0 = performance.now();
      for (let i = 0; i < n; i++) writer.push(prepared[i]);
      writer.close();
      const ms = performance.now() - t0;
      rows.push({
        name: `store: insert ${n.toLocaleString('en')} metric rows`,
        extra: { rows: n, ms: Math.round(ms), rowsPerSec: Math.round(n / (ms / 1000)) },
        note: 'target: 1 M rows under 2000 ms',
      });
    }

    // 3. Compare 10 runs x 100k iterations, each series downsampled to <= 2000 points on the way out.
    {
      const perRun = opts.quick ? 20_000 : 100_000;
      const ids: string[] = [];
      for (let r = 0; r < 10; r++) {
        const run = store.createRun({ name: `compare ${r}`, config: { task: 'classify' } });
        const writer = store.metricWriter(run.id, { batchRows: 10 }); // small flushes, as in training
        for (let i = 0; i < perRun; i++) writer.push(row(i));
        writer.close();
        ids.push(run.id);
      }
      const times: number[] = [];
      let points = 0;
      for (let rep = 0; rep < 5; rep++) {
        const t0 = performance.now();
        const series = store.compareSeries(ids, 'loss', 2000);
        times.push(performance.now() - t0);
        points = series.reduce((s, x) => s + x.values.length, 0);
      }
      rows.push({
        name: `store: compare 10 runs x ${perRun.toLocaleString('en')} iterations`,
        extra: { ms: +median(times).toFixed(1), firstMs: +times[0].toFixed(1), pointsReturned: points },
        note: 'target: under 100 ms (median of 5; min/max buckets, <= 2000 points per series)',
      });
    }
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  run({ quick: process.argv.includes('--quick') }).then(
    (rows) => console.table(rows.map((r) => ({ name: r.name, ...r.extra }))),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
