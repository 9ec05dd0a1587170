import { describe, expect, it } from 'vitest';
import {
  buildFields,
  checkConfig,
  defaultConfig,
  formatListValue,
  getPath,
  parseListText,
  schemaAt,
  setPath,
  TASK_SCHEMAS,
  variantDefault,
} from '../../../src/renderer/src/lib/config-form.ts';

describe('form fields generated from the run-config schema', () => {
  const fields = buildFields(TASK_SCHEMAS.classify, defaultConfig('classify'));
  const byKey = new Map(fields.map((f) => [f.key, f]));

  it('takes limits, kinds and defaults from the schema', () => {
    expect(byKey.get('channels')).toMatchObject({ kind: 'integer', min: 3, max: 128, defaultValue: 20 });
    expect(byKey.get('fireRate')).toMatchObject({ kind: 'number', min: 0.01, max: 1 });
    expect(byKey.get('optimizer.lr')).toMatchObject({ kind: 'number', minExclusive: true, max: 1 });
    expect(byKey.get('loss')).toMatchObject({ kind: 'choice', options: ['l2', 'ce', 'scce'] });
    expect(byKey.get('perception.kernel')).toMatchObject({ kind: 'choice', options: [3, 5] });
    expect(byKey.get('hidden')).toMatchObject({ kind: 'numberList' });
    expect(byKey.get('optimizer.schedule')).toMatchObject({ kind: 'pairList', pairKeys: ['at', 'lr'] });
    expect(byKey.get('trainSubset')).toMatchObject({ optional: true, kind: 'integer' });
  });

  it('groups every field, gives each a help line, and leaves out what is picked elsewhere', () => {
    expect(byKey.has('task')).toBe(false);
    expect(byKey.has('dataset')).toBe(false);
    expect(byKey.get('perception.filters')!.group).toBe('perception');
    expect(byKey.get('pool.size')!.group).toBe('pool');
    expect(byKey.get('evaluation.images')!.group).toBe('evaluation');
    expect(byKey.get('compute.backend')!.group).toBe('compute');
    expect(byKey.get('channels')!.group).toBe('model');
    // the schema's own .describe() text wins over the local fallback
    expect(byKey.get('channels')!.help).toBe('state channels: pixel + hidden + one logit per class');
    for (const task of ['classify', 'grow', 'adversarial'] as const) {
      const all = buildFields(TASK_SCHEMAS[task], defaultConfig(task));
      expect(all.filter((f) => !f.help).map((f) => `${task}: ${f.key}`)).toEqual([]);
    }
  });

  it('builds the fields of the chosen variant of a union (growing target)', () => {
    const grow = defaultConfig('grow');
    const dsFields = buildFields(TASK_SCHEMAS.grow, grow).map((f) => f.key);
    expect(dsFields).toContain('target.kind');
    expect(dsFields).toContain('target.index');
    expect(dsFields).not.toContain('target.path');
    const img = setPath(grow, ['target'], variantDefault(schemaAt('grow', ['target'])!, 'image'));
    expect(getPath(img, ['target'])).toEqual({ kind: 'image', path: '', mask: 'alpha' });
    const imgFields = buildFields(TASK_SCHEMAS.grow, img).map((f) => f.key);
    expect(imgFields).toContain('target.path');
    expect(imgFields).not.toContain('target.index');
  });

  it('adversarial defaults leave the classifier empty and validation says so', () => {
    const adv = defaultConfig('adversarial');
    expect(adv.channels).toBe(20);
    expect(adv.classifierRunId).toBeUndefined();
    const check = checkConfig(adv, ['classifierRunId']);
    expect(check.ok).toBe(false);
    expect(check.fieldErrors.classifierRunId).toBeDefined();
  });
});

describe('validation messages land on their field in plain words', () => {
  const keys = buildFields(TASK_SCHEMAS.classify, defaultConfig('classify')).map((f) => f.key);

  it('accepts the defaults', () => {
    expect(checkConfig(defaultConfig('classify'), keys).ok).toBe(true);
  });

  it('names the limit that was broken', () => {
    let c = defaultConfig('classify');
    c = setPath(c, ['channels'], 2);
    c = setPath(c, ['fireRate'], 1.5);
    c = setPath(c, ['batch'], 2.5);
    c = setPath(c, ['optimizer', 'lr'], 0);
    c = setPath(c, ['hidden'], [80, 0]);
    c = setPath(c, ['steps'], NaN);
    const r = checkConfig(c, keys);
    expect(r.ok).toBe(false);
    expect(r.fieldErrors).toEqual({
      channels: 'must be at least 3',
      fireRate: 'must be at most 1',
      batch: 'must be a whole number',
      'optimizer.lr': 'must be more than 0',
      hidden: 'item 1: must be at least 1',
      steps: 'enter a number',
    });
  });

  it('checks min <= max steps for growing runs', () => {
    const g = { ...defaultConfig('grow'), stepsMin: 100, stepsMax: 50 };
    expect(checkConfig(g, ['stepsMin', 'stepsMax']).fieldErrors.stepsMax).toMatch(/at least the min/);
  });
});

describe('list fields as text', () => {
  const fields = buildFields(TASK_SCHEMAS.classify, defaultConfig('classify'));
  const hidden = fields.find((f) => f.key === 'hidden')!;
  const schedule = fields.find((f) => f.key === 'optimizer.schedule')!;

  it('round-trips numbers and pairs', () => {
    expect(formatListValue(hidden, [80, 40])).toBe('80, 40');
    expect(parseListText(hidden, '80, 40')).toEqual({ ok: true, value: [80, 40] });
    const text = formatListValue(schedule, [{ at: 30000, lr: 1e-4 }]);
    expect(text).toBe('30000: 0.0001');
    expect(parseListText(schedule, '30000: 1e-4, 70000:1e-5')).toEqual({
      ok: true,
      value: [
        { at: 30000, lr: 1e-4 },
        { at: 70000, lr: 1e-5 },
      ],
    });
  });

  it('rejects malformed entries and quotes them', () => {
    expect(parseListText(hidden, '80, x')).toEqual({
      ok: false,
      error: '"x" is not a number; separate values with commas',
    });
    const r = parseListText(schedule, '30000 1e-4');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain('"30000 1e-4"');
  });
});

describe('setPath', () => {
  it('copies along the path and leaves the original alone', () => {
    const a = { pool: { size: 1, freshFraction: 0.25 }, other: { x: 1 } };
    const b = setPath(a, ['pool', 'size'], 5);
    expect(b).toEqual({ pool: { size: 5, freshFraction: 0.25 }, other: { x: 1 } });
    expect(a.pool.size).toBe(1);
    expect(b.other).toBe(a.other);
    expect(setPath({ trainSubset: 5 }, ['trainSubset'], undefined)).toEqual({});
  });
});
