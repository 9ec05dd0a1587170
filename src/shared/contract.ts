/**
 * The one API contract between the UI and the services. Both transports (Electron IPC and the
 * browser-mode WebSocket) carry exactly these envelopes; the router in src/main validates every
 * request against `methods[name].params` before a service sees it.
 *
 * Results are produced by our own services, so they are typed (not re-validated) here.
 */
import { z } from 'zod';
import { RunConfigSchema } from './nca-config.ts';
import { MetricFieldSchema as MetricField, RunListFilterSchema } from './runs.ts';
import type { ContractResults } from './contract-results.ts';

const Id = z.string().min(1).max(64);
const Empty = z.object({}).strict().default({});

/** Request parameter schemas, one per method. */
export const methods = {
  'app.info': Empty,
  'app.settings.get': Empty,
  'app.settings.set': z
    .object({
      theme: z.enum(['system', 'light', 'dark']).optional(),
      frameRate: z.number().int().min(1).max(120).optional(),
      datasetMirrors: z.record(z.string(), z.string().url()).optional(),
    })
    .strict(),

  'presets.list': Empty,
  'config.validate': z.object({ config: z.unknown() }).strict(),
  'config.estimate': z.object({ config: RunConfigSchema }).strict(),

  'datasets.list': Empty,
  'datasets.stats': z.object({ id: Id }).strict(),
  'datasets.samples': z
    .object({
      id: Id,
      split: z.enum(['train', 'test']).default('test'),
      perClass: z.number().int().min(1).max(64).default(8),
      classIndex: z.number().int().min(0).optional(),
      offset: z.number().int().min(0).default(0),
    })
    .strict(),
  'datasets.fetch': z.object({ id: Id }).strict(),
  'datasets.cancelFetch': z.object({ id: Id }).strict(),
  'datasets.import': z
    .object({
      path: z.string().min(1).max(4096),
      name: z.string().min(1).max(100),
      size: z.number().int().min(4).max(64).default(28),
      testFraction: z.number().min(0).max(0.9).default(0.2),
    })
    .strict(),

  'runs.list': RunListFilterSchema.default({}),
  'runs.get': z.object({ id: Id }).strict(),
  'runs.create': z
    .object({
      name: z.string().min(1).max(200),
      config: RunConfigSchema,
      start: z.boolean().default(true),
    })
    .strict(),
  /** a new run continuing this one from a checkpoint, with a changed configuration (model fields fixed) */
  'runs.fork': z
    .object({
      id: Id,
      checkpoint: z.union([z.literal('latest'), z.literal('best'), Id]).default('latest'),
      name: z.string().min(1).max(200).optional(),
      config: RunConfigSchema,
      start: z.boolean().default(true),
    })
    .strict(),
  /**
   * a new run whose weights are the mean of checkpoints of this run and the runs it was forked from
   * (weight averaging along the trajectory): listed ids, or every kept checkpoint from an iteration on
   */
  'runs.average': z
    .object({
      id: Id,
      checkpoints: z.array(Id).min(2).max(500).optional(),
      fromIteration: z.number().int().min(0).optional(),
      toIteration: z.number().int().min(0).optional(),
      name: z.string().min(1).max(200).optional(),
    })
    .strict()
    .refine((p) => (p.checkpoints === undefined) !== (p.fromIteration === undefined), {
      message: 'give either checkpoints (ids) or fromIteration (with an optional toIteration)',
    }),
  'runs.update': z
    .object({
      id: Id,
      name: z.string().min(1).max(200).optional(),
      tags: z.array(z.string().min(1).max(64)).max(32).optional(),
      notes: z.string().max(20_000).optional(),
    })
    .strict(),
  'runs.delete': z.object({ id: Id }).strict(),
  'runs.metrics': z
    .object({
      id: Id,
      maxPoints: z.number().int().min(10).max(20_000).default(2000),
      fields: z.array(MetricField).min(1).optional(),
      /** only rows from this iteration on (live charts fetch what is new) */
      fromIteration: z.number().int().min(0).optional(),
    })
    .strict(),
  'runs.compare': z
    .object({
      ids: z.array(Id).min(1).max(8),
      field: MetricField,
      maxPoints: z.number().int().min(10).max(20_000).default(2000),
    })
    .strict(),
  'runs.evaluations': z.object({ id: Id }).strict(),
  'runs.checkpoints': z.object({ id: Id }).strict(),
  'runs.events': z.object({ id: Id }).strict(),
  'runs.recordings': z.object({ id: Id }).strict(),
  'runs.export': z
    .object({
      id: Id,
      file: z.string().min(1).max(4096),
      checkpoints: z.enum(['latest', 'best', 'all']).default('best'),
    })
    .strict(),
  'runs.import': z.object({ file: z.string().min(1).max(4096) }).strict(),

  'training.start': z.object({ id: Id }).strict(),
  'training.pause': z.object({ id: Id }).strict(),
  'training.resume': z.object({ id: Id }).strict(),
  'training.stop': z.object({ id: Id }).strict(),
  'training.checkpoint': z.object({ id: Id }).strict(),
  /** Ask for live cell-state frames of a training run on this connection (off by default). */
  'training.watch': z
    .object({
      id: Id,
      frames: z.boolean(),
      samples: z.number().int().min(1).max(64).default(16),
      /** the state channel shown as a heat map in each frame (default: 1 for classifiers, alpha for growing) */
      channel: z.number().int().min(0).max(127).optional(),
    })
    .strict(),

  'playground.open': z
    .object({
      runId: Id,
      checkpoint: z.union([z.literal('latest'), z.literal('best'), Id]).default('best'),
    })
    .strict(),
  'playground.setInput': z
    .object({
      session: Id,
      input: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('test'), index: z.number().int().min(0) }),
        /** a drawn image, width*height grey bytes, base64 (small: at most 64x64) */
        z.object({
          kind: z.literal('drawn'),
          width: z.number().int().min(1).max(64),
          pixels: z.string().max(8000),
        }),
        z.object({ kind: z.literal('seed') }),
      ]),
    })
    .strict(),
  'playground.step': z
    .object({ session: Id, steps: z.number().int().min(1).max(10_000).default(1) })
    .strict(),
  'playground.edit': z
    .object({
      session: Id,
      edit: z.discriminatedUnion('kind', [
        z.object({
          kind: z.literal('erase'),
          x: z.number(),
          y: z.number(),
          radius: z.number().min(0.5).max(64),
        }),
        z.object({
          kind: z.literal('adversary'),
          x: z.number().int().min(0),
          y: z.number().int().min(0),
          on: z.boolean().default(true),
        }),
        z.object({
          kind: z.literal('sprinkle'),
          fraction: z.number().min(0).max(1),
          seed: z.number().int().optional(),
        }),
        z.object({ kind: z.literal('clearAdversaries') }),
      ]),
    })
    .strict(),
  /** choose the state channel shown as a heat map in this session's frames */
  'playground.view': z.object({ session: Id, channel: z.number().int().min(0).max(127) }).strict(),
  'playground.close': z.object({ session: Id }).strict(),

  'export.video': z
    .object({
      source: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('playground'), session: Id }),
        z.object({ kind: z.literal('recording'), runId: Id, recordingId: Id }),
        z.object({
          kind: z.literal('compare'),
          runIds: z.array(Id).min(1).max(8),
          testIndex: z.number().int().min(0),
        }),
      ]),
      format: z.enum(['mp4', 'webm', 'gif']),
      file: z.string().min(1).max(4096),
      steps: z.number().int().min(1).max(10_000).default(200),
      scale: z.number().int().min(1).max(32).default(8),
      fps: z.number().int().min(1).max(120).default(30),
      overlays: z
        .object({
          step: z.boolean().default(true),
          legend: z.boolean().default(true),
          runName: z.boolean().default(true),
        })
        .default({ step: true, legend: true, runName: true }),
    })
    .strict(),
  'export.cancel': z.object({ job: Id }).strict(),
  'export.metrics': z
    .object({
      ids: z.array(Id).min(1).max(8),
      format: z.enum(['csv', 'json']),
      file: z.string().min(1).max(4096),
    })
    .strict(),
} as const;

