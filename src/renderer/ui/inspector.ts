/**
 * The concept inspector: for the concept at the cursor, its language (and a
 * way to change it), its provenance, its history (earlier texts with Revert,
 * Regenerate's candidates), the most similar concepts in the library, and, on
 * demand (a button: it costs several decodes), the sentence's fragility score.
 * The history and the neighbours load a moment after the cursor settles, once
 * the concept is saved.
 */
import type { ConceptStudioApi, FragilityReport, SimilarHit } from '../../shared/contract.ts';
import type { Candidate, Revision } from '../../shared/library.ts';
import { SCRIPT_NAMES, getLanguage } from '../../shared/languages.ts';
import { bcp47, directionOf, type ConceptAttrs } from '../editor/schema.ts';
import { errorText, h, replace, timeAgo } from './dom.ts';

export interface InspectorOptions {
  api: ConceptStudioApi;
  /** Saves pending edits (the store must know the concept before its history is asked for). */
  flush: () => Promise<void>;
  revert: (conceptId: string, revisionId: number) => Promise<void>;
  changeLanguage: () => void;
  open: (documentId: string, conceptId: string) => void;
}

const ORIGIN_NAMES: Record<ConceptAttrs['origin'], string> = {
  typed: 'typed by the writer', generated: 'generated (Continue or Regenerate)', translated: 'translated', summarized: 'summarized',
  expanded: 'expanded', imported: 'imported from a file',
};

export class Inspector {
  readonly element: HTMLElement;
  private readonly head: HTMLElement;
  private readonly provenance: HTMLElement;
  private readonly history: HTMLElement;
  private readonly similar: HTMLElement;
  private readonly fragility: HTMLElement;
  private text = '';
  private fragilityRun = 0;
  private conceptId: string | null = null;
  private attrs: ConceptAttrs | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;

  constructor(private readonly options: InspectorOptions) {
    this.head = h('div', { class: 'inspector-head' });
    this.provenance = h('dl', { class: 'provenance' });
    this.history = h('div', { class: 'history', 'aria-live': 'polite' });
    this.similar = h('div', { class: 'similar', 'aria-live': 'polite' });
    this.fragility = h('div', { class: 'fragility', 'aria-live': 'polite' });
    this.element = h('aside', { class: 'inspector', 'aria-label': 'Concept inspector' },
      h('h2', {}, 'Concept'), this.head,
      h('h3', {}, 'Provenance'), this.provenance,
      h('h3', {}, 'History'), this.history,
      h('h3', {}, 'Similar concepts'), this.similar,
      h('h3', {}, 'Fragility'), this.fragility);
  }

