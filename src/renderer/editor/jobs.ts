/**
 * Generation jobs in the editor. A command records a request (and, for jobs
 * that add concepts, a placeholder decoration where they will go); the plugin
 * view starts the job, listens to its events and writes results with a fresh
 * `view.state.tr` each time. The placeholder is mapped through every edit the
 * writer makes meanwhile; a concept arriving after its placeholder was deleted
 * is dropped (counted, not inserted). `apply` only moves state and
 * decorations. The job bar (ui/jobBar.ts) shows `jobsKey` state.
 */
import { Plugin, PluginKey, type Command, type EditorState, type Transaction } from 'prosemirror-state';
import { Decoration, DecorationSet, type EditorView } from 'prosemirror-view';
import type { ConceptStudioApi, JobEvent, JobKind, JobOptions, JobRequest } from '../../shared/contract.ts';
import type { Block } from '../../shared/library.ts';
import { conceptAtSelection, findConcept, posOfIndex, selectedIds, selectedRange, subtreeEnd } from './find.ts';
import { newConceptId } from './ids.ts';
import { externalEdit } from './normalize.ts';
import { attrsOf, conceptSchema, type ConceptAttrs } from './schema.ts';
import { conceptNode } from './snapshot.ts';
import { showSuggestions } from './suggestions.ts';
import type { WriteQueue } from './writeQueue.ts';

/** The visible names of the job kinds (the buttons that start them). */
export const JOB_LABELS: Record<JobKind, string> = {
  continue: 'Continue', regenerate: 'Regenerate', expand: 'Expand', summarize: 'Summarize', translate: 'Translate',
};

export type JobPhase = 'starting' | 'running' | 'done' | 'failed' | 'cancelled';

/** One job as the editor tracks it (localId names it before the main process has given it a jobId). */
export interface JobEntry {
  localId: string;
  jobId: string | null;
  kind: JobKind;
  request: JobRequest & JobOptions;
  phase: JobPhase;
  progress: number;
  detail: string;
  /** Concepts placed at the placeholder, and those dropped because it was gone. */
  placed: number;
  dropped: number;
  error: string | null;
  cancelRequested: boolean;
  /** From the job record and `done`: provenance of what it made. */
  pack: string | null;
  seed: number | null;
  /** A whole-document translation's new document. */
  resultDocumentId: string | null;
  createdAt: number;
}

/** Where and how a job's concepts go: the widget's spec. */
interface PlaceholderSpec {
  localId: string;
  kind: JobKind;
  depth: number;
  block: Block;
  marker: string | null;
  /** The first concept starts a block (a new paragraph) or continues the one before. */
  firstBlockStart: boolean;
  language: string;
}

export interface JobsState {
  documentId: string;
  jobs: readonly JobEntry[];
  placeholders: DecorationSet;
}

export type JobsMeta =
  | { type: 'request'; entry: JobEntry; placeholder: { pos: number; side: number; spec: PlaceholderSpec } | null }
  | { type: 'bound'; localId: string; jobId: string }
  | { type: 'startFailed'; localId: string; error: string }
  | { type: 'event'; localId: string; event: JobEvent }
  /** A concept was inserted at the placeholder: it moves past it, so the next one follows. */
  | { type: 'placed'; localId: string; to: number | null }
  | { type: 'dropped'; localId: string }
  | { type: 'cancel'; localId: string }
  | { type: 'dismiss'; localId: string };

export const jobsKey = new PluginKey<JobsState>('conceptJobs');

const isFinished = (p: JobPhase) => p === 'done' || p === 'failed' || p === 'cancelled';

function placeholderWidget(spec: PlaceholderSpec) {
  return (): HTMLElement => {
    const el = document.createElement('div');
    el.className = 'cs-placeholder';
    el.dataset.kind = spec.kind;
    el.dataset.depth = String(spec.depth);
    el.setAttribute('role', 'status');
    el.textContent = `${JOB_LABELS[spec.kind]}: generating…`;
    return el;
  };
}

function placeholderOf(set: DecorationSet, localId: string): Decoration | undefined {
  return set.find(undefined, undefined, (spec) => spec.localId === localId)[0];
}

