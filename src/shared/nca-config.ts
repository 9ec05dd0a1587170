/**
 * Run configurations: one schema per task, with defaults and limits. The New-run form, the CLI and
 * the engine all validate with these, so a value is defined in exactly one place.
 * Defaults follow ../shared/reference/nca-models.md (Distill 2020/2021 and the seed paper).
 */
import { z } from 'zod';

export const BackendSchema = z.enum(['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof BackendSchema>;

export const AliveModeSchema = z.enum(['threshold', 'dilated', 'none']);
/**
 * Which alive cells are trained to answer and are read out. `strokes`: only those whose pixel is
 * above the alive threshold; with aliveMode `none` the background still computes and carries
 * messages between islands of strokes, but is never asked for the class (the seed paper's
 * "another mask" for KMNIST).
 */
export const ReadoutSchema = z.enum(['alive', 'strokes']);
export const LossSchema = z.enum(['l2', 'ce', 'scce']);

const LrStep = z.object({
  at: z.number().int().min(0).describe('iteration at which this learning rate starts'),
  lr: z.number().positive().max(1),
});

const SeedSchema = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1)
  .default(0);

const OptimizerSchema = z.object({
  lr: z.number().positive().max(1).default(1e-3).describe('initial Adam learning rate'),
  schedule: z
    .array(LrStep)
    .max(16)
    .default([
      { at: 30_000, lr: 1e-4 },
      { at: 70_000, lr: 1e-5 },
    ]),
  normalizeGradients: z.boolean().default(true).describe('divide each variable gradient by its L2 norm'),
});

const ComputeSchema = z.object({
  backend: BackendSchema.default('auto'),
  threads: z
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe('data-parallel worker threads; default: cores'),
  aliveOnly: z.boolean().default(true).describe('compute only alive cells (identical results, faster)'),
  allowSoftwareGpu: z.boolean().default(false).describe('allow SwiftShader/llvmpipe WebGPU adapters'),
});

const CheckpointSchema = z.object({
  every: z.number().int().min(1).default(500).describe('iterations between checkpoints'),
  keepLatest: z.number().int().min(1).max(100).default(3),
  keepBest: z.boolean().default(true),
});

/** A classifier's "best" checkpoint: by per-cell accuracy, or by total agreement when that is the aim. */
const ClassifyCheckpointSchema = CheckpointSchema.extend({
  bestBy: z
    .enum(['accuracy', 'agreement'])
    .default('accuracy')
    .describe('the evaluation score that picks the best checkpoint'),
});

export const ClassifyConfigSchema = z.object({
  task: z.literal('classify'),
  dataset: z.string().min(1).default('mnist'),
  channels: z
    .number()
    .int()
    .min(3)
    .max(128)
    .default(20)
    .describe('state channels: pixel + hidden + one logit per class'),
  perception: z
    .object({
      kind: z.enum(['learned', 'sobel']).default('learned'),
      kernel: z.union([z.literal(3), z.literal(5)]).default(3),
      filters: z.number().int().min(1).max(512).default(80),
    })
    .default({ kind: 'learned', kernel: 3, filters: 80 }),
  hidden: z
    .array(z.number().int().min(1).max(1024))
    .max(4)
    .default([80])
    .describe('hidden widths of the update MLP'),
  fireRate: z.number().min(0.01).max(1).default(0.5),
  residualNoise: z.number().min(0).max(1).default(0.02),
  loss: LossSchema.default('l2'),
  aliveMode: AliveModeSchema.default('threshold'),
  aliveThreshold: z.number().min(0).max(1).default(0.1),
  readout: ReadoutSchema.default('alive').describe(
    'which alive cells learn and show the class: all, or only the strokes (pixel above the threshold)',
  ),
  steps: z.number().int().min(1).max(1000).default(20),
  batch: z.number().int().min(1).max(256).default(16),
  pool: z
    .object({
      size: z.number().int().min(1).max(10_000).default(160),
      freshFraction: z.number().min(0).max(1).default(0.25),
      mutateFraction: z.number().min(0).max(1).default(0.25),
    })
    .default({ size: 160, freshFraction: 0.25, mutateFraction: 0.25 }),
  iterations: z.number().int().min(1).max(10_000_000).default(100_000),
  optimizer: OptimizerSchema.default({
    lr: 1e-3,
    schedule: [
      { at: 30_000, lr: 1e-4 },
      { at: 70_000, lr: 1e-5 },
    ],
    normalizeGradients: true,
  }),
  evaluation: z
    .object({
      every: z.number().int().min(1).default(500),
      images: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .default(500)
        .describe('test images per evaluation (the reference figures use all 10,000: slow on CPUs)'),
      steps: z.number().int().min(1).max(2000).default(200),
      mutateSteps: z.number().int().min(0).max(2000).default(200),
    })
    .default({ every: 500, images: 500, steps: 200, mutateSteps: 200 }),
  trainSubset: z.number().int().min(1).optional().describe('use only the first N training images'),
  seed: SeedSchema,
  compute: ComputeSchema.default({ backend: 'auto', aliveOnly: true, allowSoftwareGpu: false }),
  checkpoints: ClassifyCheckpointSchema.default({
    every: 500,
    keepLatest: 3,
    keepBest: true,
    bestBy: 'accuracy',
  }),
});

export const GrowConfigSchema = z.object({
  task: z.literal('grow'),
  target: z
    .union([
      z.object({ kind: z.literal('dataset'), dataset: z.string().min(1), index: z.number().int().min(0) }),
      z.object({
        kind: z.literal('image'),
        path: z.string().min(1),
        mask: z.enum(['alpha', 'threshold']).default('alpha'),
      }),
    ])
    .default({ kind: 'dataset', dataset: 'fashion-mnist', index: 0 }),
  targetSize: z.number().int().min(8).max(64).default(40),
  padding: z.number().int().min(0).max(32).default(16),
  channels: z.number().int().min(4).max(64).default(16),
  hidden: z.number().int().min(1).max(1024).default(128),
  fireRate: z.number().min(0.01).max(1).default(0.5),
  aliveThreshold: z.number().min(0).max(1).default(0.1),
  stepsMin: z.number().int().min(1).max(1000).default(64),
  stepsMax: z.number().int().min(2).max(1000).default(96),
  experiment: z.enum(['growing', 'persistent', 'regenerating']).default('regenerating'),
  poolSize: z.number().int().min(1).max(10_000).default(1024),
  batch: z.number().int().min(1).max(64).default(8),
  damaged: z.number().int().min(0).max(64).default(3),
  iterations: z.number().int().min(1).max(1_000_000).default(8000),
  optimizer: OptimizerSchema.default({
    lr: 2e-3,
    schedule: [{ at: 2000, lr: 2e-4 }],
    normalizeGradients: true,
  }),
  seed: SeedSchema,
  compute: ComputeSchema.default({ backend: 'auto', aliveOnly: false, allowSoftwareGpu: false }),
  checkpoints: CheckpointSchema.default({ every: 500, keepLatest: 3, keepBest: true }),
  evaluation: z.object({ every: z.number().int().min(1).default(500) }).default({ every: 500 }),
});

export const AdversarialConfigSchema = ClassifyConfigSchema.omit({ task: true }).extend({
  task: z.literal('adversarial'),
  classifierRunId: z.string().min(1).describe('the frozen classifier run to attack'),
  targetClass: z.number().int().min(0).max(127).default(8),
  adversaryFraction: z.number().min(0).max(1).default(0.01),
  attackFractions: z.array(z.number().min(0).max(1)).default([0.005, 0.01, 0.02, 0.05, 0.1]),
  // an adversary's best checkpoint is its mean attack success
  checkpoints: CheckpointSchema.default({ every: 500, keepLatest: 3, keepBest: true }),
});

/**
 * What an attack takes from the classifier it attacks: the adversary runs the classifier's network
 * (channels, perception, hidden) on the classifier's cells (dataset, alive mask and threshold,
 * answering cells, fire rate), so its success is measured on the classifier as it was trained.
 */
export const ATTACK_INHERITS = [
  'dataset',
  'channels',
  'perception',
  'hidden',
  'aliveMode',
  'aliveThreshold',
  'readout',
  'fireRate',
] as const;

/** The fields of ATTACK_INHERITS that a classifier's config gives (deep copies). */
export function attackInheritance(classifier: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ATTACK_INHERITS) if (classifier[k] !== undefined) out[k] = structuredClone(classifier[k]);
  return out;
}

