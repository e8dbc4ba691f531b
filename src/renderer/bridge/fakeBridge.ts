/**
 * An in-memory ConceptStudioApi for unit tests and for working on the page
 * without the engine. It applies `saveEdits` with the store's rules
 * (src/main/store/store.ts: insert after a concept, a deleted concept's
 * children move up to its parent, depth follows the parent chain, a new text
 * without provenance is typed and keeps the old text as a revision) and throws
 * where the store would, so tests of the autosave diff catch what the real
 * store would reject. Jobs emit deterministic fake concepts on a timer
 * (`autoRun`) or only when a test calls `emit`.
 */
import type {
  AddPackRequest, AppInfo, ConceptEdit, ConceptStudioApi, ExportedFile, ExportFormat, Fidelity, FragilityReport, InstalledPack, JobEvent, JobOptions, JobRequest, MenuCommand,
  PackEvent, PackList, Settings, SimilarHit, TextHit, WireError,
} from '../../shared/contract.ts';
import type { Candidate, Concept, DocumentInfo, DocumentSummary, NewConcept, Revision } from '../../shared/library.ts';

export interface FakeBridgeOptions {
  /** Languages the fake pack "supports". */
  packLanguages?: string[];
  /** The clock (tests pass a counter). */
  now?: () => number;
}

const clone = <T>(v: T): T => structuredClone(v);

/** The fake: public maps so tests can look at what was "stored". */
export class FakeBridge implements ConceptStudioApi {
  readonly documents = new Map<string, DocumentInfo>();
  /** Each document's concepts in reading order. */
  readonly concepts = new Map<string, Concept[]>();
  readonly revisions: Revision[] = [];
  readonly candidates: Candidate[] = [];
  readonly saved: { documentId: string; edits: ConceptEdit[] }[] = [];
  readonly started: (JobRequest & JobOptions & { jobId: string })[] = [];
  readonly cancelled: string[] = [];
  /** conceptFragility requests, for tests. */
  readonly fragilityRequests: { text: string; language: string; seed?: number; noiseLevels?: number[]; samples?: number }[] = [];
  settings: Settings = { pack: null, provider: 'cpu', sampling: null, quantSampling: null, seed: null, theme: 'system', defaultLanguage: 'eng_Latn' };
  private readonly listeners = new Set<(e: JobEvent) => void>();
  private counter = 0;
  private readonly now: () => number;

  constructor(private readonly options: FakeBridgeOptions = {}) {
    this.now = options.now ?? (() => Date.now());
  }

  private id(prefix: string): string {
    this.counter++;
    return `${prefix}-${String(this.counter).padStart(6, '0')}`;
  }

  async appInfo(): Promise<AppInfo> {
    return {
      version: '0.0.0-fake', providers: ['cpu'], provider: 'cpu', host: 'web',
      pack: { name: 'fake', version: '0', languages: this.options.packLanguages ?? ['eng_Latn', 'fra_Latn', 'zho_Hans', 'arb_Arab'], embeddingDim: 32, architecture: 'two-tower-diffusion', trainSteps: 100, sampling: { inferenceSteps: 40, guidanceScale: 3, spacing: 'trailing' }, quantSampling: null, codebookSize: null },
    };
  }

  async getSettings(): Promise<Settings> { return clone(this.settings); }
  async updateSettings(patch: Partial<Settings>): Promise<Settings> {
    this.settings = { ...this.settings, ...patch };
    return clone(this.settings);
  }

  async listDocuments(): Promise<DocumentSummary[]> {
    return [...this.documents.values()].sort((a, b) => b.updatedAt - a.updatedAt).map((d) => ({ ...d, conceptCount: this.concepts.get(d.id)!.length }));
  }
  async recentDocuments(): Promise<DocumentSummary[]> { return (await this.listDocuments()).slice(0, 10); }

