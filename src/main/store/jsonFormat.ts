/**
 * The JSON document format: a document with its concepts in reading order,
 * each with its outline place, provenance and (optionally) its vectors from
 * every pack in the library. Import restores it exactly (same ids, order
 * keys, timestamps), so JSON → store → JSON gives the same bytes.
 *
 *   { "format": "concept-studio-document", "formatVersion": 1,
 *     "document": { id, title, language, createdAt, updatedAt },
 *     "concepts": [ { id, position, parentId, depth, block, blockStart, marker, text, language,
 *                     origin, pack, seed, params, jobId, createdAt, updatedAt,
 *                     "embeddings": [ { "pack": "name@version", "dim": 1024,
 *                                       "vector": "<base64 of float32 little-endian>" | [numbers] } ] } ] }
 */
import { getLanguage } from '../../shared/languages.ts';
import { blobToVector, putEmbeddings, type EmbeddingInput } from './embeddings.ts';
import { StoreError, storeError } from './errors.ts';
import { textHash } from './ids.ts';
import { checkOrderKey } from './orderKey.ts';
import { BLOCKS, ORIGINS } from './schema.ts';
import type { ConceptStore } from './store.ts';
import type { Concept, DocumentInfo } from './types.ts';

export const DOCUMENT_FORMAT = 'concept-studio-document';
export const DOCUMENT_FORMAT_VERSION = 1;

export interface EmbeddingJson {
  pack: string;
  dim: number;
  /** base64 of the float32 little-endian bytes, or the numbers. */
  vector: string | number[];
}

export type ConceptJson = Omit<Concept, 'documentId'> & { embeddings?: EmbeddingJson[] };

export interface DocumentJson {
  format: typeof DOCUMENT_FORMAT;
  formatVersion: number;
  document: DocumentInfo;
  concepts: ConceptJson[];
}

export type EmbeddingEncoding = 'base64' | 'array' | 'none';

