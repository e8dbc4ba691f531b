// @vitest-environment happy-dom
// Jobs in the editor: concepts land one by one at a placeholder that follows the writer's edits, or are dropped when
// it is gone; regenerate's candidates are decorations until one is accepted.
import { afterEach, describe, expect, it } from 'vitest';
import { TextSelection } from 'prosemirror-state';
import type { JobEvent } from '../../src/shared/contract.ts';
import { autosaveKey } from '../../src/renderer/editor/autosave.ts';
import { posOfIndex } from '../../src/renderer/editor/find.ts';
import { cancelJob, continueConcept, expandConcept, jobsKey, regenerateConcept, summarize, translate } from '../../src/renderer/editor/jobs.ts';
import { suggestionsKey } from '../../src/renderer/editor/suggestions.ts';
import { makeEditor, settle, type TestEditor } from './editorHelper.ts';

let t: TestEditor | null = null;
afterEach(async () => {
  await t?.destroy();
  t = null;
});

const run = (cmd: (s: TestEditor['view']['state'], d: TestEditor['view']['dispatch']) => boolean) => cmd(t!.view.state, t!.view.dispatch);
const job = () => jobsKey.getState(t!.view.state)!.jobs.at(-1)!;
const jobId = () => t!.api.started.at(-1)!.jobId;
const concept = (index: number, text: string, extra: object = {}): JobEvent => ({
  jobId: jobId(), type: 'concept', index,
  concept: { id: `gen-${index}`, text, language: 'eng_Latn', origin: 'expanded', pack: 'tiny@1.0.0', seed: 42, params: { kind: 'expand', index }, jobId: jobId(), ...extra },
});

