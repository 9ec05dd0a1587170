/**
 * Builds the New-run form from the zod run-config schemas: every field, its kind, limits, default
 * and help come from src/shared/nca-config.ts, so a limit is defined once. This file only adds what
 * a schema does not carry: the group a field belongs to, a label, a unit, and a one-line help where
 * the schema has no .describe() text.
 */
import type { z } from 'zod';
import {
  AdversarialConfigSchema,
  ClassifyConfigSchema,
  GrowConfigSchema,
  RunConfigSchema,
  type RunConfig,
  type Task,
} from '../../../shared/nca-config.ts';

export type FieldGroup =
  'target' | 'model' | 'perception' | 'training' | 'pool' | 'adversary' | 'evaluation' | 'compute';

export const GROUPS: { id: FieldGroup; title: string }[] = [
  { id: 'target', title: 'Target' },
  { id: 'model', title: 'Model' },
  { id: 'perception', title: 'Perception' },
  { id: 'training', title: 'Training' },
  { id: 'pool', title: 'Pool' },
  { id: 'adversary', title: 'Adversary' },
  { id: 'evaluation', title: 'Evaluation' },
  { id: 'compute', title: 'Compute and checkpoints' },
];

export type FieldKind = 'number' | 'integer' | 'choice' | 'boolean' | 'text' | 'numberList' | 'pairList';

export interface FieldSpec {
  /** dotted path, e.g. "pool.size" */
  key: string;
  path: string[];
  label: string;
  help: string;
  unit?: string;
  group: FieldGroup;
  kind: FieldKind;
  min?: number;
  max?: number;
  /** min/max exclusive (e.g. a learning rate > 0) */
  minExclusive?: boolean;
  options?: (string | number)[];
  /** the value may be left empty (schema .optional()) */
  optional: boolean;
  defaultValue?: unknown;
  /** pairList: the two numeric keys of each element, e.g. ["at", "lr"] */
  pairKeys?: [string, string];
}

export const TASK_SCHEMAS: Record<Task, z.ZodType> = {
  classify: ClassifyConfigSchema,
  grow: GrowConfigSchema,
  adversarial: AdversarialConfigSchema,
};

/** Fields picked elsewhere in the New-run view (task tabs, dataset picker, classifier picker). */
export const PICKED_ELSEWHERE = new Set(['task', 'dataset', 'classifierRunId', 'target.dataset']);

const GROUP_OF: Record<string, FieldGroup> = {
  target: 'target',
  targetSize: 'target',
  padding: 'target',
  channels: 'model',
  hidden: 'model',
  fireRate: 'model',
  residualNoise: 'model',
  aliveMode: 'model',
  aliveThreshold: 'model',
  readout: 'model',
  experiment: 'training',
  perception: 'perception',
  steps: 'training',
  stepsMin: 'training',
  stepsMax: 'training',
  batch: 'training',
  iterations: 'training',
  optimizer: 'training',
  loss: 'training',
  seed: 'training',
  trainSubset: 'training',
  damaged: 'pool',
  pool: 'pool',
  poolSize: 'pool',
  classifierRunId: 'adversary',
  targetClass: 'adversary',
  adversaryFraction: 'adversary',
  attackFractions: 'adversary',
  evaluation: 'evaluation',
  compute: 'compute',
  checkpoints: 'compute',
};

