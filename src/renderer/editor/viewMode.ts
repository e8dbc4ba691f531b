/**
 * Outline and draft: the same document, two presentations. The mode is plugin
 * state, and the editor's root element carries it as a class; editor.css lays
 * concepts out one per line with their depth (outline) or flowing as
 * paragraphs (draft). Switching keeps the selection, the undo history and
 * every running job.
 */
import { Plugin, PluginKey, type Command } from 'prosemirror-state';

export type ViewMode = 'outline' | 'draft';

export const viewModeKey = new PluginKey<ViewMode>('conceptViewMode');

/** The view-mode plugin, starting in `initial`. */
export function viewModePlugin(initial: ViewMode = 'outline'): Plugin<ViewMode> {
  return new Plugin<ViewMode>({
    key: viewModeKey,
    state: {
      init: () => initial,
      apply: (tr, mode) => (tr.getMeta(viewModeKey) as ViewMode | undefined) ?? mode,
    },
    props: {
      attributes: (state) => {
        const mode = viewModeKey.getState(state) ?? 'outline';
        return { class: `concept-editor view-${mode}`, 'data-view': mode, 'aria-label': mode === 'outline' ? 'Outline: one concept per line' : 'Draft: concepts as paragraphs' };
      },
    },
  });
}

/** Shows the document as an outline or as a draft. */
export function setViewMode(mode: ViewMode): Command {
  return (state, dispatch) => {
    if (viewModeKey.getState(state) === mode) return false;
    if (dispatch) dispatch(state.tr.setMeta(viewModeKey, mode).setMeta('addToHistory', false));
    return true;
  };
}

/** Switches between outline and draft (Mod-Alt-V… see docs/editor.md). */
export const toggleViewMode: Command = (state, dispatch) =>
  setViewMode(viewModeKey.getState(state) === 'draft' ? 'outline' : 'draft')(state, dispatch);
