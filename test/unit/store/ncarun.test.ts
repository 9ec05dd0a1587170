import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStore, StoreError } from '../../../src/main/services/store/index.ts';
import { classifyConfig, evaluation, metricRow, tempDir } from './helpers.ts';

let dirA: string;
let dirB: string;
let a: RunStore;
let b: RunStore;
beforeEach(() => {
  dirA = tempDir();
  dirB = tempDir();
  a = RunStore.open(dirA);
  b = RunStore.open(dirB);
});
afterEach(() => {
  a.close();
  b.close();
  fs.rmSync(dirA, { recursive: true, force: true });
  fs.rmSync(dirB, { recursive: true, force: true });
});

function makeRun(store: RunStore) {
  const run = store.createRun({
    name: 'exported',
    config: classifyConfig({ checkpoints: { every: 1, keepLatest: 2, keepBest: true } }),
    tags: ['gpu-server'],
    notes: 'trained elsewhere',
  });
  store.setStatus(run.id, 'running');
  store.setBackend(run.id, 'tfjs-node-gpu', 'NVIDIA H200');
  const w = store.metricWriter(run.id, { batchRows: 100 });
  for (let i = 0; i < 5000; i++) w.push(metricRow(i));
  w.close();
  store.addEvaluation(run.id, evaluation(2500, 0.6));
  store.addEvaluation(run.id, evaluation(5000, 0.8));
  store.saveCheckpoint(run.id, { iteration: 1000, metric: 0.9, data: new Uint8Array(64).fill(1) });
  store.saveCheckpoint(run.id, { iteration: 2000, metric: 0.5, data: new Uint8Array(64).fill(2) });
  store.saveCheckpoint(run.id, { iteration: 3000, metric: 0.6, data: new Uint8Array(64).fill(3) });
  const frames = new Uint8Array(4 * 6 * 6 * 3).map((_, i) => i % 251);
  store.saveRecording(run.id, {
    name: 'replay',
    width: 6,
    height: 6,
    channels: 3,
    frameCount: 4,
    data: frames,
  });
  store.setStatus(run.id, 'completed');
  return { run, frames };
}

