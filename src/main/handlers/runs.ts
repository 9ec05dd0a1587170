import type { RunMetricsResult, SeriesJson } from '../../shared/contract-results.ts';
import type { MetricSeries } from '../../shared/runs.ts';
import type { RunStore } from '../services/store/index.ts';
import type { Handlers } from '../transport/router.ts';
import { mapped } from './errors.ts';

function seriesJson(s: MetricSeries): SeriesJson {
  return {
    runId: s.runId,
    field: s.field,
    iterations: Array.from(s.iterations),
    values: Array.from(s.values, (v) => (Number.isFinite(v) ? v : null)),
    totalRows: s.totalRows,
    method: s.method,
  };
}

/**
 * runs.*: the run store as the UI sees it. Creating and deleting runs goes through the training
 * service (it must know about running workers), see training.ts.
 */
export function runHandlers(store: RunStore): Handlers {
  return {
    'runs.list': mapped((filter) => store.listRuns(filter)),
    'runs.get': mapped(({ id }) => store.getSummary(id)),
    'runs.update': mapped(({ id, ...update }) => store.updateRun(id, update)),
    'runs.metrics': mapped(({ id, maxPoints, fields, fromIteration }): RunMetricsResult => {
      const m = store.metrics(id, { maxPoints, fields, fromIteration });
      const series: RunMetricsResult['series'] = {};
      for (const [field, s] of Object.entries(m.series)) series[field as keyof typeof series] = seriesJson(s);
      return { runId: m.runId, totalRows: m.totalRows, series };
    }),
    'runs.compare': mapped(({ ids, field, maxPoints }) => ({
      series: store.compareSeries(ids, field, maxPoints).map(seriesJson),
    })),
    'runs.evaluations': mapped(({ id }) => store.evaluations(id)),
    'runs.checkpoints': mapped(({ id }) => store.listCheckpoints(id)),
    'runs.recordings': mapped(({ id }) => store.listRecordings(id)),
    'runs.events': mapped(({ id }) => store.events(id)),
    'runs.export': mapped(({ id, file, checkpoints }) => store.exportRun(id, file, { checkpoints })),
    'runs.import': mapped(({ file }) => store.importRun(file)),
  };
}
