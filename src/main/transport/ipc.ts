/**
 * Desktop transport: binds the router to Electron IPC. Takes the ipcMain-like object as a parameter
 * so this file needs no 'electron' import and is testable in plain Node.
 */
import type { EventEnvelope, ResponseEnvelope } from '../../shared/contract.ts';
import type { Connection, EventHub, Router } from './router.ts';

export const IPC_CALL = 'nca:call';
export const IPC_EVENT = 'nca:event';

export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: { sender: WebContentsLike }, ...args: unknown[]) => Promise<unknown>,
  ): void;
  removeHandler(channel: string): void;
}

export interface WebContentsLike {
  id: number;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  once(event: 'destroyed', listener: () => void): void;
}

/** One Connection per window; events go out with their binary payload as a (structured-cloned) ArrayBuffer. */
export function bindIpc(
  ipcMain: IpcMainLike,
  router: Router,
  hub: EventHub,
  /** accept calls only from our own pages (Electron: the sender frame's URL) */
  allowSender: (event: { sender: WebContentsLike; senderFrame?: { url: string } | null }) => boolean = () =>
    true,
): () => void {
  const connections = new Map<number, Connection>();
  const connectionFor = (wc: WebContentsLike): Connection => {
    let conn = connections.get(wc.id);
    if (conn) return conn;
    conn = {
      id: `window-${wc.id}`,
      watchedRuns: new Set(),
      send(ev: EventEnvelope) {
        if (!wc.isDestroyed()) wc.send(IPC_EVENT, ev);
      },
    };
    const remove = hub.add(conn);
    connections.set(wc.id, conn);
    wc.once('destroyed', () => {
      remove();
      connections.delete(wc.id);
    });
    return conn;
  };
  ipcMain.handle(IPC_CALL, async (event, message): Promise<ResponseEnvelope> => {
    if (!allowSender(event))
      return {
        id: null,
        ok: false,
        error: { code: 'bad_request', message: 'calls are accepted from the workbench window only' },
      };
    return router.handle(message, connectionFor(event.sender));
  });
  return () => ipcMain.removeHandler(IPC_CALL);
}
