/**
 * Autosave's diff: the edits that turn the store's concepts (the baseline)
 * into the editor's (current), as one `saveEdits` batch. The batch is applied
 * in order in one transaction (contract.ts), so the diff simulates the store's
 * rules as it goes:
 * - `delete` moves a deleted concept's children up to its parent (store.ts);
 * - `insert` and `move` place a concept right after `after` (null: first), so
 *   walking the editor's order and placing each concept after its predecessor
 *   rebuilds that order; concepts on a longest increasing subsequence of the
 *   old order stay where they are, so typing or indenting moves nothing else.
 * The result is checked against an in-memory store that applies these rules
 * (bridge/fakeBridge.ts) in test/renderer/autosave.test.ts.
 */
import type { ConceptEdit } from '../../shared/contract.ts';
import type { ConceptPatch } from '../../shared/library.ts';
import { jsonEqual, type ConceptSnapshot } from './snapshot.ts';

/** Indices (into `seq`) of one longest strictly increasing subsequence: patience sorting, O(n log n). */
export function longestIncreasing(seq: readonly number[]): number[] {
  const tails: number[] = []; // tails[k] = index in seq of the smallest tail of an increasing run of length k+1
  const prev = new Array<number>(seq.length).fill(-1);
  seq.forEach((v, i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[tails[mid]!]! < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1]!;
    tails[lo] = i;
  });
  const out: number[] = [];
  for (let i = tails.length ? tails[tails.length - 1]! : -1; i >= 0; i = prev[i]!) out.push(i);
  return out.reverse();
}

/** The fields of `to` that differ from `from`; provenance travels whole when the text or any of it changes. */
export function patchBetween(from: ConceptSnapshot, to: ConceptSnapshot): ConceptPatch | null {
  const patch: ConceptPatch = {};
  if (from.text !== to.text) patch.text = to.text;
  if (from.language !== to.language) patch.language = to.language;
  if (from.block !== to.block) patch.block = to.block;
  if (from.blockStart !== to.blockStart) patch.blockStart = to.blockStart;
  if (from.marker !== to.marker) patch.marker = to.marker;
  const provenanceChanged = from.origin !== to.origin || from.pack !== to.pack || from.seed !== to.seed
    || from.jobId !== to.jobId || !jsonEqual(from.params, to.params);
  // Without provenance a new text counts as typed (the store's rule); with it, generated text
  // stays generated. Sending it whole keeps the store's record exactly the editor's.
  if (provenanceChanged || patch.text !== undefined) {
    Object.assign(patch, { origin: to.origin, pack: to.pack, seed: to.seed, params: to.params, jobId: to.jobId });
  }
  return Object.keys(patch).length > 0 ? patch : null;
}

/** The edits from `baseline` (the store) to `current` (the editor), in the order they must be applied. */
export function diffSnapshots(baseline: readonly ConceptSnapshot[], current: readonly ConceptSnapshot[]): ConceptEdit[] {
  const edits: ConceptEdit[] = [];
  const currentIds = new Set(current.map((c) => c.id));
  const before = new Map(baseline.map((b) => [b.id, b]));
  // The store's parents as the batch goes (deletes reparent children).
  const parent = new Map(baseline.map((b) => [b.id, b.parentId]));

  for (const b of baseline) {
    if (currentIds.has(b.id)) continue;
    edits.push({ op: 'delete', id: b.id });
    const up = parent.get(b.id) ?? null;
    parent.delete(b.id);
    for (const [id, p] of parent) if (p === b.id) parent.set(id, up);
  }

  const indexInCurrent = new Map(current.map((c, i) => [c.id, i]));
  const survivors = baseline.filter((b) => currentIds.has(b.id));
  const stable = new Set(longestIncreasing(survivors.map((b) => indexInCurrent.get(b.id)!)).map((i) => survivors[i]!.id));

  let prev: string | null = null;
  for (const c of current) {
    const old = before.get(c.id);
    if (!old) {
      edits.push({
        op: 'insert',
        after: prev,
        concept: {
          id: c.id, text: c.text, language: c.language, parentId: c.parentId, block: c.block, blockStart: c.blockStart,
          marker: c.marker, origin: c.origin, pack: c.pack, seed: c.seed, params: c.params, jobId: c.jobId,
        },
      });
    } else {
      if (!stable.has(c.id) || parent.get(c.id) !== c.parentId) edits.push({ op: 'move', id: c.id, after: prev, parentId: c.parentId });
      const patch = patchBetween(old, c);
      if (patch) edits.push({ op: 'update', id: c.id, patch });
    }
    prev = c.id;
  }
  return edits;
}
