/** One row of `npm run bench`. Engine rows fill every field; other areas fill what applies. */
export interface BenchRow {
  name: string;
  backend?: string;
  threads?: number;
  msPerIteration?: number;
  cellUpdatesPerSec?: number;
  gflops?: number;
  peakRssMb?: number;
  /** free-form measurements of non-engine rows, e.g. { rows: 1e6, ms: 1400 } */
  extra?: Record<string, number | string>;
  note?: string;
}

export interface BenchOptions {
  quick: boolean;
}
