/**
 * Import and export: Markdown and plain text → concepts with an outline →
 * Markdown / text (round trips equal the normalized original), and JSON →
 * store → JSON byte for byte, embeddings included.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/inference/rng.ts';
import { exportDocumentJson, importDocumentJson } from '../../src/main/store/jsonFormat.ts';
import { outlineConcepts, parseMarkdown, parsePlainText, renderMarkdown, renderText } from '../../src/main/store/markdown.ts';
import { StoreError } from '../../src/main/store/errors.ts';
import { ConceptStore } from '../../src/main/store/store.ts';

const MD = `# The Lighthouse

The old lighthouse stood at the edge of the cliff. Every night its lamp swept
across the dark water.

## Keepers

- Anna kept the lamp for thirty years.
  - She wrote in a logbook. It is still there.
    - Page one.
- Her son took over in 1952.

1. First rule: keep the lamp lit.
2. Second rule: log every ship.

\`\`\`text
code stays as is.
  Indented. Two sentences.
\`\`\`

### Notes

灯塔建在悬崖边。每天晚上，灯光扫过黑暗的海面。

# Epilogue

The end.
`;

/** The Markdown we promise to give back: paragraph lines joined with a space. */
const NORMALIZED = MD.replace('swept\nacross', 'swept across');

function imported(store: ConceptStore, source: string, kind: 'markdown' | 'text' = 'markdown') {
  const blocks = kind === 'markdown' ? parseMarkdown(source) : parsePlainText(source);
  return store.importDocument({ title: 'T', language: 'eng_Latn', concepts: outlineConcepts(blocks, { lang: 'eng_Latn' }) });
}

describe('Markdown import', () => {
  it('splits paragraphs and items into sentences and builds the outline from headings and list nesting', () => {
    const store = ConceptStore.open(':memory:');
    const { concepts } = imported(store, MD);
    const row = (c: (typeof concepts)[number]) => [c.text, c.block, c.marker, c.depth, c.blockStart, concepts.find((p) => p.id === c.parentId)?.text ?? null];
    expect(concepts.map(row)).toEqual([
      ['The Lighthouse', 'heading', '#', 0, true, null],
      ['The old lighthouse stood at the edge of the cliff.', 'paragraph', null, 1, true, 'The Lighthouse'],
      ['Every night its lamp swept across the dark water.', 'paragraph', null, 1, false, 'The Lighthouse'],
      ['Keepers', 'heading', '##', 1, true, 'The Lighthouse'],
      ['Anna kept the lamp for thirty years.', 'item', '-', 2, true, 'Keepers'],
      ['She wrote in a logbook.', 'item', '-', 3, true, 'Anna kept the lamp for thirty years.'],
      ['It is still there.', 'item', '-', 3, false, 'Anna kept the lamp for thirty years.'],
      ['Page one.', 'item', '-', 4, true, 'She wrote in a logbook.'],
      ['Her son took over in 1952.', 'item', '-', 2, true, 'Keepers'],
      ['First rule: keep the lamp lit.', 'item', '1.', 2, true, 'Keepers'],
      ['Second rule: log every ship.', 'item', '2.', 2, true, 'Keepers'],
      ['code stays as is.\n  Indented. Two sentences.', 'code', '```text', 2, true, 'Keepers'],
      ['Notes', 'heading', '###', 2, true, 'Keepers'],
      ['灯塔建在悬崖边。', 'paragraph', null, 3, true, 'Notes'],
      ['每天晚上，灯光扫过黑暗的海面。', 'paragraph', null, 3, false, 'Notes'],
      ['Epilogue', 'heading', '#', 0, true, null],
      ['The end.', 'paragraph', null, 1, true, 'Epilogue'],
    ]);
    expect(concepts.every((c) => c.origin === 'imported')).toBe(true);
    store.close();
  });

  it('round trip: Markdown → store → Markdown equals the normalized original, and is stable', () => {
    const store = ConceptStore.open(':memory:');
    const { document } = imported(store, MD);
    const out = renderMarkdown(store.listConcepts(document.id));
    expect(out).toBe(NORMALIZED);
    const again = imported(store, out);
    expect(renderMarkdown(store.listConcepts(again.document.id))).toBe(out);
    store.close();
  });

  it('normalizes setext headings, closing hashes, blank-line runs, CRLF and loose lists; keeps text inside a line as written', () => {
    const src = 'Title\r\n=====\r\n\r\n\r\nText  here.\r\n\r\nPart\n---\n\n## Closed ##\n\n- a\n\n- b\n';
    expect(renderMarkdown(listOf(src))).toBe('# Title\n\nText  here.\n\n## Part\n\n## Closed\n\n- a\n- b\n');
  });
});