const LABELS: Record<string, string> = {
  'target.kind': 'Target source',
  'target.dataset': 'Dataset',
  'target.index': 'Image index',
  'target.path': 'Image file',
  'target.mask': 'Shape mask',
  targetSize: 'Target size',
  channels: 'State channels',
  hidden: 'Hidden layers',
  fireRate: 'Fire rate',
  residualNoise: 'Residual noise',
  aliveMode: 'Alive mask',
  aliveThreshold: 'Alive threshold',
  readout: 'Answering cells',
  'perception.kind': 'Filters',
  'perception.kernel': 'Kernel size',
  'perception.filters': 'Filter count',
  steps: 'NCA steps per iteration',
  stepsMin: 'Min NCA steps',
  stepsMax: 'Max NCA steps',
  batch: 'Batch size',
  iterations: 'Iterations',
  'optimizer.lr': 'Learning rate',
  'optimizer.schedule': 'Learning-rate schedule',
  'optimizer.normalizeGradients': 'Normalise gradients',
  loss: 'Loss',
  trainSubset: 'Training subset',
  'pool.size': 'Pool size',
  'pool.freshFraction': 'Fresh share',
  'pool.mutateFraction': 'Mutated share',
  poolSize: 'Pool size',
  damaged: 'Damaged samples',
  targetClass: 'Target class',
  adversaryFraction: 'Adversary share',
  attackFractions: 'Evaluated shares',
  'evaluation.every': 'Evaluate every',
  'evaluation.images': 'Test images',
  'evaluation.steps': 'Steps before mutation',
  'evaluation.mutateSteps': 'Steps after mutation',
  'compute.backend': 'Backend',
  'compute.threads': 'Worker threads',
  'compute.aliveOnly': 'Alive cells only',
  'compute.allowSoftwareGpu': 'Allow software GPU',
  'checkpoints.every': 'Checkpoint every',
  'checkpoints.keepLatest': 'Keep latest',
  'checkpoints.keepBest': 'Keep best',
  'checkpoints.bestBy': 'Best by',
};

/** One-line help for fields whose schema has no .describe() text. */
const HELP: Record<string, string> = {
  channels: 'state channels per cell (RGBA + hidden for growing runs)',
  hidden: 'hidden units of the update MLP',
  'target.kind': 'grow an image from a dataset or from an image file',
  'target.dataset': 'dataset the target image comes from',
  'target.index': 'index of the target image in the training split',
  'target.path': 'PNG or JPEG file; its alpha (or threshold) gives the shape',
  'target.mask': 'how the shape is cut out of the image',
  targetSize: 'the target is resized to this side length',
  padding: 'empty border around the target, room to grow',
  fireRate: 'chance each cell updates at a step (stochastic updates)',
  residualNoise: 'noise added to the update during training (robustness)',
  aliveMode: 'which cells take part: pixel above threshold, its 3x3 neighbourhood, or all',
  aliveThreshold: 'a cell is alive above this pixel / alpha value',
  experiment: 'growing only, persistent via a pool, or regenerating after damage',
  'perception.kind': 'learned 3x3/5x5 filters, or fixed Sobel + identity',
  'perception.kernel': 'side of the perception kernel',
  'perception.filters': 'number of perception filters (learned)',
  steps: 'NCA steps unrolled per training iteration',
  stepsMin: 'fewest NCA steps per iteration (random in min..max)',
  stepsMax: 'most NCA steps per iteration',
  batch: 'images per iteration',
  iterations: 'training iterations in total',
  'optimizer.schedule': 'iteration: learning rate pairs, e.g. 30000: 1e-4, 70000: 1e-5',
  loss: 'L2 on the logits (Distill), cross-entropy, or sparse cross-entropy',
  seed: 'random seed: same seed and config give the same run',
  'pool.size': 'persistent states kept between iterations',
  'pool.freshFraction': 'share of each batch replaced by fresh images',
  'pool.mutateFraction': 'share of each batch whose image is swapped (mutation)',
  poolSize: 'persistent states kept between iterations',
  damaged: 'samples of each batch damaged by an erased disk',
  targetClass: 'class the adversaries push the others towards',
  adversaryFraction: 'share of cells made adversarial during training',
  attackFractions: 'adversary shares measured at each evaluation',
  'evaluation.every': 'iterations between evaluations',
  'evaluation.mutateSteps': 'steps run after the images are swapped (0: no mutation)',
  'evaluation.steps': 'steps before the mutation',
  'compute.backend': 'auto picks the fastest available one',
  'checkpoints.keepLatest': 'most recent checkpoints kept on disk',
  'checkpoints.keepBest': 'also keep the best checkpoint',
};