function update(jobs: readonly JobEntry[], localId: string, f: (j: JobEntry) => JobEntry): readonly JobEntry[] {
  return jobs.map((j) => (j.localId === localId ? f(j) : j));
}

/** Pure state transition (exported for tests). */
export function applyJobs(tr: Transaction, value: JobsState): JobsState {
  let { jobs, placeholders } = value;
  if (tr.docChanged) placeholders = placeholders.map(tr.mapping, tr.doc);
  const meta = tr.getMeta(jobsKey) as JobsMeta | undefined;
  if (!meta) return placeholders === value.placeholders ? value : { ...value, placeholders };
  const drop = (localId: string) => {
    placeholders = placeholders.remove(placeholders.find(undefined, undefined, (s) => s.localId === localId));
  };
  switch (meta.type) {
    case 'request':
      {
        // The bar keeps every unfinished job and the last few finished ones (their outcome, a translation to open).
        const finished = jobs.filter((j) => isFinished(j.phase)).slice(-3);
        jobs = [...jobs.filter((j) => !isFinished(j.phase) || finished.includes(j)), meta.entry];
      }
      if (meta.placeholder) {
        const { pos, side, spec } = meta.placeholder;
        placeholders = placeholders.add(tr.doc, [Decoration.widget(pos, placeholderWidget(spec), { ...spec, side, key: `ph-${spec.localId}`, ignoreSelection: true })]);
      }
      break;
    case 'bound': jobs = update(jobs, meta.localId, (j) => ({ ...j, jobId: meta.jobId, phase: j.phase === 'starting' ? 'running' : j.phase })); break;
    case 'startFailed': jobs = update(jobs, meta.localId, (j) => ({ ...j, phase: 'failed', error: meta.error })); drop(meta.localId); break;
    case 'placed': {
      const old = placeholderOf(placeholders, meta.localId);
      if (old && meta.to !== null) {
        drop(meta.localId);
        const spec = old.spec as PlaceholderSpec;
        placeholders = placeholders.add(tr.doc, [Decoration.widget(meta.to, placeholderWidget(spec), { ...spec, side: -1, key: `ph-${spec.localId}`, ignoreSelection: true })]);
      }
      jobs = update(jobs, meta.localId, (j) => ({ ...j, placed: j.placed + 1 }));
      break;
    }
    case 'dropped': jobs = update(jobs, meta.localId, (j) => ({ ...j, dropped: j.dropped + 1 })); break;
    case 'cancel': jobs = update(jobs, meta.localId, (j) => ({ ...j, cancelRequested: true })); break;
    case 'dismiss': jobs = jobs.filter((j) => j.localId !== meta.localId); break;
    case 'event': {
      const e = meta.event;
      jobs = update(jobs, meta.localId, (j) => {
        switch (e.type) {
          case 'started': return { ...j, phase: 'running', pack: e.job.pack, seed: e.job.seed };
          case 'progress': return { ...j, progress: e.progress, detail: e.detail };
          case 'done': return { ...j, phase: 'done', progress: 1, seed: e.seed, resultDocumentId: e.documentId, detail: e.stop ? `stopped: ${e.stop}` : j.detail };
          case 'error': return { ...j, phase: 'failed', error: e.error.message };
          case 'cancelled': return { ...j, phase: 'cancelled' };
          default: return j;
        }
      });
      if (e.type === 'done' || e.type === 'error' || e.type === 'cancelled') drop(meta.localId);
      break;
    }
  }
  return { ...value, jobs, placeholders };
}

/** Counts and options the commands take (the settings dialog keeps the writer's choices). */
export interface JobCounts {
  continueCount: number;
  regenerateCount: number;
  expandCount: number;
}

type PlaceholderAt = { pos: number; side: number; spec: Omit<PlaceholderSpec, 'localId'> };

