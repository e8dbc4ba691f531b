/**
 * StudioService, every request method against a real library and the tiny
 * fixture pack in the engine worker: documents, edits (one transaction per
 * batch), history, export, search, background embeddings, fidelity, settings
 * (persisted atomically), recent documents, and jobs with their events, job
 * records, provenance, seeds, cancellation and errors. The pack's weights are
 * random, so generated texts are gibberish: the tests check structure,
 * provenance and determinism, never wording.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConceptEdit, JobEvent } from '../../src/shared/contract.ts';
import type { Concept } from '../../src/shared/library.ts';
import { SettingsFile } from '../../src/main/services/settings.ts';
import { safeFileName } from '../../src/main/services/studioService.ts';
import { TINY_PACK } from '../helpers/fixtures.ts';
import { testStudio, types, type TestStudio } from './helpers.ts';

const KEY = 'tiny-fixture@1.0.0';
let t: TestStudio;
beforeAll(async () => {
  t = testStudio();
  // Few denoising steps: these tests check plumbing, not quality.
  await t.service.updateSettings({ sampling: { inferenceSteps: 4 } });
});
afterAll(() => t.close());

const insert = (id: string, text: string, after: string | null, extra: Partial<Concept> = {}): ConceptEdit => ({ op: 'insert', concept: { id, text, ...extra }, after });

/** A document with a heading, two paragraphs under it and a list item. */
async function sampleDocument(title = 'Lighthouse') {
  const doc = await t.service.createDocument({ title, language: 'eng_Latn' });
  const p = (s: string) => `${doc.id}-${s}`;
  const concepts = await t.service.saveEdits({
    documentId: doc.id,
    edits: [
      insert(p('h'), 'The lighthouse', null, { block: 'heading', marker: '#' }),
      insert(p('a'), 'The old lighthouse stood at the edge of the cliff.', p('h'), { parentId: p('h') }),
      insert(p('b'), 'Every night its lamp swept across the dark water.', p('a'), { parentId: p('h'), blockStart: false }),
      insert(p('c'), 'Sailors trusted it.', p('b'), { block: 'item', marker: '-' }),
    ],
  });
  return { doc, concepts, id: p };
}