const UNITS: Record<string, string> = {
  'target.index': 'index',
  targetSize: 'px',
  padding: 'px',
  channels: 'channels',
  hidden: 'units',
  'perception.kernel': 'px',
  'perception.filters': 'filters',
  steps: 'steps',
  stepsMin: 'steps',
  stepsMax: 'steps',
  batch: 'images',
  iterations: 'iterations',
  trainSubset: 'images',
  'pool.size': 'states',
  poolSize: 'states',
  damaged: 'samples',
  'evaluation.every': 'iterations',
  'evaluation.images': 'images',
  'evaluation.steps': 'steps',
  'evaluation.mutateSteps': 'steps',
  'compute.threads': 'threads',
  'checkpoints.every': 'iterations',
  'checkpoints.keepLatest': 'checkpoints',
};

// ---- zod 4 introspection (def.type names are zod's stable public def shapes) ----

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  values?: unknown[];
  entries?: Record<string, string | number>;
  element?: z.ZodType;
}
const defOf = (s: z.ZodType): Def => (s as unknown as { def: Def }).def;
const describe = (s: z.ZodType): string | undefined => (s as unknown as { description?: string }).description;
const shapeOf = (s: z.ZodType): Record<string, z.ZodType> => {
  const d = defOf(s);
  const shape = d.shape as unknown;
  return typeof shape === 'function' ? (shape as () => Record<string, z.ZodType>)() : (d.shape ?? {});
};

function unwrap(s: z.ZodType): {
  schema: z.ZodType;
  optional: boolean;
  defaultValue?: unknown;
  description?: string;
} {
  let schema = s;
  let optional = false;
  let defaultValue: unknown;
  let description = describe(s);
  for (;;) {
    const d = defOf(schema);
    if (d.type === 'default' || d.type === 'prefault') {
      const v = d.defaultValue;
      defaultValue = typeof v === 'function' ? (v as () => unknown)() : v;
    } else if (d.type === 'optional' || d.type === 'nullable') optional = true;
    else break;
    schema = d.innerType!;
    description ??= describe(schema);
  }
  return { schema, optional, defaultValue, description };
}

function numberLimits(s: z.ZodType): { min?: number; max?: number; minExclusive?: boolean; int: boolean } {
  const n = s as unknown as {
    minValue: number | null;
    maxValue: number | null;
    isInt: boolean;
    def: { checks?: { _zod: { def: { check: string; inclusive?: boolean; value?: number } } }[] };
  };
  const exclusiveMin = (n.def.checks ?? []).some(
    (c) => c._zod.def.check === 'greater_than' && c._zod.def.inclusive === false,
  );
  const safe = (v: number | null) =>
    v === null || !Number.isFinite(v) || Math.abs(v) >= Number.MAX_SAFE_INTEGER ? undefined : v;
  return { min: safe(n.minValue), max: safe(n.maxValue), minExclusive: exclusiveMin, int: n.isInt };
}

