/**
 * Regenerate's candidates as suggestions: decorations under the concept, not
 * document edits, until the writer accepts one. Accepting asks the store
 * (`acceptCandidate`: the candidate becomes the concept's text, the old text a
 * revision, the other candidates stay in its history) and writes the result
 * into the editor with a fresh transaction. If the concept is deleted while
 * its candidates show, they go with it.
 */
import type { Node as PMNode } from 'prosemirror-model';
import { Plugin, PluginKey, type Command, type EditorState, type Transaction } from 'prosemirror-state';
import { Decoration, DecorationSet, type EditorView } from 'prosemirror-view';
import type { ConceptStudioApi } from '../../shared/contract.ts';
import type { Candidate } from '../../shared/library.ts';
import { conceptAtSelection, findConcept } from './find.ts';
import { attrsOf, bcp47, directionOf } from './schema.ts';
import { storedConceptTr } from './sync.ts';
import type { WriteQueue } from './writeQueue.ts';

/** The candidates shown for one concept. */
export interface SuggestionSet {
  conceptId: string;
  candidates: readonly Candidate[];
}

export interface SuggestionsState {
  sets: readonly SuggestionSet[];
  decorations: DecorationSet;
  /** The candidate being accepted (the store call is out), or null. */
  accepting: { conceptId: string; candidateId: number } | null;
  error: string | null;
}

export type SuggestionsMeta =
  | { type: 'show'; conceptId: string; candidates: readonly Candidate[] }
  | { type: 'accept'; conceptId: string; candidateId: number }
  | { type: 'accepted'; conceptId: string }
  | { type: 'acceptFailed'; error: string }
  | { type: 'dismiss'; conceptId: string };

export const suggestionsKey = new PluginKey<SuggestionsState>('conceptSuggestions');

function candidatesWidget(set: SuggestionSet) {
  return (view: EditorView): HTMLElement => {
    const box = document.createElement('div');
    box.className = 'cs-suggestions';
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', `${set.candidates.length} candidates for this concept`);
    box.dataset.conceptId = set.conceptId;
    set.candidates.forEach((c, i) => {
      const row = document.createElement('div');
      row.className = 'cs-candidate';
      row.dataset.candidateId = String(c.id);
      const text = document.createElement('span');
      text.className = 'cs-candidate-text';
      text.textContent = c.text;
      text.lang = bcp47(c.language);
      text.dir = directionOf(c.language, c.text);
      const accept = document.createElement('button');
      accept.type = 'button';
      accept.textContent = 'Accept';
      // The visible word starts the accessible name (WCAG 2.5.3, label in name).
      accept.setAttribute('aria-label', `Accept candidate ${i + 1}`);
      accept.title = i < 9 ? `Accept candidate ${i + 1} (Alt-${i + 1})` : `Accept candidate ${i + 1}`;
      accept.addEventListener('click', () => {
        acceptCandidate(set.conceptId, c.id)(view.state, view.dispatch);
        view.focus();
      });
      row.append(text, accept);
      box.append(row);
    });
    const dismiss = document.createElement('button');
    dismiss.type = 'button';
    dismiss.className = 'cs-dismiss';
    dismiss.textContent = 'Dismiss';
    dismiss.title = 'Keep the current text (Escape); the candidates stay in the history';
    dismiss.addEventListener('click', () => {
      dismissSuggestions(set.conceptId)(view.state, view.dispatch);
      view.focus();
    });
    box.append(dismiss);
    return box;
  };
}

function decorate(doc: PMNode, pos: number, set: SuggestionSet): Decoration[] {
  const node = doc.nodeAt(pos)!;
  const end = pos + node.nodeSize;
  return [
    Decoration.node(pos, end, { class: 'has-suggestions' }, { conceptId: set.conceptId }),
    // At the concept's end, bound to its closing token: deleting the concept deletes the widget.
    Decoration.widget(end, candidatesWidget(set), { side: -2, key: `suggest-${set.conceptId}-${set.candidates.map((c) => c.id).join(',')}`, conceptId: set.conceptId, stopEvent: () => true, ignoreSelection: true }),
  ];
}

/** Pure state transition (exported for tests). */
export function applySuggestions(tr: Transaction, value: SuggestionsState): SuggestionsState {
  let { sets, decorations, accepting, error } = value;
  if (tr.docChanged && sets.length > 0) {
    decorations = decorations.map(tr.mapping, tr.doc);
    // A set whose concept was deleted goes with it.
    const alive = new Set(decorations.find(undefined, undefined, (spec) => spec.conceptId !== undefined && spec.key !== undefined).map((d) => (d.spec as { conceptId: string }).conceptId));
    if (alive.size !== sets.length) {
      const gone = sets.filter((s) => !alive.has(s.conceptId)).map((s) => s.conceptId);
      decorations = decorations.remove(decorations.find(undefined, undefined, (spec) => gone.includes(spec.conceptId as string)));
      sets = sets.filter((s) => alive.has(s.conceptId));
    }
  }
  const meta = tr.getMeta(suggestionsKey) as SuggestionsMeta | undefined;
  const without = (conceptId: string) => {
    decorations = decorations.remove(decorations.find(undefined, undefined, (spec) => spec.conceptId === conceptId));
    sets = sets.filter((s) => s.conceptId !== conceptId);
  };
  if (meta) {
    switch (meta.type) {
      case 'show': {
        without(meta.conceptId);
        const found = findConcept(tr.doc, meta.conceptId);
        if (found) {
          const set = { conceptId: meta.conceptId, candidates: meta.candidates };
          sets = [...sets, set];
          decorations = decorations.add(tr.doc, decorate(tr.doc, found.pos, set));
        }
        break;
      }
      case 'accept': accepting = { conceptId: meta.conceptId, candidateId: meta.candidateId }; error = null; break;
      case 'accepted': without(meta.conceptId); accepting = null; break;
      case 'acceptFailed': accepting = null; error = meta.error; break;
      case 'dismiss': without(meta.conceptId); break;
    }
  }
  return { sets, decorations, accepting, error };
}

