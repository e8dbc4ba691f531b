/**
 * Errors the store throws on purpose. Each has a stable `code` (sent across IPC
 * as `{ name, message, code }`, mapped to exit codes by `lcm`), names the
 * library file, and says what to do. A failed action has been rolled back:
 * the messages say so, because "was anything lost?" is the writer's first
 * question.
 */
import { isSqliteError } from './sqlite.ts';

export type StoreErrorCode =
  /** Not a SQLite file, or a SQLite file that belongs to another program. */
  | 'STORE_FOREIGN'
  /** SQLite found damaged pages (bad bytes, a truncated file). */
  | 'STORE_CORRUPT'
  /** Written by a newer Concept Studio: this version will not touch it. */
  | 'STORE_TOO_NEW'
  /** A migration failed; the upgrade was rolled back and the file is as it was. */
  | 'STORE_MIGRATION_FAILED'
  /** Opened read-only, or the file or its folder cannot be written. */
  | 'STORE_READ_ONLY'
  /** The file cannot be opened or created (missing folder, permissions). */
  | 'STORE_CANNOT_OPEN'
  /** The disk (or the library's size limit) is full. */
  | 'STORE_FULL'
  /** Another process held the library locked for longer than the busy timeout. */
  | 'STORE_BUSY'
  /** The operating system reported an I/O error. */
  | 'STORE_IO'
  /** No document, concept, revision, candidate or job with that id. */
  | 'STORE_NOT_FOUND'
  /** An import would overwrite something that exists (same document id). */
  | 'STORE_CONFLICT'
  /** The store was closed. */
  | 'STORE_CLOSED';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** The library file, when the error concerns it. */
  readonly path: string | undefined;
  constructor(code: StoreErrorCode, message: string, options?: { path?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    this.code = code;
    this.path = options?.path;
  }
}

const ROLLED_BACK = 'Nothing from this action was saved; everything saved before it is intact.';

/**
 * Turns a SQLite failure during `action` (e.g. "insert concept") on the library
 * at `path` into a StoreError a person can act on. Errors that are not
 * SQLite's (a TypeError from bad input, a StoreError already) pass through.
 */
export function storeError(error: unknown, path: string, action: string): unknown {
  if (error instanceof StoreError) return error;
  if (error instanceof TypeError && /database connection is not open/.test(error.message)) {
    return new StoreError('STORE_CLOSED', `Cannot ${action}: the library ${path} was closed. Open it again.`, { path, cause: error });
  }
  if (error instanceof TypeError && /directory does not exist/.test(error.message)) {
    return new StoreError('STORE_CANNOT_OPEN', `Cannot open the library ${path}: its folder does not exist. Create the folder, or choose a writable location (--db PATH).`, { path, cause: error });
  }
  if (!isSqliteError(error)) return error;
  const code = error.code;
  // After a failed open nothing was attempted; after a failed action, say that it was rolled back.
  const UNCHANGED = action.startsWith('open') ? 'The file was not changed.' : ROLLED_BACK;
  const detail = `(SQLite: ${error.message})`;
  const make = (c: StoreErrorCode, message: string) => new StoreError(c, message, { path, cause: error });
  if (code === 'SQLITE_NOTADB') {
    return make('STORE_FOREIGN', `${path} is not a Concept Studio library: it is not a SQLite database, or its header is damaged ${detail}. If it is your library, restore it from a backup; otherwise choose another file (--db PATH).`);
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return make('STORE_CORRUPT', `The library ${path} is damaged ${detail}; could not ${action}. ${UNCHANGED} Restore it from a backup, or salvage it with \`sqlite3 "${path}" .recover\` into a new file.`);
  }
  if (code === 'SQLITE_FULL') {
    return make('STORE_FULL', `Could not ${action}: the disk holding ${path} is full ${detail}. ${UNCHANGED} Free some space and try again.`);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return make('STORE_READ_ONLY', `Could not ${action}: the library ${path} is read-only ${detail}. ${UNCHANGED} Open it read-write, or copy it to a folder you can write (--db PATH).`);
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return make('STORE_CANNOT_OPEN', `Cannot open the library ${path} ${detail}: its folder is missing or cannot be written. Choose a writable location (--db PATH).`);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return make('STORE_BUSY', `Could not ${action}: another program kept the library ${path} locked ${detail}. ${UNCHANGED} Close the other program (or wait for its job) and try again.`);
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return make('STORE_IO', `Could not ${action}: the system reported an I/O error on ${path} ${detail}. ${UNCHANGED} Check the disk (a removed drive, a network share that went away) and try again.`);
  }
  return error;
}
