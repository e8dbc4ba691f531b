// @vitest-environment happy-dom
// Outline editing: ids survive splits, indents and moves; the outline stays valid; provenance follows the writer's edits.
import { afterEach, describe, expect, it } from 'vitest';
import { Slice, Fragment } from 'prosemirror-model';
import { TextSelection } from 'prosemirror-state';
import { conceptSchema } from '../../src/renderer/editor/schema.ts';
import { conceptNode, typedAttrs } from '../../src/renderer/editor/snapshot.ts';
import { posOfIndex } from '../../src/renderer/editor/find.ts';
import { makeEditor, type TestEditor } from './editorHelper.ts';

let t: TestEditor | null = null;
afterEach(async () => {
  await t?.destroy();
  t = null;
});

describe('Enter and Shift-Enter', () => {
  it('splits a concept: the first half keeps the id, the second gets a fresh one in the same block kind', async () => {
    t = await makeEditor([{ text: 'One two.' }]);
    t.cursor(0, 4);
    expect(t.press('Enter')).toBe(true);
    expect(t.texts()).toEqual(['One ', 'two.']);
    expect(t.attrs(0).id).toBe('c1');
    expect(t.attrs(1).id).not.toBe('c1');
    expect(t.attrs(1).id).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.attrs(1)).toMatchObject({ origin: 'typed', block: 'paragraph', blockStart: true, depth: 0, language: 'eng_Latn' });
  });

  it('Shift-Enter continues the paragraph (blockStart false), so the draft view flows it on', async () => {
    t = await makeEditor([{ text: 'First.' }]);
    t.cursor(0);
    t.press('Enter', { shift: true });
    expect(t.attrs(1).blockStart).toBe(false);
  });

  it('Enter at the start of a concept opens an empty one above and keeps the text with its id', async () => {
    t = await makeEditor([{ text: 'Keep me.' }]);
    t.cursor(0, 0);
    t.press('Enter');
    expect(t.texts()).toEqual(['', 'Keep me.']);
    expect(t.attrs(1).id).toBe('c1');
  });

  it('Enter after a heading starts a paragraph one level under it', async () => {
    t = await makeEditor([{ text: 'Title', block: 'heading', marker: '#' }]);
    t.cursor(0);
    t.press('Enter');
    expect(t.attrs(1)).toMatchObject({ block: 'paragraph', depth: 1, marker: null });
  });

  it('Enter on an empty nested concept outdents it instead of splitting', async () => {
    t = await makeEditor([{ text: 'Parent' }, { text: '', depth: 1, id: 'kid' }]);
    t.cursor(1, 0);
    t.press('Enter');
    expect(t.outline()).toEqual([[0, 'Parent'], [0, '']]);
  });
});

describe('indent, outdent, move', () => {
  it('Tab indents under the previous concept, with the subtree; never deeper than one below it', async () => {
    t = await makeEditor([{ text: 'A' }, { text: 'B' }, { text: 'B1', depth: 1 }, { text: 'C' }]);
    t.cursor(0);
    expect(t.press('Tab')).toBe(false); // the first concept has nothing to go under
    t.cursor(1);
    expect(t.press('Tab')).toBe(true);
    expect(t.outline()).toEqual([[0, 'A'], [1, 'B'], [2, 'B1'], [0, 'C']]);
    expect(t.press('Tab')).toBe(false); // B is already one below A
    t.press('Tab', { shift: true });
    expect(t.outline()).toEqual([[0, 'A'], [0, 'B'], [1, 'B1'], [0, 'C']]);
  });

  it('Backspace at the start of a nested concept outdents it before joining', async () => {
    t = await makeEditor([{ text: 'A' }, { text: 'B', depth: 1 }]);
    t.cursor(1, 0);
    t.press('Backspace');
    expect(t.outline()).toEqual([[0, 'A'], [0, 'B']]);
    t.press('Backspace');
    expect(t.outline()).toEqual([[0, 'AB']]);
    expect(t.attrs(0).id).toBe('c1');
  });

  it('Alt-ArrowUp/Down swaps a concept and its subtree with its sibling, keeping ids and the cursor', async () => {
    t = await makeEditor([{ text: 'A' }, { text: 'A1', depth: 1 }, { text: 'B' }, { text: 'B1', depth: 1 }]);
    t.cursor(2, 1);
    expect(t.press('ArrowUp', { alt: true })).toBe(true);
    expect(t.outline()).toEqual([[0, 'B'], [1, 'B1'], [0, 'A'], [1, 'A1']]);
    expect(t.view.state.selection.$head.parent.textContent).toBe('B');
    expect(t.attrs(0).id).toBe('c3');
    expect(t.press('ArrowUp', { alt: true })).toBe(false); // no earlier sibling
    t.press('ArrowDown', { alt: true });
    expect(t.outline()).toEqual([[0, 'A'], [1, 'A1'], [0, 'B'], [1, 'B1']]);
    t.cursor(1);
    expect(t.press('ArrowDown', { alt: true })).toBe(false); // A1 has no later sibling under A
  });
});

