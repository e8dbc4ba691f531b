/**
 * The Models page: every model pack the app finds (bundled, installed in the
 * user packs folder, linked, from CONCEPT_STUDIO_PACKS), with its languages,
 * size, architecture, provenance and model card summary, and its state
 * (verified, checked, invalid: why). Add a pack from a folder (a native
 * folder dialog in Electron, a typed path in the browser), remove one, make
 * one the default, load one (the engine worker reloads), verify one. Every
 * change goes through the bridge (listPacks, addPack, removePack,
 * setDefaultPack, verifyPack, updateSettings) and the list is redrawn from the
 * answer; errors are shown as the main side words them (they name the pack,
 * the file and what to do).
 */
import type { ConceptStudioApi, InstalledPack, PackEvent, PackList, PackSource } from '../../shared/contract.ts';
import { getLanguage } from '../../shared/languages.ts';
import { errorText, h, replace, timeAgo } from './dom.ts';
import { showModal } from './modal.ts';

export interface ModelsPageOptions {
  api: ConceptStudioApi;
  /** The loaded pack or the default changed: the app refreshes what it shows about the engine. */
  changed: () => void | Promise<void>;
}

const SOURCES: Record<PackSource, string> = {
  bundled: 'Bundled with the app',
  user: 'Installed',
  linked: 'Linked (used where it is)',
  extra: 'From CONCEPT_STUDIO_PACKS',
  path: 'Opened by path',
};

