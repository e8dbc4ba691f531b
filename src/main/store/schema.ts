/**
 * The library's schema and its numbered migrations (docs/store.md, "Schema").
 *
 * `PRAGMA application_id` marks a file as a Concept Studio library;
 * `PRAGMA user_version` is the number of the last migration applied. At open,
 * the missing migrations run in one transaction, so a library is never left
 * half-upgraded; a library whose version is newer than this code knows is
 * refused before anything is written (see database.ts).
 *
 * Rules for new migrations: append, never edit a released one; each is plain
 * SQL that SQLite can run inside a transaction (no VACUUM, no journal_mode).
 */
import { BLOCKS, JOB_STATUSES, ORIGINS } from '../../shared/library.ts';

export { BLOCKS, JOB_STATUSES, ORIGINS };

/** Saves of a typed concept closer together than this are one burst of typing (one revision). */
export const TYPING_BURST_MS = 60_000;

/** "CSLb" in ASCII: Concept Studio Library. */
export const APPLICATION_ID = 0x43534c62;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

const V1 = `
CREATE TABLE documents (
  id          TEXT PRIMARY KEY NOT NULL,
  title       TEXT NOT NULL,
  language    TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE jobs (
  id           TEXT PRIMARY KEY NOT NULL,
  kind         TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN (${list(JOB_STATUSES)})),
  document_id  TEXT REFERENCES documents(id) ON DELETE SET NULL,
  progress     REAL NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  error        TEXT,
  pack         TEXT,
  seed         INTEGER,
  params       TEXT CHECK (params IS NULL OR json_valid(params)),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_status ON jobs(status);

-- seq is the stable integer key the full-text index refers to (a plain rowid may change on VACUUM).
CREATE TABLE concepts (
  seq          INTEGER PRIMARY KEY,
  id           TEXT NOT NULL UNIQUE,
  document_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  position     TEXT NOT NULL,
  parent_id    TEXT REFERENCES concepts(id) ON DELETE CASCADE,
  depth        INTEGER NOT NULL DEFAULT 0 CHECK (depth >= 0),
  block        TEXT NOT NULL DEFAULT 'paragraph' CHECK (block IN (${list(BLOCKS)})),
  block_start  INTEGER NOT NULL DEFAULT 1 CHECK (block_start IN (0, 1)),
  marker       TEXT,
  text         TEXT NOT NULL,
  language     TEXT NOT NULL,
  text_hash    BLOB NOT NULL CHECK (length(text_hash) = 32),
  origin       TEXT NOT NULL CHECK (origin IN (${list(ORIGINS)})),
  pack         TEXT,
  seed         INTEGER,
  params       TEXT CHECK (params IS NULL OR json_valid(params)),
  job_id       TEXT REFERENCES jobs(id) ON DELETE SET NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (document_id, position)
) STRICT;
CREATE INDEX concepts_parent ON concepts(parent_id);
CREATE INDEX concepts_text ON concepts(text_hash, language);
CREATE INDEX concepts_language ON concepts(language);
CREATE INDEX concepts_job ON concepts(job_id);

-- Every earlier text of a concept, written by the trigger so no code path can forget it.
CREATE TABLE revisions (
  id           INTEGER PRIMARY KEY,
  concept_id   TEXT NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
  text         TEXT NOT NULL,
  language     TEXT NOT NULL,
  origin       TEXT NOT NULL,
  pack         TEXT,
  seed         INTEGER,
  params       TEXT,
  job_id       TEXT,
  written_at   INTEGER NOT NULL,
  replaced_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX revisions_concept ON revisions(concept_id, id);
CREATE TRIGGER concepts_revision AFTER UPDATE OF text, language ON concepts
  WHEN old.text IS NOT new.text OR old.language IS NOT new.language
BEGIN
  INSERT INTO revisions (concept_id, text, language, origin, pack, seed, params, job_id, written_at, replaced_at)
  VALUES (old.id, old.text, old.language, old.origin, old.pack, old.seed, old.params, old.job_id, old.updated_at, new.updated_at);
END;

-- Alternatives a regenerate job proposed for a concept and the writer did not accept.
CREATE TABLE candidates (
  id           INTEGER PRIMARY KEY,
  concept_id   TEXT NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
  text         TEXT NOT NULL,
  language     TEXT NOT NULL,
  origin       TEXT NOT NULL DEFAULT 'generated' CHECK (origin IN (${list(ORIGINS)})),
  pack         TEXT,
  seed         INTEGER,
  params       TEXT CHECK (params IS NULL OR json_valid(params)),
  job_id       TEXT REFERENCES jobs(id) ON DELETE SET NULL,
  created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX candidates_concept ON candidates(concept_id, id);

-- Model packs whose vectors are stored. Vectors of different packs live in different spaces
-- and are never compared; key = "<manifest name>@<manifest version>".
CREATE TABLE packs (
  id   INTEGER PRIMARY KEY,
  key  TEXT NOT NULL UNIQUE,
  dim  INTEGER NOT NULL CHECK (dim > 0)
) STRICT;

-- The embedding cache: one float32 little-endian vector per (pack, language, SHA-256 of the text).
CREATE TABLE embeddings (
  id          INTEGER PRIMARY KEY,
  pack_id     INTEGER NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
  language    TEXT NOT NULL,
  text_hash   BLOB NOT NULL CHECK (length(text_hash) = 32),
  dim         INTEGER NOT NULL,
  vector      BLOB NOT NULL CHECK (length(vector) = 4 * dim),
  created_at  INTEGER NOT NULL,
  UNIQUE (pack_id, language, text_hash)
) STRICT;

-- The search index: each vector's signs as bits (1 = positive), ceil(dim / 8) bytes, written in the
-- same transaction as its vector (embeddings are never rewritten). Clustered by pack, so scanning one
-- pack's bits reads ~28 rows per page (1024-d).
CREATE TABLE embedding_bits (
  pack_id       INTEGER NOT NULL,
  embedding_id  INTEGER NOT NULL,
  bits          BLOB NOT NULL,
  PRIMARY KEY (pack_id, embedding_id)
) STRICT, WITHOUT ROWID;

-- Full text: an external-content FTS5 index over concepts.text, kept in step by triggers.
-- The trigram tokenizer matches substrings, so Chinese and Japanese (no spaces between words)
-- are searchable; queries need 3+ characters per term (search.ts falls back to LIKE below that).
CREATE VIRTUAL TABLE concepts_fts USING fts5(
  text, content = 'concepts', content_rowid = 'seq', tokenize = 'trigram remove_diacritics 1'
);
CREATE TRIGGER concepts_fts_insert AFTER INSERT ON concepts BEGIN
  INSERT INTO concepts_fts (rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER concepts_fts_delete AFTER DELETE ON concepts BEGIN
  INSERT INTO concepts_fts (concepts_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE TRIGGER concepts_fts_update AFTER UPDATE OF text ON concepts BEGIN
  INSERT INTO concepts_fts (concepts_fts, rowid, text) VALUES ('delete', old.seq, old.text);
  INSERT INTO concepts_fts (rowid, text) VALUES (new.seq, new.text);
END;
`;

