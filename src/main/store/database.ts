/**
 * Opening a library file safely: refuse what is not ours or is newer than this
 * code, then set the connection's pragmas, run the missing migrations in one
 * transaction, and load sqlite-vec (or its JavaScript stand-in).
 *
 * Durability (docs/store.md, "Crash safety"): WAL journal with
 * synchronous=FULL by default. With WAL, a committed transaction is in the WAL
 * file (the operating system's page cache) before COMMIT returns, so a killed
 * process loses nothing even with synchronous=NORMAL; NORMAL can lose the last
 * commits on power loss or an OS crash (the database stays consistent). FULL
 * also fsyncs the WAL at every commit, so a commit survives power loss; that
 * costs one fsync per user action, which is nothing at the rate a person edits
 * (bulk work such as an import is one transaction, one fsync).
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { StoreError, storeError } from './errors.ts';
import { APPLICATION_ID, MIGRATIONS, type Migration } from './schema.ts';
import { openSqlite, type Database } from './sqlite.ts';

export interface OpenLibraryOptions {
  /** Open without write access: every write fails with STORE_READ_ONLY. The file must exist. */
  readonly?: boolean;
  /** Create the file when it does not exist (default true). */
  create?: boolean;
  /** 'full' (default): every commit survives power loss; 'normal': survives a killed process only. */
  synchronous?: 'full' | 'normal';
  /** How long to wait for another process's lock before STORE_BUSY (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Load the sqlite-vec extension (default true); false uses the JavaScript distance function only. */
  vectorExtension?: boolean;
  /** The migrations to apply (default: schema.ts's). Tests pass others to exercise upgrades. */
  migrations?: readonly Migration[];
}

/** Whether sqlite-vec is loaded; without it the store's vector functions run in JavaScript (slower, same results). */
export interface VectorSupport {
  extension: boolean;
  version?: string;
  /** Why the extension is not loaded. */
  reason?: string;
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/** The first 16 bytes of a file, or '' for an empty one. */
function fileMagic(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    return buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

function foreign(path: string, why: string): StoreError {
  return new StoreError('STORE_FOREIGN', `${path} is not a Concept Studio library: ${why}. Choose another file (--db PATH), or move this one aside; it was not changed.`, { path });
}

/** Checks the header of an existing file before SQLite touches it. */
function checkHeader(path: string): void {
  const stat = statSync(path);
  if (!stat.isFile()) throw new StoreError('STORE_CANNOT_OPEN', `${path} is not a file (a folder?). Give the path of a library file (--db PATH).`, { path });
  const size = stat.size;
  if (size === 0) return; // an empty file is a new library
  const magic = fileMagic(path);
  if (magic !== SQLITE_MAGIC) {
    throw size < 100 || !magic.startsWith('SQLite')
      ? foreign(path, 'it is not a SQLite database')
      : new StoreError('STORE_CORRUPT', `The library ${path} is damaged: its header is invalid. Restore it from a backup.`, { path });
  }
}

/** Runs the migrations the library lacks, in one IMMEDIATE transaction. */
function migrate(db: Database, path: string, readonly: boolean, migrations: readonly Migration[]): void {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  if (appId !== APPLICATION_ID && !(appId === 0 && version === 0 && tables.length === 0)) {
    throw foreign(path, appId === 0 ? `it is a SQLite database of another program (tables: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''})` : `it is a SQLite database of another program (application_id 0x${appId.toString(16)})`);
  }
  if (version > latest) {
    throw new StoreError('STORE_TOO_NEW', `The library ${path} was written by a newer Concept Studio (schema version ${version}; this version knows up to ${latest}). Update Concept Studio to open it; the file was not changed.`, { path });
  }
  if (version === latest) return;
  if (readonly) {
    throw new StoreError('STORE_READ_ONLY', `The library ${path} needs upgrading from schema version ${version} to ${latest}, which cannot happen read-only. Open it once read-write.`, { path });
  }
  let step: Migration | undefined;
  try {
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      const current = db.pragma('user_version', { simple: true }) as number;
      for (const m of migrations) {
        if (m.version <= current) continue;
        step = m;
        db.exec(m.sql);
        db.pragma(`user_version = ${m.version}`);
      }
      db.pragma(`application_id = ${APPLICATION_ID}`);
    }).immediate();
  } catch (error) {
    const mapped = storeError(error, path, 'upgrade the library');
    if (mapped !== error || !step) throw mapped;
    throw new StoreError('STORE_MIGRATION_FAILED', `Upgrading the library ${path} from schema version ${version} failed at migration ${step.version} (${step.name}): ${(error as Error).message}. The upgrade runs in one transaction, so the library was not changed; report this with the message.`, { path, cause: error });
  }
}

