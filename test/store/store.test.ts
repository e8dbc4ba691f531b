/**
 * The store's actions: documents, concepts in order and in an outline,
 * revisions and candidates (going back), jobs, input checks, and one action =
 * one transaction (a failure part-way leaves nothing behind).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/main/store/errors.ts';
import { TYPING_BURST_MS } from '../../src/main/store/schema.ts';
import { ConceptStore } from '../../src/main/store/store.ts';

let store: ConceptStore;
let time = 0;
beforeEach(() => {
  time = 1_700_000_000_000;
  store = ConceptStore.open(':memory:', { clock: () => ++time });
  return () => store.close();
});

const texts = (docId: string) => store.listConcepts(docId).map((c) => c.text);

describe('documents', () => {
  it('are created, listed with their concept counts, found, renamed and deleted with their concepts', () => {
    const a = store.createDocument({ title: ' Notes ', language: 'fr' });
    expect(a.title).toBe('Notes');
    expect(a.language).toBe('fra_Latn');
    const b = store.createDocument({ title: 'Draft', language: 'eng_Latn' });
    store.insertConcepts(b.id, [{ text: 'One.' }, { text: 'Two.' }]);
    expect(store.listDocuments().map((d) => [d.title, d.conceptCount])).toEqual([['Draft', 2], ['Notes', 0]]);
    expect(store.findDocument('Draft').id).toBe(b.id);
    expect(store.findDocument(b.id.slice(0, 20)).id).toBe(b.id);
    expect(() => store.findDocument('Nothing')).toThrow(/No document "Nothing"/);
    expect(store.renameDocument(a.id, 'Notes 2').title).toBe('Notes 2');
    store.deleteDocument(b.id);
    expect(store.listDocuments().map((d) => d.title)).toEqual(['Notes 2']);
    expect(store.db.prepare('SELECT count(*) FROM concepts').pluck().get()).toBe(0);
    expect(() => store.deleteDocument(b.id)).toThrow(StoreError);
  });

  it('reject a missing title and an unknown language', () => {
    expect(() => store.createDocument({ title: ' ', language: 'en' })).toThrow(TypeError);
    expect(() => store.createDocument({ title: 'X', language: 'english' })).toThrow(/Unknown language code "english"/);
  });
});

describe('concepts', () => {
  it('insert at the end, at the start, after and before a concept, keeping reading order', () => {
    const d = store.createDocument({ title: 'D', language: 'en' });
    const [b, d4] = store.insertConcepts(d.id, [{ text: 'B' }, { text: 'D' }]);
    store.insertConcept(d.id, { text: 'A' }, { after: null });
    store.insertConcept(d.id, { text: 'C' }, { after: b!.id });
    store.insertConcepts(d.id, [{ text: 'C2' }, { text: 'C3' }], { before: d4!.id });
    store.insertConcept(d.id, { text: 'E' });
    expect(texts(d.id)).toEqual(['A', 'B', 'C', 'C2', 'C3', 'D', 'E']);
    const other = store.createDocument({ title: 'O', language: 'en' });
    expect(() => store.insertConcept(other.id, { text: 'x' }, { after: b!.id })).toThrow(/belongs to another document/);
  });

  it('record outline parents and depth, and provenance', () => {
    const d = store.createDocument({ title: 'D', language: 'en' });
    const [h, p, q] = store.insertConcepts(d.id, [
      { id: 'h', text: 'Heading', block: 'heading', marker: '#' },
      { id: 'p', text: 'Point.', parentId: 'h', block: 'item', marker: '-' },
      { text: 'Sub point.', parentId: 'p', block: 'item', marker: '-', origin: 'generated', pack: 'mini@1', seed: 42, params: { steps: 40 }, language: 'de' },
    ]);
    expect([h!.depth, p!.depth, q!.depth]).toEqual([0, 1, 2]);
    expect(q).toMatchObject({ parentId: 'p', origin: 'generated', pack: 'mini@1', seed: 42, params: { steps: 40 }, language: 'deu_Latn', block: 'item', blockStart: true });
    expect(() => store.insertConcept(d.id, { text: 'x', parentId: 'q-missing' })).toThrow(StoreError);
    // A parent must come before its child.
    expect(() => store.insertConcept(d.id, { text: 'x', parentId: 'h' }, { after: null })).toThrow(/must come before it/);
  });

  it('delete a concept: its children move up to its parent, one level shallower', () => {
    const d = store.createDocument({ title: 'D', language: 'en' });
    store.insertConcepts(d.id, [
      { id: 'h', text: 'H', block: 'heading', marker: '#' },
      { id: 'a', text: 'A', parentId: 'h' },
      { id: 'b', text: 'B', parentId: 'a' },
      { id: 'c', text: 'C', parentId: 'b' },
    ]);
    store.deleteConcept('a');
    const rows = store.listConcepts(d.id).map((c) => [c.id, c.parentId, c.depth]);
    expect(rows).toEqual([['h', null, 0], ['b', 'h', 1], ['c', 'b', 2]]);
  });

  it('are one action per call: a bad item part-way inserts nothing', () => {
    const d = store.createDocument({ title: 'D', language: 'en' });
    store.insertConcept(d.id, { text: 'Kept.' });
    expect(() => store.insertConcepts(d.id, [{ text: 'New 1.' }, { text: 'New 2.', parentId: 'nowhere' }])).toThrow();
    expect(texts(d.id)).toEqual(['Kept.']);
    expect(() => store.insertConcepts(d.id, [{ text: 'x', origin: 'dreamed' as never }])).toThrow(/origin must be one of typed, generated/);
    expect(() => store.insertConcepts(d.id, [{ text: 'x', seed: -1 }])).toThrow(RangeError);
    expect(() => store.insertConcepts(d.id, [{ text: 3 as never }])).toThrow(TypeError);
  });
});

describe('going back', () => {
  it('keeps every earlier text as a revision; reverting puts one back and keeps the replaced text too', () => {
    const d = store.createDocument({ title: 'D', language: 'en' });
    const c = store.insertConcept(d.id, { text: 'The sea was calm.', origin: 'generated', pack: 'mini@1', seed: 7 });
    const typed = store.updateConcept(c.id, { text: 'The sea was very calm.' });
    expect(typed).toMatchObject({ origin: 'typed', pack: null, seed: null });
    store.updateConcept(c.id, { text: 'La mer était calme.', language: 'fra_Latn', origin: 'translated', pack: 'mini@1' });
    store.updateConcept(c.id, { block: 'heading', marker: '#' }); // not a text change: no revision
    const revs = store.revisions(c.id);
    expect(revs.map((r) => [r.text, r.language, r.origin])).toEqual([
      ['The sea was very calm.', 'eng_Latn', 'typed'],
      ['The sea was calm.', 'eng_Latn', 'generated'],
    ]);
    expect(revs[1]).toMatchObject({ pack: 'mini@1', seed: 7 });
    const back = store.revertConcept(c.id, revs[1]!.id);
    expect(back).toMatchObject({ text: 'The sea was calm.', origin: 'generated', seed: 7, language: 'eng_Latn' });
    expect(store.revisions(c.id)[0]!.text).toBe('La mer était calme.');
    expect(() => store.revertConcept(c.id, 9999)).toThrow(StoreError);
  });

  it('records a burst of typing as one revision, and never an empty line', () => {
    let now = 0;
    const s = ConceptStore.open(':memory:', { clock: () => now });
    const d = s.createDocument({ title: 'D', language: 'en' });
    const c = s.insertConcept(d.id, { text: '' });
    for (const [t, text] of [[600, 'The pla'], [1_200, 'The plan has'], [1_800, 'The plan has three parts.']] as const) {
      now = t;
      s.updateConcept(c.id, { text });
    }
    expect(s.revisions(c.id)).toEqual([]); // the empty start and the autosave fragments are not history
    now = 1_800 + TYPING_BURST_MS + 1; // the writer comes back later: what stood before is history now
    s.updateConcept(c.id, { text: 'The plan has four parts' });
    now += 500;
    s.updateConcept(c.id, { text: 'The plan has four parts.' }); // typing on: same burst
    expect(s.revisions(c.id).map((r) => r.text)).toEqual(['The plan has three parts.']);
    now += 500;
    s.updateConcept(c.id, { text: 'The plan has five parts.' }); // a change inside the text is kept, however quick
    expect(s.revisions(c.id).map((r) => r.text)).toEqual(['The plan has four parts.', 'The plan has three parts.']);
    s.close();
  });

  it('keeps the candidates a writer did not accept', () => {
    const d = store.createDocument({ title: 'D', language: 'en' });
    const c = store.insertConcept(d.id, { text: 'Original.' });
    const job = store.jobs.create({ kind: 'regenerate', documentId: d.id, pack: 'mini@1', seed: 3 });
    const cands = store.addCandidates(c.id, ['First.', 'Second.', 'Third.'].map((text) => ({ text, pack: 'mini@1', seed: 3, jobId: job.id })));
    const accepted = store.acceptCandidate(cands[1]!.id);
    expect(accepted).toMatchObject({ text: 'Second.', origin: 'generated', jobId: job.id, seed: 3 });
    expect(store.candidates(c.id).map((x) => x.text)).toEqual(['First.', 'Third.']);
    expect(store.revisions(c.id).map((r) => r.text)).toEqual(['Original.']);
  });
});

describe('jobs', () => {
  it('record kind, status, progress and error; interrupted ones are marked failed', () => {
    const a = store.jobs.create({ kind: 'continue', params: { count: 3 }, seed: 9 });
    expect(a).toMatchObject({ kind: 'continue', status: 'queued', progress: 0, params: { count: 3 }, seed: 9, error: null });
    store.jobs.update(a.id, { status: 'running', progress: 0.5 });
    const b = store.jobs.create({ kind: 'summarize' });
    expect(store.jobs.update(b.id, { status: 'done' }).progress).toBe(1);
    expect(() => store.jobs.update(b.id, { progress: 2 })).toThrow(RangeError);
    expect(() => store.jobs.update(b.id, { status: 'lost' as never })).toThrow(RangeError);
    expect(store.jobs.failInterrupted()).toBe(1);
    expect(store.jobs.get(a.id)).toMatchObject({ status: 'failed', progress: 0.5, error: expect.stringMatching(/Interrupted/) });
    expect(store.jobs.list({ status: 'done' }).map((j) => j.id)).toEqual([b.id]);
  });
});