  async createDocument(req: { title: string; language: string }): Promise<DocumentInfo> {
    const t = this.now();
    const doc: DocumentInfo = { id: this.id('doc'), title: req.title, language: req.language, createdAt: t, updatedAt: t };
    this.documents.set(doc.id, doc);
    this.concepts.set(doc.id, []);
    return clone(doc);
  }
  async renameDocument(req: { id: string; title: string }): Promise<DocumentInfo> {
    const doc = this.doc(req.id);
    doc.title = req.title;
    doc.updatedAt = this.now();
    return clone(doc);
  }
  async deleteDocument(req: { id: string }): Promise<void> {
    this.doc(req.id);
    this.documents.delete(req.id);
    this.concepts.delete(req.id);
  }
  async openDocument(req: { id: string }): Promise<{ document: DocumentInfo; concepts: Concept[] }> {
    return clone({ document: this.doc(req.id), concepts: this.concepts.get(req.id)! });
  }

  private doc(id: string): DocumentInfo {
    const doc = this.documents.get(id);
    if (!doc) throw new RangeError(`No document with id ${id}.`);
    return doc;
  }

  private locate(id: string): { list: Concept[]; index: number; concept: Concept } {
    for (const list of this.concepts.values()) {
      const index = list.findIndex((c) => c.id === id);
      if (index >= 0) return { list, index, concept: list[index]! };
    }
    throw new RangeError(`No concept with id ${id}.`);
  }

  /** Depths from parent chains, positions from order (the store's invariants). */
  private renumber(list: Concept[]): void {
    const depth = new Map<string, number>();
    list.forEach((c, i) => {
      if (c.parentId !== null && !depth.has(c.parentId)) throw new RangeError(`Concept ${c.id}: its parent ${c.parentId} must come before it.`);
      c.depth = c.parentId === null ? 0 : depth.get(c.parentId)! + 1;
      depth.set(c.id, c.depth);
      c.position = String(i).padStart(8, '0');
    });
  }

  async saveEdits(req: { documentId: string; edits: ConceptEdit[] }): Promise<Concept[]> {
    const doc = this.doc(req.documentId);
    // All or nothing, as one transaction.
    const list = clone(this.concepts.get(req.documentId)!);
    const revisions: Revision[] = [];
    const t = this.now();
    const indexOf = (id: string) => {
      const i = list.findIndex((c) => c.id === id);
      if (i < 0) throw new RangeError(`No concept with id ${id} in document ${req.documentId}.`);
      return i;
    };
    const place = (c: Concept, after: string | null) => list.splice(after === null ? 0 : indexOf(after) + 1, 0, c);
    for (const e of req.edits) {
      switch (e.op) {
        case 'insert': {
          if (list.some((c) => c.id === e.concept.id)) throw new RangeError(`Concept ${e.concept.id} already exists.`);
          const n: NewConcept & { id: string } = e.concept;
          place({
            id: n.id, documentId: doc.id, position: '', parentId: n.parentId ?? null, depth: 0, block: n.block ?? 'paragraph',
            blockStart: n.blockStart ?? true, marker: n.marker ?? null, text: n.text, language: n.language ?? doc.language,
            origin: n.origin ?? 'typed', pack: n.pack ?? null, seed: n.seed ?? null, params: n.params ?? null, jobId: n.jobId ?? null, createdAt: t, updatedAt: t,
          }, e.after);
          // The store checks an inserted concept's parent at once (a move's only after the batch).
          if (n.parentId && indexOf(n.parentId) > indexOf(n.id)) throw new RangeError(`Concept ${n.id}: its parent ${n.parentId} must come before it.`);
          break;
        }
        case 'update': {
          const c = list[indexOf(e.id)]!;
          const p = e.patch;
          if ((p.text !== undefined && p.text !== c.text) || (p.language !== undefined && p.language !== c.language)) {
            revisions.push({ id: this.revisions.length + revisions.length + 1, conceptId: c.id, text: c.text, language: c.language, writtenAt: c.updatedAt, replacedAt: t, origin: c.origin, pack: c.pack, seed: c.seed, params: c.params, jobId: c.jobId });
          }
          const typed = p.text !== undefined && p.text !== c.text && p.origin === undefined;
          Object.assign(c, p, typed ? { origin: 'typed', pack: null, seed: null, params: null, jobId: null } : {}, { updatedAt: t });
          break;
        }
        case 'delete': {
          const [gone] = list.splice(indexOf(e.id), 1);
          for (const c of list) if (c.parentId === gone!.id) c.parentId = gone!.parentId;
          break;
        }
        case 'move': {
          // As the store: the new parent must not be the concept or nested in it (by the current parent chains).
          for (let p = e.parentId; p !== null; p = list[indexOf(p)]!.parentId) {
            if (p === e.id) throw new RangeError(`Cannot move concept ${e.id} under ${e.parentId}: that concept is nested inside it.`);
          }
          const [c] = list.splice(indexOf(e.id), 1);
          c!.parentId = e.parentId;
          place(c!, e.after);
          break;
        }
      }
    }
    this.renumber(list);
    this.concepts.set(doc.id, list);
    this.revisions.push(...revisions);
    this.saved.push(clone(req));
    doc.updatedAt = t;
    return clone(list);
  }

