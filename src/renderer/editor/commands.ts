/**
 * Outline editing commands, `(state, dispatch?) => boolean` as ProseMirror
 * commands are: false (and no change) when they do not apply, so keymaps can
 * chain them. A concept keeps its id through splits (the first half keeps it,
 * the new half gets a fresh one), indents and moves, so the store records
 * edits, not deletions and re-insertions.
 */
import type { Command } from 'prosemirror-state';
import { TextSelection } from 'prosemirror-state';
import type { Block } from '../../shared/library.ts';
import { conceptAtSelection, posOfIndex, selectedRange, subtreeEnd } from './find.ts';
import { newConceptId } from './ids.ts';
import { TYPED, attrsOf, conceptSchema, type ConceptAttrs } from './schema.ts';
import { conceptNode } from './snapshot.ts';

function insideConcepts(state: Parameters<Command>[0]): boolean {
  return state.selection.$from.depth === 1 && state.selection.$to.depth === 1;
}

/**
 * Enter: a new concept after the cursor's part of this one. `continueBlock`
 * (Shift-Enter) keeps the new concept in the same paragraph or list item, so
 * the draft view flows it on; otherwise it starts a new block. Under a heading
 * the new concept is a paragraph one level deeper. An empty nested concept is
 * outdented instead (as outliners do).
 */
export function splitConcept(continueBlock = false): Command {
  return (state, dispatch) => {
    if (!insideConcepts(state)) return false;
    const { $from } = state.selection;
    const a = attrsOf($from.parent);
    if (state.selection.empty && $from.parent.content.size === 0 && a.depth > 0 && !continueBlock) {
      return outdent(state, dispatch);
    }
    if (!dispatch) return true;
    const tr = state.tr;
    if (!state.selection.empty) tr.deleteSelection();
    const $pos = tr.selection.$from;
    const heading = a.block === 'heading';
    const next: ConceptAttrs = {
      ...TYPED,
      id: newConceptId(),
      language: a.language,
      depth: heading ? a.depth + 1 : a.depth,
      block: heading ? 'paragraph' : a.block,
      blockStart: heading || !continueBlock,
      marker: heading ? null : a.marker,
    };
    if ($pos.parentOffset === 0 && $pos.parent.content.size > 0) {
      // At the start of a concept: an empty one above; this one keeps its id and its text.
      tr.insert($pos.before(), conceptNode({ ...next, depth: a.depth, block: a.block, marker: a.marker, blockStart: true }, ''));
    } else {
      tr.split($pos.pos, 1, [{ type: conceptSchema.nodes.concept!, attrs: next }]);
    }
    dispatch(tr.scrollIntoView());
    return true;
  };
}

function shiftDepth(delta: 1 | -1): Command {
  return (state, dispatch) => {
    const [from, to] = selectedRange(state);
    const doc = state.doc;
    const first = attrsOf(doc.child(from));
    if (delta === 1) {
      // One deeper than the concept before at most: the first concept can't be indented.
      if (from === 0 || first.depth > attrsOf(doc.child(from - 1)).depth) return false;
    } else {
      let any = false;
      for (let i = from; i <= to; i++) if (attrsOf(doc.child(i)).depth > 0) any = true;
      if (!any) return false;
    }
    if (dispatch) {
      const tr = state.tr;
      // The selected concepts move with their subtrees.
      const end = subtreeEnd(doc, to);
      for (let i = from; i < end; i++) {
        const node = doc.child(i);
        const depth = Math.max(0, attrsOf(node).depth + delta);
        if (depth !== attrsOf(node).depth) tr.setNodeMarkup(posOfIndex(doc, i), undefined, { ...attrsOf(node), depth });
      }
      dispatch(tr);
    }
    return true;
  };
}

/** Tab: the selected concepts (with their subtrees) one level deeper. */
export const indent: Command = shiftDepth(1);
/** Shift-Tab: the selected concepts (with their subtrees) one level up. */
export const outdent: Command = shiftDepth(-1);

/** Backspace at the start of a nested concept outdents it (the join comes once it is at the top). */
export const outdentAtStart: Command = (state, dispatch) => {
  const { $from, empty } = state.selection;
  if (!empty || $from.depth !== 1 || $from.parentOffset !== 0 || attrsOf($from.parent).depth === 0) return false;
  return outdent(state, dispatch);
};

/** Alt-ArrowUp / Alt-ArrowDown: swap the selected concepts' subtree with the sibling's before or after it. */
export function moveConcepts(direction: 'up' | 'down'): Command {
  return (state, dispatch) => {
    const doc = state.doc;
    const [from, to] = selectedRange(state);
    const depth = attrsOf(doc.child(from)).depth;
    const end = subtreeEnd(doc, to);
    let a: number; // the first block to swap: [a, b) with [b, c)
    let b: number;
    let c: number;
    if (direction === 'up') {
      let j = from - 1;
      while (j >= 0 && attrsOf(doc.child(j)).depth > depth) j--;
      if (j < 0 || attrsOf(doc.child(j)).depth < depth) return false; // no earlier sibling
      [a, b, c] = [j, from, end];
    } else {
      if (end >= doc.childCount || attrsOf(doc.child(end)).depth < depth) return false; // no later sibling
      [a, b, c] = [from, end, subtreeEnd(doc, end)];
    }
    if (dispatch) {
      const [pa, pb, pc] = [posOfIndex(doc, a), posOfIndex(doc, b), posOfIndex(doc, c)];
      const moved = doc.slice(pb, pc).content;
      const tr = state.tr.delete(pb, pc).insert(pa, moved);
      // The selection travels with the selected concepts: up by the sibling's size, or down by the size of the block moved over it.
      const shift = direction === 'up' ? pa - pb : pc - pb;
      const sel = TextSelection.create(tr.doc, state.selection.anchor + shift, state.selection.head + shift);
      dispatch(tr.setSelection(sel).scrollIntoView());
    }
    return true;
  };
}

/** Makes the selected concepts headings, list items, paragraphs or code, with the Markdown marker. */
export function setBlock(block: Block, marker: string | null = null): Command {
  return (state, dispatch) => {
    const [from, to] = selectedRange(state);
    if (dispatch) {
      const tr = state.tr;
      for (let i = from; i <= to; i++) {
        const node = state.doc.child(i);
        tr.setNodeMarkup(posOfIndex(state.doc, i), undefined, { ...attrsOf(node), block, marker, blockStart: true });
      }
      dispatch(tr);
    }
    return true;
  };
}

/** Sets the language of the concept at the cursor (the writer says which language a sentence is in). */
export function setConceptLanguage(language: string): Command {
  return (state, dispatch) => {
    const found = conceptAtSelection(state);
    if (!found || attrsOf(found.node).language === language) return false;
    if (dispatch) dispatch(state.tr.setNodeMarkup(found.pos, undefined, { ...attrsOf(found.node), language }));
    return true;
  };
}

/** Puts the cursor at the end of the concept with index `index` (used by search results and the inspector). */
export function selectConceptAt(index: number): Command {
  return (state, dispatch) => {
    if (index < 0 || index >= state.doc.childCount) return false;
    if (dispatch) {
      const end = posOfIndex(state.doc, index) + state.doc.child(index).nodeSize - 1;
      dispatch(state.tr.setSelection(TextSelection.create(state.doc, end)).scrollIntoView());
    }
    return true;
  };
}
