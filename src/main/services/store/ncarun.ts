/**
 * The `.ncarun` container: a zip (fflate) holding manifest.json, its SHA-256 in manifest.sha256, and
 * the files the manifest lists, each with its own SHA-256. Reading verifies everything before the
 * caller touches the database, so a corrupt or foreign file is refused whole.
 */
import { createHash } from 'node:crypto';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { z } from 'zod';
import { METRIC_COLUMNS, RunRecordSchema, RecordingDtypeSchema } from '../../../shared/runs.ts';
import { StoreError } from './errors.ts';

export const NCARUN_FORMAT = 'ncarun';
export const NCARUN_VERSION = 1;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const FilePath = z.string().regex(/^[a-z0-9_\-./]+$/i);

export const ManifestSchema = z.object({
  format: z.literal(NCARUN_FORMAT),
  version: z.number().int().min(1),
  appVersion: z.string(),
  exportedAt: z.string(),
  run: RunRecordSchema,
  metrics: z.object({
    rows: z.number().int().min(0),
    columns: z.array(z.string()),
    /** column-major little-endian Float64 */
    file: FilePath,
  }),
  evaluations: FilePath,
  events: FilePath,
  checkpoints: z.array(
    z.object({
      file: FilePath,
      iteration: z.number().int().min(0),
      metric: z.number().nullable(),
      createdAt: z.string(),
    }),
  ),
  recordings: z.array(
    z.object({
      file: FilePath,
      name: z.string().min(1),
      width: z.number().int().min(1),
      height: z.number().int().min(1),
      channels: z.number().int().min(1),
      frameCount: z.number().int().min(1),
      dtype: RecordingDtypeSchema,
      bytes: z.number().int().min(0),
      createdAt: z.string(),
      /** stored as the store keeps it: zlib-compressed */
      compression: z.literal('zlib'),
    }),
  ),
  files: z.record(FilePath, z.object({ bytes: z.number().int().min(0), sha256: Sha256 })),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Zip the manifest and files; `files` must hold every path the manifest names (checksums are added here). */
export function packNcarun(
  manifest: Omit<Manifest, 'files'>,
  files: Record<string, { data: Uint8Array; compress: boolean }>,
): Uint8Array {
  const entries: Zippable = {};
  const sums: Manifest['files'] = {};
  for (const [path, { data, compress }] of Object.entries(files)) {
    sums[path] = { bytes: data.byteLength, sha256: sha256(data) };
    entries[path] = [data, { level: compress ? 6 : 0 }];
  }
  const manifestBytes = new TextEncoder().encode(JSON.stringify({ ...manifest, files: sums }, null, 1));
  entries['manifest.json'] = manifestBytes;
  entries['manifest.sha256'] = new TextEncoder().encode(sha256(manifestBytes));
  return zipSync(entries, { level: 6 });
}

/** Unzip and verify a `.ncarun`; throws StoreError('invalid-file') naming the file and the problem. */
export function unpackNcarun(
  bytes: Uint8Array,
  file: string,
): { manifest: Manifest; files: Record<string, Uint8Array> } {
  const bad = (why: string, cause?: unknown) =>
    new StoreError('invalid-file', `${file} is not a valid .ncarun run export: ${why}`, { cause });
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (err) {
    throw bad(
      `it is not a readable zip container (${err instanceof Error ? err.message : String(err)})`,
      err,
    );
  }
  const manifestBytes = entries['manifest.json'];
  const manifestSum = entries['manifest.sha256'];
  if (!manifestBytes || !manifestSum)
    throw bad('manifest.json or manifest.sha256 is missing (a foreign zip?)');
  if (new TextDecoder().decode(manifestSum).trim() !== sha256(manifestBytes))
    throw bad('manifest.json does not match its checksum (the file is damaged)');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch (err) {
    throw bad('manifest.json is not JSON', err);
  }
  const head = z.object({ format: z.string(), version: z.number() }).safeParse(raw);
  if (!head.success || head.data.format !== NCARUN_FORMAT)
    throw bad('manifest.json is not an NCA Workbench manifest');
  if (head.data.version > NCARUN_VERSION)
    throw bad(
      `it was written in format version ${head.data.version}; this app reads up to ${NCARUN_VERSION}, update it`,
    );
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw bad(`manifest.json field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const manifest = parsed.data;
  const files: Record<string, Uint8Array> = {};
  for (const [path, sum] of Object.entries(manifest.files)) {
    const data = entries[path];
    if (!data) throw bad(`${path} is listed in the manifest but missing`);
    if (data.byteLength !== sum.bytes || sha256(data) !== sum.sha256)
      throw bad(`${path} does not match its checksum (the file is damaged)`);
    files[path] = data;
  }
  const named = [
    manifest.metrics.file,
    manifest.evaluations,
    manifest.events,
    ...manifest.checkpoints.map((c) => c.file),
    ...manifest.recordings.map((r) => r.file),
  ];
  for (const path of named) if (!files[path]) throw bad(`${path} has no checksum entry in the manifest`);
  const columns = manifest.metrics.columns;
  if (columns.length !== METRIC_COLUMNS.length || columns.some((c, i) => c !== METRIC_COLUMNS[i]))
    throw bad(`metrics columns [${columns.join(', ')}] are not [${METRIC_COLUMNS.join(', ')}]`);
  const expected = manifest.metrics.rows * METRIC_COLUMNS.length * 8;
  if (files[manifest.metrics.file].byteLength !== expected)
    throw bad(
      `${manifest.metrics.file} holds ${files[manifest.metrics.file].byteLength} bytes, expected ${expected}`,
    );
  return { manifest, files };
}
