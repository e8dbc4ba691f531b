/**
 * Search across the library: full text (FTS5, trigram) and semantic (nearest
 * concepts by cosine distance between their vectors from one pack).
 *
 * Semantic search has two methods (measured in docs/store.md, "Search"):
 * - exact: sqlite-vec's vec_distance_cosine over the vector of every concept that passes the
 *   filter. Always right; used when the filter leaves at most EXACT_LIMIT concepts.
 * - index: a Hamming-distance scan over the vectors' sign bits (embedding_bits, 1/32 of the
 *   bytes) with vec_distance_hamming picks candidates, then exact cosine reranks them.
 *   Approximate (recall measured by the benchmark). If the filter leaves fewer than `limit`
 *   hits among the candidates, the exact method answers instead, so a filter never hides a
 *   match that exact search would find. (sqlite-vec's vec0 table did the same scan 5× slower
 *   at 500 candidates here, and would make writes depend on the extension: not used.)
 * Without sqlite-vec both methods run on JavaScript stand-ins (database.ts): same answers, slower.
 */
import { CONCEPT_COLUMNS, rowToConcept, type ConceptRow } from './rows.ts';
import { findPack, signBits, vectorToBlob } from './embeddings.ts';
import type { Database } from './sqlite.ts';
import type { Concept } from './types.ts';

/** Filtered sets up to this many concepts are searched exactly (tens of ms at 1024-d, see docs/store.md). */
export const EXACT_LIMIT = 10_000;
/** Candidates the bit scan passes to the exact rerank: at least this many… */
const MIN_CANDIDATES = 1000;
/** …and at most this many (a filter that keeps a small share raises the count up to here). */
const MAX_CANDIDATES = 20_000;

export interface SearchFilter {
  documentId?: string;
  /** FLORES-200 code of the concepts to search. */
  language?: string;
  /** Hits to return (default 10, at most 1000). */
  limit?: number;
}

export interface TextHit {
  concept: Concept;
  /** FTS5 bm25 score (lower is better); 0 for matches found by substring scan. */
  score: number;
}

export interface SemanticHit {
  concept: Concept;
  /** Cosine distance, 0 (same direction) to 2. */
  distance: number;
}

export type SemanticMethod = 'auto' | 'exact' | 'index';

export interface SemanticOptions extends SearchFilter {
  /** 'auto' (default): exact when the filter leaves at most EXACT_LIMIT concepts, else index. */
  method?: SemanticMethod;
  /** Candidates the bit scan passes to the rerank (default: max(1000, 50 × limit), raised for selective filters). */
  candidates?: number;
}

export interface SemanticResult {
  hits: SemanticHit[];
  /** The method that produced the hits. */
  method: 'exact' | 'index';
}

function checkLimit(limit: number | undefined): number {
  const n = limit ?? 10;
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new RangeError(`Search limit must be an integer from 1 to 1000, got ${String(limit)}.`);
  return n;
}