/** "keepLatest" -> "Keep latest" */
const humanize = (key: string) => {
  const words = key.replace(/([A-Z])/g, ' $1').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

function spec(
  key: string,
  path: string[],
  kind: FieldKind,
  u: ReturnType<typeof unwrap>,
  extra: Partial<FieldSpec> = {},
): FieldSpec {
  return {
    key,
    path,
    kind,
    label: LABELS[key] ?? humanize(path[path.length - 1]),
    help: u.description ?? HELP[key] ?? '',
    unit: UNITS[key],
    group: GROUP_OF[key] ?? GROUP_OF[path[0]] ?? 'training',
    optional: u.optional,
    defaultValue: u.defaultValue,
    ...extra,
  };
}

function literalValue(s: z.ZodType): string | number | undefined {
  const d = defOf(s);
  return d.type === 'literal' ? (d.values?.[0] as string | number) : undefined;
}

/**
 * The form fields of one object schema. `value` is the current config: for a union of object
 * variants (the growing target) it picks the variant the value has.
 */
export function buildFields(
  schema: z.ZodType,
  value: unknown = {},
  skip: ReadonlySet<string> = PICKED_ELSEWHERE,
  prefix: string[] = [],
): FieldSpec[] {
  const fields: FieldSpec[] = [];
  const current = (value ?? {}) as Record<string, unknown>;
  for (const [name, raw] of Object.entries(shapeOf(schema))) {
    const path = [...prefix, name];
    const key = path.join('.');
    if (skip.has(key)) continue;
    const u = unwrap(raw);
    const d = defOf(u.schema);
    switch (d.type) {
      case 'number': {
        const lim = numberLimits(u.schema);
        fields.push(
          spec(key, path, lim.int ? 'integer' : 'number', u, {
            min: lim.min,
            max: lim.max,
            minExclusive: lim.minExclusive,
          }),
        );
        break;
      }
      case 'boolean':
        fields.push(spec(key, path, 'boolean', u));
        break;
      case 'string':
        fields.push(spec(key, path, 'text', u));
        break;
      case 'enum':
        fields.push(spec(key, path, 'choice', u, { options: Object.values(d.entries ?? {}) }));
        break;
      case 'literal':
        break; // a fixed discriminator (task, target kind): nothing to edit
      case 'object':
        fields.push(...buildFields(u.schema, current[name], skip, path));
        break;
      case 'union': {
        const options = d.options ?? [];
        const literals = options.map(literalValue);
        if (literals.every((l) => l !== undefined)) {
          fields.push(spec(key, path, 'choice', u, { options: literals as (string | number)[] }));
          break;
        }
        // a union of object variants told apart by a literal "kind"
        const kinds = options.map((o) => {
          const kindSchema = defOf(o).type === 'object' ? shapeOf(o).kind : undefined;
          return kindSchema ? literalValue(kindSchema) : undefined;
        });
        if (kinds.every((k) => k !== undefined)) {
          const sub = (current[name] ?? u.defaultValue ?? {}) as Record<string, unknown>;
          const at = Math.max(0, kinds.indexOf(sub.kind as string));
          const kindKey = `${key}.kind`;
          fields.push(
            spec(
              kindKey,
              [...path, 'kind'],
              'choice',
              { ...u, description: undefined },
              {
                options: kinds as (string | number)[],
                optional: false,
                defaultValue: kinds[0],
              },
            ),
          );
          fields.push(...buildFields(options[at], sub, skip, path));
        }
        break;
      }
      case 'array': {
        const el = unwrap(d.element!);
        const ed = defOf(el.schema);
        if (ed.type === 'number') fields.push(spec(key, path, 'numberList', u));
        else if (ed.type === 'object') {
          const keys = Object.keys(shapeOf(el.schema));
          if (keys.length === 2)
            fields.push(spec(key, path, 'pairList', u, { pairKeys: [keys[0], keys[1]] }));
        }
        break;
      }
      default:
        break;
    }
  }
  return fields;
}

/** The default object of a union variant (strings without a default start empty). */
export function variantDefault(schema: z.ZodType, kind: string): Record<string, unknown> {
  const d = defOf(unwrap(schema).schema);
  const variant = (d.options ?? []).find((o) => literalValue(shapeOf(o).kind) === kind);
  const out: Record<string, unknown> = { kind };
  if (!variant) return out;
  for (const [name, raw] of Object.entries(shapeOf(variant))) {
    if (name === 'kind') continue;
    const u = unwrap(raw);
    out[name] = u.defaultValue ?? (defOf(u.schema).type === 'string' ? '' : u.optional ? undefined : 0);
  }
  return out;
}

/** The schema of a nested key of a task's config (for variantDefault). */
export function schemaAt(task: Task, path: string[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = TASK_SCHEMAS[task];
  for (const p of path) {
    if (!s) return undefined;
    s = shapeOf(unwrap(s).schema)[p];
  }
  return s;
}

export function getPath(obj: unknown, path: readonly string[]): unknown {
  let v: unknown = obj;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/** A copy of obj with path set to value (objects along the path are copied, others shared). */
export function setPath<T>(obj: T, path: readonly string[], value: unknown): T {
  if (path.length === 0) return value as T;
  const base = (obj && typeof obj === 'object' ? obj : {}) as Record<string, unknown>;
  const copy: Record<string, unknown> = Array.isArray(base) ? ([...base] as never) : { ...base };
  const [head, ...rest] = path;
  if (rest.length === 0 && value === undefined) delete copy[head];
  else copy[head] = setPath(copy[head], rest, value);
  return copy as T;
}

// ---- list fields as text ----

export function formatListValue(field: FieldSpec, value: unknown): string {
  if (!Array.isArray(value)) return '';
  if (field.kind === 'numberList') return value.join(', ');
  const [a, b] = field.pairKeys ?? ['at', 'value'];
  return value.map((e: Record<string, unknown>) => `${e[a]}: ${e[b]}`).join(', ');
}

export function parseListText(
  field: FieldSpec,
  text: string,
): { ok: true; value: unknown[] } | { ok: false; error: string } {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (field.kind === 'numberList') {
    const nums = parts.map(Number);
    const bad = parts.find((_, i) => !Number.isFinite(nums[i]));
    return bad === undefined
      ? { ok: true, value: nums }
      : { ok: false, error: `"${bad}" is not a number; separate values with commas` };
  }
  const [a, b] = field.pairKeys ?? ['at', 'value'];
  const out: Record<string, number>[] = [];
  for (const p of parts) {
    const m = /^([^:]+):(.+)$/.exec(p);
    const x = m ? Number(m[1]) : NaN;
    const y = m ? Number(m[2]) : NaN;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      return { ok: false, error: `"${p}" should look like ${a}: ${b}, e.g. 30000: 1e-4` };
    }
    out.push({ [a]: x, [b]: y });
  }
  return { ok: true, value: out };
}

// ---- validation ----

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  expected?: string;
  received?: string;
  values?: unknown[];
}

/** A zod issue in plain words ("at least 3", "a whole number"). */
export function issueText(issue: Issue): string {
  switch (issue.code) {
    case 'too_small':
      return `must be ${issue.inclusive === false ? 'more than' : 'at least'} ${issue.minimum}`;
    case 'too_big':
      return `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${issue.maximum}`;
    case 'invalid_type':
      if (issue.expected === 'int') return 'must be a whole number';
      if (issue.expected === 'number') return 'enter a number';
      if (issue.expected === 'string') return 'required';
      return `expected ${issue.expected}`;
    case 'invalid_value':
      return `must be one of ${(issue.values ?? []).map(String).join(', ')}`;
    default:
      return issue.message;
  }
}

export interface ConfigCheck {
  ok: boolean;
  config?: RunConfig;
  /** field key -> message, for inline display */
  fieldErrors: Record<string, string>;
  /** problems that belong to no visible field */
  otherErrors: string[];
}

/**
 * Validate a config with the shared schema and attach each problem to the form field it belongs to
 * (an issue inside a list, e.g. hidden.1, goes to the list field).
 */
export function checkConfig(config: unknown, fieldKeys: readonly string[]): ConfigCheck {
  const r = RunConfigSchema.safeParse(config);
  const fieldErrors: Record<string, string> = {};
  const otherErrors: string[] = [];
  const keys = new Set(fieldKeys);
  for (const issue of (r.error?.issues ?? []) as unknown as Issue[]) {
    const path = issue.path.map(String);
    let key: string | undefined;
    for (let n = path.length; n > 0 && !key; n--) {
      const k = path.slice(0, n).join('.');
      if (keys.has(k)) key = k;
    }
    const text = issueText(issue);
    if (key) fieldErrors[key] ??= path.length > key.split('.').length ? `item ${path.at(-1)}: ${text}` : text;
    else otherErrors.push(`${path.join('.') || 'config'}: ${text}`);
  }
  // cross-field rules the schema does not express
  const c = config as Record<string, unknown>;
  if (c?.task === 'grow' && Number(c.stepsMin) > Number(c.stepsMax)) {
    fieldErrors.stepsMax ??= 'must be at least the min steps';
  }
  const ok = r.success && Object.keys(fieldErrors).length === 0;
  return { ok, config: ok ? r.data : undefined, fieldErrors, otherErrors };
}

/** The default config of a task, from the schema alone. */
export function defaultConfig(task: Task, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const r = TASK_SCHEMAS[task].safeParse({ task, ...extra });
  if (r.success) return r.data as Record<string, unknown>;
  // adversarial needs a classifier run: fill what has defaults and leave that one empty
  const shape = shapeOf(TASK_SCHEMAS[task]);
  const out: Record<string, unknown> = { task, ...extra };
  for (const [name, raw] of Object.entries(shape)) {
    const u = unwrap(raw);
    if (out[name] === undefined && u.defaultValue !== undefined) out[name] = structuredClone(u.defaultValue);
  }
  return out;
}
