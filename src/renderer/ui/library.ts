/**
 * The library sidebar: the writer's documents (create, open, rename, delete)
 * and a search over all of them, by words (full-text) or by meaning (nearest
 * concepts in the embedding space).
 */
import type { ConceptStudioApi, SimilarHit, TextHit } from '../../shared/contract.ts';
import type { DocumentSummary } from '../../shared/library.ts';
import { bcp47, directionOf } from '../editor/schema.ts';
import { errorText, h, replace, timeAgo } from './dom.ts';
import { showModal } from './modal.ts';

export interface LibraryOptions {
  api: ConceptStudioApi;
  /** Opens a document (and puts the cursor on a concept, for a search hit). */
  open: (documentId: string, conceptId?: string) => void;
  /** Makes a new document and opens it. */
  create: () => void;
  /** A document was deleted (the app opens another if it was the open one). */
  deleted: (documentId: string) => void;
  renamed: (documentId: string, title: string) => void;
  /** The language a meaning search embeds its query in. */
  searchLanguage: () => string;
}

export class Library {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly results: HTMLElement;
  private readonly query: HTMLInputElement;
  private readonly mode: HTMLSelectElement;
  private readonly status: HTMLElement;
  private docs: DocumentSummary[] = [];
  private current: string | null = null;

  constructor(private readonly options: LibraryOptions) {
    this.query = h('input', { type: 'search', 'aria-label': 'Search the library', placeholder: 'Search the library', class: 'search-input' });
    this.mode = h('select', { 'aria-label': 'Search by' },
      h('option', { value: 'text' }, 'Words'),
      h('option', { value: 'meaning' }, 'Meaning'));
    this.results = h('ul', { class: 'search-results', 'aria-label': 'Search results' });
    this.status = h('p', { class: 'library-status', role: 'status' });
    this.list = h('ul', { class: 'documents', 'aria-label': 'Documents' });
    const form = h('form', { role: 'search', class: 'library-search', onsubmit: (e) => { e.preventDefault(); void this.search(); } },
      this.query, this.mode, h('button', { type: 'submit' }, 'Search'));
    this.element = h('nav', { class: 'library', 'aria-label': 'Library' },
      h('div', { class: 'library-head' },
        h('h2', {}, 'Library'),
        h('button', { type: 'button', class: 'primary', onclick: () => options.create(), title: 'New document (Ctrl+N in the app)' }, 'New document')),
      form, this.status, this.results, this.list);
  }

  /** Reloads the document list. */
  async refresh(): Promise<DocumentSummary[]> {
    try {
      this.docs = await this.options.api.listDocuments();
      this.render();
    } catch (error) {
      this.status.textContent = `Could not list the documents: ${errorText(error)}`;
    }
    return this.docs;
  }

  setCurrent(id: string | null): void {
    this.current = id;
    this.render();
  }

  /** Puts the focus in the search field (Find). */
  focusSearch(): void {
    this.query.focus();
    this.query.select();
  }

  private render(): void {
    replace(this.list, ...this.docs.map((d) => this.row(d)));
  }

  private row(d: DocumentSummary): HTMLElement {
    const open = h('button', { type: 'button', class: 'doc-open', 'aria-current': d.id === this.current ? 'page' : null, onclick: () => this.options.open(d.id) },
      h('span', { class: 'doc-title' }, d.title || 'Untitled'),
      h('span', { class: 'doc-meta' }, `${d.conceptCount} concept${d.conceptCount === 1 ? '' : 's'} · ${timeAgo(d.updatedAt)}`));
    const li = h('li', { class: 'doc', 'data-id': d.id }, open,
      h('span', { class: 'doc-actions' },
        h('button', { type: 'button', class: 'small', 'aria-label': `Rename ${d.title}`, onclick: () => this.rename(d, li) }, 'Rename'),
        h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${d.title}`, onclick: () => void this.remove(d) }, 'Delete')));
    return li;
  }

  private rename(d: DocumentSummary, li: HTMLElement): void {
    const input = h('input', { type: 'text', value: d.title, 'aria-label': `New title for ${d.title}`, class: 'rename-input' });
    const finish = async (save: boolean) => {
      const title = input.value.trim();
      if (save && title !== '' && title !== d.title) {
        try {
          const info = await this.options.api.renameDocument({ id: d.id, title });
          this.options.renamed(d.id, info.title);
        } catch (error) {
          this.status.textContent = `Could not rename: ${errorText(error)}`;
        }
      }
      await this.refresh();
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); void finish(true); }
      if (e.key === 'Escape') { e.preventDefault(); void finish(false); }
    });
    input.addEventListener('blur', () => void finish(true), { once: true });
    replace(li, input);
    input.focus();
    input.select();
  }

  private async remove(d: DocumentSummary): Promise<void> {
    const ok = await showModal({
      title: `Delete “${d.title}”?`,
      body: [h('p', {}, `Its ${d.conceptCount} concepts, their history and candidates are deleted. This cannot be undone.`)],
      submitLabel: 'Delete',
      onSubmit: () => this.options.api.deleteDocument({ id: d.id }).then(() => undefined),
    });
    if (!ok) return;
    this.options.deleted(d.id);
    await this.refresh();
  }

  private async search(): Promise<void> {
    const query = this.query.value.trim();
    if (query === '') {
      replace(this.results);
      this.status.textContent = '';
      return;
    }
    this.status.textContent = 'Searching…';
    try {
      const byMeaning = this.mode.value === 'meaning';
      const hits: (TextHit | SimilarHit)[] = byMeaning
        ? await this.options.api.searchSimilar({ query, language: this.options.searchLanguage(), limit: 10 })
        : await this.options.api.searchText({ query, limit: 20 });
      this.status.textContent = `${hits.length} result${hits.length === 1 ? '' : 's'} for “${query}”${byMeaning ? ' by meaning' : ''}.`;
      replace(this.results, ...hits.map((hit) => h('li', {},
        h('button', { type: 'button', class: 'hit', onclick: () => this.options.open(hit.concept.documentId, hit.concept.id) },
          h('span', { class: 'hit-text', lang: bcp47(hit.concept.language), dir: directionOf(hit.concept.language, hit.concept.text) }, hit.concept.text),
          h('span', { class: 'hit-meta' }, hit.documentTitle, 'similarity' in hit ? ` · ${Math.round(hit.similarity * 100)}% similar` : '')))));
    } catch (error) {
      this.status.textContent = `Search failed: ${errorText(error)}`;
    }
  }
}
