/**
 * Autosave: the editor's concepts go to the store as `ConceptEdit` batches
 * (diff.ts) a short while after the writer stops, when the editor loses focus,
 * and before anything that reads the store (a job, the history, similar
 * concepts). The plugin state holds the store's concepts as last reported
 * (`baseline`) and the save status; `apply` is pure. The plugin view does the
 * I/O through the shared write queue and reports back with fresh
 * transactions.
 */
import { Plugin, PluginKey, type EditorState, type Transaction } from 'prosemirror-state';
import type { EditorView } from 'prosemirror-view';
import type { ConceptStudioApi } from '../../shared/contract.ts';
import type { Concept } from '../../shared/library.ts';
import { diffSnapshots } from './diff.ts';
import { snapshotFromConcept, snapshotOf, type ConceptSnapshot } from './snapshot.ts';
import type { WriteQueue } from './writeQueue.ts';

/** saved: the store has the editor's concepts; unsaved: edits wait for the debounce; saving: a batch is out; error: the last batch failed. */
export type SaveStatus = 'saved' | 'unsaved' | 'saving' | 'error';

export interface AutosaveState {
  /** The store's concepts as last reported, in reading order. */
  baseline: readonly ConceptSnapshot[];
  status: SaveStatus;
  /** Why the last batch failed (shown to the writer), or null. */
  error: string | null;
}

/** What the plugin view (and sync.ts) report through transaction meta. */
export type AutosaveMeta =
  | { type: 'saving' }
  | { type: 'saved'; concepts: readonly Concept[]; clean: boolean }
  | { type: 'clean' }
  | { type: 'failed'; error: string }
  /** The store changed these concepts itself (an accepted candidate, a revert): they are the new baseline for their ids. */
  | { type: 'synced'; concepts: readonly Concept[] };

export const autosaveKey = new PluginKey<AutosaveState>('conceptAutosave');

export interface AutosaveOptions {
  api: Pick<ConceptStudioApi, 'saveEdits'>;
  documentId: string;
  /** The store's concepts when the document was opened. */
  concepts: readonly Concept[];
  queue: WriteQueue;
  /** Quiet time before a batch goes out (ms); 600 ms: after a typing burst, well before a writer looks for the indicator. */
  debounceMs?: number;
}

/** Pure state transition (exported for tests). */
export function applyAutosave(tr: Transaction, value: AutosaveState): AutosaveState {
  const meta = tr.getMeta(autosaveKey) as AutosaveMeta | undefined;
  let next = value;
  if (meta) {
    switch (meta.type) {
      case 'saving': next = { ...next, status: 'saving' }; break;
      case 'saved': next = { baseline: meta.concepts.map(snapshotFromConcept), status: meta.clean ? 'saved' : 'unsaved', error: null }; break;
      case 'clean': next = { ...next, status: 'saved', error: null }; break;
      case 'failed': next = { ...next, status: 'error', error: meta.error }; break;
      case 'synced': {
        const byId = new Map(meta.concepts.map((c) => [c.id, snapshotFromConcept(c)]));
        next = { ...next, baseline: next.baseline.map((b) => byId.get(b.id) ?? b) };
        break;
      }
    }
  }
  if (tr.docChanged && next.status !== 'saving') next = { ...next, status: 'unsaved' };
  return next;
}

const views = new WeakMap<EditorView, AutosaveView>();

/** Sends the editor's unsaved edits now; resolves when the store has them (or the attempt failed: see the status). */
export function flushAutosave(view: EditorView): Promise<void> {
  return views.get(view)?.flush() ?? Promise.resolve();
}

/** True when the editor holds edits the store does not have. */
export function hasUnsavedEdits(state: EditorState): boolean {
  const st = autosaveKey.getState(state);
  return st !== undefined && st.status !== 'saved';
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A failed batch is tried again after 2 s, doubling to at most a minute (a server restarting, a disk full for a while). */
const RETRY_FIRST_MS = 2000;
const RETRY_MAX_MS = 60_000;

class AutosaveView {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private retryMs = RETRY_FIRST_MS;
  private destroyed = false;

  constructor(private readonly view: EditorView, private readonly options: AutosaveOptions) {
    views.set(view, this);
  }

  update(view: EditorView, prev: EditorState): void {
    if (view.state.doc !== prev.doc) this.schedule();
  }

  schedule(delay = this.options.debounceMs ?? 600): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), delay);
  }

  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    return this.options.queue.run(() => this.save());
  }

  private async save(): Promise<void> {
    if (this.destroyed) return;
    const view = this.view;
    const doc = view.state.doc;
    const st = autosaveKey.getState(view.state)!;
    const edits = diffSnapshots(st.baseline, snapshotOf(doc));
    if (edits.length === 0) {
      if (st.status !== 'saved') view.dispatch(view.state.tr.setMeta(autosaveKey, { type: 'clean' } satisfies AutosaveMeta));
      return;
    }
    view.dispatch(view.state.tr.setMeta(autosaveKey, { type: 'saving' } satisfies AutosaveMeta));
    try {
      const concepts = await this.options.api.saveEdits({ documentId: this.options.documentId, edits });
      // A fresh transaction: the writer may have typed while the batch was out.
      if (this.destroyed) return;
      const clean = view.state.doc === doc;
      this.retryMs = RETRY_FIRST_MS;
      view.dispatch(view.state.tr.setMeta(autosaveKey, { type: 'saved', concepts, clean } satisfies AutosaveMeta));
      if (!clean) this.schedule();
    } catch (error) {
      if (this.destroyed) return;
      view.dispatch(view.state.tr.setMeta(autosaveKey, { type: 'failed', error: message(error) } satisfies AutosaveMeta));
      // The edits stay in the editor; the whole batch is tried again later (or at the next change, whichever is first).
      this.schedule(this.retryMs);
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    }
  }

  destroy(): void {
    this.destroyed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    views.delete(this.view);
  }
}

/** The autosave plugin for one open document. */
export function autosavePlugin(options: AutosaveOptions): Plugin<AutosaveState> {
  return new Plugin<AutosaveState>({
    key: autosaveKey,
    state: {
      init: () => ({ baseline: options.concepts.map(snapshotFromConcept), status: 'saved', error: null }),
      apply: applyAutosave,
    },
    view: (view) => new AutosaveView(view, options),
    props: {
      handleDOMEvents: {
        // Leaving the editor saves at once (the writer may close the window next).
        blur: (view) => {
          void flushAutosave(view);
          return false;
        },
      },
    },
  });
}