describe('app and settings', () => {
  it('appInfo reports the version, the loaded pack, the providers and the host', async () => {
    const info = await t.service.appInfo();
    expect(info).toMatchObject({ version: '9.9.9-test', host: 'web', provider: 'cpu', pack: { name: 'tiny-fixture', version: '1.0.0', embeddingDim: 32, sampling: { inferenceSteps: 40, guidanceScale: 3, spacing: 'trailing' }, quantSampling: null, codebookSize: null } });
    expect(info.providers).toContain('cpu');
    expect('languages' in info.pack && info.pack.languages).toContain('zho_Hans');
  });

  it('settings start from the defaults, are saved atomically beside the library, and read back', async () => {
    const s = await t.service.updateSettings({ theme: 'dark', seed: 99, defaultLanguage: 'fra_Latn' });
    expect(s).toEqual({ pack: null, provider: 'cpu', sampling: { inferenceSteps: 4 }, quantSampling: null, seed: 99, theme: 'dark', defaultLanguage: 'fra_Latn' });
    const file = JSON.parse(readFileSync(join(t.dir, 'settings.json'), 'utf8')) as { format: string; settings: unknown };
    expect(file.format).toBe('concept-studio-settings');
    expect(file.settings).toEqual(s);
    expect(readdirSync(t.dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(new SettingsFile(join(t.dir, 'settings.json')).settings).toEqual(s);
    expect(await t.service.getSettings()).toEqual(s);
    await t.service.updateSettings({ theme: 'system', seed: null, defaultLanguage: 'eng_Latn' });
  });

  it('a damaged settings file is set aside and the defaults used; a bad value falls back alone', () => {
    const path = join(t.dir, 'bad-settings.json');
    writeFileSync(path, '{"format": "concept-studio-settings", "formatVersion": 1, "settings": {"theme": "dark"');
    const damaged = new SettingsFile(path);
    expect(damaged.settings.theme).toBe('system');
    expect(damaged.problem).toMatch(/could not be read .* moved to .*bad-settings\.json\.unreadable/);
    expect(existsSync(`${path}.unreadable`)).toBe(true);
    writeFileSync(path, JSON.stringify({ format: 'concept-studio-settings', formatVersion: 1, settings: { theme: 'dark', provider: 'tpu', future: 1 }, recentDocuments: ['a', 7] }));
    const partly = new SettingsFile(path);
    expect(partly.settings).toMatchObject({ theme: 'dark', provider: 'cpu' });
    expect(partly.problem).toMatch(/settings\.provider must be one of/);
    expect(partly.recentDocuments).toEqual(['a']);
  });
});

describe('documents and edits', () => {
  it('create, list, rename, open (recent first), delete (forgotten by recent)', async () => {
    let recentChanges = 0;
    const off = t.service.onDidChangeRecent(() => recentChanges++);
    const a = await t.service.createDocument({ title: 'Alpha', language: 'eng_Latn' });
    const b = await t.service.createDocument({ title: 'Beta', language: 'zho_Hans' });
    expect((await t.service.listDocuments()).map((d) => d.title)).toEqual(expect.arrayContaining(['Alpha', 'Beta']));
    expect((await t.service.renameDocument({ id: a.id, title: 'Alpha 2' })).title).toBe('Alpha 2');
    await t.service.openDocument({ id: a.id });
    const opened = await t.service.openDocument({ id: b.id });
    expect(opened).toEqual({ document: b, concepts: [] });
    expect((await t.service.recentDocuments()).map((d) => d.title).slice(0, 2)).toEqual(['Beta', 'Alpha 2']);
    await t.service.deleteDocument({ id: b.id });
    expect((await t.service.recentDocuments()).map((d) => d.id)).not.toContain(b.id);
    expect(recentChanges).toBe(3); // two opens and a delete (the rename was of a document not in the list yet)
    await expect(t.service.openDocument({ id: b.id })).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
    off();
  });

  it('saveEdits applies inserts, updates, moves and deletes as one batch and returns the document', async () => {
    const { doc, concepts, id } = await sampleDocument('Edits');
    expect(concepts.map((c) => [c.text.slice(0, 14), c.depth, c.block])).toEqual([
      ['The lighthouse', 0, 'heading'], ['The old lighth', 1, 'paragraph'], ['Every night it', 1, 'paragraph'], ['Sailors truste', 0, 'item'],
    ]);
    const after = await t.service.saveEdits({
      documentId: doc.id,
      edits: [
        { op: 'update', id: id('a'), patch: { text: 'The lighthouse stood on the cliff.' } },
        { op: 'move', id: id('c'), after: id('h'), parentId: id('h') },
        { op: 'delete', id: id('b') },
      ],
    });
    expect(after.map((c) => c.id)).toEqual([id('h'), id('c'), id('a')]);
    expect(after.find((c) => c.id === id('c'))!.depth).toBe(1);
    const history = await t.service.conceptHistory({ id: id('a') });
    expect(history.revisions.map((r) => r.text)).toEqual(['The old lighthouse stood at the edge of the cliff.']);
    const reverted = await t.service.revertConcept({ id: id('a'), revisionId: history.revisions[0]!.id });
    expect(reverted.text).toBe('The old lighthouse stood at the edge of the cliff.');
  });

  it('a failing edit rolls back the whole batch and says which edit failed', async () => {
    const { doc, id } = await sampleDocument('Rollback');
    const before = (await t.service.openDocument({ id: doc.id })).concepts;
    const other = await t.service.createDocument({ title: 'Other', language: 'eng_Latn' });
    await t.service.saveEdits({ documentId: other.id, edits: [insert('other-1', 'Elsewhere.', null)] });
    await expect(t.service.saveEdits({ documentId: doc.id, edits: [{ op: 'update', id: id('a'), patch: { text: 'Changed.' } }, { op: 'delete', id: 'missing-id' }] }))
      .rejects.toMatchObject({ code: 'STORE_NOT_FOUND', message: expect.stringMatching(/^Edit 2 of 2 \(delete missing-id\): No concept with id missing-id/) });
    await expect(t.service.saveEdits({ documentId: doc.id, edits: [{ op: 'delete', id: 'other-1' }] }))
      .rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/Edit 1 of 1 \(delete other-1\): Concept other-1 belongs to another document/) });
    await expect(t.service.saveEdits({ documentId: doc.id, edits: [{ op: 'move', id: id('h'), after: id('c'), parentId: null }] }))
      .rejects.toThrow(/would come before its parent/);
    await expect(t.service.saveEdits({ documentId: doc.id, edits: [insert(id('a'), 'Duplicate id.', null)] }))
      .rejects.toMatchObject({ code: 'STORE_CONFLICT', message: expect.stringMatching(/^Edit 1 of 1 \(insert .*-a\): Concept id .*-a is taken/) });
    expect((await t.service.openDocument({ id: doc.id })).concepts).toEqual(before);
  });

  it('exports Markdown, text and JSON with a safe file name', async () => {
    const { doc } = await sampleDocument('Light: house/notes?');
    const md = await t.service.exportDocument({ id: doc.id, format: 'markdown' });
    expect(md).toEqual({
      fileName: 'Light house notes.md',
      mimeType: 'text/markdown; charset=utf-8',
      content: '# The lighthouse\n\nThe old lighthouse stood at the edge of the cliff. Every night its lamp swept across the dark water.\n\n- Sailors trusted it.\n',
    });
    expect((await t.service.exportDocument({ id: doc.id, format: 'text' })).content).toMatch(/^The lighthouse\n/);
    const json = JSON.parse((await t.service.exportDocument({ id: doc.id, format: 'json' })).content) as { format: string; concepts: unknown[] };
    expect(json.format).toBe('concept-studio-document');
    expect(json.concepts).toHaveLength(4);
    expect(safeFileName('...', 'md')).toBe('document.md');
    expect(safeFileName('a\u0000b', 'txt')).toBe('a b.txt');
  });

  it('searchText finds concepts with their document titles', async () => {
    await sampleDocument('Searchable');
    const hits = await t.service.searchText({ query: 'lamp swept' });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.map((h) => h.documentTitle)).toContain('Searchable');
    expect(hits.every((h) => h.concept.text.includes('lamp swept'))).toBe(true);
  });
});

