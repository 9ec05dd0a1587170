/**
 * The only bridge between the sandboxed renderer and the main process: two functions, no Node.
 * The channel names match src/main/transport/ipc.ts.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

const IPC_CALL = 'nca:call';
const IPC_EVENT = 'nca:event';

contextBridge.exposeInMainWorld('ncaBridge', {
  call: (request: unknown) => ipcRenderer.invoke(IPC_CALL, request),
  onEvent: (listener: (event: unknown) => void) => {
    const wrapped = (_e: IpcRendererEvent, event: unknown) => listener(event);
    ipcRenderer.on(IPC_EVENT, wrapped);
    return () => ipcRenderer.removeListener(IPC_EVENT, wrapped);
  },
});
