/**
 * Opening a library and what goes wrong with files: schema and pragmas, migrations,
 * foreign / corrupt / truncated / newer files, read-only, full disk, a lock held too
 * long, and backups. Each failure must be a StoreError with its code, and must leave
 * earlier edits (and foreign files) untouched.
 */
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/main/store/sqlite.ts';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from '../../src/main/store/schema.ts';
import { StoreError } from '../../src/main/store/errors.ts';
import { ConceptStore } from '../../src/main/store/store.ts';
import { defaultLibraryPath } from '../../src/main/store/location.ts';
import { tempDir } from './helpers/tmp.ts';

const dir = tempDir('library-');
let n = 0;
const fresh = () => join(dir, `lib-${n++}.sqlite`);

/** The StoreError `fn` throws (fails the test if it throws something else or nothing). */
function storeErrorOf(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  }
  throw new Error('expected a StoreError, nothing was thrown');
}

/** A library with one document of `count` concepts, closed. */
function library(count = 3): { path: string; docId: string } {
  const path = fresh();
  const store = ConceptStore.open(path);
  const doc = store.createDocument({ title: 'Kept', language: 'eng_Latn' });
  store.insertConcepts(doc.id, Array.from({ length: count }, (_, i) => ({ text: `Sentence ${i}. ${'word '.repeat(40)}` })));
  store.close();
  return { path, docId: doc.id };
}