function request(state: EditorState, dispatch: ((tr: Transaction) => void) | undefined, req: JobRequest & JobOptions, at: PlaceholderAt | null): boolean {
  if (!dispatch) return true;
  const entry: JobEntry = {
    localId: newConceptId(), jobId: null, kind: req.kind, request: req, phase: 'starting', progress: 0, detail: '',
    placed: 0, dropped: 0, error: null, cancelRequested: false, pack: null, seed: null, resultDocumentId: null, createdAt: Date.now(),
  };
  const placeholder = at ? { pos: at.pos, side: at.side, spec: { ...at.spec, localId: entry.localId } } : null;
  dispatch(state.tr.setMeta(jobsKey, { type: 'request', entry, placeholder } satisfies JobsMeta));
  return true;
}

function spec(kind: JobKind, depth: number, block: Block, marker: string | null, firstBlockStart: boolean, language: string): Omit<PlaceholderSpec, 'localId'> {
  return { kind, depth, block, marker, firstBlockStart, language };
}

/** Continue: `count` new concepts after the one at the cursor, in its paragraph (under a heading: its first paragraph). */
export function continueConcept(count: number): Command {
  return (state, dispatch) => {
    const found = conceptAtSelection(state);
    const documentId = jobsKey.getState(state)?.documentId;
    if (!found || !documentId) return false;
    const a = attrsOf(found.node);
    const heading = a.block === 'heading';
    // After a heading: its first paragraphs, right under it. After anything else: after its outline subtree, so the
    // concepts nested in it stay nested in it (and don't move under the new ones).
    const end = heading ? found.pos + found.node.nodeSize : posOfIndex(state.doc, subtreeEnd(state.doc, found.index));
    return request(state, dispatch, { kind: 'continue', documentId, afterConceptId: a.id, count, language: a.language },
      { pos: end, side: -1, spec: spec('continue', heading ? a.depth + 1 : a.depth, heading ? 'paragraph' : a.block, heading ? null : a.marker, heading, a.language) });
  };
}

/** Expand: `count` concepts that develop the one at the cursor, inserted under it (one level deeper, one paragraph). */
export function expandConcept(count: number): Command {
  return (state, dispatch) => {
    const found = conceptAtSelection(state);
    const documentId = jobsKey.getState(state)?.documentId;
    if (!found || !documentId) return false;
    const a = attrsOf(found.node);
    return request(state, dispatch, { kind: 'expand', documentId, conceptId: a.id, count, language: a.language },
      { pos: found.pos + found.node.nodeSize, side: -1, spec: spec('expand', a.depth + 1, 'paragraph', null, true, a.language) });
  };
}

/** Regenerate: `count` candidates for the concept at the cursor, shown as suggestions. */
export function regenerateConcept(count: number): Command {
  return (state, dispatch) => {
    const found = conceptAtSelection(state);
    const documentId = jobsKey.getState(state)?.documentId;
    if (!found || !documentId) return false;
    const a = attrsOf(found.node);
    return request(state, dispatch, { kind: 'regenerate', documentId, conceptId: a.id, count, language: a.language }, null);
  };
}

/** Summarize the selection (scope "selection") or the whole document, in at most `maxConcepts` concepts placed after it. */
export function summarize(scope: 'selection' | 'document', maxConcepts: number): Command {
  return (state, dispatch) => {
    const documentId = jobsKey.getState(state)?.documentId;
    if (!documentId || !Number.isInteger(maxConcepts) || maxConcepts < 1) return false;
    const language = attrsOf(state.doc.child(0)).language;
    if (scope === 'document') {
      // At the document's end, after whatever the writer adds there meanwhile (side 1).
      return request(state, dispatch, { kind: 'summarize', documentId, conceptIds: null, maxConcepts, language },
        { pos: state.doc.content.size, side: 1, spec: spec('summarize', 0, 'paragraph', null, true, language) });
    }
    const [from, to] = selectedRange(state);
    const last = state.doc.child(to);
    // After the selection and whatever is nested in its last concept, beside the selection's first concept, and never
    // shallower than what follows (a summary adopts no one).
    const end = subtreeEnd(state.doc, to);
    const depth = Math.max(attrsOf(state.doc.child(from)).depth, end < state.doc.childCount ? attrsOf(state.doc.child(end)).depth : 0);
    return request(state, dispatch, { kind: 'summarize', documentId, conceptIds: selectedIds(state), maxConcepts, language: attrsOf(last).language },
      { pos: posOfIndex(state.doc, end), side: -1, spec: spec('summarize', depth, 'paragraph', null, true, attrsOf(last).language) });
  };
}

