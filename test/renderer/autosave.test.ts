// @vitest-environment happy-dom
// Autosave: editor edits become ConceptEdit batches that the store (here the fake, which applies the store's rules and
// throws where it would) turns into exactly the editor's outline.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TextSelection } from 'prosemirror-state';
import type { ConceptEdit } from '../../src/shared/contract.ts';
import { autosaveKey } from '../../src/renderer/editor/autosave.ts';
import { diffSnapshots, longestIncreasing } from '../../src/renderer/editor/diff.ts';
import { posOfIndex } from '../../src/renderer/editor/find.ts';
import type { ConceptSnapshot } from '../../src/renderer/editor/snapshot.ts';
import { editorOutline, makeEditor, settle, storedOutline, type TestEditor } from './editorHelper.ts';

let t: TestEditor | null = null;
afterEach(async () => {
  await t?.destroy();
  t = null;
});

const snap = (id: string, parentId: string | null, text = id, extra: Partial<ConceptSnapshot> = {}): ConceptSnapshot => ({
  id, parentId, depth: 0, text, language: 'eng_Latn', block: 'paragraph', blockStart: true, marker: null,
  origin: 'typed', pack: null, seed: null, params: null, jobId: null, ...extra,
});

describe('diffSnapshots', () => {
  it('longestIncreasing finds a longest run', () => {
    expect(longestIncreasing([3, 0, 1, 4, 2, 5]).map((i) => [3, 0, 1, 4, 2, 5][i])).toEqual([0, 1, 2, 5]);
    expect(longestIncreasing([])).toEqual([]);
  });

  it('nothing changed: no edits', () => {
    const s = [snap('a', null), snap('b', null)];
    expect(diffSnapshots(s, s.map((x) => ({ ...x })))).toEqual([]);
  });

  it('a new concept is inserted after the one before it, with its parent', () => {
    const edits = diffSnapshots([snap('a', null)], [snap('a', null), snap('n', 'a', 'new')]);
    expect(edits).toEqual([{ op: 'insert', after: 'a', concept: expect.objectContaining({ id: 'n', parentId: 'a', text: 'new', origin: 'typed' }) }]);
  });

  it('moving one concept to the front moves only that one', () => {
    const edits = diffSnapshots([snap('a', null), snap('b', null), snap('c', null)], [snap('c', null), snap('a', null), snap('b', null)]);
    expect(edits).toEqual([{ op: 'move', id: 'c', after: null, parentId: null }]);
  });

  it('a deleted parent reparents its children as the store does, so no move is needed for them', () => {
    const edits = diffSnapshots([snap('a', null), snap('k', 'a')], [snap('k', null)]);
    expect(edits).toEqual([{ op: 'delete', id: 'a' }]);
  });

  it('a new text sends the whole provenance (typed), so the store never keeps a stale job', () => {
    const gen = { origin: 'generated' as const, pack: 'p@1', seed: 9, params: { kind: 'continue' }, jobId: 'j' };
    const edits = diffSnapshots([snap('a', null, 'old', gen)], [snap('a', null, 'new')]);
    expect(edits).toEqual([{ op: 'update', id: 'a', patch: { text: 'new', origin: 'typed', pack: null, seed: null, params: null, jobId: null } }]);
  });

  it('only the changed block fields go in a patch', () => {
    const edits = diffSnapshots([snap('a', null)], [snap('a', null, 'a', { block: 'heading', marker: '#' })]);
    expect(edits).toEqual([{ op: 'update', id: 'a', patch: { block: 'heading', marker: '#' } }]);
  });
});

