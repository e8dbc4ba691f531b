/**
 * Finding concepts in the flat document: by selection, by id, by outline
 * subtree. A concept is a child of the doc node, so index i of the doc is the
 * i-th concept and its position is the sum of the sizes before it.
 */
import type { Node as PMNode } from 'prosemirror-model';
import type { EditorState } from 'prosemirror-state';
import { attrsOf } from './schema.ts';

/** A concept node with its position (before its opening token) and its index in the document. */
export interface FoundConcept {
  node: PMNode;
  pos: number;
  index: number;
}

/** The concept holding the selection's head, or null (no concept, e.g. an empty doc in a broken state). */
export function conceptAtSelection(state: EditorState): FoundConcept | null {
  const $head = state.selection.$head;
  // Inside a concept its position is at hand (no walk over the concepts before it: this runs on every keystroke).
  if ($head.depth >= 1) return { node: $head.node(1), pos: $head.before(1), index: $head.index(0) };
  const index = Math.min($head.index(0), state.doc.childCount - 1);
  if (index < 0) return null;
  return { node: state.doc.child(index), pos: state.doc.resolve(0).posAtIndex(index), index };
}

/** Indices of the first and last concept the selection touches. */
export function selectedRange(state: EditorState): [number, number] {
  const { $from, $to } = state.selection;
  const last = state.doc.childCount - 1;
  const from = Math.min($from.index(0), last);
  // A selection ending exactly at a concept's start (as a triple click leaves it) does not select that concept.
  const endsAtStart = $to.depth === 0 || ($to.parentOffset === 0 && $to.index(0) > from);
  let to = Math.min(endsAtStart ? $to.index(0) - 1 : $to.index(0), last);
  if (to < from) to = from;
  return [from, to];
}

/** Position before the concept at `index` (index = childCount gives the end of the document). */
export function posOfIndex(doc: PMNode, index: number): number {
  return doc.resolve(0).posAtIndex(index);
}

/** The concept with this id, or null. O(n); fine for the few lookups per job event. */
export function findConcept(doc: PMNode, id: string): FoundConcept | null {
  let found: FoundConcept | null = null;
  doc.forEach((node, pos, index) => {
    if (!found && attrsOf(node).id === id) found = { node, pos, index };
  });
  return found;
}

/** Index just past the outline subtree of the concept at `index` (its deeper followers). */
export function subtreeEnd(doc: PMNode, index: number): number {
  const depth = attrsOf(doc.child(index)).depth;
  let i = index + 1;
  while (i < doc.childCount && attrsOf(doc.child(i)).depth > depth) i++;
  return i;
}

/** Ids of the concepts the selection touches, in order. */
export function selectedIds(state: EditorState): string[] {
  const [from, to] = selectedRange(state);
  const ids: string[] = [];
  for (let i = from; i <= to; i++) ids.push(attrsOf(state.doc.child(i)).id);
  return ids;
}