/** Concepts of `src` (Markdown, or plain text) as the store returns them. */
function listOf(src: string, kind: 'markdown' | 'text' = 'markdown') {
  const store = ConceptStore.open(':memory:');
  const { document } = imported(store, src, kind);
  const out = store.listConcepts(document.id);
  store.close();
  return out;
}

describe('plain text', () => {
  it('round trip: text → store → text equals the normalized original (wrapped lines joined)', () => {
    const src = 'First paragraph, wrapped\nover two lines. Second sentence.\n\n\nAnother paragraph!\n';
    const concepts = listOf(src, 'text');
    expect(concepts.map((c) => c.text)).toEqual(['First paragraph, wrapped over two lines.', 'Second sentence.', 'Another paragraph!']);
    expect(renderText(concepts)).toBe('First paragraph, wrapped over two lines. Second sentence.\n\nAnother paragraph!\n');
  });

  it('exports Markdown as text without markup, list items one per line', () => {
    expect(renderText(listOf(MD))).toBe(
      'The Lighthouse\n\nThe old lighthouse stood at the edge of the cliff. Every night its lamp swept across the dark water.\n\nKeepers\n\n' +
        'Anna kept the lamp for thirty years.\nShe wrote in a logbook. It is still there.\nPage one.\nHer son took over in 1952.\n\n' +
        'First rule: keep the lamp lit.\nSecond rule: log every ship.\n\ncode stays as is.\n  Indented. Two sentences.\n\nNotes\n\n' +
        '灯塔建在悬崖边。每天晚上，灯光扫过黑暗的海面。\n\nEpilogue\n\nThe end.\n',
    );
  });
});

describe('JSON', () => {
  it('round trip: JSON → store → JSON is exact (ids, order keys, outline, provenance, timestamps, float32 vectors)', () => {
    const a = ConceptStore.open(':memory:');
    const { document, concepts } = imported(a, MD);
    a.updateConcept(concepts[1]!.id, { text: 'A generated line.', origin: 'generated', pack: 'mini@1', seed: 5, params: { steps: 40, guidance: 3 } });
    const rng = createRng(1);
    a.putEmbeddings('mini@1', 8, a.listConcepts(document.id).map((c) => ({ language: c.language, text: c.text, vector: rng.fillNormal(new Float32Array(8)) })));
    const first = exportDocumentJson(a, document.id);
    const text = JSON.stringify(first);
    expect(first.concepts[1]!.embeddings![0]!.vector).toMatch(/^[A-Za-z0-9+/]+=*$/);

    const b = ConceptStore.open(':memory:');
    importDocumentJson(b, JSON.parse(text));
    expect(JSON.stringify(exportDocumentJson(b, document.id))).toBe(text);
    // Arrays of numbers hold the same float32 values.
    const arrays = exportDocumentJson(b, document.id, { embeddings: 'array' });
    const c = ConceptStore.open(':memory:');
    importDocumentJson(c, JSON.parse(JSON.stringify(arrays)));
    expect(JSON.stringify(exportDocumentJson(c, document.id))).toBe(text);
    expect(exportDocumentJson(c, document.id, { embeddings: 'none' }).concepts[0]).not.toHaveProperty('embeddings');
    // Importing the same document again is a conflict and changes nothing.
    expect(() => importDocumentJson(b, JSON.parse(text))).toThrow(StoreError);
    expect(b.listDocuments().length).toBe(1);
    for (const s of [a, b, c]) s.close();
  });

  it('says what is wrong with a bad file, and imports nothing', () => {
    const store = ConceptStore.open(':memory:');
    const { document } = imported(store, MD);
    const good = exportDocumentJson(store, document.id);
    store.deleteDocument(document.id);
    const bad = (mutate: (j: typeof good) => void) => {
      const j = structuredClone(good);
      mutate(j);
      return () => importDocumentJson(store, j);
    };
    expect(() => importDocumentJson(store, { format: 'other' })).toThrow(/Not a Concept Studio document/);
    expect(bad((j) => (j.formatVersion = 9))).toThrow(/version 9 is not supported/);
    expect(bad((j) => (j.concepts[2]!.position = 'a0'))).toThrow(/concepts\[2\]\.position .* reading order/);
    expect(bad((j) => (j.concepts[1]!.depth = 5))).toThrow(/concepts\[1\]\.depth is 5, but its parent's depth \+ 1 is 1/);
    expect(bad((j) => (j.concepts[0]!.language = 'xx'))).toThrow(/concepts\[0\]\.language must be a FLORES-200 code/);
    expect(bad((j) => (j.concepts[3]!.origin = 'copied' as never))).toThrow(/origin must be typed \| generated/);
    expect(store.listDocuments()).toEqual([]);
    store.close();
  });
});
