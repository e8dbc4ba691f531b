/**
 * ConceptStore: the writer's library (documents, concepts, their history,
 * jobs, embeddings) in one SQLite file. Electron-free: the app's main process,
 * the web host and `lcm` all use it.
 *
 * Every public method that writes is one user action and one transaction
 * (BEGIN IMMEDIATE … COMMIT): it is saved whole or, on any error, rolled back
 * whole, and the error (a StoreError, or a TypeError/RangeError for bad
 * input) says what happened. Reads that take several statements run in one
 * read transaction, so they see one consistent state.
 */
import { resolveLanguage } from '../../shared/languages.ts';
import { openLibrary, type OpenLibraryOptions, type VectorSupport } from './database.ts';
import { getEmbeddings, missingEmbeddings, putEmbeddings, type EmbeddingInput } from './embeddings.ts';
import { StoreError, storeError } from './errors.ts';
import { newId, textHash } from './ids.ts';
import { keysBetween } from './orderKey.ts';
import {
  CANDIDATE_COLUMNS, CONCEPT_COLUMNS, DOCUMENT_COLUMNS, REVISION_COLUMNS, rowToCandidate, rowToConcept, rowToRevision,
  type CandidateRow, type ConceptRow, type DocumentRow, type RevisionRow,
} from './rows.ts';
import { BLOCKS, ORIGINS } from './schema.ts';
import { searchSemantic, searchText, type SearchFilter, type SemanticOptions, type SemanticResult, type TextHit } from './search.ts';
import type { Database, Statement } from './sqlite.ts';
import { backupLibrary } from './backup.ts';
import type { Candidate, Concept, ConceptPatch, DocumentInfo, DocumentSummary, NewConcept, Placement, Provenance, Revision } from './types.ts';
import { JobLog } from './jobs.ts';

export interface StoreOptions extends OpenLibraryOptions {
  /** Milliseconds since the epoch for timestamps (tests pass a fixed clock). */
  clock?: () => number;
}

/** Embeddings to store with an import, computed by the caller with one pack. */
export interface EmbeddingBatch {
  pack: string;
  dim: number;
  items: readonly EmbeddingInput[];
}

const language = (code: string): string => resolveLanguage(code).code;

function checkProvenance(p: Partial<Provenance>, what: string): void {
  if (p.origin !== undefined && !(ORIGINS as readonly string[]).includes(p.origin)) throw new RangeError(`${what}: origin must be one of ${ORIGINS.join(', ')}, got "${String(p.origin)}".`);
  if (p.seed != null && (!Number.isInteger(p.seed) || p.seed < 0 || p.seed > 0xffffffff)) throw new RangeError(`${what}: seed must be an integer from 0 to 4294967295, got ${String(p.seed)}.`);
  if (p.params != null && (typeof p.params !== 'object' || Array.isArray(p.params))) throw new TypeError(`${what}: params must be a JSON object.`);
}

function checkText(text: unknown, what: string): string {
  if (typeof text !== 'string') throw new TypeError(`${what}: text must be a string, got ${typeof text}.`);
  return text;
}

export class ConceptStore {
  /** The job records (jobs.ts), sharing this store's connection and transactions. */
  readonly jobs: JobLog;
  private readonly clock: () => number;
  private readonly statements = new Map<string, Statement<unknown>>();

  private constructor(
    readonly path: string,
    /** The connection, for maintenance and tests; application code uses the methods. */
    readonly db: Database,
    /** Whether sqlite-vec is loaded (else its functions run in JavaScript: same results, slower). */
    readonly vectors: VectorSupport,
    clock: () => number,
  ) {
    this.clock = clock;
    this.jobs = new JobLog(db, (action, fn) => this.write(action, fn), clock);
  }

