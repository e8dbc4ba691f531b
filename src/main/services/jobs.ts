/**
 * Jobs: continue, regenerate, expand, summarize and translate, run one at a
 * time on the engine host, each recorded in the store's job log and reported
 * as JobEvents (src/shared/contract.ts says what each event means):
 *
 *   started → progress* → (concept* | candidates | translation*) → done | error | cancelled
 *
 * `start` checks everything it can before a job exists (the document and the
 * concepts, the pack, its languages and instruction tasks), so a request that
 * cannot run is refused with a clear error instead of becoming a failed job.
 * One job at a time: the worker is one thread, and a writer reads one
 * stream of results; queued jobs wait (status "queued"), and cancelling one
 * ends it at once. Cancellation goes through an AbortSignal to the engine,
 * which stops before its next model run.
 */
import type { JobEvent, JobOptions, JobRequest } from '../../shared/contract.ts';
import { getLanguage } from '../../shared/languages.ts';
import type { Concept, DocumentInfo, JsonObject, NewConcept } from '../../shared/library.ts';
import { CancelledError, InputError, isCancellation } from '../../inference/errors.ts';
import type { Progress } from '../../inference/engine.ts';
import { freshSeed } from '../../inference/rng.ts';
import { EngineUnavailableError, type EngineHost } from '../engine/host.ts';
import type { EngineOps, PackSummary } from '../engine/protocol.ts';
import { newId } from '../store/ids.ts';
import type { ConceptStore } from '../store/store.ts';
import { BridgeError, toWireError } from './errors.ts';
import type { SettingsFile } from './settings.ts';
import { generated, translatedCopy, usable } from './placement.ts';
import { vectorsFor } from './vectors.ts';

/** Progress events at most this often per job (a denoising step can take a millisecond on a small pack). */
const PROGRESS_EVENT_MS = 100;
/** Job records are updated at most this often (each update is a committed transaction). */
const PROGRESS_STORE_MS = 1000;
/** Concepts decoded per call while translating (progress and cancellation between calls). */
const DECODE_BATCH = 16;

type Request = JobRequest & JobOptions;

interface Active {
  controller: AbortController;
  status: 'queued' | 'running';
}

interface RunContext {
  jobId: string;
  request: Request;
  document: DocumentInfo;
  seed: number;
  signal: AbortSignal;
  pack: PackSummary;
  progress: (fraction: number, detail: string) => void;
}

/** A job's diffusion and Quant-LCM overrides as its concepts record them in their params (inspector: Parameters). */
function samplingParams(request: Request): JsonObject {
  return { ...(request.sampling ? { sampling: { ...request.sampling } } : {}), ...(request.quantSampling ? { quantSampling: { ...request.quantSampling } } : {}) };
}

/** A job's diffusion and Quant-LCM overrides as the engine worker takes them (`sampling`, `quant`). */
function samplingArgs(request: Request): Pick<EngineOps['continue']['args'], 'sampling' | 'quant'> {
  return { ...(request.sampling ? { sampling: request.sampling } : {}), ...(request.quantSampling ? { quant: request.quantSampling } : {}) };
}

export class JobRunner {
  private queue: Promise<void> = Promise.resolve();
  private readonly active = new Map<string, Active>();

  constructor(
    private readonly store: ConceptStore,
    private readonly engine: EngineHost,
    private readonly settings: SettingsFile,
    private readonly emit: (event: JobEvent) => void,
  ) {}

  /** True while a job is queued or running. */
  get busy(): boolean {
    return this.active.size > 0;
  }

  /** Resolves when no job is queued or running. */
  async idle(): Promise<void> {
    while (this.active.size > 0) await this.queue;
  }

