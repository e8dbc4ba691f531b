/**
 * The dialogs behind Translate, Summarize and Fidelity: each asks what the
 * action needs (target language and scope; length and scope) or shows what it
 * found (the round trip and its score).
 */
import type { Fidelity } from '../../shared/contract.ts';
import { getLanguage } from '../../shared/languages.ts';
import { bcp47, directionOf } from '../editor/schema.ts';
import { h } from './dom.ts';
import { createLanguagePicker } from './languagePicker.ts';
import { showModal } from './modal.ts';

export type Scope = 'selection' | 'document';

function scopeField(name: string, selectionCount: number, initial: Scope): { element: HTMLElement; value: () => Scope } {
  const sel = h('input', { type: 'radio', name, value: 'selection', checked: initial === 'selection' });
  const doc = h('input', { type: 'radio', name, value: 'document', checked: initial === 'document' });
  const element = h('fieldset', { class: 'scope' },
    h('legend', {}, 'What'),
    h('label', {}, sel, ` The selection (${selectionCount} concept${selectionCount === 1 ? '' : 's'})`),
    h('label', {}, doc, ' The whole document'));
  return { element, value: () => (sel.checked ? 'selection' : 'document') };
}

/** Asks for the target language and the scope; null when cancelled. */
export async function translateDialog(options: { packLanguages: readonly string[]; selectionCount: number; multiSelect: boolean }): Promise<{ scope: Scope; targetLanguage: string } | null> {
  let picked: string | null = null;
  let submit: () => void = () => undefined;
  const picker = createLanguagePicker({ packLanguages: options.packLanguages, label: 'Target language', onPick: () => submit() });
  const scope = scopeField('translate-scope', options.selectionCount, options.multiSelect ? 'selection' : 'document');
  const note = h('p', { class: 'hint' }, 'The whole document is written as a new document in the target language; the original stays as it is. A selection is translated in place (the old text is kept in each concept’s history).');
  let result: { scope: Scope; targetLanguage: string } | null = null;
  const shown = showModal({
    title: 'Translate',
    className: 'translate-dialog',
    body: [scope.element, picker.element, note],
    submitLabel: 'Translate',
    initialFocus: picker.element.querySelector('input')!,
    onSubmit: () => {
      picked = picker.value();
      if (!picked) throw new Error('No language matches: change the search to pick one.');
      result = { scope: scope.value(), targetLanguage: picked };
    },
  });
  // Enter in the picker submits the form like the button does.
  submit = () => picker.element.closest('form')?.requestSubmit();
  return (await shown) ? result : null;
}

/** Asks for the summary's length and scope; null when cancelled. */
export async function summarizeDialog(options: { selectionCount: number; multiSelect: boolean; maxConcepts: number }): Promise<{ scope: Scope; maxConcepts: number } | null> {
  const scope = scopeField('summarize-scope', options.selectionCount, options.multiSelect ? 'selection' : 'document');
  const length = h('input', { type: 'number', min: 1, max: 64, step: 1, value: options.maxConcepts, required: true, class: 'summary-length' });
  let result: { scope: Scope; maxConcepts: number } | null = null;
  const ok = await showModal({
    title: 'Summarize',
    body: [scope.element, h('label', { class: 'field' }, 'Target length (concepts, at most) ', length),
      h('p', { class: 'hint' }, 'The summary is added after what it summarizes, one concept at a time.')],
    submitLabel: 'Summarize',
    initialFocus: length,
    onSubmit: () => {
      const n = Number(length.value);
      if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError('Target length must be a whole number from 1 to 64.');
      result = { scope: scope.value(), maxConcepts: n };
    },
  });
  return ok ? result : null;
}

/** How well the embedding holds the sentence, in words (chrF bands are this app's, for reading at a glance). */
export function fidelityVerdict(chrf: number): string {
  if (chrf >= 90) return 'held almost exactly';
  if (chrf >= 70) return 'held well';
  if (chrf >= 40) return 'held in part';
  return 'mostly lost: consider splitting or rephrasing the sentence';
}

/** Shows a round trip: the text, what the decoder made of its embedding, and the chrF score. */
export async function fidelityDialog(f: Fidelity, language: string): Promise<void> {
  const lang = bcp47(language);
  const score = Math.round(f.chrf * 10) / 10;
  await showModal({
    title: 'Fidelity',
    className: 'fidelity-dialog',
    body: [
      h('p', { class: 'hint' }, `The concept is encoded into its ${getLanguage(language)?.name ?? language} embedding and decoded back; chrF compares the two (0–100).`),
      h('dl', { class: 'fidelity' },
        h('dt', {}, 'Text'), h('dd', { lang, dir: directionOf(language, f.text), class: 'fidelity-text' }, f.text),
        h('dt', {}, 'Round trip'), h('dd', { lang, dir: directionOf(language, f.decoded), class: 'fidelity-decoded' }, f.decoded),
        h('dt', {}, 'Score'), h('dd', { class: 'fidelity-score' },
          h('meter', { min: 0, max: 100, low: 40, high: 70, optimum: 100, value: f.chrf, 'aria-label': 'chrF score' }),
          ` chrF ${score} — ${fidelityVerdict(f.chrf)}`)),
    ],
  });
}
