/**
 * Keeps the document a valid outline of uniquely named concepts after every
 * change, whoever made it (typing, paste, drop, undo, generated text):
 * - the first concept at depth 0, each one at most one deeper than the one before;
 * - every id present and unique (a pasted copy gets a fresh id, keeping its provenance);
 * - every concept with a language (pasted text takes the document's);
 * - a generated concept whose text the writer changes becomes typed, as the
 *   store would record it (store.ts updateConcept), so the inspector tells the truth.
 * Transactions marked with `externalEdit` (job results, accepted candidates,
 * reverts) keep their provenance.
 */
import { isHistoryTransaction } from 'prosemirror-history';
import type { Node as PMNode } from 'prosemirror-model';
import { Plugin, PluginKey, type Transaction } from 'prosemirror-state';
import { ReplaceStep, type Step } from 'prosemirror-transform';
import { newConceptId } from './ids.ts';
import { TYPED, attrsOf } from './schema.ts';

export const normalizeKey = new PluginKey('conceptNormalize');

/** Meta key: this transaction writes job output or stored text; keep the provenance it sets. */
export const externalEdit = 'conceptExternalEdit';

/** True unless the step only edits text inside one concept (typing, deleting within a line). */
function isStructural(step: Step, docBefore: PMNode): boolean {
  if (!(step instanceof ReplaceStep)) return true;
  const { from, to, slice } = step as ReplaceStep & { from: number; to: number };
  if (slice.openStart !== 0 || slice.openEnd !== 0) return true;
  let blockInSlice = false;
  slice.content.forEach((n) => { if (!n.isInline) blockInSlice = true; });
  if (blockInSlice) return true;
  const $from = docBefore.resolve(from);
  return !($from.parent.isTextblock && $from.sameParent(docBefore.resolve(to)));
}

/** Ranges of the final document that the writer's (non-external) steps touched. */
function touchedRanges(trs: readonly Transaction[]): { from: number; to: number }[] {
  const ranges: { from: number; to: number }[] = [];
  trs.forEach((tr, t) => {
    if (!tr.docChanged || tr.getMeta(externalEdit) || isHistoryTransaction(tr)) return;
    tr.mapping.maps.forEach((map, i) => {
      map.forEach((_oldStart, _oldEnd, newStart, newEnd) => {
        let from = newStart;
        let to = newEnd;
        // Bring the range into the final document: through this transaction's later steps, then later transactions'.
        const rest = tr.mapping.slice(i + 1);
        from = rest.map(from, -1);
        to = rest.map(to, 1);
        for (const later of trs.slice(t + 1)) {
          from = later.mapping.map(from, -1);
          to = later.mapping.map(to, 1);
        }
        ranges.push({ from, to });
      });
    });
  });
  return ranges;
}

/** The normalize plugin; `defaultLanguage` is the document's language, for pasted text. */
export function normalizePlugin(options: { defaultLanguage: string }): Plugin {
  return new Plugin({
    key: normalizeKey,
    appendTransaction(trs, oldState, newState) {
      if (!trs.some((tr) => tr.docChanged)) return null;
      const doc = newState.doc;
      const tr = newState.tr;

      // 1. A generated concept whose text the writer changed is the writer's now.
      const touched = touchedRanges(trs);
      if (touched.length > 0) {
        const candidates = new Map<string, number>(); // id → position, non-typed concepts the writer touched
        for (const { from, to } of touched) {
          doc.nodesBetween(Math.max(0, from), Math.min(doc.content.size, to), (node, pos) => {
            if (node.type.name === 'concept' && attrsOf(node).origin !== 'typed') candidates.set(attrsOf(node).id, pos);
            return false;
          });
        }
        if (candidates.size > 0) {
          const oldText = new Map<string, string>();
          oldState.doc.forEach((n) => { if (candidates.has(attrsOf(n).id)) oldText.set(attrsOf(n).id, n.textContent); });
          for (const [id, pos] of candidates) {
            const node = doc.nodeAt(pos)!;
            if (oldText.get(id) !== node.textContent) tr.setNodeMarkup(pos, undefined, { ...attrsOf(node), ...TYPED });
          }
        }
      }

      // 2. Outline depths, unique ids, languages: only when a step could have broken them.
      const structural = trs.some((t) => t.steps.some((s, i) => isStructural(s, t.docs[i]!)));
      if (structural) {
        const seen = new Set<string>();
        let prevDepth = -1;
        doc.forEach((node, pos) => {
          const a = attrsOf(node);
          const depth = Math.max(0, Math.min(a.depth, prevDepth + 1));
          const id = a.id === '' || seen.has(a.id) ? newConceptId() : a.id;
          const language = a.language === '' ? options.defaultLanguage : a.language;
          seen.add(id);
          prevDepth = depth;
          if (depth !== a.depth || id !== a.id || language !== a.language) {
            tr.setNodeMarkup(pos, undefined, { ...attrsOf(tr.doc.nodeAt(pos)!), depth, id, language });
          }
        });
      }
      if (!tr.docChanged) return null;
      // Part of the edit that caused it: undone with it, and not a writer's edit itself.
      return tr.setMeta(externalEdit, true).setMeta('addToHistory', trs.every((t) => t.getMeta('addToHistory') !== false));
    },
  });
}
