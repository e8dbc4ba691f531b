/**
 * One request, from any host: the method name is checked against the
 * contract, the payload validated, the service called, and the outcome
 * returned as an IpcReply. Never throws: a bad method, a bad payload or a
 * failing service all become `{ ok: false, error: WireError }`, so neither
 * the Electron main process nor the web host can be brought down by what a
 * renderer sends. Used by the IPC adapter and the web host alike.
 */
import { REQUEST_METHODS, type IpcReply, type RequestMethod } from '../../shared/contract.ts';
import { BridgeError, toWireError } from '../services/errors.ts';
import type { StudioApi } from '../services/studioService.ts';
import { validatePayload } from './validate.ts';

export const isRequestMethod = (name: unknown): name is RequestMethod => typeof name === 'string' && (REQUEST_METHODS as readonly string[]).includes(name);

export interface DispatchOptions {
  /** Called with unexpected failures (code INTERNAL) for the log; the caller gets the message only. */
  onInternalError?: (method: string, error: unknown) => void;
}

export async function dispatch(api: StudioApi, method: unknown, payload: unknown, options: DispatchOptions = {}): Promise<IpcReply<unknown>> {
  if (!isRequestMethod(method)) {
    const shown = typeof method === 'string' ? `"${method.slice(0, 64)}"` : typeof method;
    return { ok: false, error: toWireError(new BridgeError('UNKNOWN_METHOD', `Unknown request ${shown}; the requests are: ${REQUEST_METHODS.join(', ')}.`)) };
  }
  try {
    const req = validatePayload(method, payload);
    const call = api[method] as (req: unknown) => Promise<unknown>;
    const value = await call.call(api, req);
    return { ok: true, value };
  } catch (error) {
    const wire = toWireError(error);
    if (wire.code === 'INTERNAL') options.onInternalError?.(method, error);
    return { ok: false, error: wire };
  }
}