/** Cosine distance of two float32 blobs: the stand-in for sqlite-vec's vec_distance_cosine. */
function cosineDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.byteLength !== b.byteLength || a.byteLength % 4 !== 0) throw new RangeError(`Vector sizes differ: ${a.byteLength / 4} and ${b.byteLength / 4} values.`);
  const n = a.byteLength / 4;
  const x = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const y = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let dot = 0;
  let nx = 0;
  let ny = 0;
  for (let i = 0; i < n; i++) {
    const p = x.getFloat32(i * 4, true);
    const q = y.getFloat32(i * 4, true);
    dot += p * q;
    nx += p * p;
    ny += q * q;
  }
  return nx === 0 || ny === 0 ? 1 : 1 - dot / Math.sqrt(nx * ny);
}

/** Bits that differ between two bit vectors: the stand-in for sqlite-vec's vec_distance_hamming. */
function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.byteLength !== b.byteLength) throw new RangeError(`Bit vector sizes differ: ${a.byteLength * 8} and ${b.byteLength * 8} bits.`);
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]! ^ b[i]!;
    x -= (x >> 1) & 0x55;
    x = (x & 0x33) + ((x >> 2) & 0x33);
    d += (x + (x >> 4)) & 0x0f;
  }
  return d;
}

/** Loads sqlite-vec, or registers the three functions the store uses in JavaScript when it cannot be loaded. */
function loadVectorSupport(db: Database, wanted: boolean): VectorSupport {
  let reason = 'disabled by the caller';
  if (wanted) {
    try {
      const vec = createRequire(import.meta.url)('sqlite-vec') as { getLoadablePath(): string };
      // In a packaged app the library sits in app.asar.unpacked (electron-builder.yml: asarUnpack); SQLite cannot read inside the archive.
      db.loadExtension(vec.getLoadablePath().replace(/app\.asar([\\/])/, 'app.asar.unpacked$1'));
      return { extension: true, version: db.prepare('SELECT vec_version()').pluck().get() as string };
    } catch (error) {
      reason = (error as Error).message;
    }
  }
  db.function('vec_distance_cosine', { deterministic: true }, (a, b) => cosineDistance(a as Uint8Array, b as Uint8Array));
  db.function('vec_distance_hamming', { deterministic: true }, (a, b) => hammingDistance(a as Uint8Array, b as Uint8Array));
  db.function('vec_bit', { deterministic: true }, (a) => a);
  return { extension: false, reason };
}

export interface OpenedLibrary {
  db: Database;
  vectors: VectorSupport;
}

/** Opens the library at `path` (see OpenLibraryOptions); throws a StoreError that says what to do. */
export function openLibrary(path: string, options: OpenLibraryOptions = {}): OpenedLibrary {
  const readonly = options.readonly ?? false;
  const memory = path === ':memory:';
  if (!memory && existsSync(path)) checkHeader(path);
  else if (!memory && (readonly || options.create === false)) {
    throw new StoreError('STORE_NOT_FOUND', `There is no library at ${path}. Check the path (--db PATH)${readonly ? '' : ', or create one by importing a document'}.`, { path });
  }
  let db: Database;
  try {
    db = openSqlite(path, { readonly, fileMustExist: readonly, timeout: options.busyTimeoutMs ?? 5000 });
  } catch (error) {
    throw storeError(error, path, 'open the library');
  }
  try {
    migrate(db, path, readonly, options.migrations ?? MIGRATIONS);
    if (!readonly) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal' && !memory) throw new StoreError('STORE_IO', `Cannot use a write-ahead log for ${path} (journal mode stays "${String(mode)}"); put the library on a local disk.`, { path });
    }
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
    return { db, vectors: loadVectorSupport(db, options.vectorExtension ?? true) };
  } catch (error) {
    db.close();
    throw storeError(error, path, 'open the library');
  }
}