/** SQL conditions and parameters for the filter, on the concepts alias `c`. */
function filterSql(filter: SearchFilter): { sql: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  if (filter.documentId !== undefined) {
    parts.push('c.document_id = ?');
    params.push(filter.documentId);
  }
  if (filter.language !== undefined) {
    parts.push('c.language = ?');
    params.push(filter.language);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Concepts whose text contains every term of `query` (terms split at
 * whitespace; case and diacritics ignored for terms of 3+ characters, which
 * go through the trigram index; shorter terms, such as most Chinese words,
 * are matched as substrings by a scan). Best matches first.
 */
export function searchText(db: Database, query: string, filter: SearchFilter = {}): TextHit[] {
  if (typeof query !== 'string') throw new TypeError('The search query must be a string.');
  const limit = checkLimit(filter.limit);
  const terms = query.trim().split(/\s+/u).filter(Boolean);
  if (terms.length === 0) throw new RangeError('The search query is empty: give at least one word.');
  const long = terms.filter((t) => [...t].length >= 3);
  const short = terms.filter((t) => [...t].length < 3);
  const f = filterSql(filter);
  const likes = short.map(() => " AND c.text LIKE ? ESCAPE '\\'").join('');
  const likeParams = short.map((t) => `%${likeEscape(t)}%`);
  if (long.length > 0) {
    const match = long.map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');
    const rows = db
      .prepare<ConceptRow & { score: number }>(
        `SELECT ${CONCEPT_COLUMNS}, bm25(concepts_fts) AS score FROM concepts_fts JOIN concepts c ON c.seq = concepts_fts.rowid
         WHERE concepts_fts MATCH ?${f.sql}${likes} ORDER BY score LIMIT ?`,
      )
      .all(match, ...f.params, ...likeParams, limit);
    return rows.map((r) => ({ concept: rowToConcept(r), score: r.score }));
  }
  const rows = db.prepare<ConceptRow>(`SELECT ${CONCEPT_COLUMNS} FROM concepts c WHERE 1${f.sql}${likes} ORDER BY c.document_id, c.position LIMIT ?`).all(...f.params, ...likeParams, limit);
  return rows.map((r) => ({ concept: rowToConcept(r), score: 0 }));
}

function exactSearch(db: Database, packId: number, query: Buffer, filter: SearchFilter, limit: number): SemanticHit[] {
  const f = filterSql(filter);
  const rows = db
    .prepare<ConceptRow & { distance: number }>(
      `SELECT ${CONCEPT_COLUMNS}, vec_distance_cosine(e.vector, ?) AS distance
       FROM concepts c JOIN embeddings e ON e.pack_id = ? AND e.language = c.language AND e.text_hash = c.text_hash
       WHERE 1${f.sql} ORDER BY distance, c.seq LIMIT ?`,
    )
    .all(query, packId, ...f.params, limit);
  return rows.map((r) => ({ concept: rowToConcept(r), distance: r.distance }));
}

/**
 * The `limit` concepts nearest to `vector` among those with a vector from
 * pack `packKey`, filtered by document and language. Callers encode the query
 * with the same pack; vectors of other packs are never compared.
 */
export function searchSemantic(db: Database, packKey: string, vector: Float32Array, options: SemanticOptions = {}): SemanticResult {
  const { method = 'auto', candidates, ...filter } = options;
  const limit = checkLimit(filter.limit);
  if (candidates !== undefined && (!Number.isInteger(candidates) || candidates < limit || candidates > MAX_CANDIDATES)) {
    throw new RangeError(`candidates must be an integer from the limit (${limit}) to ${MAX_CANDIDATES}, got ${String(candidates)}.`);
  }
  if (!['auto', 'exact', 'index'].includes(method)) throw new RangeError(`Search method must be auto, exact or index, got "${String(method)}".`);
  const pack = findPack(db, packKey);
  if (!pack) return { hits: [], method: 'exact' };
  if (!(vector instanceof Float32Array) || vector.length !== pack.dim) throw new RangeError(`The query vector must be a Float32Array of ${pack.dim} values (pack ${packKey}), got ${vector?.length ?? typeof vector}.`);
  const query = vectorToBlob(vector);
  const f = filterSql(filter);
  const exact = () => ({ hits: exactSearch(db, pack.id, query, filter, limit), method: 'exact' as const });
  // Count the filtered concepts first: a selective filter (one document) decides without counting the pack.
  const kept = f.params.length ? (db.prepare(`SELECT count(*) FROM concepts c WHERE 1${f.sql}`).pluck().get(...f.params) as number) : undefined;
  if (method === 'exact' || (method === 'auto' && kept !== undefined && kept <= EXACT_LIMIT)) return exact();
  const total = db.prepare('SELECT count(*) FROM embedding_bits WHERE pack_id = ?').pluck().get(pack.id) as number;
  const filtered = kept ?? total;
  if (method === 'auto' && total <= EXACT_LIMIT) return exact();
  // Oversample by the share the filter keeps, so that enough candidates survive it.
  const share = Math.max(1, total / Math.max(1, filtered));
  const k = candidates ?? Math.min(MAX_CANDIDATES, Math.ceil(Math.max(limit * 50, MIN_CANDIDATES) * share));
  const ids = db
    .prepare('SELECT embedding_id FROM embedding_bits WHERE pack_id = ? ORDER BY vec_distance_hamming(vec_bit(bits), vec_bit(?)) LIMIT ?')
    .pluck()
    .all(pack.id, signBits(vector), k) as number[];
  const rows = db
    .prepare<ConceptRow & { distance: number }>(
      `SELECT ${CONCEPT_COLUMNS}, vec_distance_cosine(e.vector, ?) AS distance
       FROM embeddings e JOIN concepts c ON c.language = e.language AND c.text_hash = e.text_hash
       WHERE e.id IN (SELECT value FROM json_each(?))${f.sql} ORDER BY distance, c.seq LIMIT ?`,
    )
    .all(query, JSON.stringify(ids), ...f.params, limit);
  if (rows.length < limit && filtered > rows.length) return exact();
  return { hits: rows.map((r) => ({ concept: rowToConcept(r), distance: r.distance })), method: 'index' };
}
