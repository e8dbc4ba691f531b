/**
 * The IPC adapter: one `ipcMain.handle` per request channel of the contract
 * (channelOf(method)), each answering an IpcReply from dispatch(), and job
 * events pushed to the renderer on JOB_EVENT_CHANNEL. It speaks to Electron
 * through the two small interfaces below (ipcMain and webContents satisfy
 * them), so it is tested without Electron.
 *
 * Requests from any frame other than the app's own page are refused
 * (Electron's security checklist, "validate the sender of all IPC
 * messages"): `isTrustedSender` decides from the sender frame's URL.
 */
import { channelOf, JOB_EVENT_CHANNEL, PACK_EVENT_CHANNEL, REQUEST_METHODS, type IpcReply } from '../../shared/contract.ts';
import { BridgeError, toWireError } from '../services/errors.ts';
import type { StudioService } from '../services/studioService.ts';
import { dispatch } from './dispatch.ts';

/** What the adapter needs of an invoke event: the URL of the frame that sent it. */
export interface InvokeEvent {
  senderFrame?: { url: string } | null;
}

/** What the adapter needs of ipcMain. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/** What the adapter needs of a window's webContents. */
export interface EventTarget {
  send(channel: string, payload: unknown): void;
  isDestroyed(): boolean;
}

export interface IpcAdapterOptions {
  isTrustedSender: (url: string) => boolean;
  log?: (message: string) => void;
}

/** Registers every request channel; returns a function that removes them again. */
export function registerIpc(ipc: IpcMainLike, service: StudioService, options: IpcAdapterOptions): () => void {
  for (const method of REQUEST_METHODS) {
    ipc.handle(channelOf(method), async (event, ...args): Promise<IpcReply<unknown>> => {
      const url = event.senderFrame?.url ?? '';
      if (!options.isTrustedSender(url)) {
        options.log?.(`Refused ${method} from an untrusted frame (${url.slice(0, 200) || 'no URL'}).`);
        return { ok: false, error: toWireError(new BridgeError('FORBIDDEN', `Requests are only accepted from the Concept Studio window, not from ${url.slice(0, 200) || 'an unknown frame'}.`)) };
      }
      if (args.length > 1) {
        return { ok: false, error: toWireError(new BridgeError('BAD_REQUEST', `${method}: takes one argument, got ${args.length}.`)) };
      }
      return dispatch(service, method, args[0], { onInternalError: (m, error) => options.log?.(`${m} failed: ${(error as Error)?.stack ?? String(error)}`) });
    });
  }
  return () => {
    for (const method of REQUEST_METHODS) ipc.removeHandler(channelOf(method));
  };
}

/** Sends every job event and pack event to `target` (a window's webContents) while it lives; returns the unsubscribe. */
export function forwardJobEvents(service: StudioService, target: EventTarget): () => void {
  const forward = (channel: string) => (event: unknown) => {
    if (target.isDestroyed()) {
      off();
      return;
    }
    target.send(channel, event);
  };
  const offJobs = service.onJobEvent(forward(JOB_EVENT_CHANNEL));
  const offPacks = service.onPackEvent(forward(PACK_EVENT_CHANNEL));
  const off = () => {
    offJobs();
    offPacks();
  };
  return off;
}
