/**
 * `nca datasets ...`: list, fetch, verify, stats, import, sources, remove. Progress goes to stderr;
 * with --json exactly one JSON object goes to stdout.
 */
import type { DownloadProgress } from '../../../shared/datasets.ts';
import { DatasetService } from '../../services/datasets/index.ts';
import { CliUsageError, type CliCommand, type CliContext } from '../types.ts';

const USAGE = `Usage: npm run nca -- datasets <sub-command> [options] [--data-dir DIR] [--json]

  list                         the catalogue: availability, counts, licence, where files come from
  fetch NAME                   download the missing files of NAME into the cache (MD5-verified)
  verify PATH                  check an IDX file or a folder of IDX files strictly
  stats NAME [--threshold T]   per-class counts, pixel mean/std, alive fraction, islands
  import PATH --name NAME [--size 28] [--test-fraction 0.2] [--invert auto|yes|no]
                               import a folder of IDX files or of images (one sub-folder per class)
  sources                      list registered local folders
  sources add DIR [--id NAME]  register a folder (with --id: it holds NAME's files; else NAME/ sub-folders)
  sources remove DIR           forget a registered folder
  remove NAME                  delete a custom dataset

Environment: NCA_DATASETS_PATH=dir1:dir2 (folders with <id>/ sub-folders), NCA_MIRROR_MNIST,
NCA_MIRROR_FASHION_MNIST, NCA_MIRROR_KMNIST (download base URLs).`;

/** Split words into positionals and --flag value pairs (flags listed in `valued` take a value). */
function parseArgs(args: string[], valued: string[]): { positional: string[]; flags: Map<string, string> } {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!valued.includes(name)) throw new CliUsageError(`datasets: unknown option --${name}\n\n${USAGE}`);
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) throw new CliUsageError(`datasets: --${name} needs a value`);
    flags.set(name, value);
  }
  return { positional, flags };
}

function numberFlag(flags: Map<string, string>, name: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliUsageError(`datasets: --${name} "${v}" is not a number`);
  return n;
}

const size = (bytes: number) =>
  bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;

function progressLine(p: DownloadProgress): string {
  const file = `${p.file} [${p.fileIndex + 1}/${p.fileCount}]`;
  if (p.phase === 'retry') return `fetch ${p.id}: ${file}: ${p.message}`;
  if (p.phase === 'verify') return `fetch ${p.id}: ${file}: verifying MD5`;
  if (p.phase === 'done') return `fetch ${p.id}: done`;
  const of = p.fileTotal ? ` of ${size(p.fileTotal)}` : '';
  const eta = p.etaSeconds === null ? '' : `  ETA ${Math.ceil(p.etaSeconds)} s`;
  return `fetch ${p.id}: ${file} ${size(p.fileBytes)}${of}  ${size(p.rate)}/s${eta}`;
}

function pad(s: string | number, n: number): string {
  return String(s).padEnd(n);
}

async function list(svc: DatasetService, ctx: CliContext): Promise<number> {
  const entries = await svc.list();
  if (ctx.json) {
    ctx.stdout(JSON.stringify({ datasets: entries }));
    return 0;
  }
  ctx.stdout(`${pad('ID', 16)}${pad('AVAILABILITY', 15)}${pad('TRAIN/TEST', 14)}${pad('LICENCE', 16)}SOURCE`);
  for (const e of entries) {
    ctx.stdout(
      `${pad(e.id, 16)}${pad(e.availability, 15)}${pad(`${e.trainCount}/${e.testCount}`, 14)}${pad(e.licence, 16)}${e.source}`,
    );
    if (e.missing.length) ctx.stdout(`${' '.repeat(16)}missing: ${e.missing.join(', ')}`);
    if (e.note) ctx.stdout(`${' '.repeat(16)}note: ${e.note}`);
  }
  return 0;
}

async function fetchCmd(svc: DatasetService, name: string, ctx: CliContext): Promise<number> {
  let last = 0;
  const result = await svc.fetch(
    name,
    (p) => {
      const now = Date.now();
      if (p.phase === 'download' && now - last < 500) return;
      last = now;
      ctx.stderr(progressLine(p));
    },
    ctx.signal,
  );
  if (ctx.json) ctx.stdout(JSON.stringify(result));
  else for (const f of result.files) ctx.stdout(`${f.downloaded ? 'downloaded' : 'cached    '} ${f.path}`);
  return 0;
}

async function verify(svc: DatasetService, target: string, ctx: CliContext): Promise<number> {
  const report = await svc.verify(target);
  if (ctx.json) ctx.stdout(JSON.stringify(report));
  else {
    for (const f of report.files) {
      const what = f.ok
        ? `${f.kind ?? 'idx'} ${f.dims?.join('x')}  md5 ${f.md5}${f.matches ? `  = official ${f.matches}` : ''}`
        : 'FAILED';
      ctx.stdout(`${f.ok ? 'ok    ' : 'error '} ${f.file}  ${what}`);
    }
    for (const [split, s] of Object.entries(report.splits))
      ctx.stdout(`${split}: ${s.count} items, per class ${s.perClass.join(', ')}`);
    for (const p of report.problems) ctx.stdout(`problem: ${p}`);
    ctx.stdout(report.ok ? 'verified' : 'NOT verified');
  }
  return report.ok ? 0 : 1;
}

