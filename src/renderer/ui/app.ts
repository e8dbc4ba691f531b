/**
 * The app: the library, the editor of the open document with its toolbar and
 * job bar, the inspector; dialogs for the actions and the settings; the
 * application menu's commands and the global shortcuts. It owns which
 * document is open; the editor owns the document's content.
 */
import type { AppInfo, ConceptStudioApi, ExportFormat, MenuCommand, Settings } from '../../shared/contract.ts';
import { SHORTCUTS } from '../../shared/contract.ts';
import type { DocumentInfo } from '../../shared/library.ts';
import { selectConceptAt, setConceptLanguage } from '../editor/commands.ts';
import { createConceptEditor, type ConceptEditor } from '../editor/createEditor.ts';
import { autosaveKey, hasUnsavedEdits } from '../editor/autosave.ts';
import { conceptAtSelection, findConcept, selectedRange } from '../editor/find.ts';
import { cancelJob, continueConcept, dismissJob, expandConcept, jobsKey, regenerateConcept, summarize, translate } from '../editor/jobs.ts';
import type { ActionName } from '../editor/keys.ts';
import { attrsOf } from '../editor/schema.ts';
import { storedConceptTr } from '../editor/sync.ts';
import { setViewMode, viewModeKey, type ViewMode } from '../editor/viewMode.ts';
import { fidelityDialog, summarizeDialog, translateDialog } from './actionDialogs.ts';
import { errorText, h, replace } from './dom.ts';
import { Inspector } from './inspector.ts';
import { JobBar } from './jobBar.ts';
import { createLanguagePicker } from './languagePicker.ts';
import { Library } from './library.ts';
import { showModal } from './modal.ts';
import { openModelsPage } from './modelsPage.ts';
import { loadPrefs, savePrefs, type Prefs } from './prefs.ts';
import { settingsDialog } from './settingsDialog.ts';
import { matchesAccelerator, shortcutsHelp } from './shortcuts.ts';
import { applyTheme } from './theme.ts';
import { Toolbar } from './toolbar.ts';

const GENERATE: Record<string, ActionName> = { continue: 'Continue', regenerate: 'Regenerate', expand: 'Expand', translate: 'Translate', summarize: 'Summarize', fidelity: 'Fidelity' };