  /** Checks the request, records the job and queues it; throws (no job is made) if it cannot run. */
  start(request: Request): { jobId: string } {
    const document = this.store.getDocument(request.documentId);
    this.checkConcepts(request);
    const state = this.engine.state;
    if (state.state === 'failed') throw new EngineUnavailableError(`Cannot ${request.kind}: no model pack is loaded (${state.error.message}).`);
    if (state.state === 'unloaded') throw new EngineUnavailableError(`Cannot ${request.kind}: no model pack is loaded. Choose one in Settings (Pack).`);
    if (state.state === 'ready') this.checkPack(request, state.pack);

    const settings = this.settings.settings;
    const seed = request.seed ?? settings.seed ?? freshSeed();
    const sampling = { ...(settings.sampling ?? {}), ...(request.sampling ?? {}) };
    // Quant-LCM temperature/top-k, field by field as sampling; the engine applies each to its own designs only.
    const quantSampling = { ...(settings.quantSampling ?? {}), ...(request.quantSampling ?? {}) };
    if (state.state === 'ready') this.checkTopK(quantSampling.topK, request.quantSampling?.topK !== undefined, state.pack);
    const overrides = { ...(Object.keys(sampling).length ? { sampling } : {}), ...(Object.keys(quantSampling).length ? { quantSampling } : {}) };
    const { kind, documentId, seed: _seed, sampling: _sampling, quantSampling: _quantSampling, ...rest } = request;
    const params: JsonObject = { ...rest, ...overrides };
    const job = this.store.jobs.create({ kind, documentId, seed, params, pack: state.state === 'ready' ? state.pack.key : null });
    const controller = new AbortController();
    this.active.set(job.id, { controller, status: 'queued' });
    const req: Request = { ...request, seed, ...overrides };
    // `started` goes out after startJob has answered (the caller learns the id first, over IPC at least), and
    // always before the job's other events.
    const announced = new Promise<void>((resolve) => setImmediate(() => {
      this.emit({ jobId: job.id, type: 'started', job });
      resolve();
    }));
    // run() reports its own failures; the catch keeps the queue going even if reporting fails (a closed store).
    this.queue = Promise.all([this.queue, announced]).then(() => this.run(job.id, req, document, seed, controller.signal)).catch(() => undefined);
    return { jobId: job.id };
  }

  /** Cancels a queued or running job; a job that already ended is left as it is. */
  cancel(jobId: string): void {
    const a = this.active.get(jobId);
    if (!a) {
      this.store.jobs.get(jobId); // STORE_NOT_FOUND for an id that never was a job
      return;
    }
    a.controller.abort(new CancelledError('Cancelled by the writer.'));
    if (a.status === 'queued') this.finishCancelled(jobId);
  }

  /** Cancels everything (closing the app, changing the pack). */
  cancelAll(): void {
    for (const id of [...this.active.keys()]) this.cancel(id);
  }

  private finishCancelled(jobId: string): void {
    this.active.delete(jobId);
    this.store.jobs.update(jobId, { status: 'cancelled' });
    setImmediate(() => this.emit({ jobId, type: 'cancelled' }));
  }

  private checkConcepts(request: Request): void {
    const inDocument = (id: string, what: string): Concept => {
      const c = this.store.getConcept(id);
      if (c.documentId !== request.documentId) throw new BridgeError('BAD_REQUEST', `${what} ${id} belongs to another document than ${request.documentId}.`);
      return c;
    };
    switch (request.kind) {
      case 'continue':
        if (request.afterConceptId) inDocument(request.afterConceptId, 'afterConceptId');
        return;
      case 'regenerate':
      case 'expand':
        if (!usable(inDocument(request.conceptId, 'conceptId'))) throw new InputError(`Cannot ${request.kind} an empty concept: write something first.`);
        return;
      case 'summarize':
      case 'translate':
        request.conceptIds?.forEach((id) => inDocument(id, 'conceptIds has concept'));
        if (request.conceptIds?.length === 0) throw new InputError(`Nothing to ${request.kind}: the selection is empty.`);
    }
  }

  private checkPack(request: Request, pack: PackSummary): void {
    const supports = (code: string) => {
      if (!pack.languages.includes(code)) {
        const name = getLanguage(code)?.name ?? code;
        throw new InputError(`Pack ${pack.name} does not support ${name} (${code}); it supports: ${pack.languages.join(', ')}.`, 'UNSUPPORTED_LANGUAGE');
      }
    };
    if (request.language) supports(request.language);
    if (request.kind === 'translate') supports(request.targetLanguage);
    if ((request.kind === 'summarize' || request.kind === 'expand') && !pack.instructions[request.kind]) {
      throw new InputError(`Pack ${pack.name} was not fine-tuned for ${request.kind}; use a pack that was, or Continue instead.`);
    }
    const n = request.kind === 'summarize' ? request.maxConcepts : request.kind === 'translate' ? 1 : request.count;
    if (n > pack.maxConcepts) throw new InputError(`Pack ${pack.name} generates at most ${pack.maxConcepts} concepts at a time; asked for ${n}.`);
  }