/** Shows candidates under a concept (the jobs plugin calls this for a `candidates` event). */
export function showSuggestions(conceptId: string, candidates: readonly Candidate[]): Command {
  return (state, dispatch) => {
    if (!findConcept(state.doc, conceptId) || candidates.length === 0) return false;
    if (dispatch) dispatch(state.tr.setMeta(suggestionsKey, { type: 'show', conceptId, candidates } satisfies SuggestionsMeta));
    return true;
  };
}

/** Accepts a candidate: the plugin view asks the store and writes the result in. */
export function acceptCandidate(conceptId: string, candidateId: number): Command {
  return (state, dispatch) => {
    const st = suggestionsKey.getState(state);
    const set = st?.sets.find((s) => s.conceptId === conceptId);
    if (!st || st.accepting || !set?.candidates.some((c) => c.id === candidateId)) return false;
    if (dispatch) dispatch(state.tr.setMeta(suggestionsKey, { type: 'accept', conceptId, candidateId } satisfies SuggestionsMeta));
    return true;
  };
}

/** Accepts the n-th (1-based) candidate of the concept at the cursor (Alt-1 … Alt-9). */
export function acceptNthAtCursor(n: number): Command {
  return (state, dispatch) => {
    const found = conceptAtSelection(state);
    if (!found) return false;
    const id = attrsOf(found.node).id;
    const c = suggestionsKey.getState(state)?.sets.find((s) => s.conceptId === id)?.candidates[n - 1];
    return c ? acceptCandidate(id, c.id)(state, dispatch) : false;
  };
}

/** Hides a concept's candidates (they stay in its history). */
export function dismissSuggestions(conceptId: string): Command {
  return (state, dispatch) => {
    if (!suggestionsKey.getState(state)?.sets.some((s) => s.conceptId === conceptId)) return false;
    if (dispatch) dispatch(state.tr.setMeta(suggestionsKey, { type: 'dismiss', conceptId } satisfies SuggestionsMeta));
    return true;
  };
}

/** Escape: hides the candidates of the concept at the cursor. */
export const dismissAtCursor: Command = (state, dispatch) => {
  const found = conceptAtSelection(state);
  return found ? dismissSuggestions(attrsOf(found.node).id)(state, dispatch) : false;
};

class SuggestionsView {
  private inFlight: number | null = null;
  private destroyed = false;

  constructor(private readonly options: SuggestionsOptions) {}

  update(view: EditorView): void {
    const accepting = suggestionsKey.getState(view.state)?.accepting;
    if (!accepting || this.inFlight === accepting.candidateId) return;
    this.inFlight = accepting.candidateId;
    void this.accept(view, accepting.conceptId, accepting.candidateId);
  }

  private async accept(view: EditorView, conceptId: string, candidateId: number): Promise<void> {
    try {
      const concept = await this.options.queue.run(() => this.options.api.acceptCandidate({ candidateId }));
      if (this.destroyed) return;
      // Fresh state: the writer may have edited (or deleted) the concept meanwhile.
      const tr = storedConceptTr(view.state, concept) ?? view.state.tr;
      view.dispatch(tr.setMeta(suggestionsKey, { type: 'accepted', conceptId } satisfies SuggestionsMeta));
    } catch (error) {
      if (this.destroyed) return;
      view.dispatch(view.state.tr.setMeta(suggestionsKey, { type: 'acceptFailed', error: error instanceof Error ? error.message : String(error) } satisfies SuggestionsMeta));
    } finally {
      this.inFlight = null;
    }
  }

  destroy(): void {
    this.destroyed = true;
  }
}

export interface SuggestionsOptions {
  api: Pick<ConceptStudioApi, 'acceptCandidate'>;
  queue: WriteQueue;
}

/** The suggestions plugin. */
export function suggestionsPlugin(options: SuggestionsOptions): Plugin<SuggestionsState> {
  return new Plugin<SuggestionsState>({
    key: suggestionsKey,
    state: {
      init: () => ({ sets: [], decorations: DecorationSet.empty, accepting: null, error: null }),
      apply: applySuggestions,
    },
    view: () => new SuggestionsView(options),
    props: {
      decorations: (state: EditorState) => suggestionsKey.getState(state)?.decorations,
    },
  });
}
