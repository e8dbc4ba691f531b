/**
 * Marks the concept at the cursor with the class `is-active` (a node
 * decoration). The outline lets off-screen concepts skip rendering
 * (editor.css, `content-visibility: auto`); the concept being typed in must
 * always render at once, or Chromium drops the first key typed into a concept
 * just made by Enter (seen in test/e2e). It also lets the stylesheet show
 * where the cursor is.
 */
import { Plugin, PluginKey } from 'prosemirror-state';
import { Decoration, DecorationSet } from 'prosemirror-view';
import { conceptAtSelection } from './find.ts';

export const activeConceptKey = new PluginKey('conceptActive');

export function activeConceptPlugin(): Plugin {
  return new Plugin({
    key: activeConceptKey,
    props: {
      decorations(state) {
        const found = conceptAtSelection(state);
        if (!found) return null;
        return DecorationSet.create(state.doc, [Decoration.node(found.pos, found.pos + found.node.nodeSize, { class: 'is-active' })]);
      },
    },
  });
}