  /**
   * A Quant-LCM pack's top-k is at most its codebook size: refused before a job is made, naming where the value
   * came from (the engine checks it again when it samples). Other packs ignore top-k.
   */
  private checkTopK(topK: number | undefined, fromRequest: boolean, pack: PackSummary): void {
    if (topK === undefined || pack.codebookSize === null || topK <= pack.codebookSize) return;
    const where = fromRequest ? 'this job asks for' : 'Settings (Sampling, Top-k) ask for';
    throw new InputError(`Pack ${pack.name} samples from codebooks of ${pack.codebookSize} units, but ${where} top-k ${topK}; use 0 (all units) to ${pack.codebookSize}, or leave it empty for the pack's default.`);
  }

  private async run(jobId: string, request: Request, document: DocumentInfo, seed: number, signal: AbortSignal): Promise<void> {
    const a = this.active.get(jobId);
    if (!a) return; // cancelled while queued
    a.status = 'running';
    let lastEvent = 0;
    let lastStore = 0;
    const progress = (fraction: number, detail: string) => {
      const now = Date.now();
      const p = Math.min(1, Math.max(0, fraction));
      if (now - lastEvent >= PROGRESS_EVENT_MS || p === 0) {
        lastEvent = now;
        this.emit({ jobId, type: 'progress', progress: p, detail });
      }
      if (now - lastStore >= PROGRESS_STORE_MS) {
        lastStore = now;
        this.store.jobs.update(jobId, { progress: p });
      }
    };
    try {
      this.store.jobs.update(jobId, { status: 'running' });
      progress(0, 'Starting');
      const pack = await this.engine.ready();
      this.checkPack(request, pack); // the pack may have loaded (or changed) since start
      signal.throwIfAborted();
      const ctx: RunContext = { jobId, request, document, seed, signal, pack, progress };
      const { stop, documentId } = await this.runKind(ctx);
      this.store.jobs.update(jobId, { status: 'done', progress: 1 });
      this.active.delete(jobId);
      this.emit({ jobId, type: 'done', seed, stop, documentId });
    } catch (error) {
      this.active.delete(jobId);
      if (isCancellation(error) || signal.aborted) {
        this.store.jobs.update(jobId, { status: 'cancelled' });
        this.emit({ jobId, type: 'cancelled' });
        return;
      }
      const wire = toWireError(error);
      try {
        this.store.jobs.update(jobId, { status: 'failed', error: wire.message });
      } finally {
        this.emit({ jobId, type: 'error', error: wire });
      }
    }
  }

  private async runKind(ctx: RunContext): Promise<{ stop: string | null; documentId: string | null }> {
    const r = ctx.request;
    switch (r.kind) {
      case 'continue':
      case 'expand':
      case 'summarize':
        return { stop: await this.generate(ctx), documentId: null };
      case 'regenerate':
        await this.regenerate(ctx, r.conceptId, r.count);
        return { stop: null, documentId: null };
      case 'translate':
        return { stop: null, documentId: await this.translate(ctx, r.conceptIds, r.targetLanguage) };
    }
  }

  /** Vectors of the concepts, with progress while any are encoded. */
  private vectors(ctx: RunContext, concepts: readonly Concept[]): Promise<Float32Array[]> {
    return vectorsFor(this.store, this.engine, ctx.pack, concepts.map((c) => ({ language: c.language, text: c.text })), {
      signal: ctx.signal,
      onEncoded: (done, total) => ctx.progress(0, `Encoding concepts (${done} of ${total})`),
    });
  }

  private engineOptions(ctx: RunContext, operation: string) {
    return {
      signal: ctx.signal,
      onProgress: (p: Progress) => ctx.progress((p.concept + p.step / Math.max(1, p.steps)) / Math.max(1, p.concepts), `${operation}: concept ${p.concept + 1} of up to ${p.concepts}, step ${p.step} of ${p.steps}`),
    };
  }

