/**
 * The slice of better-sqlite3's API that the store uses, typed here because the
 * package ships no types (and @types/better-sqlite3 is not a dependency). The
 * native module is required on first use, never at import time, so importing
 * the store costs nothing until a library is opened.
 */
import { createRequire } from 'node:module';

/** A value SQLite stores or returns. */
export type SqlValue = number | bigint | string | Uint8Array | null;

export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface Statement<R = Record<string, SqlValue>> {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): R | undefined;
  all(...params: unknown[]): R[];
  iterate(...params: unknown[]): IterableIterator<R>;
  /** Rows as arrays instead of objects. */
  raw(toggle?: boolean): Statement<SqlValue[]>;
  /** Only the first column of each row. */
  pluck(toggle?: boolean): Statement<SqlValue>;
}

/** A function run inside BEGIN … COMMIT; nested calls become savepoints; a throw rolls back. */
export interface Transaction<A extends unknown[], T> {
  (...args: A): T;
  immediate(...args: A): T;
}

export interface BackupProgress {
  totalPages: number;
  remainingPages: number;
}

export interface Database {
  readonly name: string;
  readonly open: boolean;
  readonly inTransaction: boolean;
  readonly readonly: boolean;
  prepare<R = Record<string, SqlValue>>(sql: string): Statement<R>;
  exec(sql: string): Database;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], T>(fn: (...args: A) => T): Transaction<A, T>;
  function(name: string, options: { deterministic?: boolean; varargs?: boolean }, fn: (...args: SqlValue[]) => SqlValue): Database;
  loadExtension(path: string): Database;
  backup(destination: string): Promise<BackupProgress>;
  close(): Database;
}

export interface OpenOptions {
  readonly?: boolean;
  /** Refuse to create the file when it does not exist. */
  fileMustExist?: boolean;
  /** Milliseconds a statement waits for another connection's lock before SQLITE_BUSY. */
  timeout?: number;
}

type DatabaseConstructor = new (path: string, options?: OpenOptions) => Database;

let ctor: DatabaseConstructor | undefined;

/** Opens (or creates) a SQLite file with better-sqlite3. */
export function openSqlite(path: string, options: OpenOptions = {}): Database {
  ctor ??= createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;
  return new ctor(path, options);
}

/** Error thrown by SQLite through better-sqlite3: `code` is SQLite's extended result code name. */
export interface SqliteError extends Error {
  code: string;
}

export function isSqliteError(error: unknown): error is SqliteError {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}
