/**
 * The application menu: File, Edit, View, Generate, Language, Help. Items
 * that act on the editor send a MenuCommand to the focused window
 * (MENU_COMMAND_CHANNEL); the renderer runs it as it runs its own buttons.
 * Shortcuts come from the contract's SHORTCUTS, which the renderer binds
 * too. On Linux and Windows the keys of editor actions are shown but not
 * registered (`registerAccelerator: false`), so one key press reaches only
 * the renderer's keymap, which knows the selection; on macOS the menu takes
 * its key equivalents first and sends the command instead.
 */
import { app, BrowserWindow, Menu, type MenuItemConstructorOptions } from 'electron';
import { MENU_COMMAND_CHANNEL, SHORTCUTS, type MenuCommand, type Settings } from '../shared/contract.ts';
import type { DocumentSummary } from '../shared/library.ts';

export interface MenuState {
  recent: DocumentSummary[];
  theme: Settings['theme'];
}

const isMac = process.platform === 'darwin';

function send(command: MenuCommand): void {
  const win = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
  if (win && !win.isDestroyed()) win.webContents.send(MENU_COMMAND_CHANNEL, command);
}

/** An item that sends `command`; `editorKey` marks keys the renderer's keymap handles itself. */
function item(label: string, command: MenuCommand, accelerator?: string, editorKey = false): MenuItemConstructorOptions {
  return {
    label,
    click: () => send(command),
    ...(accelerator ? { accelerator, registerAccelerator: isMac || !editorKey } : {}),
  };
}

export function buildMenu(state: MenuState): Menu {
  const recent: MenuItemConstructorOptions[] = state.recent.length
    ? state.recent.map((d) => item(d.title.length > 60 ? `${d.title.slice(0, 57)}…` : d.title, { command: 'openDocument', documentId: d.id }))
    : [{ label: 'No Recent Documents', enabled: false }];
  const theme = (value: Settings['theme'], label: string): MenuItemConstructorOptions => ({
    label,
    type: 'radio',
    checked: state.theme === value,
    click: () => send({ command: 'setTheme', theme: value }),
  });

  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        item('New Document', { command: 'newDocument' }, SHORTCUTS.newDocument),
        item('Library', { command: 'showLibrary' }, SHORTCUTS.showLibrary),
        item('Model Packs…', { command: 'showModels' }),
        { label: 'Open Recent', submenu: recent },
        { type: 'separator' },
        {
          label: 'Export',
          submenu: [
            item('Markdown…', { command: 'exportDocument', format: 'markdown' }, SHORTCUTS.exportMarkdown),
            item('Plain Text…', { command: 'exportDocument', format: 'text' }),
            item('JSON (with provenance)…', { command: 'exportDocument', format: 'json' }),
          ],
        },
        { type: 'separator' },
        item(isMac ? 'Settings…' : 'Settings', { command: 'openSettings' }, SHORTCUTS.openSettings),
        ...(isMac ? [] : [{ type: 'separator' as const }, { role: 'quit' as const }]),
      ],
    },
    {
      label: '&Edit',
      submenu: [
        // The roles send native undo/redo input events, which prosemirror-history handles (beforeinput historyUndo).
        { role: 'undo' },
        { role: 'redo' },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
        { type: 'separator' },
        item('Find…', { command: 'find' }, SHORTCUTS.find, true),
      ],
    },
    {
      label: '&View',
      submenu: [
        item('Outline', { command: 'showView', view: 'outline' }, SHORTCUTS.outline, true),
        item('Draft', { command: 'showView', view: 'draft' }, SHORTCUTS.draft, true),
        { type: 'separator' },
        { label: 'Theme', submenu: [theme('system', 'Follow System'), theme('light', 'Light'), theme('dark', 'Dark')] },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { role: 'togglefullscreen' },
        ...(app.isPackaged ? [] : [{ type: 'separator' as const }, { role: 'reload' as const }, { role: 'toggleDevTools' as const }]),
      ],
    },
    {
      label: '&Generate',
      submenu: [
        item('Continue', { command: 'generate', action: 'continue' }, SHORTCUTS.continue, true),
        item('Regenerate', { command: 'generate', action: 'regenerate' }, SHORTCUTS.regenerate, true),
        item('Expand', { command: 'generate', action: 'expand' }, SHORTCUTS.expand, true),
        item('Summarize…', { command: 'generate', action: 'summarize' }, SHORTCUTS.summarize, true),
        item('Translate…', { command: 'generate', action: 'translate' }, SHORTCUTS.translate, true),
        item('Fidelity', { command: 'generate', action: 'fidelity' }, SHORTCUTS.fidelity, true),
        { type: 'separator' },
        item('Cancel Job', { command: 'cancelJob' }, SHORTCUTS.cancelJob, true),
      ],
    },
    {
      label: '&Language',
      submenu: [
        item('Document Language…', { command: 'chooseLanguage', target: 'document' }),
        item('Concept Language…', { command: 'chooseLanguage', target: 'concept' }),
        { type: 'separator' },
        item('Translate Document…', { command: 'generate', action: 'translate' }),
      ],
    },
    {
      role: 'help',
      submenu: [
        item('Keyboard Shortcuts', { command: 'showShortcuts' }),
        item('About Concept Studio', { command: 'about' }),
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
