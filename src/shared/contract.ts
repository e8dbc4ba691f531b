/**
 * The one contract between the renderer and the main process (house rule 2).
 * The preload exposes exactly `ConceptStudioApi` as `window.conceptStudio`
 * (one method per channel, listeners return an unsubscribe function); the web
 * host serves the same methods over HTTP (requests) and a WebSocket (events).
 * The main side validates every payload before use (src/main/ipc/validate.ts).
 *
 * Decisions this contract encodes (docs/app.md explains them):
 * - Long work is a job: `startJob` returns at once with a job id; results and
 *   progress arrive as `JobEvent`s; `cancelJob` aborts it.
 * - Generated concepts (continue, expand, summarize) are not written by the
 *   main process: they arrive as `concept` events and the renderer inserts
 *   them at its placeholder (if the placeholder still exists) and saves them
 *   with their provenance through `saveEdits`. A writer's document has one
 *   owner, the editor, so concurrent edits never race with job output.
 * - Regenerate's candidates are stored by the main process (they are
 *   history), sent as one `candidates` event, and shown as suggestions;
 *   `acceptCandidate` makes one the concept's text (the old text becomes a
 *   revision).
 * - Translating a whole document writes a new document in the target
 *   language (the original is kept) and reports its id in `done`;
 *   translating a selection sends `translation` events that replace the
 *   selected concepts' text (old texts become revisions when saved).
 */
import type { Candidate, Concept, ConceptPatch, DocumentInfo, DocumentSummary, Job, NewConcept, Revision } from './library.ts';

/** What the app reports about itself and its engine. */
export interface AppInfo {
  version: string;
  /** The model pack the engine has loaded, or why none is available. */
  pack: PackInfo | { error: string };
  /** Execution providers this onnxruntime build knows; `provider` is the one running. */
  providers: string[];
  provider: string;
  /** "electron" or "web" (the web host): the renderer hides desktop-only things in the browser. */
  host: 'electron' | 'web';
}

export interface PackInfo {
  name: string;
  version: string;
  /** FLORES-200 codes the pack supports (the picker marks these). */
  languages: string[];
  embeddingDim: number;
  /** Sampling defaults of the pack, for the settings page. */
  sampling: SamplingSettings;
}

export interface SamplingSettings {
  inferenceSteps: number;
  guidanceScale: number;
  /** "trailing" = the reference's integer stride; "trailing-exact" = exactly inferenceSteps. */
  spacing: 'trailing' | 'trailing-exact';
}

export interface Settings {
  /** Folder or name of the model pack; null = the default pack. */
  pack: string | null;
  provider: 'cpu' | 'cuda' | 'tensorrt' | 'dml' | 'coreml';
  /** null = the pack's defaults. */
  sampling: Partial<SamplingSettings> | null;
  /** Fixed seed for every job, or null for a fresh seed each time (always reported). */
  seed: number | null;
  theme: 'light' | 'dark' | 'system';
  /** Language new documents start in. */
  defaultLanguage: string;
}

/** One edit of the editor's autosave; a batch is applied in one transaction. */
export type ConceptEdit =
  | { op: 'insert'; concept: NewConcept & { id: string }; after: string | null }
  | { op: 'update'; id: string; patch: ConceptPatch }
  | { op: 'delete'; id: string }
  | { op: 'move'; id: string; after: string | null; parentId: string | null };

export type JobRequest =
  | { kind: 'continue'; documentId: string; afterConceptId: string | null; count: number }
  | { kind: 'regenerate'; documentId: string; conceptId: string; count: number }
  | { kind: 'expand'; documentId: string; conceptId: string; count: number }
  | { kind: 'summarize'; documentId: string; conceptIds: string[] | null; maxConcepts: number }
  | { kind: 'translate'; documentId: string; conceptIds: string[] | null; targetLanguage: string };

/** Options every job takes on top of its request; omitted → the settings. */
export interface JobOptions {
  seed?: number;
  language?: string;
  sampling?: Partial<SamplingSettings>;
}

export type JobKind = JobRequest['kind'];