export function formatSize(bytes: number | null): string {
  if (bytes === null) return 'size unknown';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** "English, French and 6 more" with the full list as a title. */
export function languageSummary(codes: readonly string[], shown = 6): string {
  const names = codes.map((c) => getLanguage(c)?.name ?? c);
  if (names.length === 0) return 'no languages';
  if (names.length <= shown) return names.join(', ');
  return `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}

/** The state line of a pack, in words. */
export function validationText(p: InstalledPack, now = Date.now()): string {
  const v = p.validation;
  if (v.state === 'verified') return `Verified: every file and graph checked (${timeAgo(v.at, now)}).`;
  if (v.state === 'checked') return 'Manifest and file sizes are right; Verify checks every file\'s hash and every graph.';
  return `Cannot be used: ${v.message}`;
}

export class ModelsPage {
  readonly element: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly status: HTMLParagraphElement;
  private readonly error: HTMLParagraphElement;
  private readonly progress: HTMLProgressElement;
  private readonly path: HTMLInputElement;
  private readonly name: HTMLInputElement;
  private readonly link: HTMLInputElement;
  private readonly makeDefault: HTMLInputElement;
  private readonly replaceSame: HTMLInputElement;
  private readonly choose: HTMLButtonElement;
  private readonly addButton: HTMLButtonElement;
  private readonly intro: HTMLParagraphElement;
  private state: PackList | null = null;
  private busy = false;
  private readonly offEvents: () => void;

  constructor(private readonly options: ModelsPageOptions) {
    this.path = h('input', { type: 'text', class: 'pack-path', spellcheck: 'false', placeholder: '/path/to/pack-folder', 'aria-describedby': 'pack-path-hint' });
    this.name = h('input', { type: 'text', class: 'pack-name', spellcheck: 'false', placeholder: 'the manifest\'s name' });
    this.link = h('input', { type: 'checkbox' });
    this.makeDefault = h('input', { type: 'checkbox' });
    this.replaceSame = h('input', { type: 'checkbox' });
    this.choose = h('button', { type: 'button', onclick: () => void this.chooseFolder() }, 'Choose folder…');
    this.choose.hidden = true;
    this.addButton = h('button', { type: 'button', class: 'primary', onclick: () => void this.add() }, 'Add pack');
    this.progress = h('progress', { class: 'pack-progress', max: 1, value: 0, 'aria-label': 'Adding the pack' });
    this.progress.hidden = true;
    this.status = h('p', { class: 'models-status', role: 'status' });
    this.error = h('p', { class: 'models-error', role: 'alert' });
    this.list = h('ul', { class: 'packs', 'aria-label': 'Model packs' });
    this.intro = h('p', { class: 'hint' });
    this.path.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        // Enter adds the pack; it must not submit (and close) the dialog.
        e.preventDefault();
        void this.add();
      }
    });
    this.offEvents = options.api.onPackEvent((e) => this.onProgress(e));
    const add = h('fieldset', { class: 'pack-add' }, h('legend', {}, 'Add a pack'),
      h('div', { class: 'pack-path-row' }, h('label', { class: 'field' }, 'Pack folder ', this.path), this.choose),
      h('p', { class: 'hint', id: 'pack-path-hint' }, 'The folder that holds manifest.json (a converted or exported pack). It is verified completely (every file\'s hash, every graph) before anything is copied.'),
      h('label', { class: 'field' }, 'Install as ', this.name),
      h('label', { class: 'check' }, this.link, ' Use it where it is (link, no copy: for packs of several GB)'),
      h('label', { class: 'check' }, this.makeDefault, ' Make it the default pack'),
      h('label', { class: 'check' }, this.replaceSame, ' Replace an installed pack of the same name'),
      h('div', { class: 'pack-add-row' }, this.addButton, this.progress));
    this.element = h('div', { class: 'models-page' }, this.intro, add, this.status, this.error, this.list);
  }

  /** Stops listening to pack events (the dialog closed). */
  dispose(): void {
    this.offEvents();
  }

  async refresh(): Promise<PackList | null> {
    try {
      this.render(await this.options.api.listPacks());
    } catch (error) {
      this.error.textContent = `Could not list the model packs: ${errorText(error)}`;
    }
    return this.state;
  }

  private render(list: PackList): void {
    this.state = list;
    this.choose.hidden = !list.folderDialog;
    this.intro.textContent = `Packs ship with the app, are installed in your packs folder (${list.userFolder}), or are linked where they are. `
      + `The default pack (${list.defaultPack ?? 'none yet'}) is what the app and the lcm command use unless another is chosen.`
      + (list.pinned ? ' This editor was started with a fixed pack (lcm serve --pack): Load and Make default apply to its next start.' : '')
      + (list.problem ? ` ${list.problem}` : '');
    replace(this.list, ...list.packs.map((p) => this.row(p, list)));
    if (list.packs.length === 0) replace(this.list, h('li', { class: 'pack-empty' }, 'No model pack is installed. Add one above.'));
  }

  private row(p: InstalledPack, list: PackList): HTMLLIElement {
    const invalid = p.validation.state === 'invalid';
    const badges = [
      p.isDefault ? h('span', { class: 'pack-badge default' }, 'Default') : null,
      p.loaded ? h('span', { class: 'pack-badge loaded' }, 'Loaded') : null,
      h('span', { class: 'pack-badge source' }, SOURCES[p.source]),
    ];
    const facts = [
      p.packName ? `${p.packName} ${p.version ?? ''}`.trim() : null,
      formatSize(p.bytes),
      `${p.languages.length} language${p.languages.length === 1 ? '' : 's'}`,
      p.architecture,
      p.shape,
    ].filter(Boolean).join(' · ');
    const provenance = Object.entries(p.provenance);
    const button = (label: string, action: () => Promise<void>, extra: Record<string, string> = {}) =>
      h('button', { type: 'button', class: `small${extra.class ? ` ${extra.class}` : ''}`, 'aria-label': `${label} ${p.name}`, onclick: () => void this.run(action) }, label);
    const actions = [
      !p.loaded && !invalid && !list.pinned && !p.shadowed ? button('Load', () => this.load(p)) : null,
      !p.isDefault && !invalid && !p.shadowed && p.source !== 'path' ? button('Make default', () => this.setDefault(p)) : null,
      button('Verify', () => this.verify(p)),
      p.removable ? button('Remove', () => this.remove(p), { class: 'danger' }) : null,
    ];
    const titleId = `pack-${p.name.replace(/[^A-Za-z0-9_-]/g, '_')}-${p.source}`;
    return h('li', { class: 'pack', 'data-name': p.name, 'data-state': p.validation.state, 'aria-labelledby': titleId },
      h('div', { class: 'pack-head' }, h('h3', { id: titleId }, p.name), ...badges),
      h('p', { class: `pack-state ${p.validation.state}` }, validationText(p)),
      h('p', { class: 'pack-facts' }, facts),
      p.languages.length ? h('p', { class: 'pack-languages', title: p.languages.join(' ') }, `Languages: ${languageSummary(p.languages)}`) : null,
      p.modelCard || p.description ? h('p', { class: 'pack-card' }, p.modelCard ?? p.description) : null,
      provenance.length ? h('dl', { class: 'provenance pack-provenance' }, ...provenance.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])) : null,
      p.shadowed ? h('p', { class: 'hint' }, `Another pack named ${p.name} comes first in the search order, so the name means that one.`) : null,
      h('p', { class: 'pack-folder' }, h('code', {}, p.folder)),
      h('div', { class: 'pack-actions' }, ...actions));
  }

  /** Runs one change at a time, with the error shown and the list redrawn. */
  private async run(action: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.error.textContent = '';
    this.addButton.disabled = true;
    try {
      await action();
    } catch (error) {
      this.error.textContent = errorText(error);
      this.status.textContent = '';
    } finally {
      this.busy = false;
      this.addButton.disabled = false;
      this.progress.hidden = true;
    }
  }

  private async chooseFolder(): Promise<void> {
    try {
      const { path } = await this.options.api.choosePackFolder();
      if (path) this.path.value = path;
      this.path.focus();
    } catch (error) {
      this.error.textContent = errorText(error);
    }
  }

  private async add(): Promise<void> {
    const path = this.path.value.trim();
    if (path === '') {
      this.error.textContent = 'Give the pack folder first: the full path of the folder that holds manifest.json.';
      this.path.focus();
      return;
    }
    await this.run(async () => {
      this.status.textContent = `Verifying ${path}…`;
      this.progress.hidden = false;
      this.progress.removeAttribute('value');
      const name = this.name.value.trim();
      const list = await this.options.api.addPack({
        path,
        ...(name ? { name } : {}),
        link: this.link.checked,
        makeDefault: this.makeDefault.checked,
        replace: this.replaceSame.checked,
      });
      this.render(list);
      this.status.textContent = `Added ${list.added}: verified${this.link.checked ? ' and linked' : ' and installed'}.`;
      this.path.value = '';
      this.name.value = '';
      await this.options.changed();
    });
  }

  private onProgress(e: PackEvent): void {
    if (!this.busy) return;
    if (e.phase === 'copying' && e.bytesTotal > 0) {
      this.progress.value = e.bytesDone / e.bytesTotal;
      this.status.textContent = `Copying ${e.name}: ${formatSize(e.bytesDone)} of ${formatSize(e.bytesTotal)}…`;
    } else if (e.phase === 'checking') {
      this.status.textContent = `Verifying ${e.path} (every file and graph)…`;
    } else if (e.phase === 'verifying') {
      this.progress.removeAttribute('value');
      this.status.textContent = `Verifying the copy of ${e.name}…`;
    }
  }

  private async load(p: InstalledPack): Promise<void> {
    this.status.textContent = `Loading ${p.name}…`;
    await this.options.api.updateSettings({ pack: p.name });
    await this.options.changed();
    this.render(await this.options.api.listPacks());
    this.status.textContent = `${p.name} is loaded.`;
  }

  private async setDefault(p: InstalledPack): Promise<void> {
    this.render(await this.options.api.setDefaultPack({ name: p.name }));
    await this.options.changed();
    this.status.textContent = `${p.name} is now the default pack.`;
  }

  private async verify(p: InstalledPack): Promise<void> {
    this.status.textContent = `Verifying ${p.name} (every file and graph)…`;
    this.progress.hidden = false;
    this.progress.removeAttribute('value');
    const list = await this.options.api.verifyPack({ name: p.name });
    this.render(list);
    const after = list.packs.find((x) => x.name === p.name && x.source === p.source);
    this.status.textContent = after?.validation.state === 'verified' ? `${p.name} is verified.` : `${p.name} did not pass.`;
  }

  private async remove(p: InstalledPack): Promise<void> {
    const ok = await showModal({
      title: `Remove ${p.name}?`,
      body: [h('p', {}, p.source === 'linked'
        ? `The link is forgotten; the folder ${p.folder} stays where it is.`
        : `Its folder ${p.folder} (${formatSize(p.bytes)}) is deleted.${p.loaded ? ' It is loaded: the app switches to the default pack.' : ''}`)],
      submitLabel: 'Remove',
    });
    if (!ok) return;
    this.render(await this.options.api.removePack({ name: p.name }));
    await this.options.changed();
    this.status.textContent = `Removed ${p.name}.`;
  }
}

/** Opens the Models page in a dialog. */
export async function openModelsPage(options: ModelsPageOptions): Promise<void> {
  const page = new ModelsPage(options);
  const loading = page.refresh();
  try {
    await showModal({ title: 'Model packs', body: [page.element], className: 'models-dialog' });
  } finally {
    page.dispose();
  }
  await loading;
}
