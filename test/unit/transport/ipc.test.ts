import { describe, expect, it } from 'vitest';
import {
  bindIpc,
  IPC_CALL,
  IPC_EVENT,
  type IpcMainLike,
  type WebContentsLike,
} from '../../../src/main/transport/ipc.ts';
import { EventHub, Router } from '../../../src/main/transport/router.ts';
import { memoryLogger } from '../../../src/main/util/log.ts';

/** The Electron binary cannot run here: a stand-in for ipcMain with the same two methods. */
function fakeIpcMain() {
  const handlers = new Map<
    string,
    (e: { sender: WebContentsLike; senderFrame?: { url: string } }, ...a: unknown[]) => Promise<unknown>
  >();
  const ipc: IpcMainLike = {
    handle: (c, l) => void handlers.set(c, l),
    removeHandler: (c) => void handlers.delete(c),
  };
  return { ipc, handlers };
}

function fakeWindow(id: number) {
  const sent: unknown[] = [];
  let onDestroyed = () => {};
  let destroyed = false;
  const wc: WebContentsLike = {
    id,
    send: (channel, ev) => sent.push([channel, ev]),
    isDestroyed: () => destroyed,
    once: (_e, l) => void (onDestroyed = l),
  };
  return { wc, sent, destroy: () => ((destroyed = true), onDestroyed()) };
}

describe('IPC transport', () => {
  it('routes calls through the same validation and delivers events per window', async () => {
    const hub = new EventHub();
    const router = new Router({ 'config.validate': () => ({ ok: true, errors: [] }) }, memoryLogger());
    const { ipc, handlers } = fakeIpcMain();
    const unbind = bindIpc(ipc, router, hub);
    const win = fakeWindow(1);
    const call = handlers.get(IPC_CALL)!;
    expect(
      await call({ sender: win.wc }, { id: 1, method: 'config.validate', params: { config: {} } }),
    ).toMatchObject({ ok: true });
    expect(await call({ sender: win.wc }, { id: 2, method: 'nope' })).toMatchObject({
      error: { code: 'unknown_method' },
    });
    hub.emit('log', { message: 'hi' });
    expect(win.sent).toEqual([[IPC_EVENT, { event: 'log', data: { message: 'hi' }, binary: undefined }]]);
    win.destroy();
    expect(hub.size).toBe(0);
    unbind();
    expect(handlers.size).toBe(0);
  });

  it('refuses calls from a frame that is not the workbench page', async () => {
    const router = new Router({ 'config.validate': () => ({ ok: true, errors: [] }) }, memoryLogger());
    const { ipc, handlers } = fakeIpcMain();
    bindIpc(ipc, router, new EventHub(), (e) => (e.senderFrame?.url ?? '').startsWith('file://'));
    const call = handlers.get(IPC_CALL)!;
    const win = fakeWindow(2);
    const msg = { id: 1, method: 'config.validate', params: { config: {} } };
    expect(await call({ sender: win.wc, senderFrame: { url: 'file:///app/index.html' } }, msg)).toMatchObject(
      { ok: true },
    );
    expect(await call({ sender: win.wc, senderFrame: { url: 'https://evil.example/' } }, msg)).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
  });
});