  async conceptHistory(req: { id: string }): Promise<{ revisions: Revision[]; candidates: Candidate[] }> {
    this.locate(req.id);
    return clone({ revisions: this.revisions.filter((r) => r.conceptId === req.id).reverse(), candidates: this.candidates.filter((c) => c.conceptId === req.id) });
  }

  async revertConcept(req: { id: string; revisionId: number }): Promise<Concept> {
    const { concept } = this.locate(req.id);
    const r = this.revisions.find((x) => x.id === req.revisionId && x.conceptId === req.id);
    if (!r) throw new RangeError(`Concept ${req.id} has no revision ${req.revisionId}.`);
    this.revisions.push({ ...r, id: this.revisions.length + 1, text: concept.text, language: concept.language, replacedAt: this.now() });
    Object.assign(concept, { text: r.text, language: r.language, origin: r.origin, pack: r.pack, seed: r.seed, params: r.params, jobId: r.jobId });
    return clone(concept);
  }

  async acceptCandidate(req: { candidateId: number }): Promise<Concept> {
    const cand = this.candidates.find((c) => c.id === req.candidateId);
    if (!cand) throw new RangeError(`No candidate ${req.candidateId}.`);
    const { concept } = this.locate(cand.conceptId);
    this.revisions.push({ id: this.revisions.length + 1, conceptId: concept.id, text: concept.text, language: concept.language, writtenAt: concept.updatedAt, replacedAt: this.now(), origin: concept.origin, pack: concept.pack, seed: concept.seed, params: concept.params, jobId: concept.jobId });
    Object.assign(concept, { text: cand.text, language: cand.language, origin: cand.origin, pack: cand.pack, seed: cand.seed, params: cand.params, jobId: cand.jobId, updatedAt: this.now() });
    return clone(concept);
  }

  async searchText(req: { query: string; documentId?: string; limit?: number }): Promise<TextHit[]> {
    const q = req.query.toLowerCase();
    const hits: TextHit[] = [];
    for (const [docId, list] of this.concepts) {
      if (req.documentId && docId !== req.documentId) continue;
      for (const c of list) if (q !== '' && c.text.toLowerCase().includes(q)) hits.push({ concept: clone(c), documentTitle: this.doc(docId).title });
    }
    return hits.slice(0, req.limit ?? 20);
  }

  async searchSimilar(req: { query?: string; conceptId?: string; limit?: number }): Promise<SimilarHit[]> {
    const probe = req.conceptId ? this.locate(req.conceptId).concept.text : (req.query ?? '');
    // Similarity of character bigram sets: deterministic and good enough to order a fake library.
    const grams = (s: string) => new Set(Array.from({ length: Math.max(0, s.length - 1) }, (_, i) => s.slice(i, i + 2).toLowerCase()));
    const p = grams(probe);
    const hits: SimilarHit[] = [];
    for (const [docId, list] of this.concepts) {
      for (const c of list) {
        if (c.id === req.conceptId) continue;
        const g = grams(c.text);
        const inter = [...g].filter((x) => p.has(x)).length;
        const union = new Set([...g, ...p]).size;
        hits.push({ concept: clone(c), documentTitle: this.doc(docId).title, similarity: union === 0 ? 0 : inter / union });
      }
    }
    return hits.sort((a, b) => b.similarity - a.similarity).slice(0, req.limit ?? 10);
  }