export class App {
  private editor: ConceptEditor | null = null;
  private document: DocumentInfo | null = null;
  private prefs: Prefs = loadPrefs();
  private opening = 0;
  private readonly library: Library;
  private readonly toolbar: Toolbar;
  private readonly jobBar: JobBar;
  private readonly inspector: Inspector;
  private readonly editorHost = h('div', { class: 'editor-host' });
  private readonly title = h('h1', { class: 'doc-heading' });
  private readonly notice = h('p', { class: 'notice', role: 'alert', hidden: true });
  private readonly announcer = h('p', { class: 'visually-hidden', role: 'status' });
  private packLanguages: string[];
  private readonly packInfo = h('span', { class: 'pack-info', title: 'The model pack in use' });
  private lastJobs: unknown = null;
  private lastSaveStatus = 'saved';
  private libraryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly root: HTMLElement, private readonly api: ConceptStudioApi, private info: AppInfo, private settings: Settings) {
    this.packLanguages = 'error' in info.pack ? [] : info.pack.languages;
    this.library = new Library({
      api,
      open: (id, conceptId) => void this.open(id, conceptId),
      create: () => void this.create(),
      deleted: (id) => { if (id === this.document?.id) void this.openSomething(); },
      renamed: (id, title) => { if (id === this.document?.id && this.document) { this.document.title = title; this.title.textContent = title; } },
      searchLanguage: () => this.document?.language ?? settings.defaultLanguage,
    });
    this.toolbar = new Toolbar({ action: (name) => void this.action(name), view: (mode) => this.setView(mode) });
    this.jobBar = new JobBar({
      cancel: (localId) => this.command(cancelJob(localId)),
      dismiss: (localId) => this.command(dismissJob(localId)),
      openDocument: (id) => void this.open(id),
    });
    this.inspector = new Inspector({
      api,
      flush: () => this.editor?.flush() ?? Promise.resolve(),
      revert: (conceptId, revisionId) => this.revert(conceptId, revisionId),
      changeLanguage: () => void this.chooseConceptLanguage(),
      open: (id, conceptId) => void this.open(id, conceptId),
    });
  }

  /** Builds the page and opens a document: the one in the URL, else the most recent, else a new one. */
  async start(): Promise<void> {
    applyTheme(this.settings.theme);
    const packNote = 'error' in this.info.pack
      ? `No model pack is loaded: ${this.info.pack.error} Writing and search by words work; generating needs a pack (Settings).`
      : null;
    const header = h('header', { class: 'topbar' },
      h('span', { class: 'brand' }, 'Concept Studio'),
      this.packInfo,
      h('button', { type: 'button', onclick: () => void this.exportDocument('markdown') }, 'Export'),
      h('button', { type: 'button', onclick: () => void this.openModels(), title: 'Model packs: add, remove, choose the default' }, 'Models'),
      h('button', { type: 'button', onclick: () => void this.openSettings() }, 'Settings'));
    const main = h('main', { class: 'editor-pane', 'aria-label': 'Editor' },
      h('div', { class: 'doc-head' }, this.title, this.toolbar.saveState, this.toolbar.viewSwitch), this.toolbar.element, this.jobBar.element, this.notice, this.editorHost);
    this.showPackInfo();
    replace(this.root, header, h('div', { class: 'workspace' }, this.library.element, main, this.inspector.element), this.announcer);
    if (packNote) this.showNotice(packNote);
    this.api.onMenuCommand((c) => void this.menu(c));
    window.addEventListener('keydown', (e) => this.globalKey(e));
    window.addEventListener('hashchange', () => {
      const id = App.hashDocument();
      if (id && id !== this.document?.id) void this.open(id);
    });
    // Save before the page goes away; warn only if something could still be lost.
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') void this.editor?.flush(); });
    window.addEventListener('beforeunload', (e) => {
      if (this.editor && hasUnsavedEdits(this.editor.view.state)) {
        void this.editor.flush();
        e.preventDefault();
      }
    });
    const docs = await this.library.refresh();
    const wanted = App.hashDocument();
    if (wanted && docs.some((d) => d.id === wanted)) await this.open(wanted);
    else await this.openSomething();
  }

  private static hashDocument(): string | null {
    return new URLSearchParams(location.hash.slice(1)).get('doc');
  }

  private async openSomething(): Promise<void> {
    const docs = await this.library.refresh();
    const next = docs.find((d) => d.id !== this.document?.id);
    if (next) await this.open(next.id);
    else await this.create();
  }

  /** Opens a document (saving and closing the one open), optionally at one of its concepts. */
  async open(id: string, conceptId?: string): Promise<void> {
    const token = ++this.opening;
    try {
      if (this.editor && this.editor.documentId === id) {
        if (conceptId) this.selectConcept(conceptId);
        return;
      }
      const opened = await this.api.openDocument({ id });
      if (token !== this.opening) return;
      const old = this.editor;
      this.editor = null;
      await old?.destroy();
      this.editorHost.replaceChildren();
      this.document = opened.document;
      this.title.textContent = opened.document.title;
      this.editor = createConceptEditor({
        place: this.editorHost,
        api: this.api,
        document: opened.document,
        concepts: opened.concepts,
        viewMode: this.prefs.viewMode,
        onAction: (name) => void this.action(name),
        onUpdate: () => this.refreshUi(),
      });
      history.replaceState(null, '', `#doc=${encodeURIComponent(id)}`);
      this.library.setCurrent(id);
      this.refreshUi();
      if (conceptId) this.selectConcept(conceptId);
      this.editor.view.focus();
    } catch (error) {
      this.showNotice(`Could not open the document: ${errorText(error)}`);
    }
  }

  private selectConcept(conceptId: string): void {
    const view = this.editor?.view;
    const found = view && findConcept(view.state.doc, conceptId);
    if (view && found) {
      selectConceptAt(found.index)(view.state, view.dispatch);
      view.focus();
    }
  }

  private async create(): Promise<void> {
    try {
      const doc = await this.api.createDocument({ title: 'Untitled', language: this.settings.defaultLanguage });
      await this.library.refresh();
      await this.open(doc.id);
    } catch (error) {
      this.showNotice(`Could not create a document: ${errorText(error)}`);
    }
  }

  /** After every editor transaction: job bar, save state, view switch, inspector. */
  private refreshUi(): void {
    const view = this.editor?.view;
    if (!view) return;
    const state = view.state;
    const jobs = jobsKey.getState(state)!.jobs;
    if (jobs !== this.lastJobs) {
      // A whole-document translation made a new document: show it in the library.
      const prev = (this.lastJobs ?? []) as typeof jobs;
      if (jobs.some((j) => j.resultDocumentId && !prev.some((p) => p.localId === j.localId && p.resultDocumentId))) void this.library.refresh();
      this.lastJobs = jobs;
    }
    this.jobBar.render(jobs);
    const save = autosaveKey.getState(state)!;
    this.toolbar.setSaveStatus(save.status, save.error);
    // Once saved, the library's counts and dates are stale: refresh them a moment later (one call per burst).
    if (save.status === 'saved' && this.lastSaveStatus !== 'saved') {
      if (this.libraryTimer !== null) clearTimeout(this.libraryTimer);
      this.libraryTimer = setTimeout(() => void this.library.refresh(), 1000);
    }
    this.lastSaveStatus = save.status;
    this.toolbar.setView(viewModeKey.getState(state) ?? 'outline');
    const found = conceptAtSelection(state);
    this.inspector.show(found ? attrsOf(found.node) : null, found?.node.textContent ?? '');
  }

  private command(cmd: (s: ConceptEditor['view']['state'], d: ConceptEditor['view']['dispatch']) => boolean): boolean {
    const view = this.editor?.view;
    return view ? cmd(view.state, view.dispatch) : false;
  }

  private setView(mode: ViewMode): void {
    this.command(setViewMode(mode));
    this.prefs = { ...this.prefs, viewMode: mode };
    savePrefs(this.prefs);
    this.editor?.view.focus();
  }

  /** Runs an action on the concept at the cursor or the selection. */
  async action(name: ActionName): Promise<void> {
    const view = this.editor?.view;
    if (!view) return;
    const [from, to] = selectedRange(view.state);
    const selectionCount = to - from + 1;
    const multiSelect = !view.state.selection.empty && selectionCount > 1;
    switch (name) {
      case 'Continue': this.command(continueConcept(this.prefs.continueCount)); break;
      case 'Regenerate': this.command(regenerateConcept(this.prefs.regenerateCount)); break;
      case 'Expand': this.command(expandConcept(this.prefs.expandCount)); break;
      case 'Translate': {
        const r = await translateDialog({ packLanguages: this.packLanguages, selectionCount, multiSelect });
        if (r) this.command(translate(r.scope, r.targetLanguage));
        break;
      }
      case 'Summarize': {
        const r = await summarizeDialog({ selectionCount, multiSelect, maxConcepts: this.prefs.summarizeMax });
        if (r) {
          this.prefs = { ...this.prefs, summarizeMax: r.maxConcepts };
          savePrefs(this.prefs);
          this.command(summarize(r.scope, r.maxConcepts));
        }
        break;
      }
      case 'Fidelity': {
        const found = conceptAtSelection(view.state);
        const text = found?.node.textContent ?? '';
        if (!found || text.trim() === '') {
          this.announce('Fidelity needs a concept with text: put the cursor in one.');
          break;
        }
        const language = attrsOf(found.node).language;
        try {
          this.announce('Measuring fidelity…');
          await fidelityDialog(await this.api.fidelity({ text, language }), language);
        } catch (error) {
          this.showNotice(`Fidelity failed: ${errorText(error)}`);
        }
        break;
      }
    }
    this.editor?.view.focus();
  }

  private async revert(conceptId: string, revisionId: number): Promise<void> {
    const editor = this.editor;
    if (!editor) return;
    try {
      await editor.flush();
      const concept = await this.api.revertConcept({ id: conceptId, revisionId });
      const tr = storedConceptTr(editor.view.state, concept);
      if (tr) editor.view.dispatch(tr);
    } catch (error) {
      this.showNotice(`Could not revert: ${errorText(error)}`);
    }
  }

  private async chooseConceptLanguage(): Promise<void> {
    const view = this.editor?.view;
    const found = view && conceptAtSelection(view.state);
    if (!view || !found) return;
    let code: string | null = null;
    const picker = createLanguagePicker({ packLanguages: this.packLanguages, initial: attrsOf(found.node).language, label: 'Language of this concept', onPick: () => picker.element.closest('form')?.requestSubmit() });
    const ok = await showModal({
      title: 'Language of this concept', body: [picker.element], submitLabel: 'Set language', initialFocus: picker.element.querySelector('input')!,
      onSubmit: () => { code = picker.value(); return code !== null; },
    });
    if (ok && code) this.command(setConceptLanguage(code));
    view.focus();
  }

  private async openSettings(): Promise<void> {
    const r = await settingsDialog({ info: this.info, settings: this.settings, prefs: this.prefs, save: (patch) => this.api.updateSettings(patch) });
    if (!r) return;
    this.settings = r.settings;
    this.prefs = r.prefs;
    savePrefs(this.prefs);
    applyTheme(this.settings.theme);
    this.announce('Settings saved.');
  }

  private showPackInfo(): void {
    this.packInfo.textContent = 'error' in this.info.pack ? 'no pack' : `${this.info.pack.name} ${this.info.pack.version} · ${this.info.provider}`;
  }

  /** The Models page; after a change of the loaded pack, what the app shows about the engine is read again. */
  private async openModels(): Promise<void> {
    await openModelsPage({
      api: this.api,
      changed: async () => {
        try {
          [this.info, this.settings] = await Promise.all([this.api.appInfo(), this.api.getSettings()]);
          this.packLanguages = 'error' in this.info.pack ? [] : this.info.pack.languages;
          this.showPackInfo();
          if ('error' in this.info.pack) this.showNotice(`No model pack is loaded: ${this.info.pack.error}`);
          else this.notice.hidden = true;
        } catch (error) {
          this.showNotice(`Could not read the engine's state: ${errorText(error)}`);
        }
      },
    });
  }

  private async exportDocument(format: ExportFormat): Promise<void> {
    if (!this.document || !this.editor) return;
    try {
      await this.editor.flush();
      const file = await this.api.exportDocument({ id: this.document.id, format });
      const url = URL.createObjectURL(new Blob([file.content], { type: file.mimeType }));
      const a = h('a', { href: url, download: file.fileName });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      this.showNotice(`Could not export: ${errorText(error)}`);
    }
  }

  /** The latest job that is still running (for Cancel from the menu or Ctrl+.). */
  private cancelLatest(): void {
    const jobs = this.editor ? jobsKey.getState(this.editor.view.state)!.jobs : [];
    const running = [...jobs].reverse().find((j) => j.phase === 'starting' || j.phase === 'running');
    if (running) this.command(cancelJob(running.localId));
  }

  private async menu(c: MenuCommand): Promise<void> {
    switch (c.command) {
      case 'newDocument': return this.create();
      case 'openDocument': return this.open(c.documentId);
      case 'exportDocument': return this.exportDocument(c.format);
      case 'showLibrary': this.library.element.querySelector<HTMLElement>('button')?.focus(); return;
      case 'find': this.library.focusSearch(); return;
      case 'openSettings': return this.openSettings();
      case 'showView': this.setView(c.view); return;
      case 'setTheme': this.settings = await this.api.updateSettings({ theme: c.theme }); applyTheme(this.settings.theme); return;
      case 'generate': return this.action(GENERATE[c.action]!);
      case 'cancelJob': this.cancelLatest(); return;
      case 'chooseLanguage': return this.chooseConceptLanguage();
      case 'showShortcuts': await showModal({ title: 'Keyboard shortcuts', body: [shortcutsHelp()] }); return;
      case 'showModels': return this.openModels();
      case 'about': await showModal({ title: 'About Concept Studio', body: [h('p', {}, `Version ${this.info.version}. Model pack: ${'error' in this.info.pack ? 'none' : `${this.info.pack.name} ${this.info.pack.version}`}. Running on ${this.info.provider} (${this.info.providers.join(', ')}).`)] }); return;
    }
  }

  /** The application shortcuts, wherever the focus is (the editor's keymap handles its own first). */
  private globalKey(e: KeyboardEvent): void {
    if (e.defaultPrevented || document.querySelector('dialog[open]')) return;
    const run = (f: () => unknown) => { e.preventDefault(); void f(); };
    if (matchesAccelerator(e, SHORTCUTS.newDocument)) run(() => this.create());
    else if (matchesAccelerator(e, SHORTCUTS.showLibrary)) run(() => this.menu({ command: 'showLibrary' }));
    else if (matchesAccelerator(e, SHORTCUTS.find)) run(() => this.library.focusSearch());
    else if (matchesAccelerator(e, SHORTCUTS.openSettings)) run(() => this.openSettings());
    else if (matchesAccelerator(e, SHORTCUTS.exportMarkdown)) run(() => this.exportDocument('markdown'));
    else if (matchesAccelerator(e, SHORTCUTS.cancelJob)) run(() => this.cancelLatest());
    else if (matchesAccelerator(e, SHORTCUTS.outline)) run(() => this.setView('outline'));
    else if (matchesAccelerator(e, SHORTCUTS.draft)) run(() => this.setView('draft'));
    else {
      for (const [key, name] of Object.entries(GENERATE)) {
        if (matchesAccelerator(e, SHORTCUTS[key as keyof typeof SHORTCUTS])) return run(() => this.action(name));
      }
    }
  }

  private showNotice(text: string): void {
    this.notice.textContent = text;
    this.notice.hidden = false;
  }

  private announce(text: string): void {
    this.announcer.textContent = text;
  }
}
