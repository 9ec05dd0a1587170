/**
 * The result type of every API method. Kept beside contract.ts so the method list stays readable.
 */
import type { RunConfig } from './nca-config.ts';
import type { Evaluation, IterationMetrics } from './metrics.ts';
import type { DatasetEntry, DatasetStats, DownloadProgress } from './datasets.ts';
import type {
  CheckpointMeta,
  MetricField,
  RecordingMeta,
  RunEvent,
  RunRecord,
  RunStatus,
  RunSummary,
} from './runs.ts';

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
  /** fields the user must fill in before starting (e.g. classifierRunId); empty in `config` */
  requires: string[];
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
  /** the label of the test image shown, when it is one */
  trueClass: number | null;
  /** the session can place adversary cells (an adversarial run was opened) */
  adversarial: boolean;
}

export interface JobStarted {
  job: string;
}

/** A grid of dataset samples; `bytes` (count*height*width grey levels) travels as binary. */
export interface DatasetSamplesResult {
  id: string;
  split: 'train' | 'test';
  width: number;
  height: number;
  classNames: string[];
  perClass: number;
  count: number;
  labels: number[];
  indices: number[];
  bytes: Uint8Array;
}

/** 'datasets.progress' event data: download progress, then a final 'done', 'failed' or 'cancelled'. */
export type DatasetProgressEvent =
  DownloadProgress | { id: string; phase: 'failed' | 'cancelled'; message: string };

/** One metric series as JSON: NaN (no value at that row) travels as null. */
export interface SeriesJson {
  runId: string;
  field: MetricField;
  iterations: number[];
  values: (number | null)[];
  totalRows: number;
  method: 'all' | 'minmax';
}

export interface RunMetricsResult {
  runId: string;
  totalRows: number;
  series: Partial<Record<MetricField, SeriesJson>>;
}

/** 'run.status' event data */
export interface RunStatusEvent {
  runId: string;
  status: RunStatus;
  message?: string | null;
}

/** 'run.metrics' event data: rows since the last event (batched a few times a second) */
export interface RunMetricsEvent {
  runId: string;
  rows: IterationMetrics[];
}

/** 'run.evaluation' event data */
export interface RunEvaluationEvent {
  runId: string;
  evaluation: Evaluation;
}

export interface ContractResults {
  'app.info': AppInfo;
  'app.settings.get': Settings;
  'app.settings.set': Settings;
  'presets.list': PresetInfo[];
  'config.validate': ValidationResult;
  'config.estimate': Estimate;
  'datasets.list': DatasetEntry[];
  'datasets.stats': DatasetStats;
  'datasets.samples': DatasetSamplesResult;
  'datasets.fetch': OkResult;
  'datasets.cancelFetch': OkResult;
  'datasets.import': DatasetEntry;
  'runs.list': RunSummary[];
  'runs.get': RunSummary;
  'runs.create': RunRecord;
  'runs.fork': RunRecord;
  'runs.average': RunRecord;
  'runs.update': RunRecord;
  'runs.delete': OkResult;
  'runs.metrics': RunMetricsResult;
  'runs.compare': { series: SeriesJson[] };
  'runs.evaluations': Evaluation[];
  'runs.checkpoints': CheckpointMeta[];
  'runs.recordings': RecordingMeta[];
  'runs.events': RunEvent[];
  'runs.export': { file: string; bytes: number };
  'runs.import': RunRecord;
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
  'playground.view': PlaygroundState;
  'playground.close': OkResult;
  'export.video': JobStarted;
  'export.cancel': OkResult;
  'export.metrics': OkResult;
}
