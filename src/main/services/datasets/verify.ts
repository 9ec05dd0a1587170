/**
 * verify(path): check an IDX file, or a folder of the four standard IDX files, strictly; report
 * dimensions, MD5s, whether the content equals a known official file, and per-class counts.
 * Problems are reported, not thrown, so the CLI and the UI can show all of them at once.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { VerifyReport } from '../../../shared/datasets.ts';
import { BUILTIN_DATASETS, ROLE_FILES, type FileRole } from './catalogue.ts';
import {
  DatasetError,
  gunzipIfNeeded,
  isGzip,
  md5Hex,
  pairImagesLabels,
  parseIdx,
  type IdxArray,
} from './idx.ts';
import { findInDir } from './sources.ts';

type FileReport = VerifyReport['files'][number];

function knownMatch(md5: string, rawMd5: string | undefined): string | undefined {
  for (const ds of BUILTIN_DATASETS) {
    if (ds.kind !== 'idx') continue;
    for (const f of ds.files) {
      if (md5 === f.gzMd5 || (rawMd5 !== undefined && rawMd5 === f.rawMd5)) return `${ds.id} ${f.file}`;
    }
  }
  return undefined;
}

/** Items per label value 0..max (a loop: spreading 60,000+ labels into Math.max overflows the stack). */
function countLabels(labels: Uint8Array): number[] {
  const counts = new Array<number>(256).fill(0);
  let max = 0;
  for (const l of labels) {
    counts[l]++;
    if (l > max) max = l;
  }
  return counts.slice(0, max + 1);
}

async function verifyFile(file: string): Promise<{ report: FileReport; idx?: IdxArray }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    return {
      report: {
        file,
        ok: false,
        error: `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      },
    };
  }
  const report: FileReport = { file, ok: false, gzip: isGzip(bytes), md5: md5Hex(bytes) };
  try {
    const raw = await gunzipIfNeeded(bytes, file);
    report.rawMd5 = md5Hex(raw);
    const idx = parseIdx(raw, file);
    report.dims = idx.dims;
    if (idx.dims.length === 3) report.kind = 'images';
    else if (idx.dims.length === 1) report.kind = 'labels';
    report.matches = knownMatch(report.md5!, report.rawMd5);
    report.ok = true;
    return { report, idx };
  } catch (err) {
    report.error = err instanceof DatasetError ? err.message : `${file}: ${(err as Error).message}`;
    report.matches = knownMatch(report.md5!, report.rawMd5);
    return { report };
  }
}

export async function verifyPath(target: string): Promise<VerifyReport> {
  const full = path.resolve(target);
  const report: VerifyReport = { path: full, ok: false, files: [], splits: {}, problems: [] };
  let isDir: boolean;
  try {
    isDir = (await stat(full)).isDirectory();
  } catch {
    report.problems.push(`${full}: no such file or folder`);
    return report;
  }
  if (!isDir) {
    const { report: r, idx } = await verifyFile(full);
    report.files.push(r);
    if (!r.ok && r.error) report.problems.push(r.error);
    if (idx && r.kind === 'labels') {
      report.splits[path.basename(full)] = { count: idx.data.length, perClass: countLabels(idx.data) };
    }
    report.ok = r.ok;
    return report;
  }
  const found = new Map<FileRole, IdxArray>();
  const paths = new Map<FileRole, string>();
  for (const role of Object.keys(ROLE_FILES) as FileRole[]) {
    const p = await findInDir(full, ROLE_FILES[role]);
    if (!p) continue;
    paths.set(role, p);
    const { report: r, idx } = await verifyFile(p);
    report.files.push(r);
    if (!r.ok && r.error) report.problems.push(r.error);
    const wantDims = role.endsWith('images') ? 3 : 1;
    if (idx && idx.dims.length !== wantDims) {
      report.problems.push(
        `${p}: has ${idx.dims.length} dimension(s), expected ${wantDims} (${role.endsWith('images') ? 'images' : 'labels'})`,
      );
    } else if (idx) found.set(role, idx);
  }
  if (paths.size === 0) {
    const names = (await readdir(full)).slice(0, 10).join(', ');
    report.problems.push(
      `${full}: no IDX files (train-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz], ...) found; it holds: ${names || 'nothing'}`,
    );
    return report;
  }
  for (const split of ['train', 'test'] as const) {
    const images = found.get(`${split}-images`);
    const labels = found.get(`${split}-labels`);
    if (paths.has(`${split}-images`) !== paths.has(`${split}-labels`)) {
      report.problems.push(
        `${full}: ${split} ${paths.has(`${split}-images`) ? 'labels' : 'images'} file is missing`,
      );
    }
    if (!images || !labels) continue;
    try {
      const s = pairImagesLabels(
        images,
        labels,
        paths.get(`${split}-images`)!,
        paths.get(`${split}-labels`)!,
        256,
      );
      report.splits[split] = { count: s.count, perClass: countLabels(s.labels) };
    } catch (err) {
      report.problems.push((err as Error).message);
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}
