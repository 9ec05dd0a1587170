/**
 * Custom datasets: import a folder of IDX files, or a folder of images with one sub-folder per class
 * (optionally under train/ and test/). The result is stored in the cache as IDX.gz files plus a
 * manifest.json, and then loads like any other id.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DatasetIdSchema, ImportOptionsSchema, type ImportOptions } from '../../../shared/datasets.ts';
import { builtinDataset, ROLE_FILES } from './catalogue.ts';
import { mulberry32 } from './glyphs.ts';
import { DatasetError, encodeIdxGz, readIdxSplit } from './idx.ts';
import { borderMean, cropResize, decodeGray } from './images.ts';
import { MANIFEST_FILE, type CustomManifest, type Split } from './load.ts';
import { cacheDir, datasetsDir, exists, findInDir } from './sources.ts';

/** Files a class folder may hold besides images, skipped silently (OS and editor droppings). */
const IGNORED = new Set(['thumbs.db', 'desktop.ini']);
const MAX_PROBLEMS_LISTED = 20;

export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}

const natural = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function subDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(natural);
}

interface SplitData {
  split: Split;
  width: number;
  height: number;
}

async function writeDataset(
  dataDir: string,
  manifest: Omit<CustomManifest, 'files'>,
  train: Split,
  test: Split,
): Promise<CustomManifest> {
  const finalDir = cacheDir(dataDir, manifest.id);
  const tmpDir = path.join(datasetsDir(dataDir), `.import-${manifest.id}-${process.pid}`);
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir, { recursive: true });
  const files: CustomManifest['files'] = {};
  const { width, height } = manifest;
  const put = async (split: Split, which: 'train' | 'test') => {
    if (split.count === 0) return;
    const images = ROLE_FILES[`${which}-images`];
    const labels = ROLE_FILES[`${which}-labels`];
    await writeFile(path.join(tmpDir, images), await encodeIdxGz([split.count, height, width], split.images));
    await writeFile(path.join(tmpDir, labels), await encodeIdxGz([split.count], split.labels));
    if (which === 'train') Object.assign(files, { trainImages: images, trainLabels: labels });
    else Object.assign(files, { testImages: images, testLabels: labels });
  };
  try {
    await put(train, 'train');
    await put(test, 'test');
    const full: CustomManifest = { ...manifest, files };
    await writeFile(path.join(tmpDir, MANIFEST_FILE), JSON.stringify(full, null, 2) + '\n');
    await rename(tmpDir, finalDir);
    return full;
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
}

async function importIdx(src: string): Promise<{ train: SplitData; test?: SplitData; classNames: string[] }> {
  const find = (role: keyof typeof ROLE_FILES) => findInDir(src, ROLE_FILES[role]);
  const [trImg, trLab, teImg, teLab] = await Promise.all([
    find('train-images'),
    find('train-labels'),
    find('test-images'),
    find('test-labels'),
  ]);
  if (!trImg || !trLab) {
    throw new DatasetError(
      `${src}: an IDX import needs train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (found: ${
        [trImg, trLab, teImg, teLab]
          .filter(Boolean)
          .map((p) => path.basename(p!))
          .join(', ') || 'none'
      })`,
    );
  }
  if (!!teImg !== !!teLab)
    throw new DatasetError(`${src}: test images and test labels must both be present or both absent`);
  const train = await readIdxSplit(trImg, trLab, 256);
  const test = teImg && teLab ? await readIdxSplit(teImg, teLab, 256) : undefined;
  if (test && (test.width !== train.width || test.height !== train.height)) {
    throw new DatasetError(
      `${teImg}: test images are ${test.width}x${test.height}, train images ${train.width}x${train.height}`,
    );
  }
  let maxLabel = 0;
  for (const s of [train, test]) if (s) for (const l of s.labels) maxLabel = Math.max(maxLabel, l);
  let classNames = Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  // Optional classes.txt: one class name per line, in label order.
  const namesFile = path.join(src, 'classes.txt');
  if (await exists(namesFile)) {
    const names = (await readFile(namesFile, 'utf8'))
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean);
    if (names.length <= maxLabel) {
      throw new DatasetError(
        `${namesFile}: lists ${names.length} class names, but the labels go up to ${maxLabel}`,
      );
    }
    classNames = names;
  }
  const wrap = (s: typeof train): SplitData => ({ split: s, width: s.width, height: s.height });
  return { train: wrap(train), test: test ? wrap(test) : undefined, classNames };
}

interface ClassImages {
  name: string;
  images: Uint8Array[];
}

async function readClassFolders(
  root: string,
  classNames: string[],
  size: number,
  problems: string[],
): Promise<ClassImages[]> {
  const out: ClassImages[] = [];
  for (const name of classNames) {
    const dir = path.join(root, name);
    const images: Uint8Array[] = [];
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => natural(a.name, b.name));
    for (const e of entries) {
      if (e.name.startsWith('.') || IGNORED.has(e.name.toLowerCase())) continue;
      const file = path.join(dir, e.name);
      if (!e.isFile()) {
        problems.push(`${file}: not an image file (a ${e.isDirectory() ? 'folder' : 'special file'})`);
        continue;
      }
      try {
        const bytes = await readFile(file);
        images.push(cropResize(decodeGray(bytes), size));
      } catch (err) {
        problems.push(`${file}: unreadable: ${(err as Error).message}`);
      }
    }
    if (images.length === 0 && !problems.some((p) => p.startsWith(dir + path.sep))) {
      problems.push(`${dir}: class folder holds no images`);
    }
    out.push({ name, images });
  }
  return out;
}

