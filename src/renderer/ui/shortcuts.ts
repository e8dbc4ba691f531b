/**
 * Matching key events against the application's accelerators (contract.ts
 * SHORTCUTS, Electron syntax) and the shortcut list the Help menu shows.
 */
import { SHORTCUTS } from '../../shared/contract.ts';
import { ACTION_KEYS, ACTIONS, keyOf, shortcutLabel } from '../editor/keys.ts';
import { h } from './dom.ts';

const mac = () => /Mac|iP(hone|ad)/.test(globalThis.navigator?.platform ?? '');

/** True when `e` is the accelerator ("CmdOrCtrl+Shift+E"): exactly its modifiers and its key. */
export function matchesAccelerator(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey'>, accelerator: string, isMac = mac()): boolean {
  const parts = accelerator.split('+');
  const key = parts.pop()!.toLowerCase();
  const mods = new Set(parts.map((p) => p.toLowerCase()));
  const cmdOrCtrl = mods.has('cmdorctrl');
  const wantCtrl = mods.has('ctrl') || (cmdOrCtrl && !isMac);
  const wantMeta = mods.has('cmd') || mods.has('meta') || (cmdOrCtrl && isMac);
  return e.ctrlKey === wantCtrl && e.metaKey === wantMeta && e.shiftKey === mods.has('shift') && e.altKey === mods.has('alt')
    && e.key.toLowerCase() === key;
}

/** The shortcut list (Help › Keyboard shortcuts). */
export function shortcutsHelp(): HTMLElement {
  const row = (what: string, key: string) => [h('dt', {}, what), h('dd', {}, h('kbd', {}, shortcutLabel(key)))];
  return h('dl', { class: 'shortcuts' },
    ...ACTIONS.flatMap((a) => row(a, ACTION_KEYS[a])),
    ...row('Cancel the running job', keyOf(SHORTCUTS.cancelJob)),
    ...row('Outline view', keyOf(SHORTCUTS.outline)),
    ...row('Draft view', keyOf(SHORTCUTS.draft)),
    ...row('New concept', 'Enter'),
    ...row('New concept in the same paragraph', 'Shift-Enter'),
    ...row('Indent / outdent', 'Tab'),
    ...row('Outdent', 'Shift-Tab'),
    ...row('Move up / down with its subtree', 'Alt-ArrowUp'),
    ...row('Accept candidate n', 'Alt-1'),
    ...row('Dismiss candidates', 'Escape'),
    ...row('Heading 1 / 2 / 3', 'Mod-Alt-1'),
    ...row('List item', 'Mod-Alt-8'),
    ...row('Paragraph', 'Mod-Alt-0'),
    ...row('Search the library', keyOf(SHORTCUTS.find)),
    ...row('Settings', keyOf(SHORTCUTS.openSettings)),
    ...row('Export Markdown', keyOf(SHORTCUTS.exportMarkdown)));
}