describe('embeddings, similar concepts and fidelity', () => {
  it('computes missing vectors in the background after a save; similar search uses them and leaves out the concept itself', async () => {
    const { doc, id } = await sampleDocument('Embedded');
    await t.service.embedder.idle();
    expect(t.store.missingEmbeddings(KEY, doc.id)).toEqual([]);
    const twin = await t.service.createDocument({ title: 'Twin', language: 'eng_Latn' });
    await t.service.saveEdits({ documentId: twin.id, edits: [insert('twin-1', 'Sailors trusted it.', null)] });
    await t.service.embedder.idle();
    const hits = await t.service.searchSimilar({ conceptId: id('c'), limit: 3 });
    expect(hits[0]!.concept.text).toBe('Sailors trusted it.');
    expect(hits[0]!.concept.id).not.toBe(id('c'));
    expect(hits[0]!.similarity).toBeCloseTo(1, 5);
    expect(hits.map((h) => h.concept.id)).not.toContain(id('c'));
    expect(hits.length).toBe(3);
    const within = await t.service.searchSimilar({ query: 'Sailors trusted it.', language: 'eng_Latn', documentId: twin.id });
    expect(within.map((h) => [h.concept.id, h.documentTitle])).toEqual([['twin-1', 'Twin']]);
    await expect(t.service.searchSimilar({ query: 'x', language: 'kor_Hang' })).rejects.toMatchObject({ code: 'UNSUPPORTED_LANGUAGE' });
  });

  it('fidelity round-trips a sentence and scores it', async () => {
    const f = await t.service.fidelity({ text: 'The sea was calm.', language: 'eng_Latn' });
    expect(f.text).toBe('The sea was calm.');
    expect(typeof f.decoded).toBe('string');
    expect(f.chrf).toBeGreaterThanOrEqual(0);
    expect(f.chrf).toBeLessThanOrEqual(100);
  });

  it('conceptFragility runs in the engine worker: seeded, noise 0 = the plain round trip, one entry per level', async () => {
    const req = { text: 'The sea was calm.', language: 'eng_Latn', noiseLevels: [0, 0.5], samples: 2 };
    const r = await t.service.conceptFragility(req);
    const f = await t.service.fidelity({ text: req.text, language: req.language });
    expect(r.seed).toBe(0);
    expect(r.roundTrip).toMatchObject({ decoded: f.decoded, chrf: f.chrf });
    expect(r.levels.map((l) => l.noise)).toEqual([0, 0.5]);
    expect(r.levels[0]).toMatchObject({ score: r.roundTrip.bleu, chrf: f.chrf, cosine: r.roundTrip.cosine, stability: 100, example: f.decoded });
    expect(r.fragility).toBeCloseTo(100 - r.score, 10);
    expect(await t.service.conceptFragility(req)).toEqual(r);
    await expect(t.service.conceptFragility({ ...req, language: 'kor_Hang' })).rejects.toMatchObject({ code: 'UNSUPPORTED_LANGUAGE' });
  });
});

