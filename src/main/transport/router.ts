/**
 * The router: the one place where untrusted messages from the UI meet the services. Every request
 * envelope and its params are validated against the contract; an unknown method or a malformed
 * payload gets a typed error back, is logged, and the process keeps serving.
 */
import {
  ApiError,
  RequestEnvelopeSchema,
  isMethodName,
  methods,
  type EventEnvelope,
  type EventName,
  type MethodName,
  type Params,
  type ResponseEnvelope,
  type Result,
} from '../../shared/contract.ts';
import type { Logger } from '../util/log.ts';

/** One client: an Electron window or a browser-mode WebSocket. */
export interface Connection {
  readonly id: string;
  send(event: EventEnvelope): void;
  /** runs whose cell-state frames this connection asked for */
  readonly watchedRuns: Set<string>;
}

export type Handler<M extends MethodName> = (
  params: Params<M>,
  conn: Connection,
) => Promise<Result<M>> | Result<M>;
export type Handlers = { [M in MethodName]?: Handler<M> };

export class Router {
  constructor(
    private readonly handlers: Handlers,
    private readonly log: Logger,
  ) {}

  async handle(raw: unknown, conn: Connection): Promise<ResponseEnvelope> {
    const envelope = RequestEnvelopeSchema.safeParse(raw);
    if (!envelope.success) {
      const issues = envelope.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`);
      this.log.warn(`rejected malformed message from ${conn.id}: ${issues.join('; ')}`);
      const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : null;
      return { id, ok: false, error: { code: 'bad_request', message: 'malformed request envelope', issues } };
    }
    const { id, method } = envelope.data;
    if (!isMethodName(method)) {
      this.log.warn(`unknown method "${method}" from ${conn.id}`);
      return { id, ok: false, error: { code: 'unknown_method', message: `unknown method "${method}"` } };
    }
    const parsed = methods[method].safeParse(envelope.data.params ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`);
      this.log.warn(`invalid params for ${method} from ${conn.id}: ${issues.join('; ')}`);
      return {
        id,
        ok: false,
        error: { code: 'invalid_params', message: `invalid parameters for ${method}: ${issues[0]}`, issues },
      };
    }
    const handler = this.handlers[method] as Handler<MethodName> | undefined;
    if (!handler) {
      return {
        id,
        ok: false,
        error: { code: 'unavailable', message: `${method} is not available in this build` },
      };
    }
    try {
      const result = await handler(parsed.data as Params<MethodName>, conn);
      return { id, ok: true, result };
    } catch (err) {
      if (err instanceof ApiError) {
        return { id, ok: false, error: { code: err.code, message: err.message, issues: err.issues } };
      }
      const message = err instanceof Error ? err.message : String(err);
      this.log.error(`${method} failed: ${err instanceof Error && err.stack ? err.stack : message}`);
      return { id, ok: false, error: { code: 'service_error', message } };
    }
  }
}

/** Fans service events out to the connected clients. Frames go only to clients watching that run. */
export class EventHub {
  private readonly connections = new Set<Connection>();

  add(conn: Connection): () => void {
    this.connections.add(conn);
    return () => this.connections.delete(conn);
  }

  get size(): number {
    return this.connections.size;
  }

  /** true when at least one client wants frames of this run (so the worker can skip making them) */
  isWatched(runId: string): boolean {
    for (const c of this.connections) if (c.watchedRuns.has(runId)) return true;
    return false;
  }

  emit(event: EventName, data: unknown, binary?: ArrayBuffer, onlyWatchersOf?: string): void {
    for (const conn of this.connections) {
      if (onlyWatchersOf !== undefined && !conn.watchedRuns.has(onlyWatchersOf)) continue;
      try {
        conn.send({ event, data, binary });
      } catch {
        // a client that went away mid-send is removed by its transport; never let it stop the others
      }
    }
  }
}
