/**
 * The result type of every API method. Kept beside contract.ts so the method list stays readable.
 */
import type { RunConfig } from './nca-config.ts';
import type { Evaluation, IterationMetrics } from './metrics.ts';

export interface ComputeInfo {
  backend: string;
  device: string;
  /** cores this machine has; several runs at once share them */
  cores: number;
}

export interface AppInfo {
  name: string;
  version: string;
  mode: 'desktop' | 'browser';
  dataDir: string;
  compute: ComputeInfo;
  /** how many runs are training right now */
  activeRuns: number;
}

export interface Settings {
  theme: 'system' | 'light' | 'dark';
  frameRate: number;
  datasetMirrors: Record<string, string>;
}

export interface PresetInfo {
  id: string;
  title: string;
  description: string;
  config: RunConfig;
}

export interface ValidationResult {
  ok: boolean;
  errors: string[];
  config?: RunConfig;
}

export interface Estimate {
  parameters: number;
  msPerIteration: number;
  backend: string;
}

export interface OkResult {
  ok: true;
}

export interface PlaygroundState {
  session: string;
  runId: string;
  task: string;
  width: number;
  height: number;
  channels: number;
  classNames: string[];
  step: number;
  majorityClass: number | null;
  agreement: number;
  /** share of alive cells voting for each class */
  votes: number[];
}

export interface JobStarted {
  job: string;
}

/* Types owned by the datasets and store services are re-exported here once they land. */
export type DatasetsListResult = unknown[];
export type DatasetStatsResult = unknown;
export type DatasetSamplesResult = { width: number; height: number; labels: number[]; pixels: string };
export type RunRecordResult = { id: string; name: string; status: string; config: RunConfig } & Record<
  string,
  unknown
>;
export type SeriesPoint = { x: number; y: number };

export interface ContractResults {
  'app.info': AppInfo;
  'app.settings.get': Settings;
  'app.settings.set': Settings;
  'presets.list': PresetInfo[];
  'config.validate': ValidationResult;
  'config.estimate': Estimate;
  'datasets.list': DatasetsListResult;
  'datasets.stats': DatasetStatsResult;
  'datasets.samples': DatasetSamplesResult;
  'datasets.fetch': OkResult;
  'datasets.cancelFetch': OkResult;
  'datasets.import': unknown;
  'runs.list': RunRecordResult[];
  'runs.get': RunRecordResult;
  'runs.create': RunRecordResult;
  'runs.update': RunRecordResult;
  'runs.delete': OkResult;
  'runs.metrics': { rows: IterationMetrics[] };
  'runs.compare': { series: { id: string; points: SeriesPoint[] }[] };
  'runs.evaluations': Evaluation[];
  'runs.checkpoints': { id: string; iteration: number; metric: number | null; createdAt: string }[];
  'runs.events': { at: string; level: string; message: string }[];
  'runs.export': OkResult;
  'runs.import': RunRecordResult;
  'training.start': OkResult;
  'training.pause': OkResult;
  'training.resume': OkResult;
  'training.stop': OkResult;
  'training.checkpoint': OkResult;
  'training.watch': OkResult;
  'playground.open': PlaygroundState;
  'playground.setInput': PlaygroundState;
  'playground.step': PlaygroundState;
  'playground.edit': PlaygroundState;
  'playground.close': OkResult;
  'export.video': JobStarted;
  'export.cancel': OkResult;
  'export.metrics': OkResult;
}
