/**
 * StudioService: every request method of the bridge contract, over the
 * concept store and the engine host, plus the job events. Electron-free:
 * the Electron main process (through the IPC adapter) and the web host
 * (through HTTP and a WebSocket) both serve this one class, and tests call
 * it directly. Payloads arrive already checked (src/main/ipc/validate.ts);
 * the methods check what needs the library (a concept in another document,
 * a pack that lacks a language).
 */
import { resolve } from 'node:path';
import type {
  AddPackRequest, AppInfo, ConceptEdit, ConceptStudioApi, ExportedFile, ExportFormat, Fidelity, FragilityReport, JobEvent, JobOptions, JobRequest, PackEvent, PackList,
  RequestMethod, Settings, SimilarHit, TextHit,
} from '../../shared/contract.ts';
import { getLanguage } from '../../shared/languages.ts';
import type { Candidate, Concept, DocumentInfo, DocumentSummary, Revision } from '../../shared/library.ts';
import { InputError, isCancellation } from '../../inference/errors.ts';
import { resolvePackDir, userPacksDir } from '../../inference/pack/discover.ts';
import { EngineHost, wireOf } from '../engine/host.ts';
import type { PackSummary } from '../engine/protocol.ts';
import { exportDocumentJson } from '../store/jsonFormat.ts';
import { renderMarkdown, renderText } from '../store/markdown.ts';
import { StoreError } from '../store/errors.ts';
import type { ConceptStore } from '../store/store.ts';
import { Embedder } from './embedder.ts';
import { BridgeError } from './errors.ts';
import { JobRunner } from './jobs.ts';
import { PacksService } from './packsService.ts';
import { SettingsFile } from './settings.ts';
import { vectorsFor } from './vectors.ts';

/** The request half of the contract: what a service implements and a host serves. */
export type StudioApi = Pick<ConceptStudioApi, RequestMethod>;

export interface StudioServiceOptions {
  store: ConceptStore;
  engine: EngineHost;
  /** settings.json beside the library; null keeps settings in memory (tests, an in-memory library). */
  settingsPath: string | null;
  version: string;
  host: AppInfo['host'];
  /** The bundled packs folder (resources/models) for resolving the default pack. */
  packsDir?: string;
  env?: NodeJS.ProcessEnv;
  /** A pack folder to use whatever the settings say (`lcm serve --pack`). */
  packOverride?: string;
  log?: (message: string) => void;
  /** Milliseconds the background embedder waits after a save (tests shorten it). */
  embedDelayMs?: number;
  /** The user packs folder (default: userPacksDir(env), i.e. <userData>/packs or $CONCEPT_STUDIO_USER_PACKS). */
  userPacksDir?: string;
  /** A fresh engine host for one full pack verification (the Electron build passes its worker bundle). */
  verifier?: () => EngineHost;
  /** The native folder dialog (Electron); the web host has none. Resolves null when cancelled. */
  chooseFolder?: () => Promise<string | null>;
}

type Listener<T> = (value: T) => void;

class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  on(listener: Listener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  fire(value: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(value);
      } catch {
        // A listener's failure (a closed window, a dropped socket) must not stop the others or the job.
      }
    }
  }
}

const EXPORTS: Record<ExportFormat, { extension: string; mimeType: string }> = {
  markdown: { extension: 'md', mimeType: 'text/markdown; charset=utf-8' },
  text: { extension: 'txt', mimeType: 'text/plain; charset=utf-8' },
  json: { extension: 'json', mimeType: 'application/json' },
};

/** A file name from a title: no path separators or characters Windows forbids, at most 100 characters. */
export function safeFileName(title: string, extension: string): string {
  const base = title.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ').replace(/\s+/g, ' ').trim().replace(/^\.+/, '').slice(0, 100).trim();
  return `${base || 'document'}.${extension}`;
}

export class StudioService implements StudioApi {
  readonly store: ConceptStore;
  readonly engine: EngineHost;
  readonly settingsFile: SettingsFile;
  readonly jobs: JobRunner;
  readonly embedder: Embedder;
  private readonly jobEvents = new Emitter<JobEvent>();
  private readonly recentChanged = new Emitter<void>();
  private readonly settingsChanged = new Emitter<Settings>();
  private readonly packEvents = new Emitter<PackEvent>();
  readonly packs: PacksService;
  private readonly log: (message: string) => void;
  private providersCache: Promise<{ available: string[]; running: string | null }> | undefined;

