/**
 * The preload: exactly the bridge contract (src/shared/contract.ts) as
 * `window.conceptStudio`, nothing else. One ipcRenderer.invoke per request
 * method, built from REQUEST_METHODS; the main process answers an IpcReply,
 * unwrapped here. A failure rejects with a plain `{ name, message, code }`
 * object, because the context bridge copies only the message of an Error
 * (isWireError in the contract recognizes both forms). Listeners get the
 * payload without the IPC event and get back an unsubscribe function.
 * Sandboxed: bundled into one CommonJS file that requires only electron.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  channelOf, JOB_EVENT_CHANNEL, MENU_COMMAND_CHANNEL, PACK_EVENT_CHANNEL, REQUEST_METHODS, type ConceptStudioApi, type IpcReply, type JobEvent, type MenuCommand,
  type PackEvent, type RequestMethod,
} from '../shared/contract.ts';

function request(method: RequestMethod): (req?: unknown) => Promise<unknown> {
  const channel = channelOf(method);
  return async (req?: unknown) => {
    const reply = (await ipcRenderer.invoke(channel, req)) as IpcReply<unknown>;
    if (reply.ok) return reply.value;
    throw { name: reply.error.name, message: reply.error.message, code: reply.error.code };
  };
}

function subscribe<T>(channel: string): (listener: (payload: T) => void) => () => void {
  return (listener) => {
    const handler = (_event: IpcRendererEvent, payload: T) => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.removeListener(channel, handler);
    };
  };
}

const api = {
  ...Object.fromEntries(REQUEST_METHODS.map((method) => [method, request(method)])),
  onJobEvent: subscribe<JobEvent>(JOB_EVENT_CHANNEL),
  onMenuCommand: subscribe<MenuCommand>(MENU_COMMAND_CHANNEL),
  onPackEvent: subscribe<PackEvent>(PACK_EVENT_CHANNEL),
} as ConceptStudioApi;

contextBridge.exposeInMainWorld('conceptStudio', api);
