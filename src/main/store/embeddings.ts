/**
 * The embedding cache and its search index.
 *
 * A vector is stored once per (pack, language, SHA-256 of the text), as a
 * float32 blob in the platform's byte order (little-endian on every platform
 * Electron and onnxruntime ship for). Concepts find their vector by joining
 * on (language, text hash), so a text typed twice, or restored from a
 * revision, is never encoded again. Vectors are never rewritten or pruned.
 *
 * With each vector goes its sign bits (`embedding_bits`, 128 bytes at
 * 1024-d), written in the same transaction: the coarse stage of indexed
 * search (search.ts). They are plain rows computed here, so the index never
 * goes stale and needs nothing from sqlite-vec to be written.
 */
import { textHash } from './ids.ts';
import type { Database } from './sqlite.ts';

export interface PackRow {
  id: number;
  key: string;
  dim: number;
}

export interface EmbeddingInput {
  language: string;
  text: string;
  vector: Float32Array;
}

/** "<name>@<version>" of a pack manifest: vectors are comparable only within one key. */
export function packKey(manifest: { name: string; version: string }): string {
  return `${manifest.name}@${manifest.version}`;
}

export function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** A copy (blobs from SQLite need not be 4-byte aligned). */
export function blobToVector(blob: Uint8Array): Float32Array {
  const out = new Float32Array(blob.byteLength / 4);
  new Uint8Array(out.buffer).set(blob);
  return out;
}

export function findPack(db: Database, key: string): PackRow | undefined {
  return db.prepare<PackRow>('SELECT id, key, dim FROM packs WHERE key = ?').get(key);
}

/** The pack's row, created on first use. A pack key always has one dimension. */
export function ensurePack(db: Database, key: string, dim: number): PackRow {
  if (typeof key !== 'string' || !key.trim()) throw new TypeError('A pack key is a non-empty string such as "mini@1.0.0".');
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`Embedding dimension must be a positive integer, got ${String(dim)}.`);
  const found = findPack(db, key);
  if (found) {
    if (found.dim !== dim) throw new RangeError(`Pack ${key} has ${found.dim}-d vectors in this library, not ${dim}-d: a pack's name and version must identify its vector space.`);
    return found;
  }
  db.prepare('INSERT INTO packs (key, dim) VALUES (?, ?)').run(key, dim);
  return findPack(db, key)!;
}

function checkVector(v: Float32Array, dim: number, what: string): void {
  if (!(v instanceof Float32Array)) throw new TypeError(`${what} must be a Float32Array.`);
  if (v.length !== dim) throw new RangeError(`${what} has ${v.length} values; this pack's vectors have ${dim}.`);
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) throw new RangeError(`${what} holds a non-finite value at index ${i}.`);
}

/** The signs of `v` as bits, component i at bit (i % 8) of byte i / 8; ceil(dim / 8) bytes. */
export function signBits(v: Float32Array): Buffer {
  const out = Buffer.alloc(Math.ceil(v.length / 8));
  for (let i = 0; i < v.length; i++) if (v[i]! > 0) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/**
 * Stores vectors not stored yet (INSERT OR IGNORE: the cache never changes a
 * vector once written), each with its sign bits. Call inside a transaction.
 * Returns how many were new.
 */
export function putEmbeddings(db: Database, key: string, dim: number, items: readonly EmbeddingInput[], now: number): number {
  const pack = ensurePack(db, key, dim);
  items.forEach((item, i) => checkVector(item.vector, dim, `Vector ${i + 1}`));
  const insert = db.prepare('INSERT OR IGNORE INTO embeddings (pack_id, language, text_hash, dim, vector, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  const bits = db.prepare('INSERT INTO embedding_bits (pack_id, embedding_id, bits) VALUES (?, ?, ?)');
  let added = 0;
  for (const item of items) {
    const r = insert.run(pack.id, item.language, textHash(item.text), dim, vectorToBlob(item.vector), now);
    if (r.changes === 0) continue;
    added++;
    bits.run(pack.id, r.lastInsertRowid, signBits(item.vector));
  }
  return added;
}

/** The cached vectors of `items` for the pack (undefined where none is stored). */
export function getEmbeddings(db: Database, key: string, items: readonly { language: string; text: string }[]): (Float32Array | undefined)[] {
  const pack = findPack(db, key);
  if (!pack) return items.map(() => undefined);
  const get = db.prepare('SELECT vector FROM embeddings WHERE pack_id = ? AND language = ? AND text_hash = ?').pluck();
  return items.map((item) => {
    const blob = get.get(pack.id, item.language, textHash(item.text)) as Uint8Array | undefined;
    return blob ? blobToVector(blob) : undefined;
  });
}

/** Distinct (language, text) of non-empty concepts that have no vector from the pack, in document order. */
export function missingEmbeddings(db: Database, key: string, documentId?: string): { language: string; text: string }[] {
  const pack = findPack(db, key);
  const rows = db
    .prepare<{ language: string; text: string }>(
      `SELECT c.language, c.text FROM concepts c
       WHERE ${documentId ? 'c.document_id = ? AND ' : ''}trim(c.text, char(32, 9, 10, 13)) <> '' AND NOT EXISTS
         (SELECT 1 FROM embeddings e WHERE e.pack_id = ? AND e.language = c.language AND e.text_hash = c.text_hash)
       ORDER BY c.document_id, c.position`,
    )
    .all(...(documentId ? [documentId] : []), pack?.id ?? -1);
  const seen = new Set<string>();
  return rows.filter((r) => {
    const k = `${r.language}\u0000${r.text}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
