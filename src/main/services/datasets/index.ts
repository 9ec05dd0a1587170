/**
 * The datasets service: catalogue, strict IDX loading, local sources, downloads, statistics, samples
 * and custom imports. See docs/datasets.md.
 */
export { loadDataset, emptySplit, type LoadedDataset, type LoadOptions, type Split } from './load.ts';
export { DatasetError, readIdxFile, parseIdx, encodeIdx, encodeIdxGz } from './idx.ts';
export { BUILTIN_DATASETS, builtinDataset } from './catalogue.ts';
export { generateGlyphs } from './glyphs.ts';
