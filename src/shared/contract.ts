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
  /** Diffusion sampling defaults of the pack, for the settings page; null for a pack without diffusion (Base-LCM, Quant-LCM). */
  sampling: SamplingSettings | null;
  /** T, the diffusion training steps: inference steps can be at most this; null for Base-LCM and Quant-LCM. */
  trainSteps: number | null;
  /** Quant-LCM sampling defaults of the pack (manifest `lcm.sampling`), for the settings page; null for the other designs. */
  quantSampling: QuantSamplingSettings | null;
  /** Units in each of a Quant-LCM pack's codebooks: top-k can be at most this; null for the other designs. */
  codebookSize: number | null;
  /**
   * The pack's LCM design (manifest `lcm.architecture`): "two-tower-diffusion",
   * "one-tower-diffusion", "base-mse", "quant-discrete" or "quant-continuous" (docs/variants.md).
   */
  architecture: string;
}

export interface SamplingSettings {
  inferenceSteps: number;
  guidanceScale: number;
  /** "trailing" = the reference's integer stride; "trailing-exact" = exactly inferenceSteps. */
  spacing: 'trailing' | 'trailing-exact';
}

/**
 * Quant-LCM sampling (docs/variants.md, "Quant-LCM"), applied at every
 * codebook level: the head's unit scores / temperature, the top k kept,
 * softmax, one draw.
 */
export interface QuantSamplingSettings {
  /** Softmax temperature, 0 to 100; 0 = greedy (the best unit of each codebook, nothing drawn: the seed does not matter). */
  temperature: number;
  /** Sample among the k best units of each codebook; 0 = all units. At most the pack's codebook size (the engine checks). */
  topK: number;
}

export interface Settings {
  /** Folder or name of the model pack; null = the default pack. */
  pack: string | null;
  provider: 'cpu' | 'cuda' | 'tensorrt' | 'dml' | 'coreml';
  /** Diffusion packs' steps and guidance; null = the pack's defaults. Ignored by Base-LCM and Quant-LCM packs. */
  sampling: Partial<SamplingSettings> | null;
  /** Quant-LCM packs' temperature and top-k; null (or a field left out) = the pack's defaults. Ignored by the other packs. */
  quantSampling: Partial<QuantSamplingSettings> | null;
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
  /** Quant-LCM temperature/top-k, over the settings' (field by field); ignored by the other packs. */
  quantSampling?: Partial<QuantSamplingSettings>;
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

/**
 * The fragility of a sentence (docs/variants.md, "Fragility"; the LCM paper's
 * definition): its normalized vector is mixed with Gaussian noise at levels
 * α in [0, 1] (√(1 − α)·z + √α·ε), decoded, and each decode scored against the
 * sentence. `score` is the mean BLEU (the paper's auto-encoding score, 0–100,
 * higher = more robust); `fragility` = 100 − score. `chrf` and `cosine` (of the
 * decodes re-encoded by the pack's encoder) are the same mean by other scores.
 */
export interface FragilityReport {
  text: string;
  language: string;
  seed: number;
  score: number;
  fragility: number;
  /** Mean chrF of the noisy decodes against the sentence. */
  chrf: number;
  /** Mean cosine of the noisy decodes' re-encodings with the sentence's vector (−1 to 1). */
  cosine: number;
  /** Mean chrF of the noisy decodes against the plain round trip (how much the noise changes the output). */
  stability: number;
  roundTrip: { decoded: string; bleu: number; chrf: number; cosine: number };
  /** Per noise level α: mean BLEU (`score`), chrF, cosine and stability, and one noisy decode. */
  levels: { noise: number; score: number; chrf: number; cosine: number; stability: number; example: string }[];
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
  /** The fragility score of one sentence: 1 + levels × samples decodes, so the app asks for it on demand. */
  conceptFragility(req: { text: string; language: string; seed?: number; noiseLevels?: number[]; samples?: number }): Promise<FragilityReport>;

  startJob(req: JobRequest & JobOptions): Promise<{ jobId: string }>;
  cancelJob(req: { jobId: string }): Promise<void>;
  onJobEvent(listener: (event: JobEvent) => void): () => void;

  /** A document as a file (File › Export…): the renderer offers it as a download (a save dialog in Electron). */
  exportDocument(req: { id: string; format: ExportFormat }): Promise<ExportedFile>;
  /**
   * Commands chosen in the application menu (Electron only; the web host has
   * no menu and never calls the listener). The renderer runs them as it runs
   * its own buttons and shortcuts.
   */
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;