/**
 * Revisions a writer can want back, not every autosave: the editor saves ~600 ms after typing stops,
 * which under V1 kept every fragment ("The plan has three pa") and an empty entry for each new line.
 * An empty text is never a revision, and while a typed concept keeps being typed at its end (saves
 * under a minute apart, same language, one text a prefix of the other: typing on or backspacing)
 * the text from before the burst stays the revision. Any other change is kept, however quick.
 */
const V2 = `
DROP TRIGGER concepts_revision;
CREATE TRIGGER concepts_revision AFTER UPDATE OF text, language ON concepts
  WHEN (old.text IS NOT new.text OR old.language IS NOT new.language)
   AND old.text <> ''
   AND NOT (old.origin = 'typed' AND new.origin = 'typed' AND old.language IS new.language
            AND new.updated_at - old.updated_at < ${TYPING_BURST_MS}
            AND (substr(new.text, 1, length(old.text)) = old.text OR substr(old.text, 1, length(new.text)) = new.text))
BEGIN
  INSERT INTO revisions (concept_id, text, language, origin, pack, seed, params, job_id, written_at, replaced_at)
  VALUES (old.id, old.text, old.language, old.origin, old.pack, old.seed, old.params, old.job_id, old.updated_at, new.updated_at);
END;
`;

/** All migrations, in order. The library's schema version is the last one's number. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'documents, concepts, revisions, candidates, jobs, embeddings, full text', sql: V1 },
  { version: 2, name: 'revisions: skip empty texts and typing bursts', sql: V2 },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
