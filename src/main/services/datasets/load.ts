/**
 * loadDataset(id): the images and labels of one dataset as Uint8Arrays (0..255, row-major), from the
 * cache or a local source; the engine scales batches to [0,1] on demand.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  builtinDataset,
  GLYPHS_SEED,
  GLYPHS_TEST,
  GLYPHS_TRAIN,
  KMNIST_SPLIT_TRAIN_PER_CLASS,
  type BuiltinDataset,
} from './catalogue.ts';
import { generateGlyphs } from './glyphs.ts';
import { DatasetError, readIdxSplit, type IdxSplit } from './idx.ts';
import { cacheDir, candidateDirs, readSettings, resolveFiles, type DatasetSettings } from './sources.ts';

export interface Split {
  /** count*height*width bytes, 0..255, row-major. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface LoadedDataset {
  id: string;
  name: string;
  width: number;
  height: number;
  classNames: string[];
  train: Split;
  test: Split;
}

export interface LoadOptions {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** Splits to load (default both); a split not asked for comes back empty (count 0). */
  splits?: Array<'train' | 'test'>;
}

export const emptySplit = (): Split => ({ images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 });

export const MANIFEST_FILE = 'manifest.json';

export const CustomManifestSchema = z.object({
  format: z.literal('nca-dataset/1'),
  id: z.string(),
  name: z.string(),
  width: z.number().int().min(1).max(1024),
  height: z.number().int().min(1).max(1024),
  classNames: z.array(z.string()).min(1).max(256),
  trainCount: z.number().int().min(0),
  testCount: z.number().int().min(0),
  /** Where it was imported from. */
  source: z.string(),
  createdAt: z.string(),
  /** File names inside the dataset folder; absent for an empty split. */
  files: z.object({
    trainImages: z.string().optional(),
    trainLabels: z.string().optional(),
    testImages: z.string().optional(),
    testLabels: z.string().optional(),
  }),
});
export type CustomManifest = z.infer<typeof CustomManifestSchema>;

/** The manifest of a custom dataset in the cache, or undefined when there is none. */
export async function readManifest(dataDir: string, id: string): Promise<CustomManifest | undefined> {
  const file = path.join(cacheDir(dataDir, id), MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DatasetError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = CustomManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DatasetError(`${file}: field "${issue.path.join('.')}": ${issue.message}`);
  }
  return parsed.data;
}

function checkShape(split: IdxSplit, width: number, height: number, where: string): Split {
  if (split.width !== width || split.height !== height) {
    throw new DatasetError(
      `${where}: images are ${split.width}x${split.height}, expected ${width}x${height}`,
    );
  }
  return { images: split.images, labels: split.labels, count: split.count };
}

async function loadBuiltinIdx(
  ds: BuiltinDataset,
  dataDir: string,
  env: NodeJS.ProcessEnv,
  settings: DatasetSettings,
  want: Set<'train' | 'test'>,
): Promise<{ train: Split; test: Split }> {
  const files = await resolveFiles(ds, dataDir, env, settings);
  const byRole = new Map(files.map((f) => [f.role, f]));
  const needed = files.filter((f) => want.has(f.role.startsWith('train') ? 'train' : 'test'));
  const missing = needed.filter((f) => !f.path);
  if (missing.length > 0) {
    const looked = candidateDirs(ds.filesOf, dataDir, env, settings)
      .map((c) => c.dir)
      .join(', ');
    let hint = `run \`npm run nca -- datasets fetch ${ds.filesOf}\`, or register a folder that has them (NCA_DATASETS_PATH or \`datasets sources add\`)`;
    if (ds.id === 'kmnist' && missing.every((f) => f.role === 'train-images')) {
      hint = `the KMNIST training images are not on this machine (only the test set is); ${hint}, or use 'kmnist-split' (an 8,000 / 2,000 split of the KMNIST test set)`;
    }
    throw new DatasetError(
      `${ds.name} (${ds.id}): missing ${missing.map((f) => f.file).join(', ')}; looked in ${looked}; ${hint}`,
    );
  }
  const load = async (split: 'train' | 'test'): Promise<Split> => {
    if (!want.has(split)) return emptySplit();
    const images = byRole.get(`${split}-images`)!.path!;
    const labels = byRole.get(`${split}-labels`)!.path!;
    return checkShape(await readIdxSplit(images, labels, ds.classes.length), ds.width, ds.height, images);
  };
  const [train, test] = await Promise.all([load('train'), load('test')]);
  return { train, test };
}