describe('placeholders', () => {
  it('Expand: saves first, then K concepts arrive one by one under the concept, through edits made meanwhile', async () => {
    t = await makeEditor([{ text: 'Intro.' }, { text: 'Point.' }, { text: 'End.' }]);
    t.cursor(1);
    t.type('!'); // unsaved: the job must not start before the store has it
    expect(run(expandConcept(3))).toBe(true);
    expect(t.view.dom.querySelectorAll('.cs-placeholder')).toHaveLength(1);
    await settle();
    expect(t.api.started).toEqual([expect.objectContaining({ kind: 'expand', conceptId: 'c2', count: 3 })]);
    expect(t.stored()[1]!.text).toBe('Point.!');
    expect(job()).toMatchObject({ phase: 'running', jobId: jobId() });

    // The writer keeps writing: a new concept before the anchor, text in it, a concept at the end.
    t.cursor(0);
    t.press('Enter');
    t.type('Inserted.');
    t.api.emit(concept(0, 'First.'));
    t.cursor(t.view.state.doc.childCount - 1);
    t.press('Enter');
    t.type('Tail.');
    t.api.emit(concept(1, 'Second.'));
    t.api.emit(concept(2, 'Third.'));
    expect(t.outline()).toEqual([[0, 'Intro.'], [0, 'Inserted.'], [0, 'Point.!'], [1, 'First.'], [1, 'Second.'], [1, 'Third.'], [0, 'End.'], [0, 'Tail.']]);
    expect(t.attrs(3)).toMatchObject({ id: 'gen-0', origin: 'expanded', pack: 'tiny@1.0.0', seed: 42, jobId: jobId(), blockStart: true });
    expect(t.attrs(4).blockStart).toBe(false);
    expect(job().placed).toBe(3);

    t.api.emit({ jobId: jobId(), type: 'done', seed: 42, stop: null, documentId: null });
    expect(t.view.dom.querySelectorAll('.cs-placeholder')).toHaveLength(0);
    expect(job().phase).toBe('done');
    await t.flush();
    const stored = t.stored().find((c) => c.id === 'gen-1')!;
    expect(stored).toMatchObject({ parentId: 'c2', depth: 1, origin: 'expanded', pack: 'tiny@1.0.0', seed: 42, jobId: jobId(), params: { kind: 'expand', index: 1 } });
  });

  it('a concept whose placeholder was deleted is dropped, not inserted', async () => {
    t = await makeEditor([{ text: 'Keep.' }, { text: 'Anchor.' }]);
    t.cursor(1);
    run(expandConcept(2));
    await settle();
    const doc = t.view.state.doc;
    t.view.dispatch(t.view.state.tr.delete(posOfIndex(doc, 1), posOfIndex(doc, 2))); // the anchor concept goes
    t.api.emit(concept(0, 'Orphan.'));
    expect(t.texts()).toEqual(['Keep.']);
    expect(job()).toMatchObject({ placed: 0, dropped: 1 });
  });

  it('Continue places concepts after the concept at the cursor, continuing its paragraph', async () => {
    t = await makeEditor([{ text: 'A.' }, { text: 'B.' }]);
    t.cursor(0);
    run(continueConcept(1));
    await settle();
    expect(t.api.started[0]).toMatchObject({ kind: 'continue', afterConceptId: 'c1', count: 1, language: 'eng_Latn' });
    t.api.emit(concept(0, 'Next.', { origin: 'generated', blockStart: undefined, block: undefined }));
    expect(t.texts()).toEqual(['A.', 'Next.', 'B.']);
    expect(t.attrs(1)).toMatchObject({ origin: 'generated', depth: 0, blockStart: false });
  });

  it('Continue after a concept with nested ones goes after them, so they stay nested in it', async () => {
    t = await makeEditor([{ text: 'A.' }, { text: 'A1.', depth: 1 }, { text: 'A2.', depth: 1 }, { text: 'B.' }]);
    t.cursor(0);
    run(continueConcept(1));
    await settle();
    t.api.emit(concept(0, 'Next.', { origin: 'generated', blockStart: undefined, block: undefined }));
    expect(t.outline()).toEqual([[0, 'A.'], [1, 'A1.'], [1, 'A2.'], [0, 'Next.'], [0, 'B.']]);
    await t.flush();
    expect(t.stored().find((c) => c.text === 'A2.')!.parentId).toBe('c1');
  });

  it('Summarize a selection: after it (and what is nested in it), beside its first concept', async () => {
    t = await makeEditor([{ text: 'A.' }, { text: 'A1.', depth: 1 }, { text: 'A11.', depth: 2 }, { text: 'A2.', depth: 1 }]);
    const doc = t.view.state.doc;
    t.view.dispatch(t.view.state.tr.setSelection(TextSelection.create(doc, posOfIndex(doc, 1) + 1, posOfIndex(doc, 1) + 3)));
    run(summarize('selection', 1));
    await settle();
    expect(t.api.started[0]).toMatchObject({ kind: 'summarize', conceptIds: ['c2'], maxConcepts: 1 });
    t.api.emit(concept(0, 'Sum.', { origin: 'summarized' }));
    expect(t.outline()).toEqual([[0, 'A.'], [1, 'A1.'], [2, 'A11.'], [1, 'Sum.'], [1, 'A2.']]);
  });

  it('Summarize the document: concepts go at its end, even after text added meanwhile', async () => {
    t = await makeEditor([{ text: 'A.' }]);
    run(summarize('document', 2));
    await settle();
    expect(t.api.started[0]).toMatchObject({ kind: 'summarize', conceptIds: null, maxConcepts: 2 });
    t.cursor(0);
    t.press('Enter');
    t.type('B.');
    t.api.emit(concept(0, 'Sum 1.', { origin: 'summarized' }));
    t.api.emit(concept(1, 'Sum 2.', { origin: 'summarized' }));
    expect(t.texts()).toEqual(['A.', 'B.', 'Sum 1.', 'Sum 2.']);
  });

  it('events that come before startJob answers are kept and applied once the job id is known', async () => {
    t = await makeEditor([{ text: 'A.' }]);
    const real = t.api.startJob.bind(t.api);
    t.api.startJob = async (req) => {
      const r = await real(req);
      t!.api.emit({ jobId: r.jobId, type: 'progress', progress: 0.5, detail: 'half' });
      t!.api.emit(concept(0, 'Early.'));
      return r;
    };
    t.cursor(0);
    run(expandConcept(1));
    await settle();
    expect(t.texts()).toEqual(['A.', 'Early.']);
    expect(job()).toMatchObject({ progress: 0.5, detail: 'half', placed: 1 });
  });

  it('events of jobs this editor did not start are ignored', async () => {
    t = await makeEditor([{ text: 'A.' }]);
    t.api.emit({ jobId: 'someone-else', type: 'concept', index: 0, concept: { id: 'x', text: 'Not mine.' } });
    expect(t.texts()).toEqual(['A.']);
  });

  it('Cancel asks the main process; the cancelled event removes the placeholder and keeps what arrived', async () => {
    t = await makeEditor([{ text: 'A.' }]);
    t.cursor(0);
    run(continueConcept(5));
    await settle();
    t.api.emit(concept(0, 'One.'));
    expect(run(cancelJob(job().localId))).toBe(true);
    expect(run(cancelJob(job().localId))).toBe(false); // once
    expect(t.api.cancelled).toEqual([jobId()]);
    t.api.emit({ jobId: jobId(), type: 'cancelled' });
    expect(job().phase).toBe('cancelled');
    expect(t.view.dom.querySelectorAll('.cs-placeholder')).toHaveLength(0);
    expect(t.texts()).toEqual(['A.', 'One.']);
  });

  it('closing the editor cancels its running concept jobs (their results would have nowhere to go)', async () => {
    t = await makeEditor([{ text: 'A.' }]);
    t.cursor(0);
    run(continueConcept(5));
    await settle();
    const id = jobId();
    const api = t.api;
    await t.destroy();
    t = null;
    expect(api.cancelled).toEqual([id]);
  });

  it('a failing start shows the error and removes the placeholder', async () => {
    t = await makeEditor([{ text: 'A.' }]);
    t.api.startJob = async () => { throw new Error('No model pack is loaded: choose one in Settings.'); };
    t.cursor(0);
    run(expandConcept(2));
    await settle();
    expect(job()).toMatchObject({ phase: 'failed', error: 'No model pack is loaded: choose one in Settings.' });
    expect(t.view.dom.querySelectorAll('.cs-placeholder')).toHaveLength(0);
  });
});

