/**
 * Browser mode: an HTTP server for the built renderer plus the API over a WebSocket, on 127.0.0.1
 * with a random per-launch token (as Jupyter does). The token arrives once in the URL; the server
 * answers with an HttpOnly, SameSite=Strict cookie, so the page, its assets and the WebSocket are
 * all checked without the token living in the page's JavaScript.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  encodeBinaryEvent,
  encodeBinaryMessage,
  hasBytes,
  type EventEnvelope,
} from '../../shared/contract.ts';
import type { Logger } from '../util/log.ts';
import type { Connection, EventHub, Router } from './router.ts';

export interface BrowserServerOptions {
  router: Router;
  hub: EventHub;
  log: Logger;
  /** the built renderer (index.html and assets) */
  staticDir: string;
  host?: string;
  /** 0 picks a free port */
  port?: number;
  token?: string;
  /** required to listen on anything but loopback */
  allowRemote?: boolean;
}

export interface BrowserServer {
  url: string;
  port: number;
  host: string;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'nca_token';
/** Frames are dropped for a client whose socket has this much unsent data: training never waits. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function sameToken(a: string | undefined | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}

export function contentSecurityPolicy(): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Svelte and chart.js set inline styles on elements
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export async function startBrowserServer(opts: BrowserServerOptions): Promise<BrowserServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.allowRemote) {
    throw new Error(
      `refusing to listen on ${host}: browser mode serves your runs to anyone who can reach it; pass --allow-remote to do it anyway`,
    );
  }
  if (!isLoopback(host)) {
    opts.log.warn(
      `listening on ${host}: anyone on that network who has the token can control this workbench`,
    );
  }
  const token = opts.token ?? randomBytes(24).toString('hex');
  const staticRoot = path.resolve(opts.staticDir);
  if (!fs.existsSync(path.join(staticRoot, 'index.html'))) {
    throw new Error(
      `the renderer is not built: ${path.join(staticRoot, 'index.html')} is missing (run npm run build:web)`,
    );
  }

  const authorised = (req: http.IncomingMessage, url: URL) =>
    sameToken(url.searchParams.get('token'), token) || sameToken(cookieToken(req.headers.cookie), token);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const headers: http.OutgoingHttpHeaders = {
      'Content-Security-Policy': contentSecurityPolicy(),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, headers).end();
      return;
    }
    if (!authorised(req, url)) {
      res
        .writeHead(403, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' })
        .end('NCA Workbench: open the URL with the token that `npm run serve` printed.\n');
      return;
    }
    if (sameToken(url.searchParams.get('token'), token)) {
      headers['Set-Cookie'] = `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400, headers).end();
      return;
    }
    let file = path.resolve(staticRoot, '.' + (rel === '/' ? '/index.html' : rel));
    if (file !== staticRoot && !file.startsWith(staticRoot + path.sep)) {
      res.writeHead(404, headers).end();
      return;
    }
    if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(staticRoot, 'index.html');
    const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, { ...headers, 'Content-Type': type });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = req.headers.origin;
    const expectedOrigins = [`http://${req.headers.host}`];
    const refuse = (status: number, why: string) => {
      opts.log.warn(`refused WebSocket from ${req.socket.remoteAddress}: ${why}`);
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
    };
    if (url.pathname !== '/api') return refuse(404, `no endpoint ${url.pathname}`);
    if (!authorised(req, url)) return refuse(401, 'missing or wrong token');
    if (origin && !expectedOrigins.includes(origin)) return refuse(403, `foreign origin ${origin}`);
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws));
  });

  function serveSocket(ws: WebSocket): void {
    const conn: Connection = {
      id: `ws-${randomUUID().slice(0, 8)}`,
      watchedRuns: new Set(),
      send(ev: EventEnvelope) {
        if (ws.readyState !== ws.OPEN) return;
        if (ev.binary) {
          if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return;
          ws.send(encodeBinaryEvent(ev.event, ev.data, ev.binary));
        } else ws.send(JSON.stringify({ event: ev.event, data: ev.data }));
      },
    };
    const remove = opts.hub.add(conn);
    ws.on('message', async (data, isBinary) => {
      let message: unknown;
      try {
        if (isBinary) throw new Error('binary requests are not part of the API');
        message = JSON.parse(data.toString());
      } catch (err) {
        opts.log.warn(`unparseable message from ${conn.id}: ${(err as Error).message}`);
        ws.send(
          JSON.stringify({
            id: null,
            ok: false,
            error: { code: 'bad_request', message: `unparseable message: ${(err as Error).message}` },
          }),
        );
        return;
      }
      const response = await opts.router.handle(message, conn);
      if (ws.readyState !== ws.OPEN) return;
      if (response.ok && hasBytes(response.result)) {
        const { bytes, ...rest } = response.result;
        ws.send(encodeBinaryMessage({ ...response, result: rest }, bytes));
      } else ws.send(JSON.stringify(response));
    });
    ws.on('close', remove);
    ws.on('error', (err) => {
      opts.log.warn(`WebSocket ${conn.id}: ${err.message}`);
      remove();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    token,
    url: `http://${shownHost}:${port}/?token=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
