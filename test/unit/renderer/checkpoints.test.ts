import { describe, expect, it } from 'vitest';
import { checkpointLabel } from '../../../src/renderer/src/lib/checkpoints.ts';
import type { CheckpointMeta } from '../../../src/shared/runs.ts';

const meta = (over: Partial<CheckpointMeta>): CheckpointMeta => ({
  id: '7',
  runId: 'r',
  iteration: 39250,
  metric: null,
  createdAt: '2026-12-01T00:00:00Z',
  bytes: 1,
  best: false,
  ...over,
});

describe('checkpointLabel', () => {
  it('names the iteration, latest and best, and the score as a classifier or a growing NCA has it', () => {
    expect(checkpointLabel(meta({}), 1, 'classify')).toBe('iteration 39,250');
    expect(checkpointLabel(meta({ metric: 0.8134, best: true }), 0, 'classify')).toBe(
      'iteration 39,250 · latest · best (81.3 %)',
    );
    expect(checkpointLabel(meta({ metric: 0.011057 }), 2, 'grow')).toBe('iteration 39,250 (0.0111)');
  });
});
