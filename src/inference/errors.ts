/**
 * Errors the engine throws on purpose. Each has a stable `code` so that the
 * IPC layer can send `{ name, message, code }` across processes and the
 * renderer or CLI can react without parsing messages. Messages say what was
 * wrong and what to do about it.
 */
export type EngineErrorCode =
  | 'PACK_NOT_FOUND'
  | 'PACK_INVALID'
  | 'PACK_UNSUPPORTED_VERSION'
  | 'BAD_INPUT'
  | 'UNSUPPORTED_LANGUAGE'
  | 'CANCELLED'
  | 'INFERENCE_FAILED';

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
  }
}

/** Something is wrong with a model pack: names the pack and, where it applies, the file. */
export class PackError extends EngineError {
  readonly pack: string;
  readonly file: string | undefined;
  constructor(code: 'PACK_NOT_FOUND' | 'PACK_INVALID' | 'PACK_UNSUPPORTED_VERSION', pack: string, file: string | undefined, problem: string, options?: { cause?: unknown }) {
    super(code, `Model pack \`${pack}\`${file ? `, file \`${file}\`` : ''}: ${problem}`, options);
    this.name = 'PackError';
    this.pack = pack;
    this.file = file;
  }
}

/** The caller passed something the engine cannot use (empty text, unknown language, bad option). */
export class InputError extends EngineError {
  constructor(message: string, code: 'BAD_INPUT' | 'UNSUPPORTED_LANGUAGE' = 'BAD_INPUT') {
    super(code, message);
    this.name = 'InputError';
  }
}

/** The job was cancelled through its AbortSignal. */
export class CancelledError extends EngineError {
  constructor(message = 'The operation was cancelled.') {
    super('CANCELLED', message);
    this.name = 'CancelledError';
  }
}

/** Throws a CancelledError if `signal` has been aborted. Call it between model runs. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    throw reason instanceof CancelledError ? reason : new CancelledError(reason instanceof Error && reason.name !== 'AbortError' ? reason.message : undefined);
  }
}

/** True for a CancelledError or a DOM AbortError (what AbortSignal.reason is by default). */
export function isCancellation(error: unknown): boolean {
  return error instanceof CancelledError || (error instanceof Error && error.name === 'AbortError');
}
