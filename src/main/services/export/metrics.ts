/**
 * Metrics of one or several runs as CSV or JSON, read from the run store.
 *
 * CSV: one header, one row per run and iteration ("long" format, the shape pandas, R and
 * spreadsheets pivot easily); NaN / infinite values are empty cells.
 * JSON: { format, exportedAt, runs: [{ id, name, task, dataset, status, config, metrics: columns,
 * evaluations }] }, non-finite numbers as null. Both are written row block by row block through a
 * stream, so a run with millions of rows never becomes one huge string.
 */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { Evaluation } from '../../../shared/metrics.ts';
import { METRIC_COLUMNS, type MetricColumns, type RunRecord } from '../../../shared/runs.ts';
import { ExportInputError } from './video.ts';

export const METRICS_FORMAT = 'nca-metrics/1';

/** What the exporter needs from the run store (RunStore satisfies it). */
export interface MetricsStore {
  getRun(id: string): RunRecord;
  metricColumns(id: string): MetricColumns;
  evaluations(id: string): Evaluation[];
}

export interface MetricsExportResult {
  file: string;
  format: 'csv' | 'json';
  runs: number;
  rows: number;
  bytes: number;
}

/** RFC 4180 quoting: only fields with a comma, quote or line break are quoted. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const csvNumber = (v: number) => (Number.isFinite(v) ? String(v) : '');
const jsonNumber = (v: number) => (Number.isFinite(v) ? String(v) : 'null');

function finiteJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

async function writeAll(stream: fs.WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

const BLOCK_ROWS = 4096;

export async function exportMetrics(
  store: MetricsStore,
  ids: string[],
  format: 'csv' | 'json',
  file: string,
): Promise<MetricsExportResult> {
  if (ids.length === 0) throw new ExportInputError('choose at least one run to export');
  if (format !== 'csv' && format !== 'json')
    throw new ExportInputError(`metrics format "${String(format)}" is not csv or json`);
  const target = path.resolve(file);
  if (!fs.existsSync(path.dirname(target)))
    throw new ExportInputError(`cannot write ${target}: the folder ${path.dirname(target)} does not exist`);
  // read every run first: an unknown id fails before anything is written
  const runs = [...new Set(ids)].map((id) => ({
    record: store.getRun(id),
    columns: store.metricColumns(id),
  }));
  const part = `${target}.${process.pid}.part`;
  const stream = fs.createWriteStream(part);
  const failed = new Promise<never>((_, reject) => stream.once('error', reject));
  failed.catch(() => undefined);
  let rows = 0;
  try {
    const work = (async () => {
      if (format === 'csv') {
        await writeAll(stream, ['runId', 'runName', ...METRIC_COLUMNS].join(',') + '\n');
        for (const { record, columns } of runs) {
          const prefix = `${csvField(record.id)},${csvField(record.name)},`;
          const n = columns.iteration.length;
          for (let start = 0; start < n; start += BLOCK_ROWS) {
            let block = '';
            for (let i = start; i < Math.min(n, start + BLOCK_ROWS); i++)
              block += prefix + METRIC_COLUMNS.map((c) => csvNumber(columns[c][i])).join(',') + '\n';
            await writeAll(stream, block);
          }
          rows += n;
        }
      } else {
        await writeAll(
          stream,
          `{"format":${JSON.stringify(METRICS_FORMAT)},"exportedAt":${JSON.stringify(new Date().toISOString())},"runs":[`,
        );
        for (const [r, { record, columns }] of runs.entries()) {
          const head = {
            id: record.id,
            name: record.name,
            task: record.task,
            dataset: record.dataset,
            status: record.status,
            createdAt: record.createdAt,
            tags: record.tags,
            config: record.config,
          };
          await writeAll(stream, `${r ? ',' : ''}${finiteJson(head).slice(0, -1)},"metrics":{`);
          for (const [c, name] of METRIC_COLUMNS.entries()) {
            await writeAll(stream, `${c ? ',' : ''}${JSON.stringify(name)}:[`);
            const values = columns[name];
            for (let start = 0; start < values.length; start += BLOCK_ROWS) {
              const block = Array.from(values.subarray(start, start + BLOCK_ROWS), jsonNumber).join(',');
              await writeAll(stream, `${start ? ',' : ''}${block}`);
            }
            await writeAll(stream, ']');
          }
          await writeAll(stream, `},"evaluations":${finiteJson(store.evaluations(record.id))}}`);
          rows += columns.iteration.length;
        }
        await writeAll(stream, ']}\n');
      }
      stream.end();
      await once(stream, 'finish');
    })();
    await Promise.race([work, failed]);
    await fs.promises.rename(part, target);
  } catch (err) {
    stream.destroy();
    await fs.promises.rm(part, { force: true }).catch(() => undefined);
    throw err;
  }
  return { file: target, format, runs: runs.length, rows, bytes: fs.statSync(target).size };
}