  constructor(private readonly options: StudioServiceOptions) {
    this.store = options.store;
    this.engine = options.engine;
    this.log = options.log ?? ((m) => process.stderr.write(`concept-studio: ${m}\n`));
    this.settingsFile = new SettingsFile(options.settingsPath);
    if (this.settingsFile.problem) this.log(this.settingsFile.problem);
    this.jobs = new JobRunner(this.store, this.engine, this.settingsFile, (e) => this.jobEvents.fire(e));
    this.embedder = new Embedder(this.store, this.engine, () => this.jobs.idle(), this.log, options.embedDelayMs);
    const env = options.env ?? process.env;
    this.packs = new PacksService({
      env,
      ...(options.packsDir ? { bundled: options.packsDir } : {}),
      userDir: options.userPacksDir ?? userPacksDir(env),
      verifier: options.verifier ?? (() => new EngineHost()),
      loadedFolder: () => this.loadedFolder(),
      pinned: options.packOverride !== undefined,
      folderDialog: options.chooseFolder !== undefined,
      onEvent: (e) => this.packEvents.fire(e),
    });
    this.loadEngine();
  }

  // ── events ───────────────────────────────────────────────────────────────

  onJobEvent(listener: (event: JobEvent) => void): () => void {
    return this.jobEvents.on(listener);
  }

  /** The recent-documents list changed (the File › Open Recent menu rebuilds). */
  onDidChangeRecent(listener: () => void): () => void {
    return this.recentChanged.on(listener);
  }

  onDidChangeSettings(listener: (settings: Settings) => void): () => void {
    return this.settingsChanged.on(listener);
  }

  /** Progress of pack installs (the Models page). */
  onPackEvent(listener: (event: PackEvent) => void): () => void {
    return this.packEvents.on(listener);
  }

  // ── app and settings ─────────────────────────────────────────────────────

  /** The pack folder the settings name (or the default); throws a PackError when there is none. */
  private wantedPackDir(): string {
    const env = this.options.env ?? process.env;
    return this.options.packOverride ?? resolvePackDir(this.settingsFile.settings.pack ?? undefined, env, this.options.packsDir, this.packs.userDir);
  }

  /** The folder of the pack the engine has loaded or is loading. */
  private loadedFolder(): string | null {
    const s = this.engine.state;
    return s.state === 'ready' ? s.pack.folder : s.state === 'loading' ? s.packDir : null;
  }

  /** Loads the pack the settings name (or the default); a failure is kept as the engine's state, never thrown. */
  private loadEngine(): void {
    const s = this.settingsFile.settings;
    this.providersCache = undefined;
    let packDir: string;
    try {
      packDir = this.wantedPackDir();
    } catch (error) {
      this.engine.fail(wireOf(error));
      return;
    }
    this.engine.load({ packDir, provider: s.provider }).then(
      () => this.embedder.schedule(),
      (error: unknown) => {
        // A load replaced by a newer one (the writer changed the pack again) is not a failure worth logging.
        if (!isCancellation(error)) this.log(`The model pack at ${packDir} did not load: ${(error as Error).message}`);
      },
    );
  }

  async appInfo(): Promise<AppInfo> {
    await this.engine.ready().catch(() => undefined);
    const state = this.engine.state;
    const pack: AppInfo['pack'] = state.state === 'ready'
      ? { name: state.pack.name, version: state.pack.version, languages: state.pack.languages, embeddingDim: state.pack.embeddingDim, sampling: state.pack.sampling, trainSteps: state.pack.trainSteps, quantSampling: state.pack.quantSampling, codebookSize: state.pack.codebookSize, architecture: state.pack.architecture }
      : { error: state.state === 'failed' ? state.error.message : 'No model pack is loaded.' };
    this.providersCache ??= this.engine.providers().catch(() => ({ available: ['cpu'], running: null }));
    const providers = await this.providersCache;
    return { version: this.options.version, pack, providers: providers.available, provider: providers.running ?? this.settingsFile.settings.provider, host: this.options.host };
  }

