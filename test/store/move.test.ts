/**
 * moveConcept (the editor's `move` edit) and checkOutline: order, parent and
 * depth after a move, the subtree's depths following, and the refusals
 * (itself, its own descendant, another document) that leave the library as
 * it was.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ConceptStore } from '../../src/main/store/store.ts';

let store: ConceptStore;
let time = 0;
beforeEach(() => {
  time = 1_700_000_000_000;
  store = ConceptStore.open(':memory:', { clock: () => ++time });
  return () => store.close();
});

const outline = (docId: string) => store.listConcepts(docId).map((c) => `${'  '.repeat(c.depth)}${c.text}`);

function fixture() {
  const doc = store.createDocument({ title: 'Doc', language: 'eng_Latn' });
  const [h, a, a1, b] = store.insertConcepts(doc.id, [
    { id: 'h', text: 'H', block: 'heading', marker: '#' },
    { id: 'a', text: 'A', parentId: 'h' },
    { id: 'a1', text: 'A1', parentId: 'a' },
    { id: 'b', text: 'B' },
  ]);
  return { doc, h: h!, a: a!, a1: a1!, b: b! };
}

describe('moveConcept', () => {
  it('moves one concept to a new place and parent; its children keep it as parent and follow its depth', () => {
    const { doc } = fixture();
    expect(outline(doc.id)).toEqual(['H', '  A', '    A1', 'B']);
    // A to the top level after B: A1 stays A's child (now at depth 1) but still sits after H.
    const moved = store.moveConcept('a', 'b', null);
    expect(moved.parentId).toBeNull();
    expect(moved.depth).toBe(0);
    expect(store.getConcept('a1').depth).toBe(1);
    expect(store.listConcepts(doc.id).map((c) => c.id)).toEqual(['h', 'a1', 'b', 'a']);
    expect(() => store.checkOutline(doc.id)).toThrow(/Concept a1 would come before its parent a/);
    // Moving A1 after A restores a valid outline (the editor sends subtree moves in order).
    store.moveConcept('a1', 'a', 'a');
    expect(outline(doc.id)).toEqual(['H', 'B', 'A', '  A1']);
    expect(() => store.checkOutline(doc.id)).not.toThrow();
  });

  it('moves to the start of the document with after = null, and deeper under a new parent', () => {
    const { doc } = fixture();
    store.moveConcept('b', null, null);
    expect(store.listConcepts(doc.id)[0]!.id).toBe('b');
    store.moveConcept('h', 'b', 'b');
    expect(outline(doc.id)).toEqual(['B', '  H', '    A', '      A1']);
  });

  it('refuses itself, its own descendant and another document, changing nothing', () => {
    const { doc } = fixture();
    const other = store.createDocument({ title: 'Other', language: 'eng_Latn' });
    store.insertConcept(other.id, { id: 'x', text: 'X' });
    const before = store.listConcepts(doc.id);
    expect(() => store.moveConcept('a', 'a', null)).toThrow(/after itself/);
    expect(() => store.moveConcept('a', 'h', 'a')).toThrow(/its own parent/);
    expect(() => store.moveConcept('a', 'h', 'a1')).toThrow(/nested inside it/);
    expect(() => store.moveConcept('a', 'h', 'x')).toThrow(/another document/);
    expect(() => store.moveConcept('a', 'x', null)).toThrow(/another document/);
    expect(() => store.moveConcept('nope', null, null)).toThrow(/No concept with id nope/);
    expect(store.listConcepts(doc.id)).toEqual(before);
  });
});
