/**
 * The built-in datasets: names, classes, licences, official files with their published checksums,
 * and canonical download locations. Checksums: see ../shared/datasets/README.md. A file verifies when
 * the MD5 of the downloaded bytes equals `gzMd5` or the MD5 of its decompressed content equals
 * `rawMd5` (MNIST and Fashion-MNIST publish the latter; mirrors and Debian re-compress the files).
 */
import type { ClassInfo } from '../../../shared/datasets.ts';

export type FileRole = 'train-images' | 'train-labels' | 'test-images' | 'test-labels';

export interface OfficialFile {
  role: FileRole;
  /** Canonical file name (as served by the official source). */
  file: string;
  gzMd5?: string;
  rawMd5?: string;
  /** Size of the official .gz in bytes, used to estimate the download total before headers arrive. */
  size: number;
}

export interface BuiltinDataset {
  id: string;
  name: string;
  kind: 'idx' | 'derived' | 'procedural';
  description: string;
  width: number;
  height: number;
  classes: ClassInfo[];
  trainCount: number;
  testCount: number;
  licence: string;
  citation: string;
  attribution: string;
  homepage?: string;
  /** idx datasets: their official files; derived datasets: the files of `derivedFrom` they use. */
  files: OfficialFile[];
  /** Default download base URL (ends with /). */
  baseUrl?: string;
  /** Environment variable that overrides baseUrl, e.g. NCA_MIRROR_MNIST. */
  mirrorEnv?: string;
  /** Where a derived dataset's files live (its own id for idx datasets). */
  filesOf: string;
  note?: string;
}

export const ROLE_FILES: Record<FileRole, string> = {
  'train-images': 'train-images-idx3-ubyte.gz',
  'train-labels': 'train-labels-idx1-ubyte.gz',
  'test-images': 't10k-images-idx3-ubyte.gz',
  'test-labels': 't10k-labels-idx1-ubyte.gz',
};

const classes = (names: string[]): ClassInfo[] => names.map((name, index) => ({ index, name }));

const KMNIST_CLASSES: ClassInfo[] = [
  ['お', 'o'],
  ['き', 'ki'],
  ['す', 'su'],
  ['つ', 'tsu'],
  ['な', 'na'],
  ['は', 'ha'],
  ['ま', 'ma'],
  ['や', 'ya'],
  ['れ', 're'],
  ['を', 'wo'],
].map(([glyph, reading], index) => ({ index, name: glyph, glyph, reading }));

const KMNIST_FILES: OfficialFile[] = [
  {
    role: 'train-images',
    file: ROLE_FILES['train-images'],
    gzMd5: 'bdb82020997e1d708af4cf47b453dcf7',
    rawMd5: '92be26ec9822e900ac425d0a0aa84ced',
    size: 18_165_135,
  },
  {
    role: 'train-labels',
    file: ROLE_FILES['train-labels'],
    gzMd5: 'e144d726b3acfaa3e44228e80efcd344',
    rawMd5: '949e75301f8813e0dc5800dcc320fc52',
    size: 29_497,
  },
  {
    role: 'test-images',
    file: ROLE_FILES['test-images'],
    gzMd5: '5c965bf0a639b31b8f53240b1b52f4d7',
    rawMd5: 'bf305b8cd328700fbc17f5acbc2856d2',
    size: 3_041_136,
  },
  {
    role: 'test-labels',
    file: ROLE_FILES['test-labels'],
    gzMd5: '7320c461ea6c1c855c0b718fb2a4b134',
    rawMd5: '9f55f451c0988b028eccdf7d5cc265ab',
    size: 5_120,
  },
];

const KMNIST_LICENCE = 'CC BY-SA 4.0';
const KMNIST_CITATION =
  'Tarin Clanuwat, Mikel Bober-Irizar, Asanobu Kitamoto, Alex Lamb, Kazuaki Yamamoto, David Ha: "Deep Learning for Classical Japanese Literature", arXiv:1812.01718 (2018).';
const KMNIST_ATTRIBUTION =
  '"KMNIST Dataset" (created by CODH), adapted from "Kuzushiji Dataset" (created by NIJL and others), doi:10.20676/00000341';

/** kmnist-split: per class, the first KMNIST_SPLIT_TRAIN_PER_CLASS test images (file order) train. */
export const KMNIST_SPLIT_TRAIN_PER_CLASS = 800;

export const GLYPH_CLASS_NAMES = [
  'ring',
  'bar',
  'plus',
  'cross',
  'square',
  'triangle',
  'diamond',
  'chevron',
  'tee',
  'dots',
];
export const GLYPHS_TRAIN = 6000;
export const GLYPHS_TEST = 1000;
export const GLYPHS_SEED = 20_200_827;