  async getSettings(): Promise<Settings> {
    return this.settingsFile.settings;
  }

  async updateSettings(patch: Partial<Settings>): Promise<Settings> {
    const before = this.settingsFile.settings;
    const after = this.settingsFile.update(patch);
    if (after.pack !== before.pack || after.provider !== before.provider) {
      // Running jobs end as cancelled when their worker goes; appInfo waits for the new pack.
      this.jobs.cancelAll();
      this.loadEngine();
    }
    this.settingsChanged.fire(after);
    return after;
  }

  // ── model packs (the Models page) ──────────────────────────────────────

  /**
   * Loads the pack the settings now resolve to if it is not the one loaded
   * (a new default, a removed pack), or always with `force` (a replaced
   * pack). Running jobs end as cancelled, as for a change in Settings.
   */
  private reloadIfChanged(force = false): void {
    let wanted: string | null;
    try {
      wanted = resolve(this.wantedPackDir());
    } catch {
      wanted = null;
    }
    const loaded = this.loadedFolder();
    if (!force && wanted === (loaded === null ? null : resolve(loaded)) && this.engine.state.state !== 'failed') return;
    this.jobs.cancelAll();
    this.loadEngine();
  }

  /** The app follows the default pack from now on (Settings › Model pack empty). */
  private followDefault(): void {
    if (this.settingsFile.settings.pack === null) return;
    this.settingsChanged.fire(this.settingsFile.update({ pack: null }));
  }

  async listPacks(): Promise<PackList> {
    return this.packs.list();
  }

  async choosePackFolder(): Promise<{ path: string | null }> {
    if (!this.options.chooseFolder) {
      throw new BridgeError('BAD_REQUEST', 'There is no folder dialog here (the editor runs in a browser): type the full path of the pack folder on the machine that runs `lcm serve`.');
    }
    return { path: await this.options.chooseFolder() };
  }

  async addPack(req: AddPackRequest): Promise<PackList & { added: string }> {
    const result = await this.packs.add(req);
    if (req.makeDefault) this.followDefault();
    const loaded = this.loadedFolder();
    this.reloadIfChanged(result.replaced && loaded !== null && resolve(loaded) === resolve(result.dir));
    return { ...(await this.packs.list()), added: result.name };
  }

  async removePack(req: { name: string }): Promise<PackList> {
    const found = this.packs.find(req.name);
    const loaded = this.loadedFolder();
    if (found && (found.source === 'user' || found.source === 'linked') && loaded !== null && resolve(loaded) === resolve(found.dir)) {
      // Let go of the pack before its files go (Windows cannot delete files a process has open).
      this.jobs.cancelAll();
      this.engine.fail({ name: 'PackError', message: `The model pack ${req.name} was removed.`, code: 'PACK_NOT_FOUND' });
    }
    const result = await this.packs.remove(req.name);
    const chosen = this.settingsFile.settings.pack;
    if (chosen !== null && (chosen === req.name || resolve(chosen) === resolve(result.removed.dir))) this.followDefault();
    this.reloadIfChanged();
    return this.packs.list();
  }

  async setDefaultPack(req: { name: string }): Promise<PackList> {
    await this.packs.setDefault(req.name);
    this.followDefault();
    this.reloadIfChanged();
    return this.packs.list();
  }

  async verifyPack(req: { name: string }): Promise<PackList> {
    await this.packs.verify(req.name);
    return this.packs.list();
  }

  // ── documents ────────────────────────────────────────────────────────────

  async listDocuments(): Promise<DocumentSummary[]> {
    return this.store.listDocuments();
  }

  async createDocument(req: { title: string; language: string }): Promise<DocumentInfo> {
    return this.store.createDocument(req);
  }

  async renameDocument(req: { id: string; title: string }): Promise<DocumentInfo> {
    const doc = this.store.renameDocument(req.id, req.title);
    if (this.settingsFile.recentDocuments.includes(req.id)) this.recentChanged.fire();
    return doc;
  }

