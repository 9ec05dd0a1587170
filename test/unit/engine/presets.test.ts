import { describe, expect, it } from 'vitest';
import { PRESETS, presetConfig } from '../../../src/shared/presets.ts';
import { RunConfigSchema, datasetIdOf } from '../../../src/shared/nca-config.ts';

describe('presets', () => {
  it('has the named presets, each with a title and a one-line description', () => {
    const ids = PRESETS.map((p) => p.id);
    for (const id of [
      'quick-demo',
      'distill-mnist',
      'paper-fashion',
      'paper-kmnist',
      'kmnist-nomask',
      'kmnist-relay',
      'grow-fashion',
      'adversarial',
    ])
      expect(ids).toContain(id);
    for (const p of PRESETS) {
      expect(p.title.length).toBeGreaterThan(3);
      expect(p.description).not.toMatch(/\n/);
    }
  });

  it('every preset is a valid configuration once its required fields are filled', () => {
    for (const p of PRESETS) {
      const fill = Object.fromEntries((p.requires ?? []).map((f) => [f, 'run-1']));
      expect(RunConfigSchema.safeParse({ ...p.config, ...fill }).success).toBe(true);
    }
    expect(presetConfig('paper-kmnist')).toMatchObject({ dataset: 'kmnist-split', channels: 20 });
    expect(presetConfig('quick-demo', { iterations: 5 }).iterations).toBe(5);
    expect(presetConfig('kmnist-relay')).toMatchObject({ aliveMode: 'none', readout: 'strokes' });
    expect(presetConfig('paper-kmnist')).toMatchObject({ readout: 'alive' });
  });

  it('names the preset and the field when something is wrong', () => {
    expect(() => presetConfig('nope')).toThrow(/preset "nope" does not exist/);
    expect(() => presetConfig('adversarial')).toThrow(/adversarial: classifierRunId/);
    expect(() => presetConfig('quick-demo', { batch: 0 })).toThrow(/quick-demo: batch/);
  });

  it('says which catalogue dataset a run trains on, and none for a grown image file', () => {
    expect(datasetIdOf(presetConfig('paper-kmnist'))).toBe('kmnist-split');
    expect(datasetIdOf(presetConfig('adversarial', { classifierRunId: 'run-1' }))).toBe('mnist');
    expect(datasetIdOf(presetConfig('grow-fashion'))).toBe('fashion-mnist');
    const image = presetConfig('grow-fashion', { target: { kind: 'image', path: '/tmp/lizard.png' } });
    expect(datasetIdOf(image)).toBeNull();
  });
});