export const BUILTIN_DATASETS: BuiltinDataset[] = [
  {
    id: 'mnist',
    name: 'MNIST',
    kind: 'idx',
    description: 'Handwritten digits 0-9, 28x28 grey levels.',
    width: 28,
    height: 28,
    classes: classes(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']),
    trainCount: 60_000,
    testCount: 10_000,
    licence: 'CC BY-SA 3.0',
    citation:
      'Yann LeCun, Corinna Cortes, Christopher J.C. Burges: "The MNIST database of handwritten digits"; Y. LeCun, L. Bottou, Y. Bengio, P. Haffner: "Gradient-based learning applied to document recognition", Proc. IEEE 86(11), 1998.',
    attribution: 'MNIST by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, CC BY-SA 3.0.',
    homepage: 'http://yann.lecun.com/exdb/mnist/',
    files: [
      {
        role: 'train-images',
        file: ROLE_FILES['train-images'],
        gzMd5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
        rawMd5: '6bbc9ace898e44ae57da46a324031adb',
        size: 9_912_422,
      },
      {
        role: 'train-labels',
        file: ROLE_FILES['train-labels'],
        gzMd5: 'd53e105ee54ea40749a09fcbcd1e9432',
        rawMd5: 'a25bea736e30d166cdddb491f175f624',
        size: 28_881,
      },
      {
        role: 'test-images',
        file: ROLE_FILES['test-images'],
        gzMd5: '9fb629c4189551a2d022fa330f9573f3',
        rawMd5: '2646ac647ad5339dbf082846283269ea',
        size: 1_648_877,
      },
      {
        role: 'test-labels',
        file: ROLE_FILES['test-labels'],
        gzMd5: 'ec29112dd5afa0611ce80d1b7f02629c',
        rawMd5: '27ae3e4e09519cfbb04c329615203637',
        size: 4_542,
      },
    ],
    // LeCun's own site is often unreachable; this is the mirror torchvision uses first.
    baseUrl: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
    mirrorEnv: 'NCA_MIRROR_MNIST',
    filesOf: 'mnist',
  },
  {
    id: 'fashion-mnist',
    name: 'Fashion-MNIST',
    kind: 'idx',
    description: 'Zalando article images in 10 classes, 28x28 grey levels.',
    width: 28,
    height: 28,
    classes: classes([
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ]),
    trainCount: 60_000,
    testCount: 10_000,
    licence: 'MIT',
    citation:
      'Han Xiao, Kashif Rasul, Roland Vollgraf: "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms", arXiv:1708.07747 (2017).',
    attribution: 'Fashion-MNIST, Copyright (c) 2017 Zalando SE, MIT licence.',
    homepage: 'https://github.com/zalandoresearch/fashion-mnist',
    files: [
      {
        role: 'train-images',
        file: ROLE_FILES['train-images'],
        gzMd5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
        rawMd5: 'f4a8712d7a061bf5bd6d2ca38dc4d50a',
        size: 26_421_880,
      },
      {
        role: 'train-labels',
        file: ROLE_FILES['train-labels'],
        gzMd5: '25c81989df183df01b3e8a0aad5dffbe',
        rawMd5: '9018921c3c673c538a1fc5bad174d6f9',
        size: 29_515,
      },
      {
        role: 'test-images',
        file: ROLE_FILES['test-images'],
        gzMd5: 'bef4ecab320f06d8554ea6380940ec79',
        rawMd5: '8181f5470baa50b63fa0f6fddb340f0a',
        size: 4_422_102,
      },
      {
        role: 'test-labels',
        file: ROLE_FILES['test-labels'],
        gzMd5: 'bb300cfdad3c16e7a12a480ee83cd310',
        rawMd5: '15d484375f8d13e6eb1aabb0c3f46965',
        size: 5_148,
      },
    ],
    baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    mirrorEnv: 'NCA_MIRROR_FASHION_MNIST',
    filesOf: 'fashion-mnist',
  },
  {
    id: 'kmnist',
    name: 'Kuzushiji-MNIST',
    kind: 'idx',
    description: 'Cursive Hiragana (Kuzushiji) characters in 10 classes, 28x28 grey levels.',
    width: 28,
    height: 28,
    classes: KMNIST_CLASSES,
    trainCount: 60_000,
    testCount: 10_000,
    licence: KMNIST_LICENCE,
    citation: KMNIST_CITATION,
    attribution: KMNIST_ATTRIBUTION,
    homepage: 'https://github.com/rois-codh/kmnist',
    files: KMNIST_FILES,
    baseUrl: 'http://codh.rois.ac.jp/kmnist/dataset/kmnist/',
    mirrorEnv: 'NCA_MIRROR_KMNIST',
    filesOf: 'kmnist',
  },
  {
    id: 'kmnist-split',
    name: 'KMNIST test-set split (8,000 / 2,000)',
    kind: 'derived',
    description:
      'A fixed split of the official KMNIST *test* set, for machines without the KMNIST training images: per class, the first 800 test images (in file order) are train, the last 200 are test. Not comparable with results on the official KMNIST split.',
    width: 28,
    height: 28,
    classes: KMNIST_CLASSES,
    trainCount: 8_000,
    testCount: 2_000,
    licence: KMNIST_LICENCE,
    citation: KMNIST_CITATION,
    attribution: KMNIST_ATTRIBUTION,
    homepage: 'https://github.com/rois-codh/kmnist',
    files: KMNIST_FILES.filter((f) => f.role.startsWith('test-')),
    baseUrl: 'http://codh.rois.ac.jp/kmnist/dataset/kmnist/',
    mirrorEnv: 'NCA_MIRROR_KMNIST',
    filesOf: 'kmnist',
    note: 'Made from the KMNIST test set only (8,000 train / 2,000 test, 800 / 200 per class).',
  },
  {
    id: 'glyphs',
    name: 'Glyphs (procedural)',
    kind: 'procedural',
    description:
      '10 classes of simple 28x28 stroke glyphs (ring, bar, plus, cross, square, triangle, diamond, chevron, tee, dots) with random affine jitter and stroke noise, generated by the workbench from a fixed seed: always available, offline.',
    width: 28,
    height: 28,
    classes: classes(GLYPH_CLASS_NAMES),
    trainCount: GLYPHS_TRAIN,
    testCount: GLYPHS_TEST,
    licence: 'MIT',
    citation: 'NCA Workbench procedural glyphs.',
    attribution: 'Generated by NCA Workbench.',
    files: [],
    filesOf: 'glyphs',
  },
];

export function builtinDataset(id: string): BuiltinDataset | undefined {
  return BUILTIN_DATASETS.find((d) => d.id === id);
}

/** Debian's dataset-fashion-mnist package installs the official files here. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
