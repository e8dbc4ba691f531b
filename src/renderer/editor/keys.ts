/**
 * The editor's keyboard map and input rules (docs/editor.md lists them).
 * Outline keys follow outliners (Enter, Tab, Shift-Tab, Alt-Arrow); action
 * keys use Mod-Shift chords a browser leaves to the page, so they work the
 * same in Electron and in the web host. Typing Markdown markers at the start
 * of a concept makes it a heading or a list item, as Markdown import would.
 */
import { baseKeymap, chainCommands } from 'prosemirror-commands';
import { redo, undo } from 'prosemirror-history';
import { InputRule, inputRules } from 'prosemirror-inputrules';
import { keymap } from 'prosemirror-keymap';
import type { Command, Plugin } from 'prosemirror-state';
import { SHORTCUTS } from '../../shared/contract.ts';
import type { Block } from '../../shared/library.ts';
import { indent, moveConcepts, outdent, outdentAtStart, setBlock, splitConcept } from './commands.ts';
import { attrsOf } from './schema.ts';
import { acceptNthAtCursor, dismissAtCursor } from './suggestions.ts';
import { setViewMode, toggleViewMode } from './viewMode.ts';

/** The per-concept actions, by their visible names. */
export const ACTIONS = ['Continue', 'Regenerate', 'Expand', 'Translate', 'Summarize', 'Fidelity'] as const;
export type ActionName = (typeof ACTIONS)[number];

/** An Electron accelerator ("CmdOrCtrl+Shift+E", contract.ts SHORTCUTS) as a ProseMirror key name ("Mod-Shift-E"). */
export function keyOf(accelerator: string): string {
  return accelerator.replace('CmdOrCtrl', 'Mod').split('+').join('-');
}

/** Keyboard shortcut of each action: the application menu's (one list, contract.ts). */
export const ACTION_KEYS: Record<ActionName, string> = {
  Continue: keyOf(SHORTCUTS.continue),
  Regenerate: keyOf(SHORTCUTS.regenerate),
  Expand: keyOf(SHORTCUTS.expand),
  Translate: keyOf(SHORTCUTS.translate),
  Summarize: keyOf(SHORTCUTS.summarize),
  Fidelity: keyOf(SHORTCUTS.fidelity),
};

/** The shortcut as a person reads it on this platform ("Ctrl+Shift+E", "⌘⇧E"). */
export function shortcutLabel(key: string, mac = /Mac|iP(hone|ad)/.test(globalThis.navigator?.platform ?? '')): string {
  const parts = key.split('-');
  const names: Record<string, [string, string]> = { Mod: ['⌘', 'Ctrl'], Shift: ['⇧', 'Shift'], Alt: ['⌥', 'Alt'], Enter: ['↩', 'Enter'] };
  const out = parts.map((p) => names[p]?.[mac ? 0 : 1] ?? p.toUpperCase());
  return mac ? out.join('') : out.join('+');
}

function blockRule(re: RegExp, block: Block, marker: (m: RegExpMatchArray) => string): InputRule {
  return new InputRule(re, (state, match, start, end) => {
    const $start = state.doc.resolve(start);
    if ($start.depth !== 1 || $start.parentOffset !== 0) return null;
    const pos = $start.before();
    const node = state.doc.nodeAt(pos)!;
    return state.tr.delete(start, end).setNodeMarkup(pos, undefined, { ...attrsOf(node), block, marker: marker(match), blockStart: true });
  });
}

/** "# " … "###### " make a heading; "- ", "* ", "+ ", "1. ", "1) " a list item; "``` " code. */
export function markdownInputRules(): Plugin {
  return inputRules({
    rules: [
      blockRule(/^(#{1,6})\s$/, 'heading', (m) => m[1]!),
      blockRule(/^([-*+])\s$/, 'item', (m) => m[1]!),
      blockRule(/^(\d+[.)])\s$/, 'item', (m) => m[1]!.replace(/^\d+/, '1')),
      blockRule(/^(```)\s$/, 'code', (m) => m[1]!),
    ],
  });
}

/** The outline keymap, then the base keymap. `onAction` runs an action key (the app opens dialogs for some). */
export function conceptKeymaps(onAction: (action: ActionName) => void): Plugin[] {
  const action = (name: ActionName): Command => () => {
    onAction(name);
    return true;
  };
  const keys: Record<string, Command> = {
    Enter: splitConcept(false),
    'Shift-Enter': splitConcept(true),
    Tab: indent,
    'Shift-Tab': outdent,
    'Mod-]': indent,
    'Mod-[': outdent,
    Backspace: outdentAtStart,
    'Alt-ArrowUp': moveConcepts('up'),
    'Alt-ArrowDown': moveConcepts('down'),
    'Mod-z': undo,
    'Mod-Shift-z': redo,
    'Mod-y': redo,
    'Mod-Alt-0': setBlock('paragraph'),
    'Mod-Alt-1': setBlock('heading', '#'),
    'Mod-Alt-2': setBlock('heading', '##'),
    'Mod-Alt-3': setBlock('heading', '###'),
    'Mod-Alt-8': setBlock('item', '-'),
    'Mod-Alt-v': toggleViewMode,
    [keyOf(SHORTCUTS.outline)]: setViewMode('outline'),
    [keyOf(SHORTCUTS.draft)]: setViewMode('draft'),
    Escape: dismissAtCursor,
  };
  for (let n = 1; n <= 9; n++) keys[`Alt-${n}`] = acceptNthAtCursor(n);
  for (const name of Object.keys(ACTION_KEYS) as ActionName[]) keys[ACTION_KEYS[name]] = action(name);
  // Backspace: outdent at the start of a nested concept, else the usual join/delete.
  keys.Backspace = chainCommands(outdentAtStart, baseKeymap.Backspace!);
  return [keymap(keys), keymap(baseKeymap)];
}