/** Translate the selection in place, or the whole document into a new document, into `targetLanguage`. */
export function translate(scope: 'selection' | 'document', targetLanguage: string): Command {
  return (state, dispatch) => {
    const documentId = jobsKey.getState(state)?.documentId;
    if (!documentId) return false;
    return request(state, dispatch, { kind: 'translate', documentId, conceptIds: scope === 'document' ? null : selectedIds(state), targetLanguage }, null);
  };
}

/** Cancel a job (the Cancel button of the job bar). */
export function cancelJob(localId: string): Command {
  return (state, dispatch) => {
    const job = jobsKey.getState(state)?.jobs.find((j) => j.localId === localId);
    if (!job || isFinished(job.phase) || job.cancelRequested) return false;
    if (dispatch) dispatch(state.tr.setMeta(jobsKey, { type: 'cancel', localId } satisfies JobsMeta));
    return true;
  };
}

/** Removes a finished job from the job bar. */
export function dismissJob(localId: string): Command {
  return (state, dispatch) => {
    const job = jobsKey.getState(state)?.jobs.find((j) => j.localId === localId);
    if (!job || !isFinished(job.phase)) return false;
    if (dispatch) dispatch(state.tr.setMeta(jobsKey, { type: 'dismiss', localId } satisfies JobsMeta));
    return true;
  };
}

/** Attributes of a generated concept placed at a placeholder. */
function generatedAttrs(e: JobEvent & { type: 'concept' }, ph: PlaceholderSpec, job: JobEntry, first: boolean): ConceptAttrs {
  const c = e.concept;
  const origin = c.origin ?? (ph.kind === 'expand' ? 'expanded' : ph.kind === 'summarize' ? 'summarized' : 'generated');
  return {
    id: c.id || newConceptId(),
    language: c.language ?? ph.language,
    depth: ph.depth,
    // The main process proposes a block for each concept (src/main/services/placement.ts); the depth is the editor's.
    block: c.block ?? ph.block,
    blockStart: c.blockStart ?? (first ? ph.firstBlockStart : false),
    marker: c.marker !== undefined ? c.marker : ph.marker,
    origin,
    pack: c.pack ?? job.pack,
    seed: c.seed ?? job.seed,
    params: c.params ?? null,
    jobId: c.jobId ?? e.jobId,
  };
}

export interface JobsOptions {
  api: Pick<ConceptStudioApi, 'startJob' | 'cancelJob' | 'onJobEvent'>;
  documentId: string;
  queue: WriteQueue;
  /** Saves pending edits before a job reads the store (autosave's flush). */
  flush: () => Promise<void>;
}

class JobsView {
  private readonly started = new Set<string>();
  private readonly cancelSent = new Set<string>();
  /** Events of jobs whose startJob call has not returned yet (the main process may report before it answers). */
  private readonly early = new Map<string, JobEvent[]>();
  private starting = 0;
  private readonly unsubscribe: () => void;
  private destroyed = false;

  constructor(private readonly view: EditorView, private readonly options: JobsOptions) {
    this.unsubscribe = options.api.onJobEvent((e) => this.onEvent(e));
  }

  update(view: EditorView): void {
    for (const job of jobsKey.getState(view.state)!.jobs) {
      if (job.phase === 'starting' && !this.started.has(job.localId)) {
        this.started.add(job.localId);
        void this.start(job);
      }
      if (job.cancelRequested && job.jobId !== null && !this.cancelSent.has(job.localId)) {
        this.cancelSent.add(job.localId);
        this.options.api.cancelJob({ jobId: job.jobId }).catch((error: unknown) => {
          console.warn(`Could not cancel job ${job.jobId}:`, error);
        });
      }
    }
  }

