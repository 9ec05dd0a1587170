import { describe, expect, it } from 'vitest';
import { ApiError, decodeBinaryEvent, encodeBinaryEvent } from '../../../src/shared/contract.ts';
import { EventHub, Router, type Connection } from '../../../src/main/transport/router.ts';
import { memoryLogger } from '../../../src/main/util/log.ts';

function conn(id = 'c1'): Connection & { got: unknown[] } {
  const got: unknown[] = [];
  return { id, watchedRuns: new Set(), got, send: (e) => got.push(e) };
}

describe('Router', () => {
  const log = memoryLogger();
  const router = new Router(
    {
      'app.settings.set': (p) => ({
        theme: p.theme ?? 'system',
        frameRate: p.frameRate ?? 30,
        datasetMirrors: {},
      }),
      'runs.get': ({ id }) => {
        throw new ApiError('not_found', `no run "${id}"`);
      },
      'runs.delete': () => {
        throw new Error('disk on fire');
      },
    },
    log,
  );

  it('answers a valid request with its result and id', async () => {
    const r = await router.handle({ id: 7, method: 'app.settings.set', params: { frameRate: 12 } }, conn());
    expect(r).toEqual({ id: 7, ok: true, result: { theme: 'system', frameRate: 12, datasetMirrors: {} } });
  });

  it('rejects a malformed envelope, an unknown method and bad params with typed errors, and logs them', async () => {
    expect(await router.handle('hello', conn())).toMatchObject({
      id: null,
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(await router.handle({ id: 1, method: 'x', extra: 1 }, conn())).toMatchObject({
      id: 1,
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(await router.handle({ id: 2, method: 'runs.drop' }, conn())).toMatchObject({
      id: 2,
      error: { code: 'unknown_method', message: 'unknown method "runs.drop"' },
    });
    const bad = await router.handle(
      { id: 3, method: 'app.settings.set', params: { frameRate: 500, extra: true } },
      conn(),
    );
    expect(bad).toMatchObject({ id: 3, ok: false, error: { code: 'invalid_params' } });
    if (!bad.ok) expect(bad.error.issues!.join('\n')).toMatch(/frameRate/);
    expect(log.lines.filter((l) => l.startsWith('warn')).length).toBeGreaterThanOrEqual(4);
  });

  it('passes ApiErrors through and turns unexpected exceptions into service errors', async () => {
    expect(await router.handle({ id: 4, method: 'runs.get', params: { id: 'abc' } }, conn())).toMatchObject({
      error: { code: 'not_found', message: 'no run "abc"' },
    });
    expect(
      await router.handle({ id: 5, method: 'runs.delete', params: { id: 'abc' } }, conn()),
    ).toMatchObject({
      error: { code: 'service_error', message: 'disk on fire' },
    });
    expect(await router.handle({ id: 6, method: 'runs.list', params: {} }, conn())).toMatchObject({
      error: { code: 'unavailable' },
    });
  });
});

describe('EventHub', () => {
  it('sends frames only to connections that watch the run, other events to all', () => {
    const hub = new EventHub();
    const a = conn('a');
    const b = conn('b');
    hub.add(a);
    const removeB = hub.add(b);
    b.watchedRuns.add('run1');
    expect(hub.isWatched('run1')).toBe(true);
    hub.emit('run.frame', { runId: 'run1' }, new ArrayBuffer(4), 'run1');
    hub.emit('run.status', { runId: 'run1', status: 'running' });
    expect(a.got).toHaveLength(1);
    expect(b.got).toHaveLength(2);
    removeB();
    expect(hub.isWatched('run1')).toBe(false);
  });
});

describe('binary event frames', () => {
  it('round-trip header and payload', () => {
    const payload = new Float32Array([1.5, -2, 3]);
    const frame = encodeBinaryEvent('run.frame', { runId: 'r', step: 3 }, new Uint8Array(payload.buffer));
    const ev = decodeBinaryEvent(
      frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer,
    );
    expect(ev.event).toBe('run.frame');
    expect(ev.data).toEqual({ runId: 'r', step: 3 });
    expect(Array.from(new Float32Array(ev.binary!))).toEqual([1.5, -2, 3]);
  });

  it('reject truncated frames with a clear message', () => {
    expect(() => decodeBinaryEvent(new ArrayBuffer(2))).toThrow(/shorter/);
    const bad = new Uint8Array(8);
    new DataView(bad.buffer).setUint32(0, 100, true);
    expect(() => decodeBinaryEvent(bad.buffer)).toThrow(/past the end/);
  });
});
