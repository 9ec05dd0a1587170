import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApp, type WorkbenchApp } from '../../../src/main/app.ts';
import { startBrowserServer, type BrowserServer } from '../../../src/main/transport/ws.ts';
import { memoryLogger } from '../../../src/main/util/log.ts';

let app: WorkbenchApp;
let server: BrowserServer;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nca-ws-'));
const staticDir = path.join(dir, 'web');

beforeAll(async () => {
  fs.mkdirSync(staticDir);
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
  app = await createApp({ dataDir: path.join(dir, 'data'), mode: 'browser', log: memoryLogger() });
  server = await startBrowserServer({ router: app.router, hub: app.hub, log: app.log, staticDir, port: 0 });
});

afterAll(async () => {
  await server.close();
  await app.close();
});

function open(url: string, headers?: Record<string, string>): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
  });
}

describe('browser-mode server', () => {
  it('listens on loopback and prints a tokened URL', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
  });

  it('refuses a non-loopback host unless explicitly allowed', async () => {
    await expect(
      startBrowserServer({
        router: app.router,
        hub: app.hub,
        log: app.log,
        staticDir,
        host: '0.0.0.0',
        port: 0,
      }),
    ).rejects.toThrow(/--allow-remote/);
  });

  it('serves the page only with the token, then by cookie, with a strict CSP', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/`)).status).toBe(403);
    expect((await fetch(`${base}/?token=wrong`)).status).toBe(403);
    const ok = await fetch(server.url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toContain("script-src 'self'");
    const cookie = ok.headers.get('set-cookie')!.split(';')[0];
    expect((await fetch(`${base}/`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${base}/../../etc/passwd`, { headers: { cookie } })).status).toBe(200); // normalised to index
  });

  it('refuses WebSockets without the token or from a foreign origin', async () => {
    const ws = `ws://127.0.0.1:${server.port}/api`;
    expect((await open(ws)).status).toBe(401);
    expect((await open(`${ws}?token=nope`)).status).toBe(401);
    expect((await open(`${ws}?token=${server.token}`, { Origin: 'http://evil.example' })).status).toBe(403);
    const good = await open(`${ws}?token=${server.token}`);
    expect(good.ws).toBeDefined();
    good.ws!.close();
  });

  it('keeps serving after malformed messages', async () => {
    const { ws } = await open(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    const replies: { id: number | null; ok: boolean; error?: { code: string } }[] = [];
    ws!.on('message', (d) => replies.push(JSON.parse(d.toString())));
    ws!.send('not json');
    ws!.send(Buffer.from([1, 2, 3]), { binary: true });
    ws!.send(JSON.stringify({ id: 9, method: 'app.info', params: {} }));
    await expect.poll(() => replies.length).toBe(3);
    expect(replies[0].error?.code).toBe('bad_request');
    expect(replies[1].error?.code).toBe('bad_request');
    expect(replies[2]).toMatchObject({ id: 9, ok: true });
    ws!.close();
  });
});

describe('results with bytes', () => {
  it('travel as one binary frame: JSON header plus the raw bytes', async () => {
    const { ws } = await open(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    const reply = new Promise<Buffer>((resolve) =>
      ws!.once('message', (d, isBinary) => isBinary && resolve(d as Buffer)),
    );
    ws!.send(JSON.stringify({ id: 1, method: 'datasets.samples', params: { id: 'glyphs', perClass: 2 } }));
    const buf = await reply;
    const { decodeBinaryMessage } = await import('../../../src/shared/contract.ts');
    const { header, binary } = decodeBinaryMessage(
      buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
    );
    const h = header as {
      id: number;
      ok: boolean;
      result: { count: number; width: number; height: number; labels: number[] };
    };
    expect(h).toMatchObject({ id: 1, ok: true, result: { count: 20, width: 28, height: 28 } });
    expect(h.result.labels).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
    expect(binary.byteLength).toBe(20 * 28 * 28);
    expect(new Uint8Array(binary).some((v) => v > 200)).toBe(true); // glyph strokes are there
    ws!.close();
  });
});

describe('app.info', () => {
  it('reports the compute backend this machine picks (no GPU here: WebAssembly)', async () => {
    const conn = { id: 'x', watchedRuns: new Set<string>(), send: () => {} };
    const info = async () => {
      const r = await app.router.handle({ id: 1, method: 'app.info', params: {} }, conn);
      return (r as { result: { compute: { backend: string; cores: number } } }).result.compute;
    };
    await expect.poll(async () => (await info()).backend, { timeout: 30_000 }).not.toBe('detecting…');
    expect((await info()).backend).toBe('wasm');
    expect((await info()).cores).toBeGreaterThan(0);
  });
});