describe('jobs', () => {
  it('continue: started → progress → concept… → done; the job record, provenance and placement; same seed, same concepts', async () => {
    const { doc, id } = await sampleDocument('Continue');
    const { jobId } = await t.service.startJob({ kind: 'continue', documentId: doc.id, afterConceptId: id('b'), count: 2, seed: 1234 });
    const events = await t.finished(jobId);
    const kinds = types(events);
    expect(kinds[0]).toBe('started');
    expect(kinds.at(-1)).toBe('done');
    expect(kinds.filter((k) => k === 'concept')).toHaveLength(2);
    expect(kinds.indexOf('progress')).toBeLessThan(kinds.indexOf('concept'));
    const started = events[0] as Extract<JobEvent, { type: 'started' }>;
    expect(started.job).toMatchObject({ id: jobId, kind: 'continue', documentId: doc.id, seed: 1234, pack: KEY, params: { afterConceptId: id('b'), count: 2, sampling: { inferenceSteps: 4 } } });
    const concepts = events.filter((e): e is Extract<JobEvent, { type: 'concept' }> => e.type === 'concept');
    expect(concepts.map((e) => e.index)).toEqual([0, 1]);
    expect(concepts[0]!.concept).toMatchObject({ language: 'eng_Latn', parentId: id('h'), block: 'paragraph', blockStart: false, origin: 'generated', pack: KEY, seed: 1234, jobId, params: { kind: 'continue', index: 0 } });
    expect(events.at(-1)).toEqual({ jobId, type: 'done', seed: 1234, stop: 'max-concepts', documentId: null });
    expect(t.store.jobs.get(jobId)).toMatchObject({ status: 'done', progress: 1, error: null });

    // The renderer saves what it places; the same seed gives the same concepts.
    await t.service.saveEdits({ documentId: doc.id, edits: concepts.map((e, i) => insert(e.concept.id, e.concept.text, i === 0 ? id('b') : concepts[i - 1]!.concept.id, e.concept)) });
    const again = await t.service.startJob({ kind: 'continue', documentId: doc.id, afterConceptId: id('b'), count: 2, seed: 1234 });
    const texts = (await t.finished(again.jobId)).flatMap((e) => (e.type === 'concept' ? [e.concept.text] : []));
    expect(texts).toEqual(concepts.map((e) => e.concept.text));
  });

  it('expand puts exactly `count` concepts under the concept (sub-items of an item); summarize streams at most maxConcepts', async () => {
    const { doc, id } = await sampleDocument('Expand');
    const ex = await t.service.startJob({ kind: 'expand', documentId: doc.id, conceptId: id('c'), count: 3, seed: 7 });
    const made = (await t.finished(ex.jobId)).flatMap((e) => (e.type === 'concept' ? [e.concept] : []));
    expect(made).toHaveLength(3);
    expect(made.every((c) => c.parentId === id('c') && c.origin === 'expanded' && c.block === 'item' && c.marker === '-')).toBe(true);
    const sum = await t.service.startJob({ kind: 'summarize', documentId: doc.id, conceptIds: [id('a'), id('b')], maxConcepts: 2, seed: 7 });
    const events = await t.finished(sum.jobId);
    const summary = events.flatMap((e) => (e.type === 'concept' ? [e.concept] : []));
    expect(summary.length).toBeGreaterThanOrEqual(1);
    expect(summary.length).toBeLessThanOrEqual(2);
    expect(summary.every((c) => c.origin === 'summarized' && c.parentId === null)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'done', seed: 7 });
  });

  it('regenerate stores the candidates (one event), and accepting one keeps the old text as a revision', async () => {
    const { doc, id } = await sampleDocument('Regenerate');
    const { jobId } = await t.service.startJob({ kind: 'regenerate', documentId: doc.id, conceptId: id('b'), count: 3, seed: 5 });
    const events = await t.finished(jobId);
    const cands = events.filter((e): e is Extract<JobEvent, { type: 'candidates' }> => e.type === 'candidates');
    expect(cands).toHaveLength(1);
    expect(cands[0]!.conceptId).toBe(id('b'));
    expect(cands[0]!.candidates.map((c) => [c.origin, c.seed, c.jobId, c.pack])).toEqual([['generated', 5, jobId, KEY], ['generated', 5, jobId, KEY], ['generated', 5, jobId, KEY]]);
    expect((await t.service.conceptHistory({ id: id('b') })).candidates).toEqual(cands[0]!.candidates);
    const accepted = await t.service.acceptCandidate({ candidateId: cands[0]!.candidates[1]!.id });
    expect(accepted).toMatchObject({ text: cands[0]!.candidates[1]!.text, origin: 'generated', jobId });
    const history = await t.service.conceptHistory({ id: id('b') });
    expect(history.revisions[0]!.text).toBe('Every night its lamp swept across the dark water.');
    expect(history.candidates).toHaveLength(2);
  });

  it('translate a selection sends one translation per concept; the whole document becomes a new document with the same outline', async () => {
    const { doc, id } = await sampleDocument('Translate');
    const sel = await t.service.startJob({ kind: 'translate', documentId: doc.id, conceptIds: [id('a'), id('c')], targetLanguage: 'zho_Hans' });
    const events = await t.finished(sel.jobId);
    const tr = events.filter((e): e is Extract<JobEvent, { type: 'translation' }> => e.type === 'translation');
    expect(tr.map((e) => [e.conceptId, e.language])).toEqual([[id('a'), 'zho_Hans'], [id('c'), 'zho_Hans']]);
    expect(events.at(-1)).toMatchObject({ type: 'done', documentId: null, stop: null });

    const whole = await t.service.startJob({ kind: 'translate', documentId: doc.id, conceptIds: null, targetLanguage: 'arb_Arab', seed: 3 });
    const done = (await t.finished(whole.jobId)).at(-1) as Extract<JobEvent, { type: 'done' }>;
    expect(done.documentId).toBeTruthy();
    const copy = await t.service.openDocument({ id: done.documentId! });
    expect(copy.document).toMatchObject({ title: 'Translate (Modern Standard Arabic)', language: 'arb_Arab' });
    const original = (await t.service.openDocument({ id: doc.id })).concepts;
    expect(copy.concepts.map((c) => [c.depth, c.block, c.blockStart, c.marker, c.language, c.origin])).toEqual(original.map((c) => [c.depth, c.block, c.blockStart, c.marker, 'arb_Arab', 'translated']));
    expect(copy.concepts[1]!.parentId).toBe(copy.concepts[0]!.id);
    expect(copy.concepts[0]!.params).toMatchObject({ kind: 'translate', source: id('h'), sourceLanguage: 'eng_Latn' });
  });

  it('cancel ends a running job and a queued one; the records say cancelled', async () => {
    const { doc } = await sampleDocument('Cancel');
    await t.service.updateSettings({ sampling: { inferenceSteps: 40 } });
    try {
      const running = await t.service.startJob({ kind: 'continue', documentId: doc.id, afterConceptId: null, count: 40, seed: 1 });
      const queued = await t.service.startJob({ kind: 'continue', documentId: doc.id, afterConceptId: null, count: 1, seed: 2 });
      await new Promise<void>((resolve) => {
        const off = t.service.onJobEvent((e) => {
          if (e.jobId === running.jobId && e.type === 'concept') {
            off();
            resolve();
          }
        });
      });
      await t.service.cancelJob({ jobId: queued.jobId });
      expect(types(await t.finished(queued.jobId))).toEqual(['started', 'cancelled']);
      await t.service.cancelJob({ jobId: running.jobId });
      const events = await t.finished(running.jobId);
      expect(events.at(-1)!.type).toBe('cancelled');
      expect(events.filter((e) => e.type === 'concept').length).toBeLessThan(40);
      expect(t.store.jobs.get(running.jobId).status).toBe('cancelled');
      expect(t.store.jobs.get(queued.jobId).status).toBe('cancelled');
      await t.service.cancelJob({ jobId: running.jobId }); // already ended: nothing happens
      await expect(t.service.cancelJob({ jobId: 'no-such-job' })).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
    } finally {
      await t.service.updateSettings({ sampling: { inferenceSteps: 4 } });
    }
  });

  it('a request that cannot run is refused before any job exists; a failure while running is an error event and a failed record', async () => {
    const { doc, id } = await sampleDocument('Errors');
    const jobsBefore = t.store.jobs.list().length;
    await expect(t.service.startJob({ kind: 'translate', documentId: doc.id, conceptIds: null, targetLanguage: 'kor_Hang' }))
      .rejects.toMatchObject({ code: 'UNSUPPORTED_LANGUAGE', message: expect.stringMatching(/does not support Korean \(kor_Hang\); it supports: eng_Latn/) });
    await expect(t.service.startJob({ kind: 'continue', documentId: 'missing', afterConceptId: null, count: 1 })).rejects.toMatchObject({ code: 'STORE_NOT_FOUND' });
    const other = await t.service.createDocument({ title: 'Elsewhere', language: 'eng_Latn' });
    await expect(t.service.startJob({ kind: 'expand', documentId: other.id, conceptId: id('a'), count: 2 })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/belongs to another document/) });
    expect(t.store.jobs.list()).toHaveLength(jobsBefore);

    // A concept in a language the pack lacks, in the context: the engine refuses it mid-job.
    await t.service.saveEdits({ documentId: doc.id, edits: [insert('korean-1', '등대가 절벽 끝에 서 있었다.', id('c'), { language: 'kor_Hang' })] });
    const { jobId } = await t.service.startJob({ kind: 'continue', documentId: doc.id, afterConceptId: null, count: 1 });
    const events = await t.finished(jobId);
    expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'UNSUPPORTED_LANGUAGE', message: expect.stringMatching(/Korean/) } });
    expect(t.store.jobs.get(jobId)).toMatchObject({ status: 'failed', error: expect.stringMatching(/Korean/) });
  });
});