  /** Shows the concept at the cursor (called after every transaction; cheap when nothing changed). */
  show(attrs: ConceptAttrs | null, text: string): void {
    const same = attrs !== null && this.attrs !== null && attrs.id === this.attrs.id;
    const changed = !same || JSON.stringify(attrs) !== JSON.stringify(this.attrs);
    // A job or the store rewrote this concept (accepted candidate, translation, revert): its history changed too.
    const rewritten = same && changed && (attrs.origin !== this.attrs!.origin || attrs.jobId !== this.attrs!.jobId || attrs.language !== this.attrs!.language);
    this.attrs = attrs;
    const textChanged = text !== this.text;
    this.text = text;
    if (changed) this.renderHead(attrs, text);
    if (!same || textChanged) this.renderFragilityIdle(attrs);
    if (rewritten) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.load(attrs.id), 400);
    }
    if (same) return;
    this.conceptId = attrs?.id ?? null;
    replace(this.history, h('p', { class: 'muted' }, attrs ? 'Loading…' : ''));
    replace(this.similar);
    if (this.timer !== null) clearTimeout(this.timer);
    // 400 ms: after the cursor settles, so arrow keys through a document don't query the library per line.
    if (attrs) this.timer = setTimeout(() => void this.load(attrs.id), 400);
  }

  /** Reloads the history and neighbours of the shown concept (after an accept or a revert). */
  reload(): void {
    if (this.conceptId) void this.load(this.conceptId);
  }

  private renderHead(a: ConceptAttrs | null, _text: string): void {
    if (!a) {
      replace(this.head, h('p', { class: 'muted' }, 'Put the cursor in a concept.'));
      replace(this.provenance);
      return;
    }
    const lang = getLanguage(a.language);
    replace(this.head,
      h('p', { class: 'language' },
        h('span', { class: 'language-name' }, lang ? lang.name : a.language), ' ',
        h('code', {}, a.language),
        lang ? h('span', { class: 'muted' }, ` · ${SCRIPT_NAMES[lang.script] ?? lang.script}${lang.rtl ? ', right to left' : ''}`) : null),
      h('button', { type: 'button', class: 'small', onclick: () => this.options.changeLanguage() }, 'Change language'),
      h('p', { class: 'muted' }, `${a.block === 'heading' ? `Heading ${a.marker ?? ''}` : a.block === 'item' ? `List item ${a.marker ?? ''}` : a.block === 'code' ? 'Code' : 'Paragraph'} · depth ${a.depth}`));
    const row = (k: string, v: string | null) => (v === null ? [] : [h('dt', {}, k), h('dd', {}, v)]);
    replace(this.provenance,
      ...row('Origin', ORIGIN_NAMES[a.origin]),
      ...row('Pack', a.pack),
      ...row('Seed', a.seed === null ? null : String(a.seed)),
      ...row('Job', a.jobId),
      ...row('Parameters', a.params ? JSON.stringify(a.params) : null));
  }

  /** The explanation and the button; a result shown for another text or concept is cleared. */
  private renderFragilityIdle(a: ConceptAttrs | null): void {
    this.fragilityRun++;
    if (!a) {
      replace(this.fragility);
      return;
    }
    replace(this.fragility,
      h('p', { class: 'muted fragility-help' }, 'How well this sentence survives changes to its concept vector (the LCM paper\'s fragility): the vector is mixed with more and more noise, decoded again, and each result is compared with the sentence (BLEU, 0–100; also chrF, and the cosine of the result\'s own vector). Low scores mark fragile sentences, ones the model may garble when it writes near them. It takes several decodes.'),
      h('button', { type: 'button', class: 'small fragility-measure', disabled: this.text.trim() === '', onclick: () => void this.measureFragility() }, 'Measure fragility'));
  }

  private async measureFragility(): Promise<void> {
    const a = this.attrs;
    const text = this.text;
    if (!a || !text.trim()) return;
    const run = ++this.fragilityRun;
    replace(this.fragility, h('p', { class: 'muted' }, 'Measuring fragility…'));
    try {
      const report = await this.options.api.conceptFragility({ text, language: a.language });
      if (run !== this.fragilityRun) return; // the cursor moved on, or the text changed
      this.renderFragility(report);
    } catch (error) {
      if (run !== this.fragilityRun) return;
      replace(this.fragility, h('p', { class: 'muted' }, `Fragility not available: ${errorText(error)}`),
        h('button', { type: 'button', class: 'small fragility-measure', onclick: () => void this.measureFragility() }, 'Try again'));
    }
  }

  private renderFragility(r: FragilityReport): void {
    // Verdict bands on BLEU (docs/variants.md): sentence BLEU is stricter than chrF, so the bands sit lower.
    const verdict = r.score >= 50 ? 'robust' : r.score >= 20 ? 'somewhat fragile' : 'fragile';
    replace(this.fragility,
      h('p', { class: 'fragility-score' }, h('strong', {}, `${r.score.toFixed(1)} / 100`), ` BLEU — ${verdict}`),
      h('p', { class: 'muted' }, `Under noise: chrF ${r.chrf.toFixed(1)}, cosine ${r.cosine.toFixed(3)}, stability ${r.stability.toFixed(1)}. `
        + `Plain round trip: BLEU ${r.roundTrip.bleu.toFixed(1)}, chrF ${r.roundTrip.chrf.toFixed(1)}. Seed ${r.seed}.`),
      h('table', { class: 'fragility-levels' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Noise α'), h('th', {}, 'BLEU'), h('th', {}, 'chrF'), h('th', {}, 'Cosine'), h('th', {}, 'Example'))),
        h('tbody', {}, ...r.levels.map((l) => h('tr', {},
          h('td', {}, l.noise.toFixed(2)),
          h('td', {}, l.score.toFixed(1)),
          h('td', {}, l.chrf.toFixed(1)),
          h('td', {}, l.cosine.toFixed(3)),
          h('td', { lang: bcp47(r.language), dir: directionOf(r.language, l.example) }, l.example))))),
      h('button', { type: 'button', class: 'small fragility-measure', onclick: () => void this.measureFragility() }, 'Measure again'));
  }

  private async load(id: string): Promise<void> {
    const gen = ++this.generation;
    try {
      await this.options.flush();
      const [hist, similar] = await Promise.all([
        this.options.api.conceptHistory({ id }),
        this.options.api.searchSimilar({ conceptId: id, limit: 5 }).catch((e: unknown) => e),
      ]);
      if (gen !== this.generation || id !== this.conceptId) return;
      this.renderHistory(id, hist.revisions, hist.candidates);
      if (Array.isArray(similar)) this.renderSimilar(similar as SimilarHit[]);
      else replace(this.similar, h('p', { class: 'muted' }, `Not available: ${errorText(similar)}`));
    } catch (error) {
      if (gen !== this.generation) return;
      replace(this.history, h('p', { class: 'muted' }, `Not available yet: ${errorText(error)}`));
    }
  }

  private renderHistory(id: string, allRevisions: Revision[], candidates: Candidate[]): void {
    // An empty first text (a new line before the writer typed) is not worth going back to.
    const revisions = allRevisions.filter((r) => r.text.trim() !== '');
    const text = (t: string, language: string) => h('span', { class: 'rev-text', lang: bcp47(language), dir: directionOf(language, t) }, t || '(empty)');
    replace(this.history,
      revisions.length === 0 ? h('p', { class: 'muted' }, 'No earlier texts.') : h('ol', { class: 'revisions', 'aria-label': 'Earlier texts, newest first' },
        ...revisions.map((r) => h('li', {},
          text(r.text, r.language),
          h('span', { class: 'muted' }, ` ${r.origin} · ${timeAgo(r.replacedAt)} `),
          h('button', { type: 'button', class: 'small', 'aria-label': `Revert to: ${r.text}`, onclick: () => void this.options.revert(id, r.id).then(() => this.reload()) }, 'Revert')))),
      candidates.length === 0 ? null : h('details', { class: 'candidates' },
        h('summary', {}, `${candidates.length} candidate${candidates.length === 1 ? '' : 's'} from Regenerate`),
        h('ul', {}, ...candidates.map((c) => h('li', {}, text(c.text, c.language))))));
  }

  private renderSimilar(hits: SimilarHit[]): void {
    replace(this.similar, hits.length === 0 ? h('p', { class: 'muted' }, 'Nothing similar in the library yet.') : h('ul', { class: 'similar-list' },
      ...hits.map((hit) => h('li', {},
        h('button', { type: 'button', class: 'hit', onclick: () => this.options.open(hit.concept.documentId, hit.concept.id) },
          h('span', { class: 'hit-text', lang: bcp47(hit.concept.language), dir: directionOf(hit.concept.language, hit.concept.text) }, hit.concept.text),
          h('span', { class: 'hit-meta' }, `${hit.documentTitle} · ${Math.round(hit.similarity * 100)}%`))))));
  }
}