  async fidelity(req: { text: string; language: string }): Promise<Fidelity> {
    return { text: req.text, decoded: req.text.toLowerCase(), chrf: req.text === req.text.toLowerCase() ? 100 : 87.5 };
  }

  /** A stand-in fragility: the scores fall with the noise level (the real one decodes noisy vectors). */
  async conceptFragility(req: { text: string; language: string; seed?: number; noiseLevels?: number[]; samples?: number }): Promise<FragilityReport> {
    this.fragilityRequests.push(clone(req));
    const levels = (req.noiseLevels ?? [0.1, 0.3, 0.5, 0.7, 0.9]).map((noise) => ({
      noise, score: Math.max(0, 100 - 120 * noise), chrf: Math.max(0, 100 - 100 * noise), cosine: 1 - noise, stability: Math.max(0, 100 - 110 * noise),
      example: req.text.slice(0, Math.max(1, Math.round(req.text.length * (1 - noise)))),
    }));
    const avg = (key: 'score' | 'chrf' | 'cosine' | 'stability') => levels.reduce((t, l) => t + l[key], 0) / levels.length;
    return {
      text: req.text, language: req.language, seed: req.seed ?? 0, score: avg('score'), fragility: 100 - avg('score'), chrf: avg('chrf'), cosine: avg('cosine'),
      stability: avg('stability'), roundTrip: { decoded: req.text, bleu: 100, chrf: 100, cosine: 1 }, levels,
    };
  }

  async startJob(req: JobRequest & JobOptions): Promise<{ jobId: string }> {
    this.doc(req.documentId);
    const jobId = this.id('job');
    this.started.push({ ...clone(req), jobId });
    return { jobId };
  }

  async cancelJob(req: { jobId: string }): Promise<void> {
    this.cancelled.push(req.jobId);
  }

