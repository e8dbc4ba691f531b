/**
 * Writing a concept the store changed itself (an accepted candidate, a
 * reverted revision) into the editor: its text and provenance replace the
 * node's, its outline place stays the editor's, and autosave's baseline takes
 * the store's record so nothing is sent back.
 */
import type { EditorState, Transaction } from 'prosemirror-state';
import type { Concept } from '../../shared/library.ts';
import { autosaveKey, type AutosaveMeta } from './autosave.ts';
import { findConcept } from './find.ts';
import { externalEdit } from './normalize.ts';
import { attrsOf, conceptSchema } from './schema.ts';

/** A transaction that makes the editor's copy of `concept` the store's, or null if the editor no longer has it. */
export function storedConceptTr(state: EditorState, concept: Concept): Transaction | null {
  const found = findConcept(state.doc, concept.id);
  if (!found) return null;
  const { node, pos } = found;
  const tr = state.tr;
  if (node.textContent !== concept.text) {
    tr.replaceWith(pos + 1, pos + node.nodeSize - 1, concept.text === '' ? [] : conceptSchema.text(concept.text));
  }
  tr.setNodeMarkup(pos, undefined, {
    ...attrsOf(node),
    language: concept.language, origin: concept.origin, pack: concept.pack, seed: concept.seed, params: concept.params, jobId: concept.jobId,
  });
  return tr.setMeta(externalEdit, true).setMeta(autosaveKey, { type: 'synced', concepts: [concept] } satisfies AutosaveMeta);
}