export type MethodName = keyof typeof methods;
export type Params<M extends MethodName> = z.output<(typeof methods)[M]>;
export type ParamsInput<M extends MethodName> = z.input<(typeof methods)[M]>;
export type Result<M extends MethodName> = M extends keyof ContractResults ? ContractResults[M] : never;

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

/** Event names the services push to the UI. Binary events carry an ArrayBuffer payload beside the header. */
export const eventNames = [
  'run.status',
  'run.metrics',
  'run.evaluation',
  'run.frame',
  'run.checkpoint',
  'datasets.progress',
  'playground.frame',
  'export.progress',
  'log',
] as const;
export type EventName = (typeof eventNames)[number];

// ---- wire envelopes (both transports) ----

export const RequestEnvelopeSchema = z
  .object({
    id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    method: z.string().min(1).max(100),
    params: z.unknown().optional(),
  })
  .strict();
export type RequestEnvelope = z.infer<typeof RequestEnvelopeSchema>;

export type ErrorCode =
  | 'bad_request'
  | 'unknown_method'
  | 'invalid_params'
  | 'not_found'
  | 'conflict'
  | 'unavailable'
  | 'service_error';

export interface ApiErrorBody {
  code: ErrorCode;
  message: string;
  /** for invalid_params: one entry per problem, "field: reason" */
  issues?: string[];
}