function pack(items: Array<[Uint8Array, number]>, pixels: number): Split {
  const split: Split = {
    images: new Uint8Array(items.length * pixels),
    labels: new Uint8Array(items.length),
    count: items.length,
  };
  items.forEach(([img, label], i) => {
    split.images.set(img, i * pixels);
    split.labels[i] = label;
  });
  return split;
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

async function importImages(
  src: string,
  size: number,
  testFraction: number,
  invert: boolean | 'auto',
  seed: number,
): Promise<{ train: Split; test: Split; classNames: string[] }> {
  const top = await subDirs(src);
  const presplit = top.includes('train') && top.includes('test');
  const trainRoot = presplit ? path.join(src, 'train') : src;
  const classNames = await subDirs(trainRoot);
  if (classNames.length === 0) {
    throw new DatasetError(
      `${src}: no class sub-folders and no IDX files; expected one sub-folder of PNG/JPEG images per class (optionally under train/ and test/), or train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz]`,
    );
  }
  if (classNames.length > 256)
    throw new DatasetError(`${src}: ${classNames.length} class folders; at most 256 are supported`);
  if (presplit) {
    const testClasses = await subDirs(path.join(src, 'test'));
    const extra = testClasses.filter((c) => !classNames.includes(c));
    if (extra.length)
      throw new DatasetError(`${path.join(src, 'test')}: class folders not in train/: ${extra.join(', ')}`);
  }
  const problems: string[] = [];
  const trainClasses = await readClassFolders(trainRoot, classNames, size, problems);
  const testClasses = presplit
    ? await readClassFolders(
        path.join(src, 'test'),
        (await subDirs(path.join(src, 'test'))).filter((c) => classNames.includes(c)),
        size,
        problems,
      )
    : [];
  if (problems.length) {
    const listed = problems.slice(0, MAX_PROBLEMS_LISTED).map((p) => `  ${p}`);
    if (problems.length > MAX_PROBLEMS_LISTED)
      listed.push(`  ... and ${problems.length - MAX_PROBLEMS_LISTED} more`);
    throw new DatasetError(`${src}: cannot import, ${problems.length} problem(s):\n${listed.join('\n')}`);
  }
  const all = [...trainClasses, ...testClasses].flatMap((c) => c.images);
  const doInvert =
    invert === 'auto' ? all.reduce((a, img) => a + borderMean(img, size), 0) / all.length > 127 : invert;
  if (doInvert) for (const img of all) for (let i = 0; i < img.length; i++) img[i] = 255 - img[i];

  const rand = mulberry32(seed);
  const trainItems: Array<[Uint8Array, number]> = [];
  const testItems: Array<[Uint8Array, number]> = [];
  trainClasses.forEach((c, label) => {
    const imgs = presplit ? c.images : shuffle([...c.images], rand);
    const nTest = presplit ? 0 : Math.round(imgs.length * testFraction);
    imgs.forEach((img, i) => (i < nTest ? testItems : trainItems).push([img, label]));
  });
  for (const c of testClasses) for (const img of c.images) testItems.push([img, classNames.indexOf(c.name)]);
  const pixels = size * size;
  return {
    train: pack(shuffle(trainItems, rand), pixels),
    test: pack(shuffle(testItems, rand), pixels),
    classNames,
  };
}

export async function importFolder(
  src: string,
  options: ImportOptions,
  dataDir: string,
): Promise<CustomManifest> {
  const parsed = ImportOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DatasetError(`import option "${issue.path.join('.')}": ${issue.message}`);
  }
  const opts = parsed.data;
  const folder = path.resolve(src);
  if (!(await isDir(folder))) throw new DatasetError(`${folder}: not a folder`);
  const id = slugify(opts.name);
  if (!DatasetIdSchema.safeParse(id).success)
    throw new DatasetError(`import name "${opts.name}": gives no usable id (use letters or digits)`);
  if (builtinDataset(id))
    throw new DatasetError(
      `import name "${opts.name}": id "${id}" is a built-in dataset; choose another name`,
    );
  if (await exists(cacheDir(dataDir, id))) {
    throw new DatasetError(
      `import name "${opts.name}": a dataset "${id}" already exists in ${cacheDir(dataDir, id)}; choose another name`,
    );
  }
  const isIdx =
    !!(await findInDir(folder, ROLE_FILES['train-images'])) ||
    !!(await findInDir(folder, ROLE_FILES['train-labels']));
  const base = {
    format: 'nca-dataset/1' as const,
    id,
    name: opts.name,
    source: folder,
    createdAt: new Date().toISOString(),
  };
  if (isIdx) {
    const { train, test, classNames } = await importIdx(folder);
    const testSplit = test?.split ?? { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 };
    return writeDataset(
      dataDir,
      {
        ...base,
        width: train.width,
        height: train.height,
        classNames,
        trainCount: train.split.count,
        testCount: testSplit.count,
      },
      train.split,
      testSplit,
    );
  }
  const { train, test, classNames } = await importImages(
    folder,
    opts.size,
    opts.testFraction,
    opts.invert,
    opts.seed,
  );
  return writeDataset(
    dataDir,
    {
      ...base,
      width: opts.size,
      height: opts.size,
      classNames,
      trainCount: train.count,
      testCount: test.count,
    },
    train,
    test,
  );
}
