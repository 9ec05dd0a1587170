/**
 * `npm run bench [-- --quick] [-- --json]`: every area's benchmark rows (scripts/bench/*.ts modules
 * exporting `run(opts)`), as a readable table or, with --json, one `{ "rows": [...] }` object.
 * Speed is measured here, never by timed tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchOptions, BenchRow } from './bench/types.ts';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench');
const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

// engine first, then the other areas that exist
const modules = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'types.ts')
  .sort((a, b) => (a === 'engine.ts' ? -1 : b === 'engine.ts' ? 1 : a.localeCompare(b)))
  .filter((f) => !only || only.split(',').includes(f.replace(/\.ts$/, '')));

const rows: BenchRow[] = [];
for (const f of modules) {
  process.stderr.write(`bench: ${f}${quick ? ' (quick)' : ''}\n`);
  try {
    const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as {
      run?: (o: BenchOptions) => Promise<BenchRow[]>;
    };
    if (typeof mod.run !== 'function') continue;
    rows.push(...(await mod.run({ quick })));
  } catch (e) {
    rows.push({ name: f.replace(/\.ts$/, ''), note: `failed: ${(e as Error).message}` });
  }
}

if (json) process.stdout.write(`${JSON.stringify({ rows }, null, 2)}\n`);
else {
  const fmt = (v: number | undefined, d = 1) =>
    v === undefined ? '' : v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v.toFixed(d);
  const table = [
    ['name', 'backend', 'threads', 'ms/iter', 'cell-upd/s', 'GFLOP/s', 'peak RSS MB', 'extra', 'note'],
    ...rows.map((r) => [
      r.name,
      r.backend ?? '',
      r.threads?.toString() ?? '',
      fmt(r.msPerIteration),
      fmt(r.cellUpdatesPerSec, 0),
      fmt(r.gflops, 2),
      r.peakRssMb?.toString() ?? '',
      r.extra
        ? Object.entries(r.extra)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')
        : '',
      r.note ?? '',
    ]),
  ];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const row of table)
    console.log(
      row
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    );
}
