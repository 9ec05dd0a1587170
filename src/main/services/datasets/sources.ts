/**
 * Where dataset files are found, in order: (1) the workbench cache <dataDir>/datasets/<id>/,
 * (2) copies already on the machine: folders registered in <dataDir>/datasets/sources.json, the
 * folders listed in NCA_DATASETS_PATH (each searched for <id>/ sub-folders) and Debian's
 * dataset-fashion-mnist. Downloads (3) land in the cache.
 */
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DEBIAN_FASHION_MNIST, type BuiltinDataset, type FileRole } from './catalogue.ts';
import { DatasetError } from './idx.ts';

const LocalSourceSchema = z.object({
  path: z.string().min(1),
  /** When set, `path` holds the files of this dataset; else `path` holds <id>/ sub-folders. */
  id: z.string().optional(),
});
export type LocalSource = z.infer<typeof LocalSourceSchema>;

const SettingsSchema = z.object({
  sources: z.array(LocalSourceSchema).default([]),
  /** Download base URL per dataset id (mirrors); NCA_MIRROR_<ID> overrides these. */
  mirrors: z.record(z.string(), z.string().url()).default({}),
});
export type DatasetSettings = z.infer<typeof SettingsSchema>;

export const datasetsDir = (dataDir: string): string => path.join(dataDir, 'datasets');
export const cacheDir = (dataDir: string, id: string): string => path.join(datasetsDir(dataDir), id);
export const settingsFile = (dataDir: string): string => path.join(datasetsDir(dataDir), 'sources.json');

export async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

export async function readSettings(dataDir: string): Promise<DatasetSettings> {
  const file = settingsFile(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { sources: [], mirrors: {} };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DatasetError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = SettingsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DatasetError(`${file}: field "${issue.path.join('.')}": ${issue.message}`);
  }
  return parsed.data;
}

export async function writeSettings(dataDir: string, settings: DatasetSettings): Promise<void> {
  const file = settingsFile(dataDir);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(settings, null, 2) + '\n');
  await rename(tmp, file);
}

/** NCA_DATASETS_PATH=dir1:dir2 (";" on Windows): folders searched for <id>/ sub-folders. */
export function envRoots(env: NodeJS.ProcessEnv): string[] {
  const value = env.NCA_DATASETS_PATH;
  if (!value) return [];
  return value
    .split(path.delimiter)
    .filter(Boolean)
    .map((p) => path.resolve(p));
}

export interface CandidateDir {
  dir: string;
  from: 'cache' | 'local';
}

/** Folders that may hold the files of dataset `filesOf`, in search order. */
export function candidateDirs(
  filesOf: string,
  dataDir: string,
  env: NodeJS.ProcessEnv,
  settings: DatasetSettings,
): CandidateDir[] {
  const out: CandidateDir[] = [{ dir: cacheDir(dataDir, filesOf), from: 'cache' }];
  for (const s of settings.sources) {
    if (s.id === filesOf) out.push({ dir: path.resolve(s.path), from: 'local' });
    else if (!s.id) out.push({ dir: path.join(path.resolve(s.path), filesOf), from: 'local' });
  }
  for (const root of envRoots(env)) out.push({ dir: path.join(root, filesOf), from: 'local' });
  if (filesOf === 'fashion-mnist') out.push({ dir: DEBIAN_FASHION_MNIST, from: 'local' });
  return out;
}

/**
 * The file names an official IDX file may have on disk: gzipped or not, and with the dotted
 * spelling some copies use (train-images.idx3-ubyte).
 */
export function fileNameVariants(canonical: string): string[] {
  const raw = canonical.replace(/\.gz$/, '');
  const dotted = raw.replace(/-(idx\d-ubyte)$/, '.$1');
  return [canonical, raw, `${dotted}.gz`, dotted];
}

export async function findInDir(dir: string, canonical: string): Promise<string | undefined> {
  for (const name of fileNameVariants(canonical)) {
    const p = path.join(dir, name);
    if (await exists(p)) return p;
  }
  return undefined;
}

export interface ResolvedFile {
  role: FileRole;
  file: string;
  path?: string;
  from: 'cache' | 'local' | 'none';
}

/** Find every file of a built-in dataset; each file is taken from the first folder that has it. */
export async function resolveFiles(
  ds: BuiltinDataset,
  dataDir: string,
  env: NodeJS.ProcessEnv,
  settings: DatasetSettings,
): Promise<ResolvedFile[]> {
  const dirs = candidateDirs(ds.filesOf, dataDir, env, settings);
  const out: ResolvedFile[] = [];
  for (const f of ds.files) {
    let found: ResolvedFile = { role: f.role, file: f.file, from: 'none' };
    for (const d of dirs) {
      const p = await findInDir(d.dir, f.file);
      if (p) {
        found = { role: f.role, file: f.file, path: p, from: d.from };
        break;
      }
    }
    out.push(found);
  }
  return out;
}

/** Download base URL of a dataset: env NCA_MIRROR_<ID> > settings mirror > the official location. */
export function baseUrlFor(
  ds: BuiltinDataset,
  env: NodeJS.ProcessEnv,
  settings: DatasetSettings,
): string | undefined {
  const url = (ds.mirrorEnv && env[ds.mirrorEnv]) || settings.mirrors[ds.filesOf] || ds.baseUrl;
  if (!url) return undefined;
  return url.endsWith('/') ? url : `${url}/`;
}