async function stats(
  svc: DatasetService,
  name: string,
  threshold: number | undefined,
  ctx: CliContext,
): Promise<number> {
  const s = await svc.stats(name, { threshold });
  if (ctx.json) {
    ctx.stdout(JSON.stringify(s));
    return 0;
  }
  ctx.stdout(`${name}: alive threshold ${s.threshold}`);
  for (const split of ['train', 'test'] as const) {
    const st = s[split];
    if (!st) {
      ctx.stdout(`\n${split}: not available`);
      continue;
    }
    ctx.stdout(
      `\n${split}: ${st.count} images, pixel mean ${st.pixelMean.toFixed(4)} std ${st.pixelStd.toFixed(4)}, alive ${(100 * st.aliveFraction).toFixed(1)}%, islands/image ${st.islandsMean.toFixed(2)}`,
    );
    ctx.stdout(
      `  ${pad('class', 14)}${pad('count', 8)}${pad('alive%', 8)}${pad('islands', 9)}histogram of islands (0,1,2,...,10+)`,
    );
    s.classNames.forEach((c, i) => {
      ctx.stdout(
        `  ${pad(c, 14)}${pad(st.perClass[i], 8)}${pad((100 * st.aliveFractionPerClass[i]).toFixed(1), 8)}${pad(st.islandsMeanPerClass[i].toFixed(2), 9)}${st.islandsHistogram[i].join(' ')}`,
      );
    });
  }
  return 0;
}

async function importCmd(
  svc: DatasetService,
  folder: string,
  flags: Map<string, string>,
  ctx: CliContext,
): Promise<number> {
  const name = flags.get('name');
  if (!name) throw new CliUsageError('datasets import: --name NAME is required');
  const inv = flags.get('invert') ?? 'auto';
  if (!['auto', 'yes', 'no'].includes(inv))
    throw new CliUsageError(`datasets import: --invert "${inv}": use auto, yes or no`);
  const entry = await svc.importFolder(folder, {
    name,
    size: numberFlag(flags, 'size'),
    testFraction: numberFlag(flags, 'test-fraction'),
    invert: inv === 'auto' ? 'auto' : inv === 'yes',
  });
  if (ctx.json) ctx.stdout(JSON.stringify(entry));
  else
    ctx.stdout(
      `imported "${entry.name}" as ${entry.id}: ${entry.width}x${entry.height}, ${entry.classes.length} classes, ${entry.trainCount} train / ${entry.testCount} test (${entry.source})`,
    );
  return 0;
}

export const datasetsCommand: CliCommand = {
  name: 'datasets',
  summary: 'list, fetch, verify, import datasets and show their statistics',
  usage: USAGE,
  async run(args, ctx) {
    const [sub, ...rest] = args;
    const svc = new DatasetService({ dataDir: ctx.dataDir });
    const need = (what: string, value: string | undefined): string => {
      if (!value) throw new CliUsageError(`datasets ${sub}: ${what} is required\n\n${USAGE}`);
      return value;
    };
    switch (sub) {
      case 'list':
        return list(svc, ctx);
      case 'fetch':
        return fetchCmd(svc, need('NAME', parseArgs(rest, []).positional[0]), ctx);
      case 'verify':
        return verify(svc, need('PATH', parseArgs(rest, []).positional[0]), ctx);
      case 'stats': {
        const { positional, flags } = parseArgs(rest, ['threshold']);
        return stats(svc, need('NAME', positional[0]), numberFlag(flags, 'threshold'), ctx);
      }
      case 'import': {
        const { positional, flags } = parseArgs(rest, ['name', 'size', 'test-fraction', 'invert']);
        return importCmd(svc, need('PATH', positional[0]), flags, ctx);
      }
      case 'sources': {
        const { positional, flags } = parseArgs(rest, ['id']);
        const [action, dir] = positional;
        let sources;
        if (!action) sources = await svc.sources();
        else if (action === 'add') sources = await svc.addSource(need('DIR', dir), flags.get('id'));
        else if (action === 'remove') sources = await svc.removeSource(need('DIR', dir));
        else throw new CliUsageError(`datasets sources: unknown action "${action}" (add, remove)`);
        if (ctx.json) ctx.stdout(JSON.stringify({ sources }));
        else if (sources.length === 0) ctx.stdout('no registered sources');
        else
          for (const s of sources) ctx.stdout(`${s.path}${s.id ? `  (${s.id})` : '  (<id>/ sub-folders)'}`);
        return 0;
      }
      case 'remove': {
        const id = need('NAME', parseArgs(rest, []).positional[0]);
        await svc.removeCustom(id);
        if (ctx.json) ctx.stdout(JSON.stringify({ removed: id }));
        else ctx.stdout(`removed ${id}`);
        return 0;
      }
      default:
        throw new CliUsageError(sub ? `datasets: unknown sub-command "${sub}"\n\n${USAGE}` : USAGE);
    }
  },
};