  /** Opens or creates the library at `path` (':memory:' for a throwaway one). */
  static open(path: string, options: StoreOptions = {}): ConceptStore {
    const { db, vectors } = openLibrary(path, options);
    return new ConceptStore(path, db, vectors, options.clock ?? Date.now);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` as one write transaction; maps SQLite failures to StoreErrors naming `action`. */
  write<T>(action: string, fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (error) {
      throw storeError(error, this.path, action);
    }
  }

  /** Runs `fn` in one read transaction (a consistent snapshot across its statements). */
  read<T>(action: string, fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (error) {
      throw storeError(error, this.path, action);
    }
  }

  /** One statement needs no transaction of its own (SQLite runs it on one snapshot); errors still mapped. */
  private one<T>(action: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw storeError(error, this.path, action);
    }
  }

  /** A prepared statement, compiled once per connection. */
  private stmt<R>(sql: string): Statement<R> {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s as Statement<R>;
  }

  // ── documents ────────────────────────────────────────────────────────────

  createDocument(input: { title: string; language: string; id?: string }): DocumentInfo {
    if (typeof input.title !== 'string' || !input.title.trim()) throw new TypeError('A document needs a non-empty title.');
    const lang = language(input.language);
    return this.write('create a document', () => {
      const now = this.clock();
      const id = input.id ?? newId(now);
      this.db.prepare('INSERT INTO documents (id, title, language, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(id, input.title.trim(), lang, now, now);
      return { id, title: input.title.trim(), language: lang, createdAt: now, updatedAt: now };
    });
  }

  listDocuments(): DocumentSummary[] {
    return this.read('list documents', () =>
      this.db.prepare<DocumentSummary>(`SELECT ${DOCUMENT_COLUMNS}, (SELECT count(*) FROM concepts c WHERE c.document_id = d.id) AS conceptCount FROM documents d ORDER BY d.updated_at DESC, d.id`).all(),
    );
  }

  getDocument(id: string): DocumentInfo {
    const doc = this.one('read a document', () => this.stmt<DocumentRow>(`SELECT ${DOCUMENT_COLUMNS} FROM documents d WHERE d.id = ?`).get(id));
    if (!doc) throw new StoreError('STORE_NOT_FOUND', `No document with id ${id} in ${this.path}. List them with \`lcm docs\`.`, { path: this.path });
    return doc;
  }

  /** A document by id, unique id prefix (4+ characters) or exact title. */
  findDocument(ref: string): DocumentInfo {
    const rows = this.read('find a document', () =>
      this.db.prepare<DocumentRow>(`SELECT ${DOCUMENT_COLUMNS} FROM documents d WHERE d.id = ? OR (length(?) >= 4 AND substr(d.id, 1, length(?)) = ?) OR d.title = ? ORDER BY d.id = ? DESC`).all(ref, ref, ref, ref, ref, ref),
    );
    if (rows.length === 1 || (rows.length > 1 && rows[0]!.id === ref)) return rows[0]!;
    if (rows.length === 0) throw new StoreError('STORE_NOT_FOUND', `No document "${ref}" in ${this.path} (give an id, the start of one, or an exact title; \`lcm docs\` lists them).`, { path: this.path });
    throw new StoreError('STORE_NOT_FOUND', `"${ref}" matches ${rows.length} documents (${rows.map((r) => `${r.id.slice(0, 13)} "${r.title}"`).join(', ')}); give more of the id.`, { path: this.path });
  }

  renameDocument(id: string, title: string): DocumentInfo {
    if (typeof title !== 'string' || !title.trim()) throw new TypeError('A document needs a non-empty title.');
    return this.write('rename a document', () => {
      this.getDocument(id);
      this.db.prepare('UPDATE documents SET title = ?, updated_at = ? WHERE id = ?').run(title.trim(), this.clock(), id);
      return this.getDocument(id);
    });
  }

  /** Deletes the document with its concepts, their revisions and candidates. Cached embeddings stay. */
  deleteDocument(id: string): void {
    this.write('delete a document', () => {
      if (this.db.prepare('DELETE FROM documents WHERE id = ?').run(id).changes === 0) this.getDocument(id);
    });
  }

  private touch(documentId: string, now: number): void {
    this.stmt('UPDATE documents SET updated_at = ? WHERE id = ?').run(now, documentId);
  }

  // ── concepts ─────────────────────────────────────────────────────────────

  /** The document's concepts in reading order. */
  listConcepts(documentId: string): Concept[] {
    return this.read('list concepts', () => {
      this.getDocument(documentId);
      return this.db.prepare<ConceptRow>(`SELECT ${CONCEPT_COLUMNS} FROM concepts c WHERE c.document_id = ? ORDER BY c.position`).all(documentId).map(rowToConcept);
    });
  }

  getConcept(id: string): Concept {
    const row = this.one('read a concept', () => this.stmt<ConceptRow>(`SELECT ${CONCEPT_COLUMNS} FROM concepts c WHERE c.id = ?`).get(id));
    if (!row) throw new StoreError('STORE_NOT_FOUND', `No concept with id ${id} in ${this.path}.`, { path: this.path });
    return rowToConcept(row);
  }

  /** The order keys to insert between for a placement. */
  private bounds(documentId: string, placement: Placement): [string | null, string | null] {
    const pos = (sql: string, ...p: unknown[]) => (this.db.prepare(sql).pluck().get(...p) as string | null | undefined) ?? null;
    const anchor = (id: string) => {
      const c = this.getConcept(id);
      if (c.documentId !== documentId) throw new RangeError(`Concept ${id} belongs to another document.`);
      return c.position;
    };
    if ('after' in placement) {
      if (placement.after === null) return [null, pos('SELECT min(position) FROM concepts WHERE document_id = ?', documentId)];
      const a = anchor(placement.after);
      return [a, pos('SELECT min(position) FROM concepts WHERE document_id = ? AND position > ?', documentId, a)];
    }
    if ('before' in placement) {
      const b = anchor(placement.before);
      return [pos('SELECT max(position) FROM concepts WHERE document_id = ? AND position < ?', documentId, b), b];
    }
    return [pos('SELECT max(position) FROM concepts WHERE document_id = ?', documentId), null];
  }

  /**
   * Inserts concepts, in the given order, at one place in the document (by
   * default at the end). A `parentId` may name a concept inserted earlier in
   * the same call; the parent must come before its child.
   */
  insertConcepts(documentId: string, items: readonly NewConcept[], placement: Placement = {}): Concept[] {
    items.forEach((item, i) => {
      checkText(item.text, `Concept ${i + 1}`);
      checkProvenance(item, `Concept ${i + 1}`);
      if (item.block !== undefined && !(BLOCKS as readonly string[]).includes(item.block)) throw new RangeError(`Concept ${i + 1}: block must be one of ${BLOCKS.join(', ')}, got "${String(item.block)}".`);
    });
    const langs = items.map((item) => (item.language === undefined ? undefined : language(item.language)));
    return this.write('insert concepts', () => {
      const doc = this.getDocument(documentId);
      const [lo, hi] = this.bounds(documentId, placement);
      const keys = keysBetween(lo, hi, items.length);
      const now = this.clock();
      const placed = new Map<string, { depth: number; position: string }>();
      const insert = this.stmt(`INSERT INTO concepts (id, document_id, position, parent_id, depth, block, block_start, marker, text, language, text_hash,
        origin, pack, seed, params, job_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      items.forEach((item, i) => {
        const id = item.id ?? newId(now);
        let depth = 0;
        if (item.parentId) {
          const parent = placed.get(item.parentId) ?? this.getConcept(item.parentId);
          if ('documentId' in parent && parent.documentId !== documentId) throw new RangeError(`Concept ${i + 1}: its parent ${item.parentId} belongs to another document.`);
          if (parent.position >= keys[i]!) throw new RangeError(`Concept ${i + 1}: its parent ${item.parentId} must come before it.`);
          depth = parent.depth + 1;
        }
        const text = item.text;
        insert.run(id, documentId, keys[i]!, item.parentId ?? null, depth, item.block ?? 'paragraph', item.blockStart === false ? 0 : 1, item.marker ?? null,
          text, langs[i] ?? doc.language, textHash(text), item.origin ?? 'typed', item.pack ?? null, item.seed ?? null,
          item.params ? JSON.stringify(item.params) : null, item.jobId ?? null, now, now);
        placed.set(id, { depth, position: keys[i]! });
      });
      this.touch(documentId, now);
      // The new rows are exactly those between the first and the last new key.
      if (keys.length === 0) return [];
      const rows = this.stmt<ConceptRow>(`SELECT ${CONCEPT_COLUMNS} FROM concepts c WHERE c.document_id = ? AND c.position BETWEEN ? AND ? ORDER BY c.position`).all(documentId, keys[0], keys[keys.length - 1]);
      return rows.map(rowToConcept);
    });
  }

  insertConcept(documentId: string, item: NewConcept, placement: Placement = {}): Concept {
    return this.insertConcepts(documentId, [item], placement)[0]!;
  }

  /**
   * Changes a concept. A new text or language keeps the old one as a revision.
   * A new text without provenance is the writer's: origin becomes "typed" and
   * the job fields are cleared.
   */
  updateConcept(id: string, patch: ConceptPatch): Concept {
    if (patch.text !== undefined) checkText(patch.text, 'Concept');
    checkProvenance(patch, 'Concept');
    if (patch.block !== undefined && !(BLOCKS as readonly string[]).includes(patch.block)) throw new RangeError(`block must be one of ${BLOCKS.join(', ')}, got "${String(patch.block)}".`);
    const lang = patch.language === undefined ? undefined : language(patch.language);
    return this.write('change a concept', () => {
      const c = this.getConcept(id);
      const text = patch.text ?? c.text;
      const rewritten = patch.text !== undefined && patch.text !== c.text && patch.origin === undefined;
      const p: Provenance = rewritten
        ? { origin: 'typed', pack: null, seed: null, params: null, jobId: null }
        : { origin: patch.origin ?? c.origin, pack: patch.pack !== undefined ? patch.pack : c.pack, seed: patch.seed !== undefined ? patch.seed : c.seed, params: patch.params !== undefined ? patch.params : c.params, jobId: patch.jobId !== undefined ? patch.jobId : c.jobId };
      const now = this.clock();
      this.db
        .prepare(`UPDATE concepts SET text = ?, language = ?, text_hash = ?, origin = ?, pack = ?, seed = ?, params = ?, job_id = ?,
          block = ?, block_start = ?, marker = ?, updated_at = ? WHERE id = ?`)
        .run(text, lang ?? c.language, textHash(text), p.origin, p.pack, p.seed, p.params ? JSON.stringify(p.params) : null, p.jobId,
          patch.block ?? c.block, (patch.blockStart ?? c.blockStart) ? 1 : 0, patch.marker !== undefined ? patch.marker : c.marker, now, id);
      this.touch(c.documentId, now);
      return this.getConcept(id);
    });
  }

  /** Deletes a concept with its revisions and candidates; its children move up to its parent. */
  deleteConcept(id: string): void {
    this.write('delete a concept', () => {
      const c = this.getConcept(id);
      this.db
        .prepare(`WITH RECURSIVE sub(id) AS (SELECT id FROM concepts WHERE parent_id = ? UNION ALL SELECT k.id FROM concepts k JOIN sub ON k.parent_id = sub.id)
          UPDATE concepts SET depth = depth - 1 WHERE id IN sub`)
        .run(id);
      this.db.prepare('UPDATE concepts SET parent_id = ? WHERE parent_id = ?').run(c.parentId, id);
      this.db.prepare('DELETE FROM concepts WHERE id = ?').run(id);
      this.touch(c.documentId, this.clock());
    });
  }

  /**
   * Moves one concept: after `after` (null: to the start of its document),
   * under `parentId` (null: to the top level). Its children stay its children
   * and their depths follow its new depth. To move a subtree, move each of
   * its concepts in reading order, each after the one before. The parent
   * must be in the same document and must not be the concept or one of its
   * descendants. (That a parent comes before its children is checked by
   * `checkOutline`, after a batch of moves, not here: mid-batch a parent may
   * sit after its children.)
   */
  moveConcept(id: string, after: string | null, parentId: string | null): Concept {
    if (after === id) throw new RangeError(`Cannot move concept ${id} after itself.`);
    if (parentId === id) throw new RangeError(`Concept ${id} cannot be its own parent.`);
    return this.write('move a concept', () => {
      const c = this.getConcept(id);
      let depth = 0;
      if (parentId !== null) {
        const parent = this.getConcept(parentId);
        if (parent.documentId !== c.documentId) throw new RangeError(`Cannot move concept ${id} under ${parentId}: it belongs to another document.`);
        const inside = this.db
          .prepare(`WITH RECURSIVE sub(id) AS (SELECT id FROM concepts WHERE parent_id = ? UNION ALL SELECT k.id FROM concepts k JOIN sub ON k.parent_id = sub.id)
            SELECT 1 FROM sub WHERE id = ?`)
          .pluck()
          .get(id, parentId);
        if (inside) throw new RangeError(`Cannot move concept ${id} under ${parentId}: that concept is nested inside it.`);
        depth = parent.depth + 1;
      }
      const [lo, hi] = this.bounds(c.documentId, { after });
      const [key] = keysBetween(lo, hi, 1);
      const now = this.clock();
      this.db.prepare('UPDATE concepts SET position = ?, parent_id = ?, depth = ?, updated_at = ? WHERE id = ?').run(key!, parentId, depth, now, id);
      if (depth !== c.depth) {
        this.db
          .prepare(`WITH RECURSIVE sub(id) AS (SELECT id FROM concepts WHERE parent_id = ? UNION ALL SELECT k.id FROM concepts k JOIN sub ON k.parent_id = sub.id)
            UPDATE concepts SET depth = depth + ? WHERE id IN sub`)
          .run(id, depth - c.depth);
      }
      this.touch(c.documentId, now);
      return this.getConcept(id);
    });
  }

  /** Throws a RangeError naming the first concept of the document that comes before its parent. */
  checkOutline(documentId: string): void {
    const bad = this.one('check the outline', () =>
      this.db.prepare<{ id: string; parentId: string }>('SELECT c.id, c.parent_id AS parentId FROM concepts c JOIN concepts p ON p.id = c.parent_id WHERE c.document_id = ? AND p.position >= c.position LIMIT 1').get(documentId),
    );
    if (bad) throw new RangeError(`Concept ${bad.id} would come before its parent ${bad.parentId}: a parent must come before the concepts nested in it.`);
  }

  // ── history: revisions and candidates ────────────────────────────────────

  /** Earlier texts of a concept, newest first. */
  revisions(conceptId: string): Revision[] {
    return this.read('list revisions', () => {
      this.getConcept(conceptId);
      return this.db.prepare<RevisionRow>(`SELECT ${REVISION_COLUMNS} FROM revisions WHERE concept_id = ? ORDER BY id DESC`).all(conceptId).map(rowToRevision);
    });
  }

  /** Puts an earlier text back (the current one becomes a revision in turn). */
  revertConcept(conceptId: string, revisionId: number): Concept {
    return this.write('restore an earlier text', () => {
      const r = this.db.prepare<RevisionRow>(`SELECT ${REVISION_COLUMNS} FROM revisions WHERE id = ? AND concept_id = ?`).get(revisionId, conceptId);
      if (!r) throw new StoreError('STORE_NOT_FOUND', `Concept ${conceptId} has no revision ${revisionId}.`, { path: this.path });
      const rev = rowToRevision(r);
      return this.updateConcept(conceptId, { text: rev.text, language: rev.language, origin: rev.origin, pack: rev.pack, seed: rev.seed, params: rev.params, jobId: rev.jobId });
    });
  }

  /** Records alternatives a job proposed for a concept (e.g. regenerate's candidates). */
  addCandidates(conceptId: string, items: readonly ({ text: string; language?: string } & Partial<Provenance>)[]): Candidate[] {
    items.forEach((item, i) => {
      checkText(item.text, `Candidate ${i + 1}`);
      checkProvenance(item, `Candidate ${i + 1}`);
    });
    return this.write('save candidates', () => {
      const c = this.getConcept(conceptId);
      const now = this.clock();
      const insert = this.db.prepare('INSERT INTO candidates (concept_id, text, language, origin, pack, seed, params, job_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      const ids = items.map((item) => Number(insert.run(conceptId, item.text, item.language ? language(item.language) : c.language, item.origin ?? 'generated', item.pack ?? null, item.seed ?? null, item.params ? JSON.stringify(item.params) : null, item.jobId ?? null, now).lastInsertRowid));
      return ids.map((id) => rowToCandidate(this.db.prepare<CandidateRow>(`SELECT ${CANDIDATE_COLUMNS} FROM candidates WHERE id = ?`).get(id)!));
    });
  }

  /** The alternatives not (yet) accepted for a concept, oldest first. */
  candidates(conceptId: string): Candidate[] {
    return this.read('list candidates', () => {
      this.getConcept(conceptId);
      return this.db.prepare<CandidateRow>(`SELECT ${CANDIDATE_COLUMNS} FROM candidates WHERE concept_id = ? ORDER BY id`).all(conceptId).map(rowToCandidate);
    });
  }

  /** Makes a candidate the concept's text (the old text becomes a revision); the others stay as rejected alternatives. */
  acceptCandidate(candidateId: number): Concept {
    return this.write('accept a candidate', () => {
      const r = this.db.prepare<CandidateRow>(`SELECT ${CANDIDATE_COLUMNS} FROM candidates WHERE id = ?`).get(candidateId);
      if (!r) throw new StoreError('STORE_NOT_FOUND', `No candidate ${candidateId} in ${this.path}.`, { path: this.path });
      const cand = rowToCandidate(r);
      this.db.prepare('DELETE FROM candidates WHERE id = ?').run(candidateId);
      return this.updateConcept(cand.conceptId, { text: cand.text, language: cand.language, origin: cand.origin, pack: cand.pack, seed: cand.seed, params: cand.params, jobId: cand.jobId });
    });
  }

  // ── embeddings and search ────────────────────────────────────────────────

  /** Caches vectors computed with pack `pack` (key "<name>@<version>"); returns how many were new. */
  putEmbeddings(pack: string, dim: number, items: readonly EmbeddingInput[]): number {
    return this.write('save embeddings', () => putEmbeddings(this.db, pack, dim, items, this.clock()));
  }

  getEmbeddings(pack: string, items: readonly { language: string; text: string }[]): (Float32Array | undefined)[] {
    return this.read('read embeddings', () => getEmbeddings(this.db, pack, items));
  }

  /** Distinct (language, text) of concepts (of one document, or all) that lack a vector from `pack`. */
  missingEmbeddings(pack: string, documentId?: string): { language: string; text: string }[] {
    return this.read('list missing embeddings', () => missingEmbeddings(this.db, pack, documentId));
  }

  searchText(query: string, filter: SearchFilter = {}): TextHit[] {
    return this.read('search', () => searchText(this.db, query, filter));
  }

  /** Nearest concepts to `vector` among those with vectors from `pack`; see search.ts for the methods. */
  searchSemantic(pack: string, vector: Float32Array, options: SemanticOptions = {}): SemanticResult {
    try {
      return searchSemantic(this.db, pack, vector, options);
    } catch (error) {
      throw storeError(error, this.path, 'search');
    }
  }

  // ── compound actions ─────────────────────────────────────────────────────

  /** A new document with its concepts and (optionally) their vectors: one action, saved whole or not at all. */
  importDocument(input: { title: string; language: string; concepts: readonly NewConcept[]; embeddings?: EmbeddingBatch }): { document: DocumentInfo; concepts: Concept[] } {
    return this.write('import a document', () => {
      const document = this.createDocument({ title: input.title, language: input.language });
      const concepts = this.insertConcepts(document.id, input.concepts);
      if (input.embeddings) this.putEmbeddings(input.embeddings.pack, input.embeddings.dim, input.embeddings.items);
      return { document, concepts };
    });
  }

  // ── safety ───────────────────────────────────────────────────────────────

  /** SQLite's integrity_check: ['ok'] for a sound file, else the problems it found. */
  check(): string[] {
    try {
      return this.db.prepare('PRAGMA integrity_check').pluck().all() as string[];
    } catch (error) {
      throw storeError(error, this.path, 'check the library');
    }
  }

  /**
   * A consistent copy of the library at `destination`, made with SQLite's
   * online backup API while the store stays usable (backup.ts).
   */
  backup(destination: string, options: { overwrite?: boolean } = {}): Promise<{ pages: number }> {
    return backupLibrary(this.db, destination, options);
  }
}