/**
 * kmnist-split: per class, the first KMNIST_SPLIT_TRAIN_PER_CLASS images of the KMNIST test set (in
 * file order) go to train and the rest to test; each split keeps file order.
 */
export function splitPerClass(
  source: Split,
  pixels: number,
  trainPerClass: number,
): { train: Split; test: Split } {
  const seen = new Uint32Array(256);
  const isTrain = new Uint8Array(source.count);
  let trainCount = 0;
  for (let i = 0; i < source.count; i++) {
    if (seen[source.labels[i]]++ < trainPerClass) {
      isTrain[i] = 1;
      trainCount++;
    }
  }
  const make = (count: number): Split => ({
    images: new Uint8Array(count * pixels),
    labels: new Uint8Array(count),
    count,
  });
  const train = make(trainCount);
  const test = make(source.count - trainCount);
  let t = 0;
  let v = 0;
  for (let i = 0; i < source.count; i++) {
    const dst = isTrain[i] ? train : test;
    const k = isTrain[i] ? t++ : v++;
    dst.labels[k] = source.labels[i];
    dst.images.set(source.images.subarray(i * pixels, (i + 1) * pixels), k * pixels);
  }
  return { train, test };
}

async function loadCustom(
  m: CustomManifest,
  dataDir: string,
  want: Set<'train' | 'test'>,
): Promise<LoadedDataset> {
  const dir = cacheDir(dataDir, m.id);
  const load = async (split: 'train' | 'test'): Promise<Split> => {
    const images = split === 'train' ? m.files.trainImages : m.files.testImages;
    const labels = split === 'train' ? m.files.trainLabels : m.files.testLabels;
    if (!want.has(split) || !images || !labels) return emptySplit();
    const imagesPath = path.join(dir, images);
    const s = await readIdxSplit(imagesPath, path.join(dir, labels), m.classNames.length);
    return checkShape(s, m.width, m.height, imagesPath);
  };
  const [train, test] = await Promise.all([load('train'), load('test')]);
  return { id: m.id, name: m.name, width: m.width, height: m.height, classNames: m.classNames, train, test };
}

export async function loadDataset(id: string, opts: LoadOptions): Promise<LoadedDataset> {
  const env = opts.env ?? process.env;
  const want = new Set<'train' | 'test'>(opts.splits ?? ['train', 'test']);
  const ds = builtinDataset(id);
  if (!ds) {
    const manifest = /^[a-z0-9][a-z0-9-]*$/.test(id) ? await readManifest(opts.dataDir, id) : undefined;
    if (!manifest)
      throw new DatasetError(
        `unknown dataset "${id}" (built in: mnist, fashion-mnist, kmnist, kmnist-split, glyphs; or a custom id from \`datasets list\`)`,
      );
    return loadCustom(manifest, opts.dataDir, want);
  }
  const base = {
    id: ds.id,
    name: ds.name,
    width: ds.width,
    height: ds.height,
    classNames: ds.classes.map((c) => c.name),
  };
  if (ds.kind === 'procedural') {
    const train = want.has('train') ? generateGlyphs(GLYPHS_TRAIN, GLYPHS_SEED) : emptySplit();
    const test = want.has('test') ? generateGlyphs(GLYPHS_TEST, GLYPHS_SEED ^ 0x5bd1e995) : emptySplit();
    return { ...base, train, test };
  }
  const settings = await readSettings(opts.dataDir);
  if (ds.kind === 'derived') {
    const { test } = await loadBuiltinIdx(
      ds,
      opts.dataDir,
      env,
      settings,
      new Set<'train' | 'test'>(['test']),
    );
    const split = splitPerClass(test, ds.width * ds.height, KMNIST_SPLIT_TRAIN_PER_CLASS);
    return {
      ...base,
      train: want.has('train') ? split.train : emptySplit(),
      test: want.has('test') ? split.test : emptySplit(),
    };
  }
  return { ...base, ...(await loadBuiltinIdx(ds, opts.dataDir, env, settings, want)) };
}