  private async start(job: JobEntry): Promise<void> {
    this.starting++;
    try {
      // The job reads the concepts from the store: they must be saved first.
      await this.options.flush();
      const { jobId } = await this.options.api.startJob(job.request);
      if (this.destroyed) return;
      this.view.dispatch(this.view.state.tr.setMeta(jobsKey, { type: 'bound', localId: job.localId, jobId } satisfies JobsMeta));
      const early = this.early.get(jobId) ?? [];
      this.early.delete(jobId);
      for (const e of early) this.onEvent(e);
    } catch (error) {
      if (!this.destroyed) {
        this.view.dispatch(this.view.state.tr.setMeta(jobsKey, { type: 'startFailed', localId: job.localId, error: error instanceof Error ? error.message : String(error) } satisfies JobsMeta));
      }
    } finally {
      this.starting--;
      if (this.starting === 0) this.early.clear();
    }
  }

  private onEvent(e: JobEvent): void {
    if (this.destroyed) return;
    const view = this.view;
    const job = jobsKey.getState(view.state)!.jobs.find((j) => j.jobId === e.jobId);
    if (!job) {
      // Another window's job, or ours before startJob answered: keep it only in the second case.
      if (this.starting > 0) this.early.set(e.jobId, [...(this.early.get(e.jobId) ?? []), e].slice(-1000));
      return;
    }
    const state = view.state;
    switch (e.type) {
      case 'concept': {
        const ph = placeholderOf(jobsKey.getState(state)!.placeholders, job.localId);
        if (!ph) {
          view.dispatch(state.tr.setMeta(jobsKey, { type: 'dropped', localId: job.localId } satisfies JobsMeta));
          return;
        }
        const node = conceptNode(generatedAttrs(e, ph.spec as PlaceholderSpec, job, job.placed === 0), e.concept.text);
        const tr = state.tr.insert(ph.from, node);
        tr.setMeta(externalEdit, true).setMeta(jobsKey, { type: 'placed', localId: job.localId, to: ph.from + node.nodeSize } satisfies JobsMeta);
        view.dispatch(tr);
        return;
      }
      case 'candidates':
        if (!showSuggestions(e.conceptId, e.candidates)(state, view.dispatch)) {
          view.dispatch(state.tr.setMeta(jobsKey, { type: 'dropped', localId: job.localId } satisfies JobsMeta));
        }
        return;
      case 'translation': {
        const found = findConcept(state.doc, e.conceptId);
        if (!found) {
          view.dispatch(state.tr.setMeta(jobsKey, { type: 'dropped', localId: job.localId } satisfies JobsMeta));
          return;
        }
        const { node, pos } = found;
        const tr = state.tr.replaceWith(pos + 1, pos + node.nodeSize - 1, e.text === '' ? [] : conceptSchema.text(e.text));
        tr.setNodeMarkup(pos, undefined, { ...attrsOf(node), language: e.language, origin: 'translated', pack: job.pack, seed: job.seed, params: { targetLanguage: e.language }, jobId: e.jobId });
        tr.setMeta(externalEdit, true).setMeta(jobsKey, { type: 'placed', localId: job.localId, to: null } satisfies JobsMeta);
        view.dispatch(tr);
        return;
      }
      default:
        view.dispatch(state.tr.setMeta(jobsKey, { type: 'event', localId: job.localId, event: e } satisfies JobsMeta));
    }
  }

  destroy(): void {
    this.destroyed = true;
    this.unsubscribe();
    // Concept results need this editor to land in: a job whose editor closes is cancelled.
    for (const job of jobsKey.getState(this.view.state)!.jobs) {
      const r = job.request;
      const writesItself = r.kind === 'regenerate' || (r.kind === 'translate' && r.conceptIds === null);
      if (job.jobId !== null && !isFinished(job.phase) && !writesItself) {
        this.options.api.cancelJob({ jobId: job.jobId }).catch(() => undefined);
      }
    }
  }
}

/** The jobs plugin for one open document. */
export function jobsPlugin(options: JobsOptions): Plugin<JobsState> {
  return new Plugin<JobsState>({
    key: jobsKey,
    state: {
      init: () => ({ documentId: options.documentId, jobs: [], placeholders: DecorationSet.empty }),
      apply: applyJobs,
    },
    view: (view) => new JobsView(view, options),
    props: {
      decorations: (state) => jobsKey.getState(state)?.placeholders,
    },
  });
}