export type ResponseEnvelope =
  { id: number; ok: true; result: unknown } | { id: number | null; ok: false; error: ApiErrorBody };

/** Events: JSON data, plus an optional binary payload (cell-state frames). */
export interface EventEnvelope {
  event: EventName;
  data: unknown;
  /** present on binary events */
  binary?: ArrayBuffer;
}

/** An error a service throws on purpose: the router passes its code and message to the UI. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: string[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * Binary WebSocket frames: [u32 LE header length][UTF-8 JSON header][payload bytes]. Events use the
 * header {event, data}; responses whose result has a `bytes` field ({id, ok, result}) travel the same
 * way with the bytes as the payload, so images and cell states never become JSON number arrays.
 */
export function encodeBinaryMessage(header: unknown, payload: ArrayBuffer | Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const body = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
  const out = new Uint8Array(4 + head.length + body.length);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  out.set(body, 4 + head.length);
  return out;
}

export function decodeBinaryMessage(buf: ArrayBuffer): { header: unknown; binary: ArrayBuffer } {
  if (buf.byteLength < 4) throw new Error('binary message shorter than its header length field');
  const len = new DataView(buf).getUint32(0, true);
  if (4 + len > buf.byteLength) throw new Error('binary message header runs past the end of the frame');
  const header: unknown = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, len)));
  return { header, binary: buf.slice(4 + len) };
}

export function encodeBinaryEvent(
  event: EventName,
  data: unknown,
  payload: ArrayBuffer | Uint8Array,
): Uint8Array {
  return encodeBinaryMessage({ event, data }, payload);
}

export function decodeBinaryEvent(buf: ArrayBuffer): EventEnvelope {
  const { header, binary } = decodeBinaryMessage(buf);
  const h = header as { event: EventName; data: unknown };
  return { event: h.event, data: h.data, binary };
}

/** A result carrying bytes: the transports move `bytes` as binary, beside the JSON. */
export function hasBytes(result: unknown): result is { bytes: Uint8Array } {
  return (
    typeof result === 'object' &&
    result !== null &&
    (result as { bytes?: unknown }).bytes instanceof Uint8Array
  );
}
