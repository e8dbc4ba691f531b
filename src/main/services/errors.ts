/**
 * Errors as they cross the bridge: `{ name, message, code }` (WireError),
 * VS Code style. Store errors keep their STORE_* codes, engine errors their
 * engine codes; bad input from the caller is BAD_REQUEST (the payload) or
 * BAD_INPUT (a value the store or engine refused); anything unexpected is
 * INTERNAL with its message and no stack (the stack goes to the log).
 */
import type { WireError } from '../../shared/contract.ts';

/** Codes the bridge itself adds to the store's and the engine's. */
export type BridgeErrorCode =
  /** The payload does not match the contract (wrong type, missing field, too long). */
  | 'BAD_REQUEST'
  /** No such request method. */
  | 'UNKNOWN_METHOD'
  /** No job with that id is running or queued. */
  | 'JOB_NOT_FOUND'
  /** The web host: no token or a wrong one. */
  | 'UNAUTHORIZED'
  /** The web host: a request from another origin or for another host name. */
  | 'FORBIDDEN'
  /** The web host: a body over the size limit. */
  | 'PAYLOAD_TOO_LARGE'
  /** The web host: a request that is not a POST of JSON. */
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE';

export class BridgeError extends Error {
  readonly code: BridgeErrorCode;
  constructor(code: BridgeErrorCode, message: string) {
    super(message);
    this.name = 'BridgeError';
    this.code = code;
  }
}

/** The WireError of anything thrown by a service method. */
export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return { name: error.name, message: error.message, code };
    if (error instanceof TypeError || error instanceof RangeError) return { name: error.name, message: error.message, code: 'BAD_INPUT' };
    return { name: error.name || 'Error', message: error.message || 'Unexpected error.', code: 'INTERNAL' };
  }
  return { name: 'Error', message: String(error), code: 'INTERNAL' };
}

/** The HTTP status the web host answers a WireError with. */
export function httpStatus(code: string): number {
  if (code === 'BAD_REQUEST' || code === 'BAD_INPUT' || code === 'UNSUPPORTED_LANGUAGE') return 400;
  if (code === 'UNAUTHORIZED') return 401;
  if (code === 'FORBIDDEN') return 403;
  if (code === 'UNKNOWN_METHOD' || code.endsWith('NOT_FOUND')) return code === 'PACK_NOT_FOUND' ? 503 : 404;
  if (code === 'METHOD_NOT_ALLOWED') return 405;
  if (code === 'STORE_CONFLICT') return 409;
  if (code === 'PAYLOAD_TOO_LARGE') return 413;
  if (code === 'UNSUPPORTED_MEDIA_TYPE') return 415;
  if (code === 'ENGINE_UNAVAILABLE' || code === 'STORE_BUSY') return 503;
  return 500;
}
