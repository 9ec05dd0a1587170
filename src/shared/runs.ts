/**
 * Run records as the store keeps them and the UI shows them: statuses, tags, list filters,
 * checkpoint / recording / event metadata and downsampled metric series. Times are ISO-8601 strings;
 * series are typed arrays (binary payloads never travel as JSON number arrays).
 */
import { z } from 'zod';
import { RunConfigSchema } from './nca-config.ts';

export const RunStatusSchema = z.enum([
  'queued',
  'running',
  'paused',
  'completed',
  'stopped',
  'failed',
  'diverged',
  'interrupted',
]);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** Statuses after which a run no longer trains; it can be resumed (-> running) from a checkpoint. */
export const FINISHED_STATUSES: readonly RunStatus[] = [
  'completed',
  'stopped',
  'failed',
  'diverged',
  'interrupted',
];

export const TaskSchema = z.enum(['classify', 'grow', 'adversarial']);

export const TagSchema = z
  .string()
  .trim()
  .min(1, 'a tag cannot be empty')
  .max(64, 'a tag has at most 64 characters')
  .regex(/^[^,\n\r\t]+$/, 'a tag cannot contain commas, tabs or line breaks');
export const TagsSchema = z.array(TagSchema).max(32, 'at most 32 tags per run');

export const RunNameSchema = z.string().trim().min(1, 'a run name cannot be empty').max(200);
export const NotesSchema = z.string().max(20_000);

/** The IterationMetrics fields that form a series (everything but the iteration itself). */
export const MetricFieldSchema = z.enum([
  'loss',
  'perCellAccuracy',
  'agreement',
  'lr',
  'gradNorm',
  'iterationMs',
  'cellsPerSec',
  'wallMs',
]);
export type MetricField = z.infer<typeof MetricFieldSchema>;
export const METRIC_FIELDS: readonly MetricField[] = MetricFieldSchema.options;
/** A metrics table's columns in stored and exported order: the iteration, then every field. */
export const METRIC_COLUMNS = ['iteration', ...METRIC_FIELDS] as const;
export type MetricColumn = (typeof METRIC_COLUMNS)[number];

export const RunRecordSchema = z.object({
  id: z.string().min(1).max(64),
  name: RunNameSchema,
  task: TaskSchema,
  /** dataset id from the config; growing runs from an image file: `image:<file name>` */
  dataset: z.string(),
  config: RunConfigSchema,
  status: RunStatusSchema,
  /** why the run is in its status (error text for failed/diverged), or null */
  statusMessage: z.string().nullable(),
  /** the resolved backend (never 'auto') and the device it ran on; null until training started */
  backend: z.string().nullable(),
  device: z.string().nullable(),
  seed: z.number().int(),
  appVersion: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  notes: z.string(),
  tags: z.array(z.string()),
  /** adversarial runs point to the classifier they attack */
  parentRunId: z.string().nullable(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** A run in the Runs list: the record plus what the list shows without loading series. */
export interface RunSummary extends RunRecord {
  /** last iteration with stored metrics, or null */
  lastIteration: number | null;
  metricRows: number;
  /** lowest training loss, highest training per-cell accuracy / agreement (NaN-free), or null */
  bestLoss: number | null;
  bestPerCellAccuracy: number | null;
  bestAgreement: number | null;
  /** highest evaluation accuracy / agreement over all evaluations, or null */
  bestEvalAccuracy: number | null;
  bestEvalAgreement: number | null;
  /** training time: the last metric row's wallMs (pauses excluded), else ended/now minus started */
  durationMs: number | null;
}

export const RunSortSchema = z.enum([
  'createdAt',
  'name',
  'status',
  'loss',
  'perCellAccuracy',
  'agreement',
  'evalAccuracy',
  'duration',
  'lastIteration',
]);
export type RunSort = z.infer<typeof RunSortSchema>;

export const RunListFilterSchema = z
  .object({
    /** case-insensitive substring of name, id, notes, dataset or a tag */
    search: z.string().max(200).optional(),
    status: z.union([RunStatusSchema, z.array(RunStatusSchema)]).optional(),
    task: TaskSchema.optional(),
    dataset: z.string().max(200).optional(),
    tag: z.string().max(64).optional(),
    sort: RunSortSchema.optional(),
    order: z.enum(['asc', 'desc']).optional(),
  })
  .strict();
export type RunListFilter = z.input<typeof RunListFilterSchema>;

export const RunUpdateSchema = z
  .object({ name: RunNameSchema.optional(), tags: TagsSchema.optional(), notes: NotesSchema.optional() })
  .strict();
export type RunUpdate = z.input<typeof RunUpdateSchema>;

export interface CheckpointMeta {
  id: string;
  runId: string;
  iteration: number;
  /** the metric it was saved with (higher is better for classify/adversarial, lower for grow), or null */
  metric: number | null;
  createdAt: string;
  bytes: number;
  /** true for the checkpoint currently kept as the best */
  best: boolean;
}

export interface Checkpoint extends CheckpointMeta {
  data: Uint8Array;
}

export const RecordingDtypeSchema = z.enum(['uint8', 'float32']);
export type RecordingDtype = z.infer<typeof RecordingDtypeSchema>;

export interface RecordingMeta {
  id: string;
  runId: string;
  name: string;
  width: number;
  height: number;
  channels: number;
  frameCount: number;
  dtype: RecordingDtype;
  /** uncompressed size (frameCount * height * width * channels * bytes per element) */
  bytes: number;
  /** size on disk after compression */
  storedBytes: number;
  createdAt: string;
}

export interface Recording extends RecordingMeta {
  /** frames one after another, each height x width x channels, row-major */
  data: Uint8Array;
}

export const EventLevelSchema = z.enum(['debug', 'info', 'warn', 'error']);
export type EventLevel = z.infer<typeof EventLevelSchema>;

export interface RunEvent {
  id: number;
  runId: string | null;
  at: string;
  level: EventLevel;
  message: string;
}

/** One downsampled metric series: points in iteration order, at most maxPoints of them. */
export interface MetricSeries {
  runId: string;
  field: MetricField;
  iterations: Float64Array;
  values: Float64Array;
  /** stored rows before downsampling */
  totalRows: number;
  /** 'all': every stored row; 'minmax': the min and max row of each bucket (NaN rows skipped) */
  method: 'all' | 'minmax';
}

export const MetricsQuerySchema = z
  .object({
    maxPoints: z.number().int().min(4).max(1_000_000).default(2000),
    fields: z.array(MetricFieldSchema).min(1).optional(),
    /** only rows with iteration >= fromIteration (live charts fetch what is new) */
    fromIteration: z.number().int().min(0).optional(),
  })
  .strict();
export type MetricsQuery = z.input<typeof MetricsQuerySchema>;

export interface RunMetrics {
  runId: string;
  totalRows: number;
  series: Partial<Record<MetricField, MetricSeries>>;
}

/** Every stored metric row of a run, column by column (for CSV/JSON export). */
export type MetricColumns = { iteration: Float64Array } & Record<MetricField, Float64Array>;

export const CheckpointChoiceSchema = z.enum(['latest', 'best', 'all']);
export type CheckpointChoice = z.infer<typeof CheckpointChoiceSchema>;
