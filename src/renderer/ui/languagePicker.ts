/**
 * The language picker: all 202 SONAR languages, searchable by English name,
 * FLORES-200 code or ISO 639-1 code (languages.ts `searchLanguages`), with the
 * ones the loaded pack supports marked, and first when nothing is typed. An
 * ARIA combobox: the input keeps focus, ArrowUp/ArrowDown move through the
 * listbox, Enter picks, Escape closes the dialog around it.
 */
import { SCRIPT_NAMES, SONAR_LANGUAGES, searchLanguages, type LanguageInfo } from '../../shared/languages.ts';
import { h, replace } from './dom.ts';

/** One row of the picker. */
export interface LanguageOption extends LanguageInfo {
  /** The loaded pack declares this language. */
  supported: boolean;
}

/**
 * The picker's rows for a query: the search's ranking when something is typed;
 * otherwise the pack's languages first, then the rest, each in the table's order.
 * `onlySupported` keeps just the pack's.
 */
export function languageOptions(query: string, packLanguages: readonly string[], onlySupported = false): LanguageOption[] {
  const supported = new Set(packLanguages);
  let list = query.trim() === ''
    ? [...SONAR_LANGUAGES.filter((l) => supported.has(l.code)), ...SONAR_LANGUAGES.filter((l) => !supported.has(l.code))]
    : searchLanguages(query);
  if (onlySupported) list = list.filter((l) => supported.has(l.code));
  return list.map((l) => ({ ...l, supported: supported.has(l.code) }));
}

/** What a screen reader says for a row: name, code, script, and whether the pack supports it. */
export function optionLabel(o: LanguageOption): string {
  return `${o.name} (${o.code}), ${SCRIPT_NAMES[o.script] ?? o.script} script${o.rtl ? ', right to left' : ''}${o.supported ? ', supported by the loaded pack' : ', not in the loaded pack'}`;
}

export interface LanguagePicker {
  element: HTMLElement;
  /** The highlighted language's code, or null when nothing matches. */
  value(): string | null;
  focus(): void;
}

let pickers = 0;

/** A picker element. `onPick` runs on Enter or a click on a row. */
export function createLanguagePicker(options: { packLanguages: readonly string[]; initial?: string; label: string; onPick?: (code: string) => void }): LanguagePicker {
  const n = ++pickers;
  const listId = `lang-list-${n}`;
  const input = h('input', {
    type: 'search', role: 'combobox', 'aria-expanded': 'true', 'aria-controls': listId, 'aria-autocomplete': 'list',
    'aria-label': options.label, placeholder: 'Search 202 languages by name or code', autocomplete: 'off', spellcheck: 'false', class: 'lang-search',
  });
  const only = h('input', { type: 'checkbox', class: 'lang-only' });
  const count = h('span', { class: 'lang-count', 'aria-live': 'polite' });
  const list = h('ul', { id: listId, role: 'listbox', class: 'lang-list', 'aria-label': 'Languages' });
  let rows: LanguageOption[] = [];
  let active = 0;

  const highlight = (i: number) => {
    active = Math.max(0, Math.min(i, rows.length - 1));
    list.querySelectorAll('[role=option]').forEach((el, j) => el.setAttribute('aria-selected', String(j === active)));
    const el = list.children[active] as HTMLElement | undefined;
    if (el) {
      input.setAttribute('aria-activedescendant', el.id);
      el.scrollIntoView?.({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  };

  const render = () => {
    rows = languageOptions(input.value, options.packLanguages, only.checked);
    replace(list, ...rows.map((o, i) => h('li', {
      id: `${listId}-${o.code}`, role: 'option', 'aria-selected': 'false', 'aria-label': optionLabel(o), class: 'lang-option',
      'data-code': o.code, 'data-supported': String(o.supported),
      onmousedown: (e) => e.preventDefault(), // keep focus in the input
      onclick: () => { highlight(i); options.onPick?.(o.code); },
    },
    h('span', { class: 'lang-name', lang: 'en' }, o.name),
    h('code', { class: 'lang-code' }, o.code),
    o.supported ? h('span', { class: 'lang-badge', 'aria-hidden': 'true' }, 'in pack') : null)));
    count.textContent = `${rows.length} of ${SONAR_LANGUAGES.length} languages`;
    const initial = options.initial ? rows.findIndex((r) => r.code === options.initial) : -1;
    highlight(input.value === '' && initial >= 0 ? initial : 0);
  };

  input.addEventListener('input', render);
  only.addEventListener('change', render);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') highlight(active + 1);
    else if (e.key === 'ArrowUp') highlight(active - 1);
    else if (e.key === 'Home' && e.ctrlKey) highlight(0);
    else if (e.key === 'End' && e.ctrlKey) highlight(rows.length - 1);
    else if (e.key === 'Enter') {
      const code = rows[active]?.code;
      if (code) options.onPick?.(code);
    } else return;
    e.preventDefault();
  });
  render();

  const element = h('div', { class: 'lang-picker' },
    input,
    h('label', { class: 'lang-only-label' }, only, ' Only languages the loaded pack supports'),
    count,
    list);
  return {
    element,
    value: () => rows[active]?.code ?? null,
    focus: () => input.focus(),
  };
}