  /** Model packs (the Models page; docs/app.md, "Model packs"): every pack found, with its state. */
  listPacks(): Promise<PackList>;
  /** Electron: the native folder dialog; `path` null when cancelled. The web host has none (BAD_REQUEST): type the path. */
  choosePackFolder(): Promise<{ path: string | null }>;
  /**
   * Verifies the pack folder fully (every hash and graph), then copies it into
   * the user packs folder (or links it), as `lcm packs add` does. Resolves when
   * it is installed; `onPackEvent` reports the progress meanwhile.
   */
  addPack(req: AddPackRequest): Promise<PackList & { added: string }>;
  /** Deletes an installed pack (a linked one: forgets the link, the folder stays). Bundled packs are refused. */
  removePack(req: { name: string }): Promise<PackList>;
  /** Makes a pack the default (for the app and `lcm`); the app then uses the default (Settings › Model pack empty). */
  setDefaultPack(req: { name: string }): Promise<PackList>;
  /** Verifies an installed pack fully (every hash, every graph); the list holds the outcome. */
  verifyPack(req: { name: string }): Promise<PackList>;
  onPackEvent(listener: (event: PackEvent) => void): () => void;
}

/** Request methods (everything but the event subscriptions). */
export type RequestMethod = Exclude<keyof ConceptStudioApi, 'onJobEvent' | 'onMenuCommand' | 'onPackEvent'>;

/** IPC channel / HTTP path of each request method. */
export const CHANNEL_PREFIX = 'cs:';
export const JOB_EVENT_CHANNEL = 'cs:job-event';
export const MENU_COMMAND_CHANNEL = 'cs:menu-command';
export const PACK_EVENT_CHANNEL = 'cs:pack-event';
export const channelOf = (method: RequestMethod): string => `${CHANNEL_PREFIX}${method}`;

/** Every request method, in one list (the preload and the web client build their API from it). */
export const REQUEST_METHODS = [
  'appInfo', 'getSettings', 'updateSettings',
  'listDocuments', 'createDocument', 'renameDocument', 'deleteDocument', 'openDocument', 'recentDocuments',
  'saveEdits', 'conceptHistory', 'revertConcept', 'acceptCandidate',
  'searchText', 'searchSimilar', 'fidelity', 'conceptFragility',
  'startJob', 'cancelJob',
  'exportDocument',
  'listPacks', 'choosePackFolder', 'addPack', 'removePack', 'setDefaultPack', 'verifyPack',
] as const satisfies readonly RequestMethod[];

// ── additions for the main process, the preload and the web host (docs/app.md) ──

export type ExportFormat = 'markdown' | 'text' | 'json';

export interface ExportedFile {
  /** A file name to suggest: the title made safe, with the format's extension. */
  fileName: string;
  mimeType: string;
  content: string;
}

/** The writer's actions on a concept or document that the Generate menu offers. */
export type GenerateAction = 'continue' | 'regenerate' | 'expand' | 'translate' | 'summarize' | 'fidelity';

/** What an application-menu item asks the renderer to do. */
export type MenuCommand =
  | { command: 'newDocument' }
  | { command: 'openDocument'; documentId: string }
  | { command: 'exportDocument'; format: ExportFormat }
  | { command: 'showLibrary' }
  | { command: 'find' }
  | { command: 'openSettings' }
  | { command: 'showView'; view: 'outline' | 'draft' }
  | { command: 'setTheme'; theme: Settings['theme'] }
  | { command: 'generate'; action: GenerateAction }
  | { command: 'cancelJob' }
  /** Open the language picker for the document's language or the selected concepts'. */
  | { command: 'chooseLanguage'; target: 'document' | 'concept' }
  | { command: 'showShortcuts' }
  | { command: 'about' }
  /** The Models page (model packs). */
  | { command: 'showModels' };

/**
 * Keyboard shortcuts, in Electron accelerator syntax ("CmdOrCtrl" is ⌘ on
 * macOS, Ctrl elsewhere; prosemirror-keymap calls it "Mod"). The menu shows
 * these; the renderer binds the same keys so that they work in the browser
 * too. The Generate and View keys act on the editor's selection, so on Linux
 * and Windows the menu shows them without registering them (the renderer's
 * keymap handles the key; the menu item handles the click); on macOS the
 * menu takes the key and sends the command.
 */
export const SHORTCUTS = {
  newDocument: 'CmdOrCtrl+N',
  showLibrary: 'CmdOrCtrl+0',
  find: 'CmdOrCtrl+F',
  openSettings: 'CmdOrCtrl+,',
  exportMarkdown: 'CmdOrCtrl+E',
  outline: 'CmdOrCtrl+1',
  draft: 'CmdOrCtrl+2',
  continue: 'CmdOrCtrl+Enter',
  regenerate: 'CmdOrCtrl+Shift+Enter',
  expand: 'CmdOrCtrl+Shift+E',
  translate: 'CmdOrCtrl+Shift+L',
  summarize: 'CmdOrCtrl+Shift+S',
  fidelity: 'CmdOrCtrl+Shift+F',
  cancelJob: 'CmdOrCtrl+.',
} as const;

/** What the main process answers on a request channel; the preload unwraps it. */
export type IpcReply<T> = { ok: true; value: T } | { ok: false; error: WireError };

/**
 * True for a rejection reason of a bridge request: both hosts reject with
 * something that has the WireError fields (an Error subclass in the browser;
 * a plain object in Electron, because the context bridge keeps nothing but
 * the message of an Error).
 */
export function isWireError(reason: unknown): reason is WireError {
  if (typeof reason !== 'object' || reason === null) return false;
  const r = reason as Partial<Record<keyof WireError, unknown>>;
  return typeof r.name === 'string' && typeof r.message === 'string' && typeof r.code === 'string';
}

/**
 * The web host: POST `${WEB_API_PATH}<method>` with a JSON body; job and pack events on the WebSocket at
 * WEB_EVENTS_PATH, each with its sequence number `seq`, after a `{ type: 'hello', seq, missed }`; `?since=N`
 * replays the events after N first (src/web/server.ts, journal.ts).
 */
export const WEB_API_PATH = '/api/';
export const WEB_EVENTS_PATH = '/api/events';
/** The per-run token: in this header on requests, or in this query parameter (the page URL, the WebSocket). */
export const WEB_TOKEN_HEADER = 'x-concept-studio-token';
export const WEB_TOKEN_PARAM = 'token';

// ── model packs (docs/app.md, "Model packs") ──

/**
 * Where a pack was found: shipped with the app (resources/models), installed
 * in the user packs folder, linked (used where it is), in a
 * CONCEPT_STUDIO_PACKS folder, or only a path (`lcm serve --pack PATH`,
 * CONCEPT_STUDIO_PACK).
 */
export type PackSource = 'bundled' | 'user' | 'linked' | 'extra' | 'path';

/**
 * - `verified`: every hash and every graph checked (at install, or Verify) and the files unchanged since;
 * - `checked`: the manifest and the file sizes are right; hashes and graphs not checked in this run;
 * - `invalid`: why the pack cannot be used (it names the file and what to do).
 */
export type PackValidation =
  | { state: 'verified'; at: number }
  | { state: 'checked' }
  | { state: 'invalid'; code: string; message: string };

export interface InstalledPack {
  /** The name Settings, `--pack` and the pack methods take (its folder's name, or the name it was linked under). */
  name: string;
  source: PackSource;
  folder: string;
  /** The manifest's name and version (null when the manifest is unreadable). */
  packName: string | null;
  version: string | null;
  description: string | null;
  /** Bytes of the pack's files. */
  bytes: number | null;
  /** FLORES-200 codes the pack supports. */
  languages: string[];
  /** e.g. "two-tower-diffusion". */
  architecture: string | null;
  /** One line: sizes of SONAR and the LCM ("SONAR 1024-d, 24+24 layers; LCM 2048-d, 5+13 layers"). */
  shape: string | null;
  /** The manifest's provenance, as key/value text. */
  provenance: Record<string, string>;
  /** The model card's first paragraph. */
  modelCard: string | null;
  validation: PackValidation;
  /** The default pack (what `lcm` and the app use when nothing else is chosen). */
  isDefault: boolean;
  /** The pack the engine has loaded (or is loading). */
  loaded: boolean;
  /** Another pack of the same name comes first in the search order, so the name means that one. */
  shadowed: boolean;
  /** Installed or linked by the user (bundled and CONCEPT_STUDIO_PACKS packs are not removed here). */
  removable: boolean;
}

export interface PackList {
  packs: InstalledPack[];
  /** The default pack's name, or null. */
  defaultPack: string | null;
  /** Where `addPack` copies packs. */
  userFolder: string;
  /** The host has a native folder dialog (choosePackFolder). */
  folderDialog: boolean;
  /** The host runs a fixed pack (`lcm serve --pack`): Make default and Load apply to its next start. */
  pinned: boolean;
  /** Something to tell the writer about the packs folder (an unreadable packs.json), or null. */
  problem: string | null;
}

export interface AddPackRequest {
  /** The pack folder (the one holding manifest.json): an absolute path, or ~/… on the machine the host runs on. */
  path: string;
  /** Install under this name (default: the manifest's). */
  name?: string;
  /** Use the pack where it is instead of copying it. */
  link?: boolean;
  makeDefault?: boolean;
  /** Replace an installed pack of the same name. */
  replace?: boolean;
}

/** Progress of an addPack: verifying the source, copying (bytes), verifying the copy, done. */
export interface PackEvent {
  type: 'packProgress';
  /** The addPack request's path. */
  path: string;
  name: string;
  phase: 'checking' | 'copying' | 'verifying' | 'done';
  bytesDone: number;
  bytesTotal: number;
  file: string | null;
}
