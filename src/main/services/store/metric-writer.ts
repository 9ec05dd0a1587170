/**
 * Batches iteration metrics off the training hot path: push() only appends to arrays; a flush (one
 * transaction, one columnar chunk) runs every `intervalMs`, or on the next tick once `batchRows` rows
 * are waiting, or at once when 4 x batchRows are waiting (a loop that never yields still gets written).
 * A failed background flush keeps the rows and makes the next push() throw, so nothing is lost silently.
 */
import type { IterationMetrics } from '../../../shared/metrics.ts';
import { METRIC_COLUMNS, type MetricColumns } from '../../../shared/runs.ts';
import { StoreError } from './errors.ts';

export interface MetricWriter {
  /** Queue one row (cheap). Throws the last background flush error, once, so the caller can stop. */
  push(row: IterationMetrics): void;
  /** Write every queued row now (one transaction). Throws StoreError on failure; rows stay queued. */
  flush(): void;
  /** Flush and stop the timer. Further pushes throw. */
  close(): void;
  /** rows queued and not yet written */
  readonly pending: number;
}

export interface MetricWriterOptions {
  /** most time a row waits before it is written (default 500 ms) */
  intervalMs?: number;
  /** rows that trigger a flush on the next tick (default 256) */
  batchRows?: number;
  /** called when a background flush fails (default: print to stderr) */
  onError?: (err: Error) => void;
}

export function createMetricWriter(
  runId: string,
  writeChunk: (runId: string, batch: MetricColumns) => void,
  options: MetricWriterOptions = {},
): MetricWriter {
  const intervalMs = options.intervalMs ?? 500;
  const batchRows = options.batchRows ?? 256;
  const onError =
    options.onError ??
    ((err: Error) => process.stderr.write(`run store: metrics not yet written: ${err.message}\n`));
  let rows: IterationMetrics[] = [];
  let closed = false;
  let pendingError: Error | null = null;
  let tickScheduled = false;

  const flush = () => {
    if (rows.length === 0) return;
    const n = rows.length;
    const batch = {} as MetricColumns;
    for (const column of METRIC_COLUMNS) {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = rows[i][column];
      batch[column] = values;
    }
    writeChunk(runId, batch); // throws: rows stay queued for the next try
    rows = [];
  };

  const backgroundFlush = () => {
    tickScheduled = false;
    try {
      flush();
    } catch (err) {
      pendingError = err instanceof Error ? err : new Error(String(err));
      onError(pendingError);
    }
  };

  const timer = setInterval(backgroundFlush, intervalMs);
  timer.unref();

  return {
    push(row) {
      if (closed) throw new StoreError('closed', `the metric writer of run ${runId} is closed`);
      if (pendingError) {
        const err = pendingError;
        pendingError = null;
        throw err;
      }
      rows.push(row);
      if (rows.length >= batchRows * 4) flush();
      else if (rows.length >= batchRows && !tickScheduled) {
        tickScheduled = true;
        setImmediate(backgroundFlush);
      }
    },
    flush() {
      pendingError = null;
      flush();
    },
    close() {
      if (closed) return;
      clearInterval(timer);
      flush();
      closed = true;
    },
    get pending() {
      return rows.length;
    },
  };
}
