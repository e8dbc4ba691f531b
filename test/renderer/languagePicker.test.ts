// @vitest-environment happy-dom
// The language picker: all 202 SONAR languages, searchable by name and code, the loaded pack's marked.
import { describe, expect, it } from 'vitest';
import { createLanguagePicker, languageOptions, optionLabel } from '../../src/renderer/ui/languagePicker.ts';

const PACK = ['eng_Latn', 'fra_Latn', 'deu_Latn', 'rus_Cyrl', 'zho_Hans', 'jpn_Jpan', 'arb_Arab', 'hin_Deva'];

describe('languageOptions', () => {
  it('lists all 202 languages, the pack\'s first (in table order), each marked', () => {
    const all = languageOptions('', PACK);
    expect(all).toHaveLength(202);
    expect(new Set(all.map((o) => o.code)).size).toBe(202);
    expect(all.slice(0, 8).map((o) => o.code)).toEqual(['arb_Arab', 'deu_Latn', 'eng_Latn', 'fra_Latn', 'hin_Deva', 'jpn_Jpan', 'rus_Cyrl', 'zho_Hans']);
    expect(all.filter((o) => o.supported).map((o) => o.code).sort()).toEqual([...PACK].sort());
  });

  it('finds by English name, FLORES code and ISO 639-1 code, case- and accent-insensitive', () => {
    expect(languageOptions('chinese', PACK).map((o) => o.code)).toEqual(['zho_Hans', 'zho_Hant', 'yue_Hant']);
    expect(languageOptions('zho_hant', PACK)[0]!.code).toBe('zho_Hant');
    expect(languageOptions('RU', PACK)[0]).toMatchObject({ code: 'rus_Cyrl', supported: true });
    expect(languageOptions('bokmal', PACK).map((o) => o.code)).toEqual(['nob_Latn']);
    expect(languageOptions('arabic', PACK).length).toBeGreaterThan(8); // Modern Standard, Egyptian, Moroccan…
    expect(languageOptions('klingon', PACK)).toEqual([]);
  });

  it('can keep only the pack\'s languages', () => {
    expect(languageOptions('', PACK, true).map((o) => o.code)).toHaveLength(8);
    expect(languageOptions('arabic', PACK, true).map((o) => o.code)).toEqual(['arb_Arab']);
  });

  it('says for a screen reader what the badge shows', () => {
    const [arb] = languageOptions('arb_Arab', PACK);
    expect(optionLabel(arb!)).toBe('Modern Standard Arabic (arb_Arab), Arabic script, right to left, supported by the loaded pack');
    expect(optionLabel(languageOptions('heb_Hebr', PACK)[0]!)).toBe('Hebrew (heb_Hebr), Hebrew script, right to left, not in the loaded pack');
  });
});

describe('the picker element', () => {
  it('is a combobox over a listbox; typing filters, arrows move, Enter picks, marks show the pack', () => {
    const picked: string[] = [];
    const picker = createLanguagePicker({ packLanguages: PACK, label: 'Target language', onPick: (c) => picked.push(c) });
    document.body.append(picker.element);
    const input = picker.element.querySelector<HTMLInputElement>('[role=combobox]')!;
    const options = () => [...picker.element.querySelectorAll<HTMLElement>('[role=option]')];
    expect(input.getAttribute('aria-label')).toBe('Target language');
    expect(options()).toHaveLength(202);
    expect(picker.element.querySelectorAll('[data-supported="true"] .lang-badge')).toHaveLength(8);

    input.value = 'german';
    input.dispatchEvent(new Event('input'));
    expect(options().map((o) => o.dataset.code)).toEqual(['deu_Latn']);
    expect(picker.value()).toBe('deu_Latn');

    input.value = 'chinese';
    input.dispatchEvent(new Event('input'));
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown' }));
    expect(options().map((o) => o.getAttribute('aria-selected'))).toEqual(['false', 'true', 'false']);
    expect(input.getAttribute('aria-activedescendant')).toBe(options()[1]!.id);
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect(picked).toEqual(['zho_Hant']);

    const only = picker.element.querySelector<HTMLInputElement>('.lang-only')!;
    input.value = '';
    input.dispatchEvent(new Event('input'));
    only.checked = true;
    only.dispatchEvent(new Event('change'));
    expect(options()).toHaveLength(8);
    options()[4]!.click();
    expect(picked).toEqual(['zho_Hant', 'hin_Deva']);
    picker.element.remove();
  });

  it('starts on the current language when one is given', () => {
    const picker = createLanguagePicker({ packLanguages: PACK, label: 'Language', initial: 'jpn_Jpan' });
    expect(picker.value()).toBe('jpn_Jpan');
  });
});
