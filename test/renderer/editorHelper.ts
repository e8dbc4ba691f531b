/**
 * The test editor helper: a real EditorView (happy-dom) over the fake bridge,
 * with helpers to type, press keys and place the cursor the way a writer
 * does. Autosave's debounce is long, so tests decide when to save (`flush`).
 */
import { TextSelection } from 'prosemirror-state';
import type { EditorView } from 'prosemirror-view';
import type { Concept, DocumentInfo, NewConcept } from '../../src/shared/library.ts';
import { FakeBridge } from '../../src/renderer/bridge/fakeBridge.ts';
import { createConceptEditor, type ConceptEditor } from '../../src/renderer/editor/createEditor.ts';
import { posOfIndex } from '../../src/renderer/editor/find.ts';
import { attrsOf, type ConceptAttrs } from '../../src/renderer/editor/schema.ts';
import { snapshotOf } from '../../src/renderer/editor/snapshot.ts';

export interface TestEditor {
  api: FakeBridge;
  doc: DocumentInfo;
  editor: ConceptEditor;
  view: EditorView;
  /** Concepts as [depth, text] pairs, in order. */
  outline(): [number, string][];
  attrs(index: number): ConceptAttrs;
  texts(): string[];
  /** Cursor into concept `index` at `offset` (default: its end). */
  cursor(index: number, offset?: number): void;
  type(text: string): void;
  press(key: string, mods?: { mod?: boolean; shift?: boolean; alt?: boolean }): boolean;
  flush(): Promise<void>;
  /** The fake store's concepts of the document, in order. */
  stored(): Concept[];
  destroy(): Promise<void>;
}

let clock = 1_000;

/** An editor on a new document holding `concepts` (saved in the fake store first; none: an empty document). */
export async function makeEditor(concepts: (NewConcept & { depth?: number })[] = [], api = new FakeBridge({ now: () => ++clock })): Promise<TestEditor> {
  const doc = await api.createDocument({ title: 'Test', language: 'eng_Latn' });
  const ids: string[] = [];
  const edits = concepts.map((c, i) => {
    const id = c.id ?? `c${i + 1}`;
    ids.push(id);
    // depth → parent: the latest concept one level up.
    let parentId: string | null = null;
    if (c.depth) for (let j = i - 1; j >= 0; j--) if ((concepts[j]!.depth ?? 0) === c.depth - 1) { parentId = ids[j]!; break; }
    const { depth: _depth, ...rest } = c;
    return { op: 'insert' as const, after: i === 0 ? null : ids[i - 1]!, concept: { ...rest, id, parentId } };
  });
  if (concepts.length > 0) await api.saveEdits({ documentId: doc.id, edits });
  const opened = await api.openDocument({ id: doc.id });
  const place = document.createElement('div');
  document.body.append(place);
  const editor = createConceptEditor({ place, api, document: opened.document, concepts: opened.concepts, debounceMs: 60_000 });
  const view = editor.view;
  const t: TestEditor = {
    api, doc: opened.document, editor, view,
    outline: () => snapshotOf(view.state.doc).map((c) => [c.depth, c.text]),
    attrs: (i) => attrsOf(view.state.doc.child(i)),
    texts: () => snapshotOf(view.state.doc).map((c) => c.text),
    cursor(index, offset) {
      const node = view.state.doc.child(index);
      const start = posOfIndex(view.state.doc, index) + 1;
      view.dispatch(view.state.tr.setSelection(TextSelection.create(view.state.doc, start + (offset ?? node.content.size))));
    },
    type(text) {
      for (const ch of text) {
        const { from, to } = view.state.selection;
        const handled = view.someProp('handleTextInput', (f) => f(view, from, to, ch, () => view.state.tr.insertText(ch, from, to)));
        if (!handled) view.dispatch(view.state.tr.insertText(ch, from, to));
      }
    },
    press(key, mods = {}) {
      const mac = /Mac/.test(navigator.platform);
      const event = new KeyboardEvent('keydown', {
        key, shiftKey: !!mods.shift, altKey: !!mods.alt, ctrlKey: !!mods.mod && !mac, metaKey: !!mods.mod && mac, bubbles: true, cancelable: true,
      });
      return view.someProp('handleKeyDown', (f) => f(view, event)) ?? false;
    },
    flush: () => editor.flush(),
    stored: () => api.concepts.get(opened.document.id)!,
    destroy: async () => {
      await editor.destroy();
      place.remove();
    },
  };
  return t;
}

/** What the fake store holds, in the shape the editor's snapshot has (to compare the two). */
export function storedOutline(t: TestEditor): { id: string; parentId: string | null; depth: number; text: string }[] {
  return t.stored().map((c) => ({ id: c.id, parentId: c.parentId, depth: c.depth, text: c.text }));
}

/** The editor's concepts in the same shape. */
export function editorOutline(t: TestEditor): { id: string; parentId: string | null; depth: number; text: string }[] {
  return snapshotOf(t.view.state.doc).map((c) => ({ id: c.id, parentId: c.parentId, depth: c.depth, text: c.text }));
}

/** Lets pending promise callbacks run (fake bridge calls resolve in microtasks). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}