describe('translate', () => {
  it('a selection: translation events replace the selected concepts in place; the old texts become revisions when saved', async () => {
    t = await makeEditor([{ text: 'Hello.' }, { text: 'World.' }, { text: 'Not me.' }]);
    const doc = t.view.state.doc;
    t.view.dispatch(t.view.state.tr.setSelection(TextSelection.create(doc, 1, posOfIndex(doc, 1) + 3)));
    run(translate('selection', 'zho_Hans'));
    await settle();
    expect(t.api.started[0]).toMatchObject({ kind: 'translate', conceptIds: ['c1', 'c2'], targetLanguage: 'zho_Hans' });
    t.api.emit({ jobId: 'job-000002', type: 'started', job: { id: 'job-000002', kind: 'translate', status: 'running', documentId: t.doc.id, progress: 0, error: null, pack: 'tiny@1.0.0', seed: 5, params: null, createdAt: 0, updatedAt: 0 } });
    t.api.emit({ jobId: jobId(), type: 'translation', conceptId: 'c1', text: '你好。', language: 'zho_Hans' });
    t.api.emit({ jobId: jobId(), type: 'translation', conceptId: 'c2', text: '世界。', language: 'zho_Hans' });
    expect(t.texts()).toEqual(['你好。', '世界。', 'Not me.']);
    expect(t.attrs(0)).toMatchObject({ language: 'zho_Hans', origin: 'translated', jobId: jobId(), pack: 'tiny@1.0.0', seed: 5 });
    expect(t.view.dom.querySelector('.concept')!.getAttribute('lang')).toBe('zh-Hans');
    await t.flush();
    expect(t.stored()[0]).toMatchObject({ text: '你好。', language: 'zho_Hans', origin: 'translated' });
    expect(t.api.revisions.map((r) => r.text)).toEqual(['Hello.', 'World.']);
  });

  it('the whole document: no edits here; done reports the new document', async () => {
    t = await makeEditor([{ text: 'Hello.' }]);
    run(translate('document', 'rus_Cyrl'));
    await settle();
    expect(t.api.started[0]).toMatchObject({ kind: 'translate', conceptIds: null, targetLanguage: 'rus_Cyrl' });
    t.api.emit({ jobId: jobId(), type: 'done', seed: 1, stop: null, documentId: 'doc-new' });
    expect(job()).toMatchObject({ phase: 'done', resultDocumentId: 'doc-new' });
    expect(t.texts()).toEqual(['Hello.']);
  });
});

