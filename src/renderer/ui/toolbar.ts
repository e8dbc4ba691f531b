/**
 * The editor's toolbar: the per-concept actions (they act on the concept at
 * the cursor, or the selection), the outline/draft switch, and the save
 * indicator. Every button has a visible name that is also its accessible
 * name, and a tooltip with its shortcut.
 */
import { SHORTCUTS } from '../../shared/contract.ts';
import { ACTIONS, ACTION_KEYS, keyOf, shortcutLabel, type ActionName } from '../editor/keys.ts';
import type { SaveStatus } from '../editor/autosave.ts';
import type { ViewMode } from '../editor/viewMode.ts';
import { h } from './dom.ts';

const HINTS: Record<ActionName, string> = {
  Continue: 'Write the next concept after this one',
  Regenerate: 'Propose alternatives for this concept',
  Expand: 'Develop this concept into several under it',
  Translate: 'Translate the selection or the document',
  Summarize: 'Summarize the selection or the document',
  Fidelity: 'How much of this sentence its embedding holds',
};

export interface ToolbarOptions {
  action: (name: ActionName) => void;
  view: (mode: ViewMode) => void;
}

export class Toolbar {
  readonly element: HTMLElement;
  private readonly viewButtons: Record<ViewMode, HTMLButtonElement>;
  /** The outline/draft switch (the app shows it beside the document's title). */
  readonly viewSwitch: HTMLElement;
  /** The save indicator (the app shows it beside the document's title). */
  readonly saveState: HTMLElement;
  private lastStatus = '';

  constructor(options: ToolbarOptions) {
    const actions = h('div', { role: 'toolbar', 'aria-label': 'Concept actions', class: 'actions' },
      ...ACTIONS.map((name) => h('button', {
        type: 'button', class: `action action-${name.toLowerCase()}`, 'data-action': name,
        title: `${HINTS[name]} (${shortcutLabel(ACTION_KEYS[name])})`, 'aria-keyshortcuts': ACTION_KEYS[name].replace(/Mod/, 'Control').replace(/-/g, '+'),
        // mousedown would move the focus (and the selection) out of the editor before the click.
        onmousedown: (e) => e.preventDefault(),
        onclick: () => options.action(name),
      }, name)));
    this.viewButtons = {
      outline: h('button', { type: 'button', 'aria-pressed': 'true', title: `One concept per line (${shortcutLabel(keyOf(SHORTCUTS.outline))})`, onmousedown: (e) => e.preventDefault(), onclick: () => options.view('outline') }, 'Outline'),
      draft: h('button', { type: 'button', 'aria-pressed': 'false', title: `Concepts as paragraphs (${shortcutLabel(keyOf(SHORTCUTS.draft))})`, onmousedown: (e) => e.preventDefault(), onclick: () => options.view('draft') }, 'Draft'),
    };
    this.saveState = h('span', { class: 'save-state', role: 'status', 'data-status': 'saved' }, 'Saved');
    this.viewSwitch = h('div', { class: 'view-switch', role: 'group', 'aria-label': 'View' }, this.viewButtons.outline, this.viewButtons.draft);
    this.element = h('div', { class: 'toolbar' }, actions);
  }

  setView(mode: ViewMode): void {
    this.viewButtons.outline.setAttribute('aria-pressed', String(mode === 'outline'));
    this.viewButtons.draft.setAttribute('aria-pressed', String(mode === 'draft'));
  }

  setSaveStatus(status: SaveStatus, error: string | null): void {
    const text = status === 'saved' ? 'Saved' : status === 'saving' ? 'Saving…' : status === 'unsaved' ? 'Unsaved changes' : `Not saved: ${error ?? 'unknown error'}`;
    if (text === this.lastStatus) return;
    this.lastStatus = text;
    this.saveState.textContent = text;
    this.saveState.dataset.status = status;
    this.saveState.title = status === 'error' ? 'Your edits are kept here and sent again with the next change.' : '';
  }
}