  /** Continue, expand and summarize: concepts stream back as `concept` events. */
  private async generate(ctx: RunContext): Promise<string> {
    const r = ctx.request;
    const all = this.store.listConcepts(ctx.document.id);
    let context: Concept[];
    let anchor: Concept | null = null;
    if (r.kind === 'continue') {
      const end = r.afterConceptId ? all.findIndex((c) => c.id === r.afterConceptId) + 1 : all.length;
      context = all.slice(0, end).filter(usable).slice(-ctx.pack.maxContext);
      anchor = all[end - 1] ?? null;
    } else if (r.kind === 'expand') {
      anchor = all.find((c) => c.id === r.conceptId)!;
      context = [anchor];
    } else if (r.kind === 'summarize') {
      const chosen = r.conceptIds ? new Set(r.conceptIds) : undefined;
      context = all.filter((c) => usable(c) && (!chosen || chosen.has(c.id))).slice(-ctx.pack.maxContext);
      if (context.length === 0) throw new InputError('Nothing to summarize: the concepts are empty.');
    } else {
      throw new Error(`generate() does not run ${r.kind} jobs.`);
    }
    const vectors = await this.vectors(ctx, context);
    const lang = r.language ?? (r.kind === 'expand' ? anchor!.language : ctx.document.language);
    const base = { context: vectors.map((embedding) => ({ embedding })), seed: ctx.seed, lang, ...samplingArgs(r) };
    const onConcept = (c: { index: number; text: string; lang: string }) => {
      const concept: NewConcept & { id: string } = generated(r.kind as 'continue' | 'expand' | 'summarize', anchor, c, { id: newId(), pack: ctx.pack.key, seed: ctx.seed, jobId: ctx.jobId, overrides: samplingParams(ctx.request) });
      this.emit({ jobId: ctx.jobId, type: 'concept', index: c.index, concept });
    };
    const options = { ...this.engineOptions(ctx, r.kind), onConcept };
    const result =
      r.kind === 'continue' ? await this.engine.call('continue', { ...base, count: r.count }, options)
      : r.kind === 'expand' ? await this.engine.call('expand', { ...base, index: 0, count: r.count }, options)
      : await this.engine.call('summarize', { ...base, maxConcepts: r.maxConcepts }, options);
    return result.stop;
  }

  /** Alternatives for a concept, stored as its candidates and sent as one event. */
  private async regenerate(ctx: RunContext, conceptId: string, count: number): Promise<void> {
    const all = this.store.listConcepts(ctx.document.id);
    const index = all.findIndex((c) => c.id === conceptId);
    const target = all[index]!;
    const before = all.slice(0, index).filter(usable).slice(-ctx.pack.maxContext);
    const vectors = await this.vectors(ctx, before);
    const lang = ctx.request.language ?? target.language;
    const result = await this.engine.call('regenerate', {
      context: vectors.map((embedding) => ({ embedding })),
      index: vectors.length,
      count,
      seed: ctx.seed,
      lang,
      ...samplingArgs(ctx.request),
    }, this.engineOptions(ctx, 'regenerate'));
    ctx.signal.throwIfAborted();
    const candidates = this.store.addCandidates(conceptId, result.candidates.map((c) => ({
      text: c.text, language: c.lang, origin: 'generated' as const, pack: ctx.pack.key, seed: ctx.seed, params: { kind: 'regenerate', index: c.index, ...samplingParams(ctx.request) }, jobId: ctx.jobId,
    })));
    this.emit({ jobId: ctx.jobId, type: 'candidates', conceptId, candidates });
  }

  /**
   * Each concept's vector (cached, else encoded) decoded in the target
   * language: concept-level translation in the embedding space. A selection
   * sends `translation` events; the whole document becomes a new document
   * (saved in one action at the end, so a cancelled job leaves none).
   */
  private async translate(ctx: RunContext, conceptIds: string[] | null, target: string): Promise<string | null> {
    const all = this.store.listConcepts(ctx.document.id);
    const chosen = conceptIds ? new Set(conceptIds) : undefined;
    const selected = all.filter((c) => !chosen || chosen.has(c.id));
    // Code is not prose: it is copied, not translated. Empty concepts have nothing to translate.
    const todo = selected.filter((c) => usable(c) && c.block !== 'code');
    const vectors = await this.vectors(ctx, todo);
    const texts = new Map<string, string>();
    for (let start = 0; start < todo.length; start += DECODE_BATCH) {
      const batch = todo.slice(start, start + DECODE_BATCH);
      const decoded = await this.engine.call('decode', { vectors: vectors.slice(start, start + DECODE_BATCH), lang: target }, { signal: ctx.signal });
      batch.forEach((c, i) => {
        texts.set(c.id, decoded[i]!);
        if (chosen) this.emit({ jobId: ctx.jobId, type: 'translation', conceptId: c.id, text: decoded[i]!, language: target });
      });
      ctx.progress((start + batch.length) / todo.length, `Translated ${start + batch.length} of ${todo.length} concepts`);
    }
    if (chosen) return null;
    ctx.signal.throwIfAborted();
    const name = getLanguage(target)?.name ?? target;
    const title = `${ctx.document.title} (${name})`.slice(0, 500);
    const items = translatedCopy(selected, texts, target, { pack: ctx.pack.key, seed: ctx.seed, jobId: ctx.jobId });
    return this.store.write('save a translated document', () => {
      const doc = this.store.createDocument({ title, language: target });
      this.store.insertConcepts(doc.id, items);
      return doc.id;
    });
  }
}
