/** SQL rows → the store's types. One place for the column lists and the conversions. */
import type { Block, Candidate, Concept, DocumentInfo, Job, JobStatus, JsonObject, Origin, Revision } from './types.ts';

const json = (text: string | null): JsonObject | null => (text === null ? null : (JSON.parse(text) as JsonObject));

/** Concept columns on the alias `c`, named as ConceptRow. */
export const CONCEPT_COLUMNS = `c.id, c.document_id AS documentId, c.position, c.parent_id AS parentId, c.depth, c.block,
  c.block_start AS blockStart, c.marker, c.text, c.language, c.origin, c.pack, c.seed, c.params, c.job_id AS jobId,
  c.created_at AS createdAt, c.updated_at AS updatedAt`;

export interface ConceptRow {
  id: string;
  documentId: string;
  position: string;
  parentId: string | null;
  depth: number;
  block: Block;
  blockStart: number;
  marker: string | null;
  text: string;
  language: string;
  origin: Origin;
  pack: string | null;
  seed: number | null;
  params: string | null;
  jobId: string | null;
  createdAt: number;
  updatedAt: number;
}

export function rowToConcept(r: ConceptRow): Concept {
  return {
    id: r.id, documentId: r.documentId, position: r.position, parentId: r.parentId, depth: r.depth, block: r.block,
    blockStart: r.blockStart === 1, marker: r.marker, text: r.text, language: r.language, origin: r.origin,
    pack: r.pack, seed: r.seed, params: json(r.params), jobId: r.jobId, createdAt: r.createdAt, updatedAt: r.updatedAt,
  };
}

export const DOCUMENT_COLUMNS = 'd.id, d.title, d.language, d.created_at AS createdAt, d.updated_at AS updatedAt';
export type DocumentRow = DocumentInfo;

export const REVISION_COLUMNS = `id, concept_id AS conceptId, text, language, origin, pack, seed, params, job_id AS jobId,
  written_at AS writtenAt, replaced_at AS replacedAt`;
export type RevisionRow = Omit<Revision, 'params'> & { params: string | null };
export const rowToRevision = (r: RevisionRow): Revision => ({ ...r, params: json(r.params) });

export const CANDIDATE_COLUMNS = 'id, concept_id AS conceptId, text, language, origin, pack, seed, params, job_id AS jobId, created_at AS createdAt';
export type CandidateRow = Omit<Candidate, 'params'> & { params: string | null };
export const rowToCandidate = (r: CandidateRow): Candidate => ({ ...r, params: json(r.params) });

export const JOB_COLUMNS = `id, kind, status, document_id AS documentId, progress, error, pack, seed, params,
  created_at AS createdAt, updated_at AS updatedAt`;
export type JobRow = Omit<Job, 'params' | 'status'> & { params: string | null; status: JobStatus };
export const rowToJob = (r: JobRow): Job => ({ ...r, params: json(r.params) });