/** An error as it crosses a process boundary (VS Code style). */
export interface WireError {
  name: string;
  message: string;
  code: string;
}

export type JobEvent =
  | { jobId: string; type: 'started'; job: Job }
  | { jobId: string; type: 'progress'; progress: number; detail: string }
  /** A generated concept (not yet saved): the renderer places and saves it. */
  | { jobId: string; type: 'concept'; index: number; concept: NewConcept & { id: string } }
  /** Regenerate's alternatives, already stored as candidates of `conceptId`. */
  | { jobId: string; type: 'candidates'; conceptId: string; candidates: Candidate[] }
  /** A selected concept's text in the target language. */
  | { jobId: string; type: 'translation'; conceptId: string; text: string; language: string }
  | { jobId: string; type: 'done'; seed: number; stop: string | null; documentId: string | null }
  | { jobId: string; type: 'error'; error: WireError }
  | { jobId: string; type: 'cancelled' };

export interface TextHit {
  concept: Concept;
  documentTitle: string;
}

export interface SimilarHit {
  concept: Concept;
  documentTitle: string;
  /** Cosine similarity, −1 to 1. */
  similarity: number;
}

export interface Fidelity {
  text: string;
  decoded: string;
  /** sentence chrF, 0–100: how much of the sentence the embedding holds. */
  chrf: number;
}

/** The whole bridge. Every method validates its input in the main process. */
export interface ConceptStudioApi {
  appInfo(): Promise<AppInfo>;
  getSettings(): Promise<Settings>;
  updateSettings(patch: Partial<Settings>): Promise<Settings>;

  listDocuments(): Promise<DocumentSummary[]>;
  createDocument(req: { title: string; language: string }): Promise<DocumentInfo>;
  renameDocument(req: { id: string; title: string }): Promise<DocumentInfo>;
  deleteDocument(req: { id: string }): Promise<void>;
  openDocument(req: { id: string }): Promise<{ document: DocumentInfo; concepts: Concept[] }>;
  recentDocuments(): Promise<DocumentSummary[]>;

  /** Applies the editor's edits in one transaction; returns the saved concepts of the document. */
  saveEdits(req: { documentId: string; edits: ConceptEdit[] }): Promise<Concept[]>;
  conceptHistory(req: { id: string }): Promise<{ revisions: Revision[]; candidates: Candidate[] }>;
  revertConcept(req: { id: string; revisionId: number }): Promise<Concept>;
  acceptCandidate(req: { candidateId: number }): Promise<Concept>;

  searchText(req: { query: string; documentId?: string; language?: string; limit?: number }): Promise<TextHit[]>;
  /** Nearest concepts to a query text or to a concept, across the library. */
  searchSimilar(req: { query?: string; language?: string; conceptId?: string; documentId?: string; limit?: number }): Promise<SimilarHit[]>;
  fidelity(req: { text: string; language: string }): Promise<Fidelity>;

  startJob(req: JobRequest & JobOptions): Promise<{ jobId: string }>;
  cancelJob(req: { jobId: string }): Promise<void>;
  onJobEvent(listener: (event: JobEvent) => void): () => void;
}

/** Request methods (everything but the event subscription). */
export type RequestMethod = Exclude<keyof ConceptStudioApi, 'onJobEvent'>;

/** IPC channel / HTTP path of each request method. */
export const CHANNEL_PREFIX = 'cs:';
export const JOB_EVENT_CHANNEL = 'cs:job-event';
export const channelOf = (method: RequestMethod): string => `${CHANNEL_PREFIX}${method}`;

/** Every request method, in one list (the preload and the web client build their API from it). */
export const REQUEST_METHODS = [
  'appInfo', 'getSettings', 'updateSettings',
  'listDocuments', 'createDocument', 'renameDocument', 'deleteDocument', 'openDocument', 'recentDocuments',
  'saveEdits', 'conceptHistory', 'revertConcept', 'acceptCandidate',
  'searchText', 'searchSimilar', 'fidelity',
  'startJob', 'cancelJob',
] as const satisfies readonly RequestMethod[];
