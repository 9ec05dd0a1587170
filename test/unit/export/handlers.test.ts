import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../src/shared/contract.ts';
import { encodeCellFrame, FRAME_BYTES_PER_CELL } from '../../../src/shared/frames.ts';
import type { AppContext } from '../../../src/main/context.ts';
import { exportHandlers } from '../../../src/main/handlers/export.ts';
import { exportCommand } from '../../../src/main/cli/commands/export.ts';
import { CliUsageError, type CliContext } from '../../../src/main/cli/types.ts';
import { SettingsStore } from '../../../src/main/settings.ts';
import { EventHub, Router, type Connection } from '../../../src/main/transport/router.ts';
import { memoryLogger } from '../../../src/main/util/log.ts';
import { RunStore } from '../../../src/main/services/store/index.ts';
import type { RunConfigInput } from '../../../src/shared/nca-config.ts';
import { createTrainer } from '../../../src/main/services/engine/trainer.ts';
import { loadEngineDataset } from '../../../src/main/services/engine/dataset.ts';
import {
  ExportJobs,
  recordingSource,
  type ExportProgressEvent,
} from '../../../src/main/services/export/index.ts';
import { classSource, probe, tempDir } from './helpers.ts';

const dir = tempDir();
const dataDir = path.join(dir, 'data');
const store = RunStore.open(dataDir);
afterAll(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** a classifier run with a 12-frame recording of compact frames (one 6x5 sample) */
async function seededRun(name = 'recorded run') {
  const run = store.createRun({ name, config: { task: 'classify', dataset: 'kmnist' } });
  const parts: Uint8Array[] = [];
  for await (const f of classSource({ samples: 1, width: 6, height: 5, steps: 12 }).frames)
    parts.push(f.frame);
  const data = new Uint8Array(parts.length * parts[0].length);
  parts.forEach((p, i) => data.set(p, i * p.length));
  const rec = store.saveRecording(run.id, {
    name: 'r',
    width: 6,
    height: 5,
    channels: FRAME_BYTES_PER_CELL,
    frameCount: 12,
    data,
  });
  return { run, rec };
}

function app(deps: Partial<Parameters<typeof exportHandlers>[1]> = {}) {
  const log = memoryLogger();
  const hub = new EventHub();
  const ctx: AppContext = {
    dataDir,
    mode: 'browser',
    log,
    hub,
    settings: new SettingsStore(dataDir, () => {}),
  };
  const router = new Router(exportHandlers(ctx, { store, ...deps }), log);
  const events: ExportProgressEvent[] = [];
  const waiters: (() => void)[] = [];
  const conn: Connection = {
    id: 'test',
    watchedRuns: new Set(),
    send: (e: EventEnvelope) => {
      if (e.event === 'export.progress') events.push(e.data as ExportProgressEvent);
      waiters.splice(0).forEach((w) => w());
    },
  };
  hub.add(conn);
  let nextId = 1;
  const call = (method: string, params: unknown) => router.handle({ id: nextId++, method, params }, conn);
  /** resolves with the first event of `job` that matches */
  const until = async (job: string, pred: (e: ExportProgressEvent) => boolean) => {
    for (;;) {
      const hit = events.find((e) => e.job === job && pred(e));
      if (hit) return hit;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { call, events, until };
}

describe('export.* handlers', () => {
  it('exports a stored recording as a background job with progress events', async () => {
    const { run, rec } = await seededRun();
    const { call, until, events } = app();
    const file = path.join(dir, 'rec.gif');
    const res = await call('export.video', {
      source: { kind: 'recording', runId: run.id, recordingId: rec.id },
      format: 'gif',
      file,
      steps: 8,
      scale: 4,
    });
    expect(res.ok).toBe(true);
    const job = (res as { result: { job: string } }).result.job;
    const done = await until(job, (e) => e.state !== 'running');
    expect(done.state).toBe('done');
    expect(done.result?.frames).toBe(9); // step 0 + 8 steps
    expect(probe(file)).toMatchObject({ codec: 'gif', frames: 9 });
    expect(events.filter((e) => e.job === job)[0]).toMatchObject({ state: 'running', frame: 0 });
    // a recording shorter than the steps asked for ends the video
    const res2 = await call('export.video', {
      source: { kind: 'recording', runId: run.id, recordingId: rec.id },
      format: 'mp4',
      file: path.join(dir, 'rec.mp4'),
      steps: 500,
      scale: 2,
    });
    const job2 = (res2 as { result: { job: string } }).result.job;
    expect((await until(job2, (e) => e.state !== 'running')).result?.frames).toBe(12);
  });

  it('exports a comparison side by side and cancels on request', async () => {
    const a = store.createRun({ name: 'A', config: { task: 'classify' } });
    const b = store.createRun({ name: 'B', config: { task: 'classify' } });
    const opened: string[] = [];
    const { call, until } = app({
      runSource: (runId, { testIndex }) => {
        opened.push(`${runId}:${testIndex}`);
        return classSource({ samples: 1, width: 8, height: 8, steps: Infinity, name: runId });
      },
    });
    const file = path.join(dir, 'cmp.webm');
    const res = await call('export.video', {
      source: { kind: 'compare', runIds: [a.id, b.id], testIndex: 3 },
      format: 'webm',
      file,
      steps: 10_000,
      scale: 4,
    });
    const job = (res as { result: { job: string } }).result.job;
    await until(job, (e) => e.frame >= 3);
    expect(opened).toEqual([`${a.id}:3`, `${b.id}:3`]);
    expect(await call('export.cancel', { job })).toMatchObject({ ok: true });
    expect((await until(job, (e) => e.state !== 'running')).state).toBe('cancelled');
    expect(fs.existsSync(file)).toBe(false);
    expect(await call('export.cancel', { job })).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('answers clear errors', async () => {
    const { call } = app();
    expect(
      await call('export.video', {
        source: { kind: 'playground', session: 's1' },
        format: 'mp4',
        file: '/tmp/x.mp4',
      }),
    ).toMatchObject({
      ok: false,
      error: { code: 'unavailable' },
    });
    expect(
      await call('export.video', {
        source: { kind: 'recording', runId: 'nope', recordingId: '1' },
        format: 'mp4',
        file: '/tmp/x.mp4',
      }),
    ).toMatchObject({ ok: false, error: { code: 'not_found', message: expect.stringContaining('nope') } });
    expect(await call('export.cancel', { job: 'nojob' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    const { run } = await seededRun('for metrics');
    expect(
      await call('export.metrics', { ids: [run.id], format: 'csv', file: '/nonexistent-dir/m.csv' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid_params', message: expect.stringContaining('/nonexistent-dir') },
    });
    const ok = await call('export.metrics', {
      ids: [run.id],
      format: 'json',
      file: path.join(dir, 'm.json'),
    });
    expect(ok).toMatchObject({ ok: true });
  });

  it('reports a job whose source fails as failed, with the reason', async () => {
    const events: ExportProgressEvent[] = [];
    const jobs = new ExportJobs((e) => events.push(e));
    const job = jobs.startVideo(
      () => {
        throw new Error('checkpoint of run X is damaged');
      },
      { file: path.join(dir, 'f.mp4'), format: 'mp4', scale: 2, fps: 10 },
    );
    const end = await job.done;
    expect(end).toMatchObject({ state: 'failed', error: 'checkpoint of run X is damaged' });
    expect(events.map((e) => e.state)).toEqual(['running', 'failed']);
  });
});

describe('recordingSource', () => {
  it('reduces float32 recordings to compact frames and rejects inconsistent ones', async () => {
    const w = 3;
    const h = 2;
    const channels = 4; // pixel, hidden, 2 logits
    const state = new Float32Array(2 * w * h * channels);
    for (let i = 0; i < 2 * w * h; i++) {
      state[i * channels] = 1; // alive
      state[i * channels + 2] = i < w * h ? 2 : -1; // frame 0: class 0
      state[i * channels + 3] = i < w * h ? -1 : 3; // frame 1: class 1
    }
    const src = recordingSource(
      { width: w, height: h, channels, frameCount: 2, dtype: 'float32', data: new Uint8Array(state.buffer) },
      { task: 'classify', classCount: 2 },
    );
    const got: Uint8Array[] = [];
    for await (const f of src.frames) got.push(f.frame);
    const expected0 = encodeCellFrame(state.subarray(0, w * h * channels), {
      task: 'classify',
      samples: 1,
      height: h,
      width: w,
      channels,
      classCount: 2,
    });
    expect(got.length).toBe(2);
    expect(got[0]).toEqual(expected0);
    expect(got[1][1]).toBe(1);
    expect(() =>
      recordingSource(
        { width: 3, height: 2, channels: 7, frameCount: 1, dtype: 'uint8', data: new Uint8Array(42) },
        { task: 'classify' },
      ),
    ).toThrow(/must hold compact frames \(5 bytes a cell\), this one has 7 channels/);
    expect(() =>
      recordingSource(
        { width: 3, height: 2, channels: 5, frameCount: 2, dtype: 'uint8', data: new Uint8Array(30) },
        { task: 'classify' },
      ),
    ).toThrow(/holds 30 bytes, but 2 frames/);
  });
});

describe('nca export', () => {
  function context(json = true) {
    const out: string[] = [];
    const err: string[] = [];
    const ctx: CliContext = {
      dataDir,
      json,
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      signal: new AbortController().signal,
    };
    return { ctx, out, err };
  }

  it('writes a run as MP4 and metrics as CSV', async () => {
    const { run } = await seededRun('cli run');
    const { ctx, out } = context();
    const file = path.join(dir, 'cli.mp4');
    expect(
      await exportCommand.run(
        ['--run', run.id, '--format', 'mp4', '--out', file, '--steps', '5', '--scale', '3'],
        ctx,
      ),
    ).toBe(0);
    expect(JSON.parse(out[0])).toMatchObject({ frames: 6, format: 'mp4' });
    expect(probe(file)).toMatchObject({ codec: 'h264', frames: 6 });
    const csv = path.join(dir, 'cli.csv');
    expect(await exportCommand.run(['--run', run.id, '--out', csv], context().ctx)).toBe(0);
    expect(fs.readFileSync(csv, 'utf8').split('\n')[0]).toMatch(/^runId,runName,iteration/);
  });

  it("runs a run's best checkpoint on a chosen test image (engine inference)", async () => {
    const config: RunConfigInput = {
      task: 'classify',
      dataset: 'glyphs',
      channels: 14,
      perception: { kind: 'learned', kernel: 3, filters: 8 },
      hidden: [8],
      steps: 4,
      batch: 4,
      pool: { size: 8, freshFraction: 0.5, mutateFraction: 0 },
      evaluation: { every: 100, images: 10, steps: 5, mutateSteps: 0 },
      compute: { backend: 'wasm', threads: 1 },
    };
    const run = store.createRun({ name: 'checkpointed', config });
    const trainer = await createTrainer(config, await loadEngineDataset('glyphs', dataDir), { threads: 1 });
    await trainer.step();
    store.saveCheckpoint(run.id, { iteration: 1, metric: 0.1, data: trainer.saveCheckpoint() });
    await trainer.dispose();
    const { ctx, out } = context();
    const file = path.join(dir, 'engine.webm');
    const args = ['--run', run.id, '--out', file, '--steps', '7', '--scale', '2', '--test-index', '5'];
    expect(await exportCommand.run(args, ctx)).toBe(0);
    expect(JSON.parse(out[0])).toMatchObject({ frames: 8, format: 'webm' });
    expect(probe(file)).toMatchObject({ codec: 'vp9', frames: 8 });
    await expect(
      exportCommand.run(
        ['--run', run.id, '--out', path.join(dir, 'e.gif'), '--test-index', '999999'],
        context().ctx,
      ),
    ).rejects.toThrow(/test image 999999 does not exist/);
  });

  it('explains usage mistakes', async () => {
    const { run } = await seededRun('cli run 2');
    const cases: [string[], RegExp][] = [
      [['--format', 'mp4', '--out', 'x.mp4'], /--run is required/],
      [
        ['--run', run.id, '--format', 'avi', '--out', path.join(dir, 'x.avi')],
        /--format must be mp4, webm, gif, csv or json, not "avi"/,
      ],
      [
        ['--run', run.id, '--format', 'mp4', '--out', path.join(dir, 'y.mp4'), '--scale', 'big'],
        /--scale must be a whole number/,
      ],
      [['--run', 'nope', '--format', 'gif', '--out', path.join(dir, 'z.gif')], /no run with id "nope"/],
    ];
    for (const [args, message] of cases) {
      const p = exportCommand.run(args, context().ctx);
      await expect(p).rejects.toBeInstanceOf(CliUsageError);
      await expect(exportCommand.run(args, context().ctx)).rejects.toThrow(message);
    }
    const noRec = store.createRun({ name: 'no recordings', config: { task: 'classify' } });
    await expect(
      exportCommand.run(
        ['--run', noRec.id, '--format', 'gif', '--out', path.join(dir, 'n.gif')],
        context().ctx,
      ),
    ).rejects.toThrow(/has no recordings/);
  });
});