describe('suggestions', () => {
  async function regenerate(): Promise<number[]> {
    t = await makeEditor([{ text: 'Original.' }, { text: 'Other.' }]);
    t.cursor(0);
    run(regenerateConcept(3));
    await settle();
    expect(t.api.started[0]).toMatchObject({ kind: 'regenerate', conceptId: 'c1', count: 3 });
    const cands = t.api.addCandidates('c1', ['Alt one.', 'Alt two.', 'Alt three.'], jobId());
    t.api.emit({ jobId: jobId(), type: 'candidates', conceptId: 'c1', candidates: cands });
    return cands.map((c) => c.id);
  }

  it('candidates show as decorations under the concept; the document does not change', async () => {
    await regenerate();
    expect(t!.texts()).toEqual(['Original.', 'Other.']);
    const box = t!.view.dom.querySelector('.cs-suggestions')!;
    expect([...box.querySelectorAll('.cs-candidate-text')].map((e) => e.textContent)).toEqual(['Alt one.', 'Alt two.', 'Alt three.']);
    expect([...box.querySelectorAll('button')].map((b) => b.getAttribute('aria-label') ?? b.textContent)).toEqual(['Accept candidate 1', 'Accept candidate 2', 'Accept candidate 3', 'Dismiss']);
    expect(t!.view.dom.querySelector('.concept.has-suggestions')!.getAttribute('data-id')).toBe('c1');
  });

  it('accepting one makes it the text (through the store), the others stay in history, nothing is sent back', async () => {
    const ids = await regenerate();
    const savedBatches = t!.api.saved.length;
    const button = [...t!.view.dom.querySelectorAll('.cs-suggestions button')][1] as HTMLButtonElement;
    button.click();
    await settle();
    expect(t!.texts()).toEqual(['Alt two.', 'Other.']);
    expect(t!.attrs(0)).toMatchObject({ id: 'c1', origin: 'generated', seed: 7, jobId: jobId() });
    expect(t!.view.dom.querySelector('.cs-suggestions')).toBeNull();
    expect(suggestionsKey.getState(t!.view.state)!.sets).toEqual([]);
    expect(t!.api.candidates.map((c) => c.id)).toEqual(ids); // all kept
    expect(t!.api.revisions.map((r) => r.text)).toEqual(['Original.']);
    await t!.flush();
    expect(t!.api.saved.length).toBe(savedBatches); // the store already has it
    expect(autosaveKey.getState(t!.view.state)!.status).toBe('saved');
  });

  it('Alt-1 accepts the first candidate; Escape dismisses', async () => {
    await regenerate();
    t!.cursor(0);
    expect(t!.press('Escape')).toBe(true);
    expect(t!.view.dom.querySelector('.cs-suggestions')).toBeNull();
    t!.api.emit({ jobId: jobId(), type: 'candidates', conceptId: 'c1', candidates: t!.api.candidates });
    expect(t!.press('1', { alt: true })).toBe(true);
    await settle();
    expect(t!.texts()[0]).toBe('Alt one.');
  });

  it('deleting the concept takes its suggestions with it', async () => {
    await regenerate();
    const doc = t!.view.state.doc;
    t!.view.dispatch(t!.view.state.tr.delete(posOfIndex(doc, 0), posOfIndex(doc, 1)));
    expect(suggestionsKey.getState(t!.view.state)!.sets).toEqual([]);
    expect(t!.view.dom.querySelector('.cs-suggestions')).toBeNull();
  });
});
