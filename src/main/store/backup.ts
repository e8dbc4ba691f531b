/**
 * Backups: a consistent copy of a library made with SQLite's online backup
 * API (better-sqlite3 `db.backup`), page by page while the library stays in
 * use. The copy is written beside the destination, checked with
 * integrity_check, and only then renamed into place, so an interrupted backup
 * never leaves a partial file under the destination's name.
 */
import { renameSync, rmSync, statSync } from 'node:fs';
import { StoreError, storeError } from './errors.ts';
import { openSqlite, type Database } from './sqlite.ts';

/** Copies the library of `db` to `destination` (refused if it exists, unless `overwrite`). */
export async function backupLibrary(db: Database, destination: string, options: { overwrite?: boolean } = {}): Promise<{ pages: number }> {
  if (!options.overwrite && statSync(destination, { throwIfNoEntry: false })) {
    throw new StoreError('STORE_CONFLICT', `${destination} exists; choose a new name for the backup (or pass overwrite).`, { path: destination });
  }
  const partial = `${destination}.partial`;
  rmSync(partial, { force: true });
  try {
    const progress = await db.backup(partial);
    const copy = openSqlite(partial, { fileMustExist: true });
    try {
      const result = copy.prepare('PRAGMA integrity_check').pluck().all() as string[];
      if (result[0] !== 'ok') {
        throw new StoreError('STORE_CORRUPT', `The backup copy failed its integrity check (${result.slice(0, 3).join('; ')}); the library itself may be damaged: run a check.`, { path: destination });
      }
    } finally {
      copy.close();
    }
    renameSync(partial, destination);
    return { pages: progress.totalPages };
  } catch (error) {
    rmSync(partial, { force: true });
    throw storeError(error, destination, 'back up the library');
  }
}
