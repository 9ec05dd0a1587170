import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DownloadProgress } from '../../../src/shared/datasets.ts';
import {
  DatasetService,
  DownloadCancelledError,
  fetchDataset,
  loadDataset,
} from '../../../src/main/services/datasets/index.ts';
import { removeDir, sharedDatasets, tempDir } from './helpers.ts';

type Mode = 'normal' | 'cut-once' | 'cut-always' | 'wrong-bytes' | 'stall';
interface TestServer {
  url: string;
  requests: Array<{ path: string; range?: string }>;
  close: () => Promise<void>;
}

/**
 * Serves ../shared/datasets over HTTP on 127.0.0.1 with Range support. cut-once: the first response
 * of each file stops after half of it; cut-always: every response does; wrong-bytes: one byte of
 * every file is flipped; stall: half of the file, then nothing.
 */
async function serve(mode: Mode): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const seen = new Set<string>();
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer(async (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    requests.push({ path: urlPath, range: req.headers.range });
    let body: Buffer;
    try {
      body = await readFile(path.join(sharedDatasets, path.normalize(urlPath)));
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    if (mode === 'wrong-bytes') {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) start = Number(m[1]);
    const part = body.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'content-length': String(part.length),
      ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    const cut = mode === 'cut-always' || mode === 'stall' || (mode === 'cut-once' && !seen.has(urlPath));
    seen.add(urlPath);
    if (!cut) {
      res.end(part);
      return;
    }
    res.write(part.subarray(0, part.length >> 1), () => {
      if (mode !== 'stall') setTimeout(() => res.socket?.destroy(), 20);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(mode: Mode): Promise<{ server: TestServer; dataDir: string }> {
  const server = await serve(mode);
  const dataDir = await tempDir();
  cleanup.push(server.close, () => removeDir(dataDir));
  return { server, dataDir };
}

async function listOrEmpty(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

describe('downloads from a mirror on 127.0.0.1', () => {
  it('fetches kmnist-split into the cache with progress, verified by the published .gz MD5', async () => {
    const { server, dataDir } = await setup('normal');
    const env = { NCA_MIRROR_KMNIST: `${server.url}/kmnist/` };
    const events: DownloadProgress[] = [];
    const result = await fetchDataset('kmnist-split', { dataDir, env, onProgress: (p) => events.push(p) });
    expect(result.files.map((f) => f.file).sort()).toEqual([
      't10k-images-idx3-ubyte.gz',
      't10k-labels-idx1-ubyte.gz',
    ]);
    expect(result.files.every((f) => f.downloaded)).toBe(true);
    const cached = path.join(dataDir, 'datasets/kmnist/t10k-images-idx3-ubyte.gz');
    expect(md5(await readFile(cached))).toBe('5c965bf0a639b31b8f53240b1b52f4d7');
    expect(events.some((e) => e.phase === 'verify')).toBe(true);
    const done = events.at(-1)!;
    expect(done.phase).toBe('done');
    expect(done.bytes).toBe(3_041_136 + 5_120);
    expect(done.totalBytes).toBe(3_041_136 + 5_120);
    expect(events.every((e) => e.rate >= 0 && e.fileCount === 2)).toBe(true);
    // Now it loads from the cache alone, and the catalogue says so.
    const svc = new DatasetService({ dataDir, env });
    expect((await svc.entry('kmnist-split')).availability).toBe('cached');
    expect((await loadDataset('kmnist-split', { dataDir, env: {} })).train.count).toBe(8000);
    // A second fetch finds everything cached and makes no request.
    const before = server.requests.length;
    const again = await fetchDataset('kmnist-split', { dataDir, env });
    expect(again.files.every((f) => !f.downloaded)).toBe(true);
    expect(server.requests.length).toBe(before);
  });

  it('fetches MNIST re-compressed by a mirror (verified by the MD5 of the decompressed files); the env var beats the setting', async () => {
    const { server, dataDir } = await setup('normal');
    const svc = new DatasetService({
      dataDir,
      env: { NCA_MIRROR_MNIST: `${server.url}/mnist` },
      mirrors: { mnist: 'http://127.0.0.1:9/nothing-here/' },
    });
    await svc.fetch('mnist');
    expect(server.requests.map((r) => r.path).sort()).toEqual([
      '/mnist/t10k-images-idx3-ubyte.gz',
      '/mnist/t10k-labels-idx1-ubyte.gz',
      '/mnist/train-images-idx3-ubyte.gz',
      '/mnist/train-labels-idx1-ubyte.gz',
    ]);
    expect((await svc.entry('mnist')).availability).toBe('cached');
    expect((await svc.load('mnist')).train.count).toBe(60000);
  });

  it('discards a file whose checksum does not match; the error names the file and both checksums', async () => {
    const { server, dataDir } = await setup('wrong-bytes');
    const env = { NCA_MIRROR_KMNIST: `${server.url}/kmnist/` };
    const err = (await fetchDataset('kmnist-split', { dataDir, env }).catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('t10k-images-idx3-ubyte.gz');
    expect(err.message).toContain(
      'checksum mismatch: expected 5c965bf0a639b31b8f53240b1b52f4d7 (MD5 of the .gz)',
    );
    const served = Buffer.from(await readFile(path.join(sharedDatasets, 'kmnist/t10k-images-idx3-ubyte.gz')));
    served[served.length >> 1] ^= 0xff;
    expect(err.message).toContain(`got ${md5(served)} (file)`);
    expect(err.message).toContain('the file was discarded');
    expect(await listOrEmpty(path.join(dataDir, 'datasets/kmnist'))).toEqual([]);
    expect(await listOrEmpty(path.join(dataDir, 'datasets/.downloads'))).toEqual([]);
  });

  it('resumes a download cut off midway with an HTTP Range request', async () => {
    const { server, dataDir } = await setup('cut-once');
    const env = { NCA_MIRROR_KMNIST: `${server.url}/kmnist/` };
    const events: DownloadProgress[] = [];
    await fetchDataset('kmnist-split', { dataDir, env, retryDelayMs: 5, onProgress: (p) => events.push(p) });
    const imageRequests = server.requests.filter((r) => r.path.endsWith('t10k-images-idx3-ubyte.gz'));
    expect(imageRequests.length).toBe(2);
    expect(imageRequests[0].range).toBeUndefined();
    // Resumed exactly where the received bytes end (at most the half the server sent).
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(imageRequests[1].range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(3_041_136 >> 1);
    expect(
      events.some((e) => e.phase === 'retry' && e.message!.includes(`resuming at byte ${resumedAt}`)),
    ).toBe(true);
    expect(md5(await readFile(path.join(dataDir, 'datasets/kmnist/t10k-images-idx3-ubyte.gz')))).toBe(
      '5c965bf0a639b31b8f53240b1b52f4d7',
    );
  });

  it('fails cleanly when every attempt is cut off: nothing partial is kept', async () => {
    const { server, dataDir } = await setup('cut-always');
    const env = { NCA_MIRROR_KMNIST: `${server.url}/kmnist/` };
    const err = (await fetchDataset('kmnist-split', { dataDir, env, retries: 2, retryDelayMs: 5 }).catch(
      (e: Error) => e,
    )) as Error;
    expect(err.message).toMatch(
      /t10k-images-idx3-ubyte.gz \(http:\/\/127.0.0.1:\d+\/kmnist\/t10k-images-idx3-ubyte.gz\): download failed after 3 attempts/,
    );
    expect(err.message).toContain('nothing was kept');
    expect(server.requests.filter((r) => r.path.endsWith('images-idx3-ubyte.gz')).length).toBe(3);
    expect(await listOrEmpty(path.join(dataDir, 'datasets/kmnist'))).toEqual([]);
    expect(await listOrEmpty(path.join(dataDir, 'datasets/.downloads'))).toEqual([]);
  });

  it('cancels with an AbortSignal, keeps the part outside the cache, and the next fetch resumes it', async () => {
    const stalled = await setup('stall');
    const env = { NCA_MIRROR_KMNIST: `${stalled.server.url}/kmnist/` };
    const controller = new AbortController();
    const part = path.join(stalled.dataDir, 'datasets/.downloads/kmnist-t10k-images-idx3-ubyte.gz.part');
    const pending = fetchDataset('kmnist-split', {
      dataDir: stalled.dataDir,
      env,
      signal: controller.signal,
    }).catch((e: Error) => e);
    // Cancel once some bytes are on disk (the server then stalls forever).
    while (((await stat(part).catch(() => undefined))?.size ?? 0) === 0)
      await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    const err = await pending;
    expect(err).toBeInstanceOf(DownloadCancelledError);
    expect((err as Error).message).toContain('cancelled during t10k-images-idx3-ubyte.gz');
    expect(await listOrEmpty(path.join(stalled.dataDir, 'datasets/kmnist'))).toEqual([]);
    expect(await listOrEmpty(path.dirname(part))).toEqual([path.basename(part)]);
    const kept = (await stat(part)).size;
    expect(kept).toBeGreaterThan(0);

    const good = await serve('normal');
    cleanup.push(good.close);
    await fetchDataset('kmnist-split', {
      dataDir: stalled.dataDir,
      env: { NCA_MIRROR_KMNIST: `${good.url}/kmnist/` },
    });
    expect(good.requests.find((r) => r.path.endsWith('t10k-images-idx3-ubyte.gz'))!.range).toBe(
      `bytes=${kept}-`,
    );
    expect(md5(await readFile(path.join(stalled.dataDir, 'datasets/kmnist/t10k-images-idx3-ubyte.gz')))).toBe(
      '5c965bf0a639b31b8f53240b1b52f4d7',
    );
  });

  it('DatasetService: one fetch per file set at a time, cancelFetch(id) stops it', async () => {
    const { server, dataDir } = await setup('stall');
    const svc = new DatasetService({ dataDir, env: { NCA_MIRROR_KMNIST: `${server.url}/kmnist/` } });
    const first = svc.fetch('kmnist-split').catch((e: Error) => e);
    // kmnist and kmnist-split share the kmnist files.
    await expect(svc.fetch('kmnist')).rejects.toThrow('"kmnist" is already being downloaded');
    await new Promise((r) => setTimeout(r, 200));
    expect(svc.cancelFetch('kmnist-split')).toBe(true);
    expect(await first).toBeInstanceOf(DownloadCancelledError);
    expect(svc.cancelFetch('kmnist-split')).toBe(false);
  });

  it('downloads only files no source has, and reports a missing file (HTTP 404) at once, without retrying', async () => {
    const { server, dataDir } = await setup('normal');
    // The shared KMNIST folder has everything but the training images, which the mirror lacks too.
    const env = { NCA_MIRROR_KMNIST: `${server.url}/kmnist/`, NCA_DATASETS_PATH: sharedDatasets };
    const err = (await fetchDataset('kmnist', { dataDir, env, retryDelayMs: 5 }).catch(
      (e: Error) => e,
    )) as Error;
    expect(err.message).toMatch(
      /train-images-idx3-ubyte.gz \(http:\/\/127.0.0.1:\d+\/kmnist\/train-images-idx3-ubyte.gz\): download failed: HTTP 404/,
    );
    expect(server.requests.map((r) => r.path)).toEqual(['/kmnist/train-images-idx3-ubyte.gz']);
    await expect(fetchDataset('glyphs', { dataDir })).rejects.toThrow(
      '"glyphs" is generated by the workbench: nothing to download',
    );
  });
});
