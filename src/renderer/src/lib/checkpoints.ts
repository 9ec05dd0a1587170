import type { CheckpointMeta } from '../../../shared/runs.ts';

/**
 * A checkpoint as the dialogs list it: "iteration 1,250 · latest · best (81.3 %)". `index` 0 is the
 * latest (runs.checkpoints lists newest first); a growing NCA's metric is a loss, not a percentage.
 */
export function checkpointLabel(c: CheckpointMeta, index: number, task: string): string {
  const metric =
    c.metric === null
      ? ''
      : ` (${task === 'grow' ? c.metric.toPrecision(3) : `${(c.metric * 100).toFixed(1)} %`})`;
  return `iteration ${c.iteration.toLocaleString('en-US')}${index === 0 ? ' · latest' : ''}${c.best ? ' · best' : ''}${metric}`;
}