describe('opening', () => {
  it('creates a library: application id, schema version, WAL, FULL sync, foreign keys, busy timeout', () => {
    const store = ConceptStore.open(fresh());
    const p = (name: string) => store.db.pragma(name, { simple: true });
    expect(p('application_id')).toBe(APPLICATION_ID);
    expect(p('user_version')).toBe(SCHEMA_VERSION);
    expect(p('journal_mode')).toBe('wal');
    expect(p('synchronous')).toBe(2); // FULL
    expect(p('foreign_keys')).toBe(1);
    expect(p('busy_timeout')).toBe(5000);
    expect(store.check()).toEqual(['ok']);
    store.close();
    const normal = ConceptStore.open(fresh(), { synchronous: 'normal' });
    expect(normal.db.pragma('synchronous', { simple: true })).toBe(1);
    normal.close();
  });

  it('reopens an existing library without migrating again, keeping its data', () => {
    const { path, docId } = library();
    const store = ConceptStore.open(path);
    expect(store.listConcepts(docId).length).toBe(3);
    store.close();
  });

  it('runs a new migration at open, in one transaction, and records its number', () => {
    const { path, docId } = library();
    const v2 = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, name: 'add tags', sql: 'CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT;' }];
    const store = ConceptStore.open(path, { migrations: v2 });
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    expect(store.db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'tags'").pluck().get()).toBe(1);
    expect(store.listConcepts(docId).length).toBe(3);
    store.close();
    // This code knows only up to SCHEMA_VERSION: the upgraded file is now too new for it.
    const before = readFileSync(path);
    const e = storeErrorOf(() => ConceptStore.open(path));
    expect(e.code).toBe('STORE_TOO_NEW');
    expect(e.message).toMatch(new RegExp(`newer Concept Studio \\(schema version ${SCHEMA_VERSION + 1}; this version knows up to ${SCHEMA_VERSION}\\).*not changed`));
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('rolls a failed migration back whole: version and tables as before', () => {
    const { path, docId } = library();
    const bad = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, name: 'broken', sql: 'CREATE TABLE half (x INTEGER); INSERT INTO nowhere VALUES (1);' }];
    const e = storeErrorOf(() => ConceptStore.open(path, { migrations: bad }));
    expect(e.code).toBe('STORE_MIGRATION_FAILED');
    expect(e.message).toMatch(new RegExp(`migration ${SCHEMA_VERSION + 1} \\(broken\\).*no such table: nowhere.*not changed`));
    const store = ConceptStore.open(path);
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(store.db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'half'").pluck().get()).toBe(0);
    expect(store.listConcepts(docId).length).toBe(3);
    store.close();
  });

  it('turns an empty file into a library, and refuses a missing one when asked not to create', () => {
    const path = fresh();
    writeFileSync(path, '');
    ConceptStore.open(path).close();
    expect(statSync(path).size).toBeGreaterThan(0);
    expect(storeErrorOf(() => ConceptStore.open(fresh(), { create: false })).code).toBe('STORE_NOT_FOUND');
    expect(storeErrorOf(() => ConceptStore.open(fresh(), { readonly: true })).code).toBe('STORE_NOT_FOUND');
  });

  it('puts the default library where Electron’s userData is for "Concept Studio"', () => {
    expect(defaultLibraryPath({}, 'linux', '/home/ann')).toBe('/home/ann/.config/Concept Studio/library.sqlite');
    expect(defaultLibraryPath({ XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/ann')).toBe('/xdg/Concept Studio/library.sqlite');
    expect(defaultLibraryPath({}, 'darwin', '/Users/ann')).toBe('/Users/ann/Library/Application Support/Concept Studio/library.sqlite');
    expect(defaultLibraryPath({ APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ann')).toBe('C:\\Users\\ann\\AppData\\Roaming\\Concept Studio\\library.sqlite');
    expect(defaultLibraryPath({ CONCEPT_STUDIO_DB: '/data/lib.sqlite' }, 'linux', '/home/ann')).toBe('/data/lib.sqlite');
  });
});

describe('files that are not (sound) libraries', () => {
  it('refuses a file that is not SQLite, and leaves it as it was', () => {
    const path = fresh();
    const garbage = Buffer.from('This is my novel, not a database.\n'.repeat(200));
    writeFileSync(path, garbage);
    const e = storeErrorOf(() => ConceptStore.open(path));
    expect(e.code).toBe('STORE_FOREIGN');
    expect(e.message).toMatch(/not a Concept Studio library: it is not a SQLite database.*not changed/);
    expect(readFileSync(path).equals(garbage)).toBe(true);
  });

  it('refuses another program’s SQLite database (no or another application id), untouched', () => {
    const other = fresh();
    const db = openSqlite(other);
    db.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL); INSERT INTO invoices VALUES (1, 9.5);');
    db.close();
    const before = readFileSync(other);
    const e = storeErrorOf(() => ConceptStore.open(other));
    expect(e.code).toBe('STORE_FOREIGN');
    expect(e.message).toMatch(/another program \(tables: invoices\)/);
    expect(readFileSync(other).equals(before)).toBe(true);

    const tagged = fresh();
    const t = openSqlite(tagged);
    t.pragma('application_id = 1234');
    t.close();
    expect(storeErrorOf(() => ConceptStore.open(tagged)).message).toMatch(/application_id 0x4d2/);
  });

  it('reports a truncated library as damaged, at open', () => {
    const { path } = library(400);
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const e = storeErrorOf(() => ConceptStore.open(path));
    expect(e.code).toBe('STORE_CORRUPT');
    expect(e.message).toMatch(/is damaged.*Restore it from a backup/);
  });

  it('reports damaged pages as STORE_CORRUPT when they are read, and in check()', () => {
    const { path, docId } = library(400);
    const bytes = readFileSync(path);
    // Overwrite the second half of the pages (concept data, past the schema) with a repeating pattern.
    for (let i = Math.floor(bytes.length / 8192) * 4096; i < bytes.length; i++) bytes[i] = 0x41;
    writeFileSync(path, bytes);
    const store = ConceptStore.open(path);
    try {
      expect(storeErrorOf(() => store.listConcepts(docId)).code).toBe('STORE_CORRUPT');
      const e = storeErrorOf(() => store.check());
      expect(e.code).toBe('STORE_CORRUPT');
    } finally {
      store.close();
    }
  });

  it('reports a damaged header', () => {
    const { path } = library();
    const bytes = readFileSync(path);
    bytes.write('SQLite format 9', 0, 'latin1');
    writeFileSync(path, bytes);
    expect(storeErrorOf(() => ConceptStore.open(path)).code).toBe('STORE_CORRUPT');
  });
});

describe('failures while writing leave earlier edits intact', () => {
  it('read-only: every write is STORE_READ_ONLY, reads work, nothing changes', () => {
    const { path, docId } = library();
    const store = ConceptStore.open(path, { readonly: true });
    try {
      expect(store.listConcepts(docId).length).toBe(3);
      const e = storeErrorOf(() => store.insertConcept(docId, { text: 'More.' }));
      expect(e.code).toBe('STORE_READ_ONLY');
      expect(e.message).toMatch(/could not insert concepts: the library .* is read-only.*Nothing from this action was saved/i);
    } finally {
      store.close();
    }
    const again = ConceptStore.open(path);
    expect(again.listConcepts(docId).length).toBe(3);
    again.close();
  });

  it('a folder that cannot be written into is STORE_CANNOT_OPEN (a missing folder stands in: root ignores permissions)', () => {
    const e = storeErrorOf(() => ConceptStore.open(join(dir, 'no', 'such', 'folder', 'lib.sqlite')));
    expect(e.code).toBe('STORE_CANNOT_OPEN');
    expect(e.message).toMatch(/folder does not exist.*choose a writable location/i);
    expect(storeErrorOf(() => ConceptStore.open(dir)).code).toBe('STORE_CANNOT_OPEN'); // a folder, not a file
  });

  it('disk full (max_page_count): the action fails as STORE_FULL and rolls back; earlier edits stay; it works again with space', () => {
    const { path, docId } = library();
    const store = ConceptStore.open(path);
    try {
      const pages = store.db.pragma('page_count', { simple: true }) as number;
      store.db.pragma(`max_page_count = ${pages + 1}`);
      const big = Array.from({ length: 50 }, (_, i) => ({ text: `Too much ${i}. ${'x'.repeat(4000)}` }));
      const e = storeErrorOf(() => store.insertConcepts(docId, big));
      expect(e.code).toBe('STORE_FULL');
      expect(e.message).toMatch(/disk .* is full.*Nothing from this action was saved; everything saved before it is intact/);
      expect(store.listConcepts(docId).length).toBe(3);
      expect(store.db.inTransaction).toBe(false);
      store.db.pragma('max_page_count = 1073741823');
      expect(store.insertConcepts(docId, big).length).toBe(50);
      expect(store.check()).toEqual(['ok']);
    } finally {
      store.close();
    }
  });

  it('another connection holding the write lock longer than the busy timeout: STORE_BUSY, then it works', () => {
    const { path, docId } = library();
    const holder = ConceptStore.open(path);
    const store = ConceptStore.open(path, { busyTimeoutMs: 50 });
    try {
      holder.db.exec('BEGIN IMMEDIATE');
      const e = storeErrorOf(() => store.insertConcept(docId, { text: 'Blocked.' }));
      expect(e.code).toBe('STORE_BUSY');
      holder.db.exec('ROLLBACK');
      expect(store.insertConcept(docId, { text: 'Now it goes in.' }).text).toBe('Now it goes in.');
    } finally {
      holder.close();
      store.close();
    }
  });

  it('a closed store says so', () => {
    const store = ConceptStore.open(fresh());
    store.close();
    expect(storeErrorOf(() => store.listDocuments()).code).toBe('STORE_CLOSED');
  });
});

describe('backup', () => {
  it('writes a consistent copy that opens, passes integrity_check and holds the data, while the store stays usable', async () => {
    const { path, docId } = library(50);
    const store = ConceptStore.open(path);
    const copy = join(dir, 'backup.sqlite');
    const { pages } = await store.backup(copy);
    expect(pages).toBeGreaterThan(1);
    store.insertConcept(docId, { text: 'After the backup.' });
    const b = ConceptStore.open(copy, { readonly: true });
    expect(b.check()).toEqual(['ok']);
    expect(b.listConcepts(docId).length).toBe(50);
    b.close();
    const e = await store.backup(copy).catch((error: unknown) => error as StoreError);
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe('STORE_CONFLICT');
    await store.backup(copy, { overwrite: true });
    const b2 = ConceptStore.open(copy, { readonly: true });
    expect(b2.listConcepts(docId).length).toBe(51);
    b2.close();
    store.close();
  });
});