describe('without a model pack', () => {
  it('the library works; appInfo, generation and similar search say why the engine cannot run', async () => {
    const n = testStudio({ pack: false });
    try {
      const info = await n.service.appInfo();
      expect(info.pack).toEqual({ error: expect.stringMatching(/no model pack is installed .*pass --pack PATH/) });
      const doc = await n.service.createDocument({ title: 'Offline', language: 'eng_Latn' });
      const saved = await n.service.saveEdits({ documentId: doc.id, edits: [insert('o-1', 'Still writing.', null)] });
      expect(saved.map((c) => c.text)).toEqual(['Still writing.']);
      await expect(n.service.startJob({ kind: 'continue', documentId: doc.id, afterConceptId: null, count: 1 }))
        .rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE', message: expect.stringMatching(/^Cannot continue: no model pack is loaded/) });
      await expect(n.service.searchSimilar({ query: 'x' })).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
      await expect(n.service.fidelity({ text: 'x', language: 'eng_Latn' })).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });

      // Choosing a pack in Settings loads it.
      await n.service.updateSettings({ pack: TINY_PACK });
      expect((await n.service.appInfo()).pack).toMatchObject({ name: 'tiny-fixture' });
      await n.service.updateSettings({ pack: join(n.dir, 'missing-pack') });
      expect((await n.service.appInfo()).pack).toEqual({ error: expect.stringMatching(/no pack folder at .*missing-pack/) });
    } finally {
      await n.close();
    }
  });
});

