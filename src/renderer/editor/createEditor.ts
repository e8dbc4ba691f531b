/**
 * One editor for one open document: the schema, the plugins in their order,
 * and the view. The app (ui/app.ts) makes one when a document opens and
 * destroys it (after a last save) when another opens.
 */
import { history } from 'prosemirror-history';
import { EditorState, type Transaction } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import type { ConceptStudioApi } from '../../shared/contract.ts';
import { getLanguage } from '../../shared/languages.ts';
import type { Concept, DocumentInfo } from '../../shared/library.ts';
import { activeConceptPlugin } from './activeConcept.ts';
import { autosavePlugin, flushAutosave } from './autosave.ts';
import { conceptNodeViews } from './conceptView.ts';
import { jobsPlugin } from './jobs.ts';
import { conceptKeymaps, markdownInputRules, type ActionName } from './keys.ts';
import { normalizePlugin } from './normalize.ts';
import { docFromConcepts } from './snapshot.ts';
import { suggestionsPlugin } from './suggestions.ts';
import { viewModePlugin, type ViewMode } from './viewMode.ts';
import { WriteQueue } from './writeQueue.ts';

export interface ConceptEditorOptions {
  /** Where the editor's element goes. */
  place: HTMLElement;
  api: ConceptStudioApi;
  document: DocumentInfo;
  concepts: readonly Concept[];
  viewMode?: ViewMode;
  /** Autosave's quiet time (ms). */
  debounceMs?: number;
  /** An action key was pressed (Continue, Translate…). */
  onAction?: (action: ActionName) => void;
  /** After every transaction: the app refreshes the job bar, the save indicator, the inspector. */
  onUpdate?: (view: EditorView, tr: Transaction) => void;
}

export interface ConceptEditor {
  view: EditorView;
  documentId: string;
  /** Saves pending edits now. */
  flush(): Promise<void>;
  /** Saves, then tears the view down (running concept jobs are cancelled: their results have nowhere to go). */
  destroy(): Promise<void>;
}

/** The editor's state for a document (exported for tests, which run it without a view). */
export function createEditorState(options: Omit<ConceptEditorOptions, 'place'>, queue: WriteQueue, flush: () => Promise<void>): EditorState {
  const { api, document, concepts } = options;
  return EditorState.create({
    doc: docFromConcepts(concepts, document.language),
    plugins: [
      normalizePlugin({ defaultLanguage: document.language }),
      markdownInputRules(),
      ...conceptKeymaps(options.onAction ?? (() => undefined)),
      history(),
      viewModePlugin(options.viewMode),
      autosavePlugin({ api, documentId: document.id, concepts, queue, ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}) }),
      jobsPlugin({ api, documentId: document.id, queue, flush }),
      suggestionsPlugin({ api, queue }),
      activeConceptPlugin(),
    ],
  });
}

/** Makes the editor for a document and mounts it. */
export function createConceptEditor(options: ConceptEditorOptions): ConceptEditor {
  const queue = new WriteQueue();
  let view: EditorView | null = null;
  const flush = () => (view ? flushAutosave(view) : Promise.resolve());
  const state = createEditorState(options, queue, flush);
  const v = new EditorView(options.place, {
    state,
    nodeViews: conceptNodeViews,
    // A right-to-left document (Arabic, Hebrew…) lays its draft paragraphs out from the right.
    attributes: { dir: getLanguage(options.document.language)?.rtl ? 'rtl' : 'ltr', role: 'textbox', 'aria-multiline': 'true' },
    dispatchTransaction(tr) {
      const next = v.state.apply(tr);
      v.updateState(next);
      options.onUpdate?.(v, tr);
    },
  });
  view = v;
  return {
    view: v,
    documentId: options.document.id,
    flush,
    async destroy() {
      await flush();
      v.destroy();
    },
  };
}