describe('autosave in the editor', () => {
  it('typing, Enter and Tab become update, insert and move edits; the store ends up as the editor', async () => {
    t = await makeEditor([{ text: 'One.' }, { text: 'Two.' }]);
    t.cursor(0);
    t.type(' More');
    t.press('Enter');
    t.type('Three.');
    t.cursor(1);
    t.press('Tab');
    expect(autosaveKey.getState(t.view.state)!.status).toBe('unsaved');
    await t.flush();
    const last = t.api.saved.at(-1)!.edits;
    const newId = t.attrs(1).id;
    expect(last).toEqual<ConceptEdit[]>([
      { op: 'update', id: 'c1', patch: { text: 'One. More', origin: 'typed', pack: null, seed: null, params: null, jobId: null } },
      { op: 'insert', after: 'c1', concept: expect.objectContaining({ id: newId, text: 'Three.', parentId: 'c1' }) as never },
    ]);
    expect(storedOutline(t)).toEqual(editorOutline(t));
    expect(autosaveKey.getState(t.view.state)!.status).toBe('saved');
  });

  it('edits made while a batch is out stay unsaved and go in the next batch', async () => {
    t = await makeEditor([{ text: 'A' }]);
    const real = t.api.saveEdits.bind(t.api);
    let sent!: () => void;
    const out = new Promise<void>((r) => { sent = r; });
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    t.api.saveEdits = async (req) => {
      sent();
      await gate;
      return real(req);
    };
    t.cursor(0);
    t.type('1');
    const first = t.flush();
    await out;
    expect(autosaveKey.getState(t.view.state)!.status).toBe('saving');
    t.type('2'); // while the batch is out
    release();
    await first;
    expect(autosaveKey.getState(t.view.state)!.status).toBe('unsaved');
    expect(t.stored()[0]!.text).toBe('A1');
    await t.flush();
    expect(t.stored()[0]!.text).toBe('A12');
    expect(autosaveKey.getState(t.view.state)!.status).toBe('saved');
  });

  it('a failed batch shows its error and is retried whole a moment later', async () => {
    t = await makeEditor([{ text: 'A' }]);
    const real = t.api.saveEdits.bind(t.api);
    let fail = true;
    t.api.saveEdits = async (req) => {
      if (fail) throw new Error('Disk full: free some space and try again.');
      return real(req);
    };
    t.cursor(0);
    t.type('!');
    vi.useFakeTimers();
    try {
      await t.flush();
      expect(autosaveKey.getState(t.view.state)).toMatchObject({ status: 'error', error: 'Disk full: free some space and try again.' });
      fail = false;
      // No new edit: the retry timer (2 s after the first failure) sends the batch again.
      await vi.advanceTimersByTimeAsync(1900);
      expect(t.stored()[0]!.text).toBe('A');
      await vi.advanceTimersByTimeAsync(200);
    } finally {
      vi.useRealTimers();
    }
    expect(t.stored()[0]!.text).toBe('A!');
    expect(autosaveKey.getState(t.view.state)!.status).toBe('saved');
  });

  it('losing focus saves at once', async () => {
    t = await makeEditor([{ text: 'A' }]);
    t.cursor(0);
    t.type('b');
    t.view.dom.dispatchEvent(new FocusEvent('blur'));
    await settle();
    expect(t.stored()[0]!.text).toBe('Ab');
  });

  it('random outline editing: after every save the store holds exactly the editor\'s outline', async () => {
    t = await makeEditor(Array.from({ length: 8 }, (_, i) => ({ text: `S${i}.`, depth: i % 3 === 2 ? 1 : 0 })));
    // A fixed LCG (Numerical Recipes constants): the same sequence on every run.
    let x = 12345;
    const rand = (n: number) => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      return x % n;
    };
    const keys: [string, { shift?: boolean; alt?: boolean }?][] = [['Enter'], ['Enter', { shift: true }], ['Tab'], ['Tab', { shift: true }], ['ArrowUp', { alt: true }], ['ArrowDown', { alt: true }], ['Backspace']];
    for (let round = 0; round < 25; round++) {
      for (let op = 0; op < 6; op++) {
        const view = t.view;
        const n = view.state.doc.childCount;
        const i = rand(n);
        const choice = rand(10);
        if (choice < 7) {
          const node = view.state.doc.child(i);
          t.cursor(i, rand(node.content.size + 1));
          const [key, mods] = keys[rand(keys.length)]!;
          if (!t.press(key, mods)) t.type(String.fromCharCode(97 + rand(26)));
        } else if (choice < 9 && n > 2) {
          // Delete a run of whole concepts (a selection across lines).
          const j = Math.min(n, i + 1 + rand(2));
          view.dispatch(view.state.tr.delete(posOfIndex(view.state.doc, i), posOfIndex(view.state.doc, j)));
        } else {
          // Select across two concepts and type over it (a join plus text).
          const j = Math.min(n - 1, i + 1);
          const from = posOfIndex(view.state.doc, i) + 1;
          const to = posOfIndex(view.state.doc, j) + 1;
          view.dispatch(view.state.tr.setSelection(TextSelection.create(view.state.doc, from, to)));
          t.type('x');
        }
      }
      await t.flush();
      expect(autosaveKey.getState(t.view.state)).toMatchObject({ status: 'saved', error: null });
      expect(storedOutline(t)).toEqual(editorOutline(t));
    }
    expect(t.api.saved.flatMap((s) => s.edits.map((e) => e.op))).toEqual(expect.arrayContaining(['insert', 'update', 'delete', 'move']));
  });
});