describe('normalization', () => {
  it('deleting a parent keeps the outline valid: its children come up to a depth the rule allows', async () => {
    t = await makeEditor([{ text: 'A' }, { text: 'A1', depth: 1 }, { text: 'A11', depth: 2 }]);
    const { doc } = t.view.state;
    t.view.dispatch(t.view.state.tr.delete(posOfIndex(doc, 0), posOfIndex(doc, 2)));
    expect(t.outline()).toEqual([[0, 'A11']]);
  });

  it('a pasted copy of a concept gets a fresh id and keeps its provenance', async () => {
    t = await makeEditor([{ text: 'Made.', origin: 'generated', pack: 'p@1', seed: 3, jobId: 'j1' }]);
    const copy = t.view.state.doc.child(0);
    const end = t.view.state.doc.content.size;
    t.view.dispatch(t.view.state.tr.replace(end, end, new Slice(Fragment.from(copy), 0, 0)));
    expect(t.attrs(1).id).not.toBe(t.attrs(0).id);
    expect(t.attrs(1)).toMatchObject({ origin: 'generated', pack: 'p@1', seed: 3, jobId: 'j1', language: 'eng_Latn' });
  });

  it('pasted concepts without a language take the document language', async () => {
    t = await makeEditor([{ text: 'A' }]);
    const end = t.view.state.doc.content.size;
    t.view.dispatch(t.view.state.tr.insert(end, conceptNode({ ...typedAttrs(''), id: '' }, 'pasted')));
    expect(t.attrs(1).language).toBe('eng_Latn');
    expect(t.attrs(1).id).not.toBe('');
  });

  it('typing into a generated concept makes it typed; splitting it does not', async () => {
    t = await makeEditor([{ text: 'Generated text.', origin: 'generated', pack: 'p@1', seed: 3, jobId: 'j1' }]);
    t.cursor(0);
    t.press('Enter');
    expect(t.attrs(0)).toMatchObject({ origin: 'generated', seed: 3 });
    t.cursor(0, 0);
    t.type('X');
    expect(t.attrs(0)).toMatchObject({ origin: 'typed', pack: null, seed: null, params: null, jobId: null });
  });

  it('undo brings back a generated concept with its provenance', async () => {
    t = await makeEditor([{ text: 'Gen.', origin: 'generated', pack: 'p@1', seed: 3, jobId: 'j1' }]);
    t.cursor(0);
    t.type('!');
    expect(t.attrs(0).origin).toBe('typed');
    t.press('z', { mod: true });
    expect(t.texts()).toEqual(['Gen.']);
    expect(t.attrs(0)).toMatchObject({ origin: 'generated', seed: 3 });
  });
});

describe('Markdown input rules', () => {
  it('"## " at the start makes a level-2 heading, "- " an item, "1) " a numbered item', async () => {
    t = await makeEditor([{ text: '' }, { text: '' }, { text: '' }]);
    t.cursor(0, 0);
    t.type('## Title');
    t.cursor(1, 0);
    t.type('- item');
    t.cursor(2, 0);
    t.type('3) step');
    expect(t.texts()).toEqual(['Title', 'item', 'step']);
    expect([t.attrs(0).block, t.attrs(0).marker, t.attrs(1).block, t.attrs(1).marker, t.attrs(2).marker]).toEqual(['heading', '##', 'item', '-', '1)']);
    const h = t.view.dom.querySelector('[data-block="heading"]')!;
    expect([h.getAttribute('role'), h.getAttribute('aria-level')]).toEqual(['heading', '2']);
  });

  it('a marker typed in the middle of a concept stays text', async () => {
    t = await makeEditor([{ text: 'a' }]);
    t.cursor(0);
    t.type(' # b');
    expect(t.texts()).toEqual(['a # b']);
    expect(t.attrs(0).block).toBe('paragraph');
  });
});

describe('rendering', () => {
  it('marks each concept with its language (lang, dir) and outline place; an empty right-to-left concept starts right to left', async () => {
    t = await makeEditor([{ text: 'مرحبا', language: 'arb_Arab' }, { text: '你好', language: 'zho_Hans', depth: 1 }, { text: '', language: 'heb_Hebr' }, { text: '', language: 'eng_Latn' }]);
    const [ar, zh, he, en] = [...t.view.dom.querySelectorAll('.concept')];
    expect([ar!.getAttribute('dir'), ar!.getAttribute('lang')]).toEqual(['auto', 'ar-Arab']);
    expect([zh!.getAttribute('dir'), zh!.getAttribute('lang'), zh!.getAttribute('data-depth')]).toEqual(['auto', 'zh-Hans', '1']);
    expect([he!.getAttribute('dir'), he!.getAttribute('lang'), en!.getAttribute('dir')]).toEqual(['rtl', 'he-Hebr', 'auto']);
  });

  it('a selection that ends at the start of a concept does not act on that concept', async () => {
    t = await makeEditor([{ text: 'A' }, { text: 'B' }, { text: 'C' }]);
    const doc = t.view.state.doc;
    t.view.dispatch(t.view.state.tr.setSelection(TextSelection.create(doc, 1, posOfIndex(doc, 2) + 1)));
    t.press('Tab');
    expect(t.outline()).toEqual([[0, 'A'], [0, 'B'], [0, 'C']]); // A can't be indented: nothing applied
    t.view.dispatch(t.view.state.tr.setSelection(TextSelection.create(t.view.state.doc, posOfIndex(doc, 1) + 1, posOfIndex(doc, 2) + 1)));
    t.press('Tab');
    expect(t.outline()).toEqual([[0, 'A'], [1, 'B'], [0, 'C']]);
    expect(conceptSchema.nodes.concept).toBeDefined();
  });
});

describe('text direction as the writer types', () => {
  it('an empty Arabic concept is right to left; typing English into it makes it follow the text', async () => {
    t = await makeEditor([{ text: 'مرحبا', language: 'arb_Arab' }]);
    t.cursor(0);
    t.press('Enter');
    const el = () => t!.view.dom.querySelectorAll('.concept')[1]!;
    expect([t.attrs(1).language, el().getAttribute('dir')]).toEqual(['arb_Arab', 'rtl']);
    t.type('English');
    expect(el().getAttribute('dir')).toBe('auto');
    const start = posOfIndex(t.view.state.doc, 1) + 1;
    t.view.dispatch(t.view.state.tr.delete(start, start + 'English'.length)); // deleted back to empty
    expect(el().getAttribute('dir')).toBe('rtl');
  });
});
