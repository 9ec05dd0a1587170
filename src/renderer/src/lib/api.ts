/**
 * The contract's client. In the desktop app it talks to the preload bridge (Electron IPC); in
 * browser mode to the WebSocket of `npm run serve`. Views never know which.
 */
import {
  decodeBinaryMessage,
  type ApiErrorBody,
  type EventEnvelope,
  type EventName,
  type MethodName,
  type ParamsInput,
  type RequestEnvelope,
  type ResponseEnvelope,
  type Result,
} from '../../../shared/contract';

export interface NcaBridge {
  call(request: RequestEnvelope): Promise<ResponseEnvelope>;
  onEvent(listener: (event: EventEnvelope) => void): () => void;
}

declare global {
  interface Window {
    ncaBridge?: NcaBridge;
  }
}

export class ApiCallError extends Error {
  readonly code: string;
  readonly issues: string[];
  constructor(
    readonly method: string,
    body: ApiErrorBody,
  ) {
    super(body.message);
    this.name = 'ApiCallError';
    this.code = body.code;
    this.issues = body.issues ?? [];
  }
}

type Listener = (data: unknown, binary?: ArrayBuffer) => void;
export type ConnectionState = 'connecting' | 'open' | 'closed';

class WebSocketTransport implements NcaBridge {
  private ws: WebSocket | null = null;
  private pending = new Map<number, (r: ResponseEnvelope) => void>();
  private queue: string[] = [];
  private listeners = new Set<(e: EventEnvelope) => void>();
  private retryMs = 250;
  onState: (s: ConnectionState) => void = () => {};

  constructor(private readonly url: string) {
    this.connect();
  }

  private connect(): void {
    this.onState('connecting');
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      this.retryMs = 250;
      this.onState('open');
      for (const m of this.queue.splice(0)) ws.send(m);
    };
    ws.onmessage = (msg) => {
      if (msg.data instanceof ArrayBuffer) {
        const { header, binary } = decodeBinaryMessage(msg.data);
        if (typeof header === 'object' && header !== null && 'event' in header) {
          const ev = header as EventEnvelope;
          for (const l of this.listeners) l({ event: ev.event, data: ev.data, binary });
        } else {
          // a response whose result carries bytes
          const r = header as { id: number; ok: true; result: Record<string, unknown> };
          r.result.bytes = new Uint8Array(binary);
          this.pending.get(r.id)?.(r);
          this.pending.delete(r.id);
        }
        return;
      }
      const parsed = JSON.parse(msg.data as string) as ResponseEnvelope | EventEnvelope;
      if ('event' in parsed) {
        for (const l of this.listeners) l(parsed);
      } else if (parsed.id !== null) {
        this.pending.get(parsed.id)?.(parsed);
        this.pending.delete(parsed.id);
      }
    };
    ws.onclose = () => {
      this.ws = null;
      this.onState('closed');
      for (const [id, resolve] of this.pending) {
        resolve({
          id,
          ok: false,
          error: { code: 'unavailable', message: 'lost the connection to the workbench' },
        });
      }
      this.pending.clear();
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
    this.ws = ws;
  }

  call(request: RequestEnvelope): Promise<ResponseEnvelope> {
    return new Promise((resolve) => {
      this.pending.set(request.id, resolve);
      const text = JSON.stringify(request);
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
      else this.queue.push(text);
    });
  }

  onEvent(listener: (e: EventEnvelope) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export class ApiClient {
  private nextId = 1;
  private listeners = new Map<EventName, Set<Listener>>();
  readonly mode: 'desktop' | 'browser';

  constructor(private readonly transport: NcaBridge) {
    this.mode = transport instanceof WebSocketTransport ? 'browser' : 'desktop';
    transport.onEvent((e) => {
      for (const l of this.listeners.get(e.event) ?? []) l(e.data, e.binary);
    });
  }

  async call<M extends MethodName>(method: M, params: ParamsInput<M>): Promise<Result<M>> {
    const response = await this.transport.call({ id: this.nextId++, method, params });
    if (!response.ok) throw new ApiCallError(method, response.error);
    return response.result as Result<M>;
  }

  on(event: EventName, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }
}

function createClient(): { client: ApiClient; transport: NcaBridge } {
  if (typeof window !== 'undefined' && window.ncaBridge) {
    return { client: new ApiClient(window.ncaBridge), transport: window.ncaBridge };
  }
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const transport = new WebSocketTransport(`${proto}//${location.host}/api`);
  return { client: new ApiClient(transport), transport };
}

const created = createClient();
export const api = created.client;

/** Browser mode: the socket's state, for the status bar. */
export function onConnectionState(cb: (s: ConnectionState) => void): void {
  if (created.transport instanceof WebSocketTransport) created.transport.onState = cb;
  else cb('open');
}

/** What a failed call says, one line each (an ApiCallError's message may span lines). */
export function errorLines(err: unknown): string[] {
  return err instanceof ApiCallError
    ? err.message.split('\n')
    : [err instanceof Error ? err.message : String(err)];
}