const counts = (s: RunStore) =>
  ['runs', 'metric_chunks', 'evaluations', 'checkpoints', 'recordings', 'events'].map(
    (t) => (s.database.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n,
  );

function importError(file: string): StoreError {
  const before = counts(b);
  try {
    b.importRun(file);
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    expect(counts(b)).toEqual(before); // nothing half-imported
    return err as StoreError;
  }
  throw new Error('import should have failed');
}

describe('.ncarun export / import', () => {
  it('round-trips a run to another data directory', () => {
    const { run, frames } = makeRun(a);
    const file = path.join(dirA, 'run.ncarun');
    const out = a.exportRun(run.id, file, { checkpoints: 'all' });
    expect(out.bytes).toBe(fs.statSync(file).size);
    const imported = b.importRun(file);
    expect(imported).toMatchObject({
      id: run.id,
      name: 'exported',
      status: 'completed',
      backend: 'tfjs-node-gpu',
      device: 'NVIDIA H200',
      tags: ['gpu-server'],
      notes: 'trained elsewhere',
    });
    expect(imported.config).toEqual(run.config);
    const src = a.metricColumns(run.id);
    const dst = b.metricColumns(run.id);
    expect(dst.iteration.length).toBe(5000);
    for (const k of Object.keys(src) as (keyof typeof src)[]) expect(dst[k]).toEqual(src[k]);
    expect(b.evaluations(run.id)).toEqual(a.evaluations(run.id));
    expect(b.listCheckpoints(run.id).map((c) => [c.iteration, c.metric, c.best])).toEqual(
      a.listCheckpoints(run.id).map((c) => [c.iteration, c.metric, c.best]),
    );
    expect(Array.from(b.loadCheckpoint(run.id, 'best').data.slice(0, 2))).toEqual([1, 1]);
    const rec = b.listRecordings(run.id)[0];
    expect(b.loadRecording(run.id, rec.id).data).toEqual(frames);
    const sa = a.getSummary(run.id);
    const sb = b.getSummary(run.id);
    for (const k of [
      'bestLoss',
      'bestPerCellAccuracy',
      'bestEvalAccuracy',
      'lastIteration',
      'metricRows',
      'durationMs',
    ] as const)
      expect(sb[k]).toEqual(sa[k]);
    expect(b.events(run.id).at(-1)!.message).toContain('imported from run.ncarun');
  });

  it('compacts a shipped history: same curves and evaluations to the digits shown, a fraction of the bytes', () => {
    const run = a.createRun({ name: 'shipped', config: classifyConfig() });
    const w = a.metricWriter(run.id, { batchRows: 100 });
    for (let i = 0; i < 2000; i++)
      w.push(metricRow(i, { loss: Math.exp(-i / 500) + Math.sin(i) * 1e-3, wallMs: 1e9 + i * 123.4567 }));
    w.close();
    const perStep = (acc: number) =>
      Array.from({ length: 60 }, (_, k) => ({
        step: k + 1,
        perCellAccuracy: acc * Math.sqrt((k + 1) / 60),
        agreement: acc / 3 + k / 997,
      }));
    for (const [it, acc] of [
      [500, 0.612345678],
      [1000, 0.734567891],
      [2000, 0.812345678901],
    ] as const)
      a.addEvaluation(run.id, {
        ...evaluation(it, acc),
        perStep: perStep(acc),
        mutationStep: 55,
        agreement: acc / Math.PI,
      });
    const full = path.join(dirA, 'full.ncarun');
    const small = path.join(dirA, 'small.ncarun');
    const fullBytes = a.exportRun(run.id, full).bytes;
    const smallBytes = a.exportRun(run.id, small, { compactHistory: true }).bytes;
    expect(smallBytes).toBeLessThan(0.75 * fullBytes);
    const x = b.importRun(small);
    const src = a.metricColumns(run.id);
    const dst = b.metricColumns(x.id);
    expect(dst.iteration).toEqual(src.iteration);
    expect(dst.wallMs).toEqual(src.wallMs); // exact: the time axis
    for (let i = 0; i < 2000; i++) expect(dst.loss[i]).toBe(Math.fround(src.loss[i]));
    const [e500, e1000, e2000] = b.evaluations(x.id);
    const [s500, , s2000] = a.evaluations(run.id);
    expect(e500.perCellAccuracy).toBe(0.61235);
    expect(e2000.agreement).toBe(Number(s2000.agreement.toPrecision(5)));
    expect(e500.confusionCells).toEqual(s500.confusionCells); // counts stay exact
    // earlier evaluations keep every 10th step, the first, the last and those around the mutation
    expect(e1000.perStep.map((p) => p.step)).toEqual([1, 10, 20, 30, 40, 50, 55, 56, 60]);
    // the latest one, which the run view draws step by step, keeps them all
    expect(e2000.perStep.map((p) => p.step)).toEqual(s2000.perStep.map((p) => p.step));
    for (const [k, p] of e2000.perStep.entries())
      expect(p.perCellAccuracy).toBeCloseTo(s2000.perStep[k].perCellAccuracy, 5);
  });

  it('exports only the chosen checkpoints', () => {
    const { run } = makeRun(a);
    const latest = path.join(dirA, 'latest.ncarun');
    a.exportRun(run.id, latest, { checkpoints: 'latest' });
    const best = path.join(dirA, 'best.ncarun');
    a.exportRun(run.id, best, { checkpoints: 'best' });
    const x = b.importRun(latest);
    expect(b.listCheckpoints(x.id).map((c) => c.iteration)).toEqual([3000]);
    const y = b.importRun(best);
    expect(y.id).not.toBe(x.id); // id clash -> new id
    expect(b.listCheckpoints(y.id).map((c) => c.iteration)).toEqual([1000]);
  });

  it('gives an id clash a new id and turns a run exported mid-training into interrupted', () => {
    const run = a.createRun({ name: 'live', config: classifyConfig() });
    a.setStatus(run.id, 'running');
    const file = path.join(dirA, 'live.ncarun');
    a.exportRun(run.id, file);
    const again = a.importRun(file);
    expect(again.id).not.toBe(run.id);
    expect(again.status).toBe('interrupted');
    expect(a.getRun(run.id).status).toBe('running');
  });

  it('refuses damaged, foreign and truncated files with a clear error and imports nothing', () => {
    const { run } = makeRun(a);
    const file = path.join(dirA, 'run.ncarun');
    a.exportRun(run.id, file, { checkpoints: 'all' });
    const good = fs.readFileSync(file);

    // A checkpoint's bytes changed inside a well-formed zip.
    const entries = unzipSync(good);
    const ckpt = Object.keys(entries).find((k) => k.startsWith('checkpoints/'))!;
    entries[ckpt] = entries[ckpt].slice();
    entries[ckpt][0] ^= 0xff;
    const tampered = path.join(dirA, 'tampered.ncarun');
    fs.writeFileSync(tampered, zipSync(entries));
    const e1 = importError(tampered);
    expect(e1.code).toBe('invalid-file');
    expect(e1.message).toContain(`${ckpt} does not match its checksum`);

    // The manifest edited without fixing its checksum.
    const edited = unzipSync(good);
    edited['manifest.json'] = strToU8(
      new TextDecoder().decode(edited['manifest.json']).replace('exported', 'hacked'),
    );
    const editedFile = path.join(dirA, 'edited.ncarun');
    fs.writeFileSync(editedFile, zipSync(edited));
    expect(importError(editedFile).message).toContain('manifest.json does not match its checksum');

    const truncated = path.join(dirA, 'truncated.ncarun');
    fs.writeFileSync(truncated, good.subarray(0, good.length >> 1));
    expect(importError(truncated).message).toMatch(/truncated.ncarun is not a valid .ncarun/);

    const foreign = path.join(dirA, 'foreign.ncarun');
    fs.writeFileSync(foreign, zipSync({ 'readme.txt': strToU8('hello') }));
    expect(importError(foreign).message).toContain('manifest.json or manifest.sha256 is missing');

    const text = path.join(dirA, 'text.ncarun');
    fs.writeFileSync(text, 'just text');
    expect(importError(text).message).toContain('not a readable zip');

    expect(importError(path.join(dirA, 'missing.ncarun')).code).toBe('cannot-open');
  });

  it('refuses a file from a newer format version', () => {
    const { run } = makeRun(a);
    const file = path.join(dirA, 'run.ncarun');
    a.exportRun(run.id, file);
    const entries = unzipSync(fs.readFileSync(file));
    const manifest = JSON.parse(new TextDecoder().decode(entries['manifest.json']));
    manifest.version = 99;
    entries['manifest.json'] = strToU8(JSON.stringify(manifest));
    entries['manifest.sha256'] = strToU8(createHash('sha256').update(entries['manifest.json']).digest('hex'));
    fs.writeFileSync(file, zipSync(entries));
    expect(importError(file).message).toContain('format version 99');
  });
});