  async deleteDocument(req: { id: string }): Promise<void> {
    this.store.deleteDocument(req.id);
    this.settingsFile.forgetRecent(req.id);
    this.recentChanged.fire();
  }

  async openDocument(req: { id: string }): Promise<{ document: DocumentInfo; concepts: Concept[] }> {
    const result = this.store.read('open a document', () => ({ document: this.store.getDocument(req.id), concepts: this.store.listConcepts(req.id) }));
    this.settingsFile.touchRecent(req.id);
    this.recentChanged.fire();
    this.embedder.schedule(req.id);
    return result;
  }

  async recentDocuments(): Promise<DocumentSummary[]> {
    const byId = new Map(this.store.listDocuments().map((d) => [d.id, d]));
    return this.settingsFile.recentDocuments.flatMap((id) => byId.get(id) ?? []);
  }

  async exportDocument(req: { id: string; format: ExportFormat }): Promise<ExportedFile> {
    const doc = this.store.getDocument(req.id);
    const { extension, mimeType } = EXPORTS[req.format];
    const content = req.format === 'json'
      ? `${JSON.stringify(exportDocumentJson(this.store, req.id, { embeddings: 'none' }), null, 2)}\n`
      : (req.format === 'markdown' ? renderMarkdown : renderText)(this.store.listConcepts(req.id));
    return { fileName: safeFileName(doc.title, extension), mimeType, content };
  }

  // ── concepts ─────────────────────────────────────────────────────────────

  async saveEdits(req: { documentId: string; edits: ConceptEdit[] }): Promise<Concept[]> {
    const { documentId, edits } = req;
    const concepts = this.store.write('save edits', () => {
      this.store.getDocument(documentId);
      edits.forEach((edit, i) => {
        try {
          this.applyEdit(documentId, edit);
        } catch (error) {
          if (error instanceof Error) error.message = `Edit ${i + 1} of ${edits.length} (${edit.op} ${edit.op === 'insert' ? edit.concept.id : edit.id}): ${error.message}`;
          throw error;
        }
      });
      this.store.checkOutline(documentId);
      return this.store.listConcepts(documentId);
    });
    this.embedder.schedule(documentId);
    return concepts;
  }

  private applyEdit(documentId: string, edit: ConceptEdit): void {
    const own = (id: string) => {
      if (this.store.getConcept(id).documentId !== documentId) throw new BridgeError('BAD_REQUEST', `Concept ${id} belongs to another document.`);
    };
    switch (edit.op) {
      case 'insert':
        if (this.store.read('check an id', () => this.store.db.prepare('SELECT 1 FROM concepts WHERE id = ?').pluck().get(edit.concept.id))) {
          throw new StoreError('STORE_CONFLICT', `Concept id ${edit.concept.id} is taken; an inserted concept needs a new id.`);
        }
        this.store.insertConcept(documentId, edit.concept, { after: edit.after });
        return;
      case 'update':
        own(edit.id);
        this.store.updateConcept(edit.id, edit.patch);
        return;
      case 'delete':
        own(edit.id);
        this.store.deleteConcept(edit.id);
        return;
      case 'move':
        own(edit.id);
        this.store.moveConcept(edit.id, edit.after, edit.parentId);
    }
  }

  async conceptHistory(req: { id: string }): Promise<{ revisions: Revision[]; candidates: Candidate[] }> {
    return this.store.read('read a concept\'s history', () => ({ revisions: this.store.revisions(req.id), candidates: this.store.candidates(req.id) }));
  }

  async revertConcept(req: { id: string; revisionId: number }): Promise<Concept> {
    const concept = this.store.revertConcept(req.id, req.revisionId);
    this.embedder.schedule(concept.documentId);
    return concept;
  }

  async acceptCandidate(req: { candidateId: number }): Promise<Concept> {
    const concept = this.store.acceptCandidate(req.candidateId);
    this.embedder.schedule(concept.documentId);
    return concept;
  }

  // ── search and fidelity ──────────────────────────────────────────────────

  private titles(): (documentId: string) => string {
    const cache = new Map<string, string>();
    return (id) => {
      let t = cache.get(id);
      if (t === undefined) cache.set(id, (t = this.store.getDocument(id).title));
      return t;
    };
  }

