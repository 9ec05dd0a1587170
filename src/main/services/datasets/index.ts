/**
 * The datasets service: catalogue, strict IDX loading, local sources, downloads, statistics, samples
 * and custom imports. See docs/datasets.md.
 */
export { loadDataset, emptySplit, type LoadedDataset, type LoadOptions, type Split } from './load.ts';
export { batchToFloat } from './batch.ts';
export { DatasetService, type DatasetServiceOptions } from './service.ts';
export { DatasetError, readIdxFile, readIdxSplit, parseIdx, encodeIdx, encodeIdxGz } from './idx.ts';
export { fetchDataset, DownloadCancelledError, type FetchOptions, type FetchResult } from './download.ts';
export { BUILTIN_DATASETS, builtinDataset, KMNIST_SPLIT_TRAIN_PER_CLASS } from './catalogue.ts';
export { generateGlyphs } from './glyphs.ts';
export { splitStats, splitStatsAsync, countIslands } from './stats.ts';
export { verifyPath } from './verify.ts';
export { importFolder } from './import.ts';