/** The document as JSON data (JSON.stringify it to write a file). */
export function exportDocumentJson(store: ConceptStore, documentId: string, options: { embeddings?: EmbeddingEncoding } = {}): DocumentJson {
  const encoding = options.embeddings ?? 'base64';
  return store.read('export a document', () => {
    const d = store.getDocument(documentId);
    const vectors = store.db.prepare<{ pack: string; dim: number; vector: Uint8Array }>('SELECT p.key AS pack, e.dim, e.vector FROM embeddings e JOIN packs p ON p.id = e.pack_id WHERE e.language = ? AND e.text_hash = ? ORDER BY p.key');
    const concepts = store.listConcepts(documentId).map((c): ConceptJson => {
      const { documentId: _doc, ...rest } = c;
      if (encoding === 'none') return rest;
      const embeddings = vectors.all(c.language, textHash(c.text)).map((e) => ({
        pack: e.pack,
        dim: e.dim,
        vector: encoding === 'array' ? Array.from(blobToVector(e.vector)) : Buffer.from(e.vector).toString('base64'),
      }));
      return { ...rest, embeddings };
    });
    const document: DocumentInfo = { id: d.id, title: d.title, language: d.language, createdAt: d.createdAt, updatedAt: d.updatedAt };
    return { format: DOCUMENT_FORMAT, formatVersion: DOCUMENT_FORMAT_VERSION, document, concepts };
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function field<T>(obj: Record<string, unknown>, key: string, where: string, ok: (v: unknown) => boolean, expected: string): T {
  const v = obj[key];
  if (!ok(v)) throw new TypeError(`${where}.${key} must be ${expected}, got ${JSON.stringify(v) ?? 'nothing'}.`);
  return v as T;
}

const str = (v: unknown) => typeof v === 'string';
const strOrNull = (v: unknown) => v === null || typeof v === 'string';
const int = (v: unknown) => Number.isSafeInteger(v);
const lang = (v: unknown) => typeof v === 'string' && getLanguage(v) !== undefined;

function parseVector(e: unknown, where: string): { pack: string; dim: number; vector: Float32Array } {
  if (!isObject(e)) throw new TypeError(`${where} must be an object {pack, dim, vector}.`);
  const pack = field<string>(e, 'pack', where, str, 'a pack key such as "name@1.0.0"');
  const dim = field<number>(e, 'dim', where, (v) => int(v) && (v as number) > 0, 'a positive integer');
  const raw = e.vector;
  let vector: Float32Array;
  if (typeof raw === 'string') vector = blobToVector(Buffer.from(raw, 'base64'));
  else if (Array.isArray(raw) && raw.every((x) => typeof x === 'number')) vector = Float32Array.from(raw as number[]);
  else throw new TypeError(`${where}.vector must be base64 text or an array of numbers.`);
  if (vector.length !== dim) throw new RangeError(`${where}.vector has ${vector.length} values, but dim is ${dim}.`);
  return { pack, dim, vector };
}

/** Checks the JSON and converts it to what restoreDocument inserts. */
function parseDocumentJson(value: unknown): { document: DocumentInfo; concepts: Concept[]; vectors: { pack: string; dim: number; item: EmbeddingInput }[] } {
  if (!isObject(value) || value.format !== DOCUMENT_FORMAT) throw new TypeError(`Not a Concept Studio document: expected "format": "${DOCUMENT_FORMAT}".`);
  if (value.formatVersion !== DOCUMENT_FORMAT_VERSION) throw new RangeError(`Document format version ${String(value.formatVersion)} is not supported (this version reads ${DOCUMENT_FORMAT_VERSION}); update Concept Studio.`);
  if (!isObject(value.document)) throw new TypeError('"document" must be an object.');
  const d = value.document;
  const document: DocumentInfo = {
    id: field(d, 'id', 'document', (v) => str(v) && (v as string).length > 0, 'a non-empty string'),
    title: field(d, 'title', 'document', (v) => str(v) && (v as string).trim().length > 0, 'a non-empty string'),
    language: field(d, 'language', 'document', lang, 'a FLORES-200 code'),
    createdAt: field(d, 'createdAt', 'document', int, 'an integer (ms since 1970)'),
    updatedAt: field(d, 'updatedAt', 'document', int, 'an integer (ms since 1970)'),
  };
  if (!Array.isArray(value.concepts)) throw new TypeError('"concepts" must be an array.');
  const depthOf = new Map<string, number>();
  const vectors: { pack: string; dim: number; item: EmbeddingInput }[] = [];
  let previous = '';
  const concepts = value.concepts.map((c: unknown, i): Concept => {
    const w = `concepts[${i}]`;
    if (!isObject(c)) throw new TypeError(`${w} must be an object.`);
    const concept: Concept = {
      id: field(c, 'id', w, (v) => str(v) && (v as string).length > 0, 'a non-empty string'),
      documentId: document.id,
      position: field(c, 'position', w, str, 'an order key'),
      parentId: field(c, 'parentId', w, strOrNull, 'a concept id or null'),
      depth: field(c, 'depth', w, int, 'an integer'),
      block: field(c, 'block', w, (v) => (BLOCKS as readonly unknown[]).includes(v), BLOCKS.join(' | ')),
      blockStart: field(c, 'blockStart', w, (v) => typeof v === 'boolean', 'true or false'),
      marker: field(c, 'marker', w, strOrNull, 'a string or null'),
      text: field(c, 'text', w, str, 'a string'),
      language: field(c, 'language', w, lang, 'a FLORES-200 code'),
      origin: field(c, 'origin', w, (v) => (ORIGINS as readonly unknown[]).includes(v), ORIGINS.join(' | ')),
      pack: field(c, 'pack', w, strOrNull, 'a string or null'),
      seed: field(c, 'seed', w, (v) => v === null || (int(v) && (v as number) >= 0 && (v as number) <= 0xffffffff), 'a uint32 or null'),
      params: field(c, 'params', w, (v) => v === null || isObject(v), 'an object or null'),
      jobId: field(c, 'jobId', w, strOrNull, 'a string or null'),
      createdAt: field(c, 'createdAt', w, int, 'an integer'),
      updatedAt: field(c, 'updatedAt', w, int, 'an integer'),
    };
    checkOrderKey(concept.position);
    if (concept.position <= previous) throw new RangeError(`${w}.position "${concept.position}" does not sort after the concept before it: concepts must be in reading order.`);
    previous = concept.position;
    const parentDepth = concept.parentId === null ? -1 : depthOf.get(concept.parentId);
    if (parentDepth === undefined) throw new RangeError(`${w}.parentId ${concept.parentId} is not an earlier concept of this document.`);
    if (concept.depth !== parentDepth + 1) throw new RangeError(`${w}.depth is ${concept.depth}, but its parent's depth + 1 is ${parentDepth + 1}.`);
    depthOf.set(concept.id, concept.depth);
    if (c.embeddings !== undefined) {
      if (!Array.isArray(c.embeddings)) throw new TypeError(`${w}.embeddings must be an array.`);
      c.embeddings.forEach((e: unknown, k) => {
        const v = parseVector(e, `${w}.embeddings[${k}]`);
        vectors.push({ pack: v.pack, dim: v.dim, item: { language: concept.language, text: concept.text, vector: v.vector } });
      });
    }
    return concept;
  });
  return { document, concepts, vectors };
}

/**
 * Restores a document from its JSON (ids, order and timestamps as they
 * were): one action. A document or concept id that is already in the library
 * is a STORE_CONFLICT (delete the old one first).
 */
export function importDocumentJson(store: ConceptStore, value: unknown): DocumentInfo {
  const { document: d, concepts, vectors } = parseDocumentJson(value);
  try {
    return store.write('import a document', () => {
      if (store.db.prepare('SELECT 1 FROM documents WHERE id = ?').get(d.id)) {
        throw new StoreError('STORE_CONFLICT', `Document ${d.id} ("${d.title}") is already in ${store.path}; delete it first to import this copy.`, { path: store.path });
      }
      store.db.prepare('INSERT INTO documents (id, title, language, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(d.id, d.title, d.language, d.createdAt, d.updatedAt);
      const insert = store.db.prepare(`INSERT INTO concepts (id, document_id, position, parent_id, depth, block, block_start, marker, text, language, text_hash,
        origin, pack, seed, params, job_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const c of concepts) {
        // A job id refers to this library's job log; one from another library is dropped.
        const job = c.jobId !== null && store.db.prepare('SELECT 1 FROM jobs WHERE id = ?').get(c.jobId) ? c.jobId : null;
        insert.run(c.id, d.id, c.position, c.parentId, c.depth, c.block, c.blockStart ? 1 : 0, c.marker, c.text, c.language, textHash(c.text),
          c.origin, c.pack, c.seed, c.params ? JSON.stringify(c.params) : null, job, c.createdAt, c.updatedAt);
      }
      const now = Date.now();
      for (const v of vectors) putEmbeddings(store.db, v.pack, v.dim, [v.item], now);
      return d;
    });
  } catch (error) {
    if (error instanceof StoreError && error.code === 'STORE_CONFLICT') throw error;
    const cause = (error as StoreError).cause ?? error;
    if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' || (cause as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw new StoreError('STORE_CONFLICT', `A concept of document ${d.id} is already in ${store.path} (another copy of this document?); nothing was imported.`, { path: store.path, cause });
    }
    throw storeError(error, store.path, 'import a document');
  }
}
