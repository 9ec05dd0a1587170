import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../../src/main/services/store/index.ts';
import type { IterationMetrics } from '../../../src/shared/metrics.ts';
import { csvField, exportMetrics, METRICS_FORMAT } from '../../../src/main/services/export/index.ts';
import { tempDir } from './helpers.ts';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function row(iteration: number, over: Partial<IterationMetrics> = {}): IterationMetrics {
  return {
    iteration,
    loss: 1 / (1 + iteration),
    perCellAccuracy: iteration / 100,
    agreement: 0.5,
    lr: 1e-3,
    gradNorm: 2,
    iterationMs: 20,
    cellsPerSec: 1e6,
    wallMs: iteration * 20,
    ...over,
  };
}

function seeded() {
  const store = RunStore.open(path.join(dir, 'data'));
  const a = store.createRun({ name: 'plain', config: { task: 'classify', dataset: 'mnist' } });
  const b = store.createRun({ name: 'has, "quotes"', config: { task: 'grow' } });
  const wa = store.metricWriter(a.id);
  for (let i = 0; i < 5000; i++) wa.push(row(i));
  wa.close();
  const wb = store.metricWriter(b.id);
  for (let i = 0; i < 3; i++) wb.push(row(i, { perCellAccuracy: NaN, agreement: NaN }));
  wb.close();
  store.addEvaluation(a.id, {
    iteration: 100,
    images: 10,
    perStep: [{ step: 1, perCellAccuracy: 0.5, agreement: 0.2 }],
    perCellAccuracy: 0.5,
    agreement: 0.2,
    perClassAccuracy: [0.5],
    confusionCells: [[1]],
    confusionImages: [[1]],
    loss: 0.25,
    durationMs: 5,
  });
  return { store, a, b };
}

const { store, a, b } = seeded();
afterAll(() => store.close());

describe('exportMetrics', () => {
  it('writes CSV: one header, one row per run and iteration, NaN as empty, names quoted', async () => {
    const file = path.join(dir, 'm.csv');
    const r = await exportMetrics(store, [a.id, b.id], 'csv', file);
    expect(r).toMatchObject({ runs: 2, rows: 5003, format: 'csv' });
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(
      'runId,runName,iteration,loss,perCellAccuracy,agreement,lr,gradNorm,iterationMs,cellsPerSec,wallMs',
    );
    expect(lines.length).toBe(1 + 5003);
    expect(lines[1]).toBe(`${a.id},plain,0,1,0,0.5,0.001,2,20,1000000,0`);
    expect(lines[4097]).toBe(`${a.id},plain,4096,${1 / 4097},40.96,0.5,0.001,2,20,1000000,81920`);
    expect(lines[5001]).toBe(`${b.id},"has, ""quotes""",0,1,,,0.001,2,20,1000000,0`);
  });

  it('writes JSON with columns, config and evaluations; non-finite numbers are null', async () => {
    const file = path.join(dir, 'm.json');
    await exportMetrics(store, [b.id, a.id], 'json', file);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(doc.format).toBe(METRICS_FORMAT);
    expect(doc.runs.map((r: { id: string }) => r.id)).toEqual([b.id, a.id]);
    const [jb, ja] = doc.runs;
    expect(jb.name).toBe('has, "quotes"');
    expect(jb.config.task).toBe('grow');
    expect(jb.metrics.perCellAccuracy).toEqual([null, null, null]);
    expect(ja.metrics.iteration.length).toBe(5000);
    expect(ja.metrics.iteration[4999]).toBe(4999);
    expect(ja.metrics.loss[1]).toBe(0.5);
    expect(ja.evaluations[0].loss).toBe(0.25);
    expect(ja.evaluations[0].confusionCells).toEqual([[1]]);
  });

  it('fails before writing anything for an unknown run or a missing folder', async () => {
    const file = path.join(dir, 'never.csv');
    await expect(exportMetrics(store, [a.id, 'nope'], 'csv', file)).rejects.toThrow(/no run with id "nope"/);
    expect(fs.existsSync(file)).toBe(false);
    await expect(exportMetrics(store, [a.id], 'csv', '/nonexistent-dir/m.csv')).rejects.toThrow(
      /folder \/nonexistent-dir does not exist/,
    );
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('quotes CSV fields only when needed', () => {
    expect(csvField('abc')).toBe('abc');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
  });
});