  async searchText(req: { query: string; documentId?: string; language?: string; limit?: number }): Promise<TextHit[]> {
    const title = this.titles();
    const { query, ...filter } = req;
    return this.store.searchText(query, filter).map((h) => ({ concept: h.concept, documentTitle: title(h.concept.documentId) }));
  }

  private supported(pack: PackSummary, code: string): string {
    if (!pack.languages.includes(code)) throw new InputError(`Pack ${pack.name} does not support ${getLanguage(code)?.name ?? code} (${code}); it supports: ${pack.languages.join(', ')}.`, 'UNSUPPORTED_LANGUAGE');
    return code;
  }

  /**
   * Nearest concepts across the library to a text (encoded in `language`,
   * default the settings' default language; not stored) or to a concept
   * (its cached vector; the concept itself is left out).
   */
  async searchSimilar(req: { query?: string; language?: string; conceptId?: string; documentId?: string; limit?: number }): Promise<SimilarHit[]> {
    const pack = await this.engine.ready();
    const limit = req.limit ?? 10;
    let vector: Float32Array;
    if (req.conceptId !== undefined) {
      const c = this.store.getConcept(req.conceptId);
      if (!c.text.trim()) return [];
      this.supported(pack, c.language);
      [vector] = (await vectorsFor(this.store, this.engine, pack, [{ language: c.language, text: c.text }])) as [Float32Array];
    } else {
      const lang = this.supported(pack, req.language ?? this.settingsFile.settings.defaultLanguage);
      [vector] = (await this.engine.call('encode', { texts: [req.query!], lang })) as [Float32Array];
    }
    const result = this.store.searchSemantic(pack.key, vector, { limit: Math.min(1000, limit + (req.conceptId ? 1 : 0)), ...(req.documentId ? { documentId: req.documentId } : {}) });
    const title = this.titles();
    return result.hits
      .filter((h) => h.concept.id !== req.conceptId)
      .slice(0, limit)
      .map((h) => ({ concept: h.concept, documentTitle: title(h.concept.documentId), similarity: 1 - h.distance }));
  }

  async fidelity(req: { text: string; language: string }): Promise<Fidelity> {
    const pack = await this.engine.ready();
    this.supported(pack, req.language);
    const [r] = await this.engine.call('roundTrip', { texts: [req.text], lang: req.language });
    return { text: r!.text, decoded: r!.decoded, chrf: r!.chrf };
  }

  /** The fragility score (docs/variants.md): seeded (default seed 0, so the same sentence gives the same figure). */
  async conceptFragility(req: { text: string; language: string; seed?: number; noiseLevels?: number[]; samples?: number }): Promise<FragilityReport> {
    const pack = await this.engine.ready();
    this.supported(pack, req.language);
    const r = await this.engine.call('fragility', {
      text: req.text, lang: req.language, seed: req.seed ?? 0,
      ...(req.noiseLevels ? { noiseLevels: req.noiseLevels } : {}), ...(req.samples ? { samples: req.samples } : {}),
    });
    return {
      text: r.text, language: r.lang, seed: r.seed, score: r.score, fragility: r.fragility, chrf: r.chrf, cosine: r.cosine, stability: r.stability,
      roundTrip: { decoded: r.roundTrip.decoded, bleu: r.roundTrip.bleu, chrf: r.roundTrip.chrf, cosine: r.roundTrip.cosine },
      levels: r.levels.map((l) => ({
        noise: l.noise, score: l.bleu, chrf: l.chrf, cosine: l.cosine, stability: l.stability, example: l.samples[0]?.decoded ?? '',
      })),
    };
  }

  // ── jobs ─────────────────────────────────────────────────────────────────

  async startJob(req: JobRequest & JobOptions): Promise<{ jobId: string }> {
    return this.jobs.start(req);
  }

  async cancelJob(req: { jobId: string }): Promise<void> {
    this.jobs.cancel(req.jobId);
  }

  /** Cancels the jobs, stops background work and the engine worker (the caller closes the store). */
  async close(): Promise<void> {
    this.embedder.stop();
    this.jobs.cancelAll();
    await this.engine.close();
    await this.jobs.idle();
  }
}
