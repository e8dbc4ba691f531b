/**
 * The writer's library as every side sees it: documents, concepts, revisions,
 * candidates, jobs (camelCase, plain data, no SQL). The store (src/main/store)
 * persists exactly these; the bridge contract (contract.ts) carries them.
 */

/** Every origin a concept can have. */
export const ORIGINS = ['typed', 'generated', 'translated', 'summarized', 'expanded', 'imported'] as const;
/** Markdown blocks a concept can belong to. */
export const BLOCKS = ['paragraph', 'heading', 'item', 'code'] as const;
/** Job states. */
export const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;

/** Where a concept came from: typed by the writer, made by a job, or imported from a file. */
export type Origin = (typeof ORIGINS)[number];
/** The Markdown block a concept belongs to (paragraph, heading, list item, code). */
export type Block = (typeof BLOCKS)[number];
export type JobStatus = (typeof JOB_STATUSES)[number];
/** Job parameters and concept provenance: any JSON object. */
export type JsonObject = { [key: string]: unknown };

export interface DocumentInfo {
  id: string;
  title: string;
  /** FLORES-200 code: the document's main language, the default for new concepts. */
  language: string;
  createdAt: number;
  updatedAt: number;
}

export interface DocumentSummary extends DocumentInfo {
  conceptCount: number;
}

/** The job that made a concept (or a candidate): none of it for typed text. */
export interface Provenance {
  origin: Origin;
  /** Model pack key, "<name>@<version>". */
  pack: string | null;
  seed: number | null;
  params: JsonObject | null;
  jobId: string | null;
}

export interface Concept extends Provenance {
  id: string;
  documentId: string;
  /** Fractional order key: concepts of a document sort by it in reading order (orderKey.ts). */
  position: string;
  /** The outline parent (a heading, or the list item this one is nested in); null at the top. */
  parentId: string | null;
  /** 0 at the top of the outline, parent's depth + 1 below it. */
  depth: number;
  block: Block;
  /** True for the first concept of a block (a paragraph, a list item, a heading). */
  blockStart: boolean;
  /** The block's Markdown marker: "#"…"######" for headings, "-", "*", "+", "1." or "1)" for items, the fence for code. */
  marker: string | null;
  text: string;
  /** FLORES-200 code. */
  language: string;
  createdAt: number;
  updatedAt: number;
}

/** A concept to insert. Omitted fields: new id, the document's language, top level, a new paragraph, typed. */
export interface NewConcept extends Partial<Provenance> {
  text: string;
  id?: string;
  language?: string;
  parentId?: string | null;
  block?: Block;
  blockStart?: boolean;
  marker?: string | null;
}

/** Changes to a concept. A new text or language records the old one as a revision. */
export interface ConceptPatch extends Partial<Provenance> {
  text?: string;
  language?: string;
  block?: Block;
  blockStart?: boolean;
  marker?: string | null;
}

/** An earlier text of a concept, kept so the writer can go back. */
export interface Revision extends Provenance {
  id: number;
  conceptId: string;
  text: string;
  language: string;
  /** When this text was written and when it was replaced. */
  writtenAt: number;
  replacedAt: number;
}

/** An alternative a job proposed for a concept; it stays here while not accepted. */
export interface Candidate extends Provenance {
  id: number;
  conceptId: string;
  text: string;
  language: string;
  createdAt: number;
}

export interface Job {
  id: string;
  /** continue, regenerate, expand, summarize, translate, encode, import… */
  kind: string;
  status: JobStatus;
  documentId: string | null;
  /** 0 to 1. */
  progress: number;
  error: string | null;
  pack: string | null;
  seed: number | null;
  params: JsonObject | null;
  createdAt: number;
  updatedAt: number;
}

/** Where inserted concepts go: after a concept (null: at the start), before one, or (neither) at the end. */
export type Placement = { after: string | null } | { before: string } | Record<string, never>;