describe('a Quant-LCM pack in the app', () => {
  it('loads (CONCEPT_STUDIO_PACK), reports its architecture, and continues and regenerates through the engine worker', async () => {
    const quant = fileURLToPath(new URL('../fixtures/packs/tiny-quant-d', import.meta.url));
    const q = testStudio({ service: { env: { CONCEPT_STUDIO_PACK: quant } } });
    try {
      const info = await q.service.appInfo();
      expect(info.pack).toMatchObject({ name: 'tiny-quant-d', architecture: 'quant-discrete', sampling: null, trainSteps: null, quantSampling: { temperature: 0.8, topK: 6 }, codebookSize: 16 });
      const doc = await q.service.createDocument({ title: 'Quant', language: 'eng_Latn' });
      await q.service.saveEdits({ documentId: doc.id, edits: [insert('q-1', 'The sea was calm.', null), insert('q-2', 'Sailors trusted it.', 'q-1')] });
      const run = async (seed: number) => {
        const { jobId } = await q.service.startJob({ kind: 'continue', documentId: doc.id, afterConceptId: 'q-2', count: 2, seed });
        const events = await q.finished(jobId);
        expect(events.at(-1)!.type).toBe('done');
        return events.flatMap((e) => (e.type === 'concept' ? [e.concept.text] : []));
      };
      const a = await run(5);
      expect(a.length).toBeGreaterThan(0);
      expect(await run(5)).toEqual(a);
      const { jobId } = await q.service.startJob({ kind: 'regenerate', documentId: doc.id, conceptId: 'q-2', count: 3, seed: 2 });
      const events = await q.finished(jobId);
      expect(events.at(-1)!.type).toBe('done');
      const cands = events.filter((e): e is Extract<JobEvent, { type: 'candidates' }> => e.type === 'candidates');
      expect(cands[0]!.candidates).toHaveLength(3); // sampled: a quant pack is not deterministic
    } finally {
      await q.close();
    }
  });
});