  onJobEvent(listener: (event: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async exportDocument(req: { id: string; format: ExportFormat }): Promise<ExportedFile> {
    const doc = this.doc(req.id);
    const list = this.concepts.get(req.id)!;
    if (req.format === 'json') return { fileName: `${doc.title}.json`, mimeType: 'application/json', content: JSON.stringify({ document: doc, concepts: list }) };
    const ext = req.format === 'markdown' ? 'md' : 'txt';
    return { fileName: `${doc.title}.${ext}`, mimeType: req.format === 'markdown' ? 'text/markdown' : 'text/plain', content: list.map((c) => c.text).join(' ') };
  }

  private readonly menuListeners = new Set<(c: MenuCommand) => void>();

  onMenuCommand(listener: (command: MenuCommand) => void): () => void {
    this.menuListeners.add(listener);
    return () => this.menuListeners.delete(listener);
  }

  /** Sends a menu command (tests of the app's menu handling). */
  menu(command: MenuCommand): void {
    for (const l of [...this.menuListeners]) l(command);
  }

  /** Sends an event to every listener (tests drive jobs with this). */
  emit(event: JobEvent): void {
    for (const l of [...this.listeners]) l(clone(event));
  }

  // ── model packs: an in-memory list; tests set `packError` to make the next pack request fail ──

  readonly packs: InstalledPack[] = [fakePack('fake', { source: 'bundled', isDefault: true, loaded: true, removable: false })];
  /** choosePackFolder's answer (null: cancelled); undefined: no dialog, as in the browser. */
  folderChoice: string | null | undefined = undefined;
  /** The next pack request fails with this. */
  packError: WireError | null = null;
  readonly packRequests: { method: string; req: unknown }[] = [];
  private readonly packListeners = new Set<(e: PackEvent) => void>();

  private packList(): PackList {
    return { packs: clone(this.packs), defaultPack: this.packs.find((p) => p.isDefault)?.name ?? null, userFolder: '/home/writer/.config/Concept Studio/packs', folderDialog: this.folderChoice !== undefined, pinned: false, problem: null };
  }

  private packCall(method: string, req: unknown): void {
    this.packRequests.push({ method, req: clone(req) });
    const error = this.packError;
    this.packError = null;
    if (error) throw { ...error };
  }

  private namedPack(name: string): InstalledPack {
    const p = this.packs.find((x) => x.name === name);
    if (!p) throw { name: 'PackError', code: 'PACK_NOT_FOUND', message: `Model pack \`${name}\`: no installed pack has this name.` };
    return p;
  }

  async listPacks(): Promise<PackList> {
    return this.packList();
  }

  async choosePackFolder(): Promise<{ path: string | null }> {
    if (this.folderChoice === undefined) throw { name: 'BridgeError', code: 'BAD_REQUEST', message: 'There is no folder dialog here: type the full path.' };
    return { path: this.folderChoice };
  }

  async addPack(req: AddPackRequest): Promise<PackList & { added: string }> {
    this.packCall('addPack', req);
    const name = req.name ?? req.path.split('/').filter(Boolean).at(-1)!;
    for (const phase of ['checking', 'copying', 'verifying', 'done'] as const) {
      const event: PackEvent = { type: 'packProgress', path: req.path, name, phase, bytesDone: phase === 'checking' ? 0 : 2_000_000, bytesTotal: 2_000_000, file: null };
      for (const l of [...this.packListeners]) l(event);
    }
    if (req.makeDefault) for (const p of this.packs) p.isDefault = false;
    this.packs.push(fakePack(name, { source: req.link ? 'linked' : 'user', folder: req.link ? req.path : `/home/writer/.config/Concept Studio/packs/${name}`, isDefault: Boolean(req.makeDefault), validation: { state: 'verified', at: this.now() } }));
    return { ...this.packList(), added: name };
  }

  async removePack(req: { name: string }): Promise<PackList> {
    this.packCall('removePack', req);
    const p = this.namedPack(req.name);
    this.packs.splice(this.packs.indexOf(p), 1);
    return this.packList();
  }

  async setDefaultPack(req: { name: string }): Promise<PackList> {
    this.packCall('setDefaultPack', req);
    const target = this.namedPack(req.name);
    for (const p of this.packs) p.isDefault = p === target;
    this.settings.pack = null;
    return this.packList();
  }

  async verifyPack(req: { name: string }): Promise<PackList> {
    this.packCall('verifyPack', req);
    const p = this.namedPack(req.name);
    if (p.validation.state !== 'invalid') p.validation = { state: 'verified', at: this.now() };
    return this.packList();
  }

  onPackEvent(listener: (event: PackEvent) => void): () => void {
    this.packListeners.add(listener);
    return () => this.packListeners.delete(listener);
  }

  /** Adds candidates for a concept as a regenerate job would (returns them with their ids). */
  addCandidates(conceptId: string, texts: string[], jobId: string): Candidate[] {
    const { concept } = this.locate(conceptId);
    const made = texts.map((text, i): Candidate => ({
      id: this.candidates.length + i + 1, conceptId, text, language: concept.language, createdAt: this.now(),
      origin: 'generated', pack: 'fake@0', seed: 7, params: { kind: 'regenerate' }, jobId,
    }));
    this.candidates.push(...made);
    return made;
  }
}

/** A pack as the list shows it, with the tiny fixture's facts. */
export function fakePack(name: string, over: Partial<InstalledPack> = {}): InstalledPack {
  return {
    name, source: 'user', folder: `/packs/${name}`, packName: name, version: '1.0.0', description: 'Random weights for tests.', bytes: 2_102_861,
    languages: ['eng_Latn', 'fra_Latn', 'deu_Latn', 'rus_Cyrl', 'zho_Hans', 'jpn_Jpan', 'arb_Arab', 'hin_Deva'],
    architecture: 'two-tower-diffusion', shape: 'SONAR 32-d, 2+2 layers; LCM 48-d, 2+2 layers',
    provenance: { createdBy: 'recipe/fixtures/make_tiny_pack.py', weights: 'random, seed 1234' },
    modelCard: 'This pack exists so that the engine tests can run every ONNX graph.', validation: { state: 'checked' },
    isDefault: false, loaded: false, shadowed: false, removable: true, ...over,
  };
}
