/**
 * The concept editor's schema: a document is a flat sequence of `concept`
 * nodes, one per sentence, each carrying the store's identity and provenance
 * as attributes. The outline is flat with a `depth` attribute (as the store
 * keeps it: parent = the nearest earlier concept one level up), not nested
 * nodes: generated concepts land between any two concepts, and a concept's
 * position maps through edits like any other position.
 */
import { Schema, type Node as PMNode, type NodeSpec } from 'prosemirror-model';
import { BLOCKS, ORIGINS, type Block, type JsonObject, type Origin } from '../../shared/library.ts';
import { getLanguage } from '../../shared/languages.ts';

/** Attributes of one concept node (the store's Concept without order and timestamps). */
export interface ConceptAttrs {
  id: string;
  language: string;
  /** 0 at the top of the outline; at most the previous concept's depth + 1 (normalize.ts keeps that). */
  depth: number;
  block: Block;
  blockStart: boolean;
  marker: string | null;
  origin: Origin;
  pack: string | null;
  seed: number | null;
  params: JsonObject | null;
  jobId: string | null;
}

/** Provenance of a concept the writer typed: no job. */
export const TYPED = { origin: 'typed', pack: null, seed: null, params: null, jobId: null } as const;

const isBlock = (v: unknown): v is Block => typeof v === 'string' && (BLOCKS as readonly string[]).includes(v);
const isOrigin = (v: unknown): v is Origin => typeof v === 'string' && (ORIGINS as readonly string[]).includes(v);

/** BCP 47 tag for a FLORES-200 code (`zho_Hans` → `zh-Hans`), so the browser picks the right CJK glyphs and hyphenation. */
export function bcp47(code: string): string {
  const info = getLanguage(code);
  if (!info) return 'und';
  return `${info.iso6391 ?? code.slice(0, 3)}-${info.script}`;
}

/**
 * Text direction of a concept. The text decides (`auto`: its first strong character), so an English
 * sentence in an Arabic document still reads left to right; an empty concept in a right-to-left
 * language starts right to left, so the caret is where the writer expects it.
 */
export function directionOf(code: string, text = ''): 'rtl' | 'auto' {
  return text === '' && getLanguage(code)?.rtl ? 'rtl' : 'auto';
}

function attrsFromDom(dom: HTMLElement): Partial<ConceptAttrs> {
  const d = dom.dataset;
  const depth = Number(d.depth ?? 0);
  const seed = d.seed === undefined || d.seed === '' ? null : Number(d.seed);
  return {
    // A pasted copy keeps its id here; normalize.ts gives duplicates fresh ids.
    id: d.id ?? '',
    language: d.language ?? '',
    depth: Number.isInteger(depth) && depth >= 0 ? depth : 0,
    block: isBlock(d.block) ? d.block : 'paragraph',
    blockStart: d.blockStart !== 'false',
    marker: d.marker ?? null,
    origin: isOrigin(d.origin) ? d.origin : 'typed',
    pack: d.pack ?? null,
    seed: seed !== null && Number.isInteger(seed) ? seed : null,
    jobId: d.jobId ?? null,
  };
}

const concept: NodeSpec = {
  content: 'text*',
  marks: '',
  defining: true,
  attrs: {
    id: { default: '', validate: 'string' },
    language: { default: '', validate: 'string' },
    depth: { default: 0, validate: 'number' },
    block: { default: 'paragraph', validate: 'string' },
    blockStart: { default: true, validate: 'boolean' },
    marker: { default: null, validate: 'string|null' },
    origin: { default: 'typed', validate: 'string' },
    pack: { default: null, validate: 'string|null' },
    seed: { default: null, validate: 'number|null' },
    params: { default: null },
    jobId: { default: null, validate: 'string|null' },
  },
  toDOM(node) {
    const a = node.attrs as ConceptAttrs;
    const dom: Record<string, string> = {
      class: 'concept',
      'data-id': a.id,
      'data-language': a.language,
      'data-depth': String(a.depth),
      'data-block': a.block,
      'data-block-start': String(a.blockStart),
      'data-origin': a.origin,
      lang: bcp47(a.language),
      dir: directionOf(a.language, node.textContent),
    };
    if (a.marker !== null) dom['data-marker'] = a.marker;
    if (a.pack !== null) dom['data-pack'] = a.pack;
    if (a.seed !== null) dom['data-seed'] = String(a.seed);
    if (a.jobId !== null) dom['data-job-id'] = a.jobId;
    if (a.block === 'heading') {
      dom.role = 'heading';
      dom['aria-level'] = String(Math.min(6, Math.max(1, a.marker?.length ?? 1)));
    }
    return ['div', dom, 0];
  },
  parseDOM: [
    { tag: 'div.concept', getAttrs: (dom) => attrsFromDom(dom) },
    // Pasted HTML from elsewhere: headings, list items and paragraphs become concepts (fresh ids, typed).
    ...[1, 2, 3, 4, 5, 6].map((n) => ({ tag: `h${n}`, attrs: { block: 'heading', marker: '#'.repeat(n) } })),
    { tag: 'li', attrs: { block: 'item', marker: '-' } },
    { tag: 'pre', attrs: { block: 'code', marker: '```' }, preserveWhitespace: 'full' as const },
    { tag: 'p' },
  ],
};

/** The one schema of the concept editor. */
export const conceptSchema = new Schema({
  nodes: {
    doc: { content: 'concept+' },
    concept,
    text: {},
  },
  marks: {},
});

/** The attributes of a concept node, typed. */
export function attrsOf(node: PMNode): ConceptAttrs {
  return node.attrs as ConceptAttrs;
}