export const RunConfigSchema = z.discriminatedUnion('task', [
  ClassifyConfigSchema,
  GrowConfigSchema,
  AdversarialConfigSchema,
]);

export type OptimizerConfig = z.infer<typeof OptimizerSchema>;
export type ClassifyConfig = z.infer<typeof ClassifyConfigSchema>;
export type GrowConfig = z.infer<typeof GrowConfigSchema>;
export type AdversarialConfig = z.infer<typeof AdversarialConfigSchema>;
export type RunConfig = z.infer<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;
export type Task = RunConfig['task'];

/** The catalogue dataset a run trains on; null for a run that grows an image file. */
export function datasetIdOf(config: RunConfig): string | null {
  if (config.task !== 'grow') return config.dataset;
  return config.target.kind === 'dataset' ? config.target.dataset : null;
}

/** Parse a config, returning every problem as `field: reason` so the UI and CLI can show it. */
export function parseRunConfig(
  input: unknown,
): { ok: true; config: RunConfig } | { ok: false; errors: string[] } {
  const r = RunConfigSchema.safeParse(input);
  if (r.success) return { ok: true, config: r.data };
  return { ok: false, errors: r.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`) };
}

/** Flatten a config to dotted paths with display values (arrays stay one value: a schedule is one setting). */
export function flattenConfig(
  value: unknown,
  prefix = '',
  out: Record<string, string> = {},
): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = typeof value === 'string' ? value : JSON.stringify(value);
  return out;
}

/**
 * Fields a run continued from another run's checkpoint must keep: the checkpoint's weights, pool and
 * frozen classifier were shaped by them. Everything else (learning rate and schedule, loss, noise,
 * fire rate, mask, pool policy, steps, batch, iterations, evaluation) may change.
 */
export const MODEL_FIELDS: Record<Task, readonly string[]> = {
  classify: ['task', 'dataset', 'channels', 'perception', 'hidden'],
  adversarial: ['task', 'dataset', 'channels', 'perception', 'hidden', 'classifierRunId'],
  grow: ['task', 'target', 'targetSize', 'padding', 'channels', 'hidden'],
};

export interface ConfigChange {
  path: string;
  from: string;
  to: string;
}

/** What differs between two configs, leaf by leaf (display values, `—` where a field is absent). */
export function configChanges(from: unknown, to: unknown): ConfigChange[] {
  const a = flattenConfig(from);
  const b = flattenConfig(to);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => a[k] !== b[k])
    .map((path) => ({ path, from: a[path] ?? '—', to: b[path] ?? '—' }));
}

/**
 * Model fields a continued classifier may grow: more state channels, perception filters or hidden
 * units. The checkpoint is widened so the model still computes what it did (every new unit starts
 * silent: its outgoing weights are zero), and training goes on with the extra capacity.
 */
export const GROWABLE_FIELDS: Record<Task, readonly string[]> = {
  classify: ['channels', 'perception.filters', 'hidden'],
  adversarial: [],
  grow: [],
};

/**
 * Whether a changed model field grew: no width smaller; hidden layers may also be appended, each as
 * wide as the last kept one (they start as the identity).
 */
function grew(c: ConfigChange): boolean {
  let from: unknown, to: unknown;
  try {
    from = JSON.parse(c.from);
    to = JSON.parse(c.to);
  } catch {
    return false; // a field present on one side only ('—')
  }
  if (typeof from === 'number' && typeof to === 'number') return to > from;
  if (!Array.isArray(from) || !Array.isArray(to) || to.length < from.length) return false;
  const last = to[from.length - 1] as number;
  return (
    to.every((w) => typeof w === 'number') &&
    from.every((w, i) => (to[i] as number) >= (w as number)) &&
    (to.length === from.length || (from.length > 0 && to.slice(from.length).every((w) => w === last)))
  );
}

/** The model-field changes of a continued run that widen its checkpoint (see GROWABLE_FIELDS). */
export function wideningChanges(from: RunConfig, to: RunConfig): ConfigChange[] {
  const growable = GROWABLE_FIELDS[from.task];
  return configChanges(from, to).filter((c) => growable.includes(c.path) && grew(c));
}

/** The changes a continued run may not make (`field: reason` lines; empty when it may start). */
export function modelFieldChanges(from: RunConfig, to: RunConfig): string[] {
  const locked = MODEL_FIELDS[from.task];
  const growable = GROWABLE_FIELDS[from.task];
  return configChanges(from, to)
    .filter((c) => locked.includes(c.path.split('.')[0]) && !(growable.includes(c.path) && grew(c)))
    .map((c) =>
      growable.includes(c.path)
        ? `${c.path}: must stay ${c.from} or grow${c.path === 'hidden' ? ' (none narrower; added layers as wide as the last)' : ''} (the checkpoint's weights were trained with it; start a new run to shrink it)`
        : `${c.path}: must stay ${c.from} (the checkpoint's weights were trained with it; start a new run to change it)`,
    );
}
