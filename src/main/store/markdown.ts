/**
 * Markdown and plain text ⇄ concepts (docs/store.md, "Import and export").
 *
 * In: the text is read as blocks (ATX and setext headings, list items with
 * their nesting, fenced code, paragraphs; a paragraph's lines are joined as
 * Markdown joins soft line breaks), paragraphs and list items are split into
 * sentences by the engine's segmenter, and the blocks become an outline: a
 * heading is the parent of everything up to the next heading of its level or
 * higher, a nested list item is the child of the item above it. Headings and
 * code are not split. Inline markup stays in the text as written.
 *
 * Out: the concepts in reading order, regrouped into their blocks. Markdown
 * export of an imported file gives the file in normal form: one line per
 * paragraph, ATX headings, one blank line between blocks, list items
 * indented under their parent item.
 */
import { segmentText } from '../../inference/text/segmenter.ts';
import { newId } from './ids.ts';
import type { Block, Concept, NewConcept } from './types.ts';

/** A block of the source before segmentation. */
export interface SourceBlock {
  block: Block;
  /** "#"…"######", a list marker, a code fence, or null for a paragraph. */
  marker: string | null;
  /** List nesting (0 = top-level item); 0 for other blocks. */
  level: number;
  text: string;
}

/** Characters of scripts written without spaces between sentences (Han, kana, full-width forms). */
const NO_SPACE_END = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303f\uff00-\uffef]$/u;

/** Joins a block's sentences: no space after a Chinese or Japanese sentence, one space otherwise. */
export function joinSentences(texts: readonly string[]): string {
  let out = '';
  for (const t of texts) out += out === '' ? t : NO_SPACE_END.test(out) ? t : ` ${t}`;
  return out;
}

const joinLines = (lines: readonly string[]) => joinSentences(lines.map((l) => l.trim()).filter(Boolean));

const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const ITEM = /^([ \t]*)([-*+]|\d{1,9}[.)])[ \t]+(.*)$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;

const width = (indent: string) => [...indent].reduce((w, c) => w + (c === '\t' ? 4 - (w % 4) : 1), 0);

/** The blocks of a Markdown document. */
export function parseMarkdown(source: string): SourceBlock[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const out: SourceBlock[] = [];
  let para: string[] = [];
  let item: { marker: string; level: number; lines: string[] } | undefined;
  const indents: number[] = []; // indent width of each open list level
  const flush = () => {
    if (para.length) out.push({ block: 'paragraph', marker: null, level: 0, text: joinLines(para) });
    if (item) out.push({ block: 'item', marker: item.marker, level: item.level, text: joinLines(item.lines) });
    para = [];
    item = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      indents.length = 0;
      const close = new RegExp(`^ {0,3}${fence[1]![0] === '`' ? '`' : '~'}{${fence[1]!.length},}[ \\t]*$`);
      const body: string[] = [];
      for (i++; i < lines.length && !close.test(lines[i]!); i++) body.push(lines[i]!);
      out.push({ block: 'code', marker: line.trim(), level: 0, text: body.join('\n') });
      continue;
    }
    if (!line.trim()) {
      flush();
      continue;
    }
    const atx = ATX.exec(line);
    if (atx) {
      flush();
      indents.length = 0;
      if (atx[2]?.trim()) out.push({ block: 'heading', marker: atx[1]!, level: 0, text: atx[2].trim() });
      continue;
    }
    const setext = SETEXT.exec(line);
    if (setext && para.length && !item) {
      out.push({ block: 'heading', marker: setext[1]![0] === '=' ? '#' : '##', level: 0, text: joinLines(para) });
      para = [];
      indents.length = 0;
      continue;
    }
    const li = ITEM.exec(line);
    if (li && li[3]!.trim()) {
      flush();
      const w = width(li[1]!);
      if (!out.length || out[out.length - 1]!.block !== 'item') indents.length = 0;
      while (indents.length && indents[indents.length - 1]! > w) indents.pop();
      if (!indents.length || indents[indents.length - 1]! < w) indents.push(w);
      item = { marker: li[2]!, level: indents.length - 1, lines: [li[3]!] };
      continue;
    }
    if (item) item.lines.push(line);
    else para.push(line);
  }
  flush();
  return out;
}

/** The blocks of plain text: paragraphs separated by blank lines. */
export function parsePlainText(source: string): SourceBlock[] {
  return source
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => joinLines(p.split('\n')))
    .filter(Boolean)
    .map((text) => ({ block: 'paragraph' as const, marker: null, level: 0, text }));
}

/**
 * Concepts for the blocks, with outline parents, ready for
 * ConceptStore.insertConcepts: paragraphs and items split into sentences
 * (segmentText in `lang`, capped at `maxChars`), the rest whole.
 */
export function outlineConcepts(blocks: readonly SourceBlock[], options: { lang: string; maxChars?: number }): NewConcept[] {
  const out: NewConcept[] = [];
  const headings: { level: number; id: string }[] = [];
  const items: string[] = []; // id of the open item at each list level
  let previous: Block | undefined;
  for (const b of blocks) {
    if (b.block === 'heading') while (headings.length && headings[headings.length - 1]!.level >= b.marker!.length) headings.pop();
    const section = headings[headings.length - 1]?.id ?? null;
    let parentId = section;
    if (b.block === 'item') {
      if (previous !== 'item') items.length = 0;
      items.length = Math.min(items.length, b.level);
      parentId = items[items.length - 1] ?? section;
    }
    const pieces = b.block === 'paragraph' || b.block === 'item' ? segmentText(b.text, { lang: options.lang, ...(options.maxChars ? { maxChars: options.maxChars } : {}) }).map((s) => s.text) : [b.text];
    const first = newId();
    pieces.forEach((text, k) => out.push({ id: k === 0 ? first : newId(), text, parentId, block: b.block, blockStart: k === 0, marker: b.marker, origin: 'imported' }));
    if (b.block === 'heading') headings.push({ level: b.marker!.length, id: first });
    if (b.block === 'item') items.push(first);
    previous = b.block;
  }
  return out;
}

interface RenderBlock {
  block: Block;
  marker: string | null;
  texts: string[];
  /** Indentation of a list item: the widths of the item markers above it. */
  indent: number;
  /** A list item that starts a new list (after another block, or a top-level item of another marker kind). */
  startsList: boolean;
}

/** "-", "*", "+", or "." / ")" for ordered items: a change of kind starts a new list in Markdown. */
const listKind = (marker: string | null) => (marker && /^\d/.test(marker) ? marker.slice(-1) : (marker ?? '-'));

/** Concepts (in reading order) regrouped into blocks. */
function renderBlocks(concepts: readonly Concept[]): RenderBlock[] {
  const byId = new Map(concepts.map((c) => [c.id, c]));
  const indentOf = new Map<string, number>();
  const out: RenderBlock[] = [];
  let list: string | undefined; // kind of the open top-level list
  for (const c of concepts) {
    const last = out[out.length - 1];
    if (last && !c.blockStart && last.block === c.block) {
      last.texts.push(c.text);
      continue;
    }
    let indent = 0;
    let startsList = false;
    if (c.block === 'item') {
      const parent = c.parentId ? byId.get(c.parentId) : undefined;
      if (parent?.block === 'item') indent = (indentOf.get(parent.id) ?? 0) + (parent.marker ?? '-').length + 1;
      indentOf.set(c.id, indent);
      startsList = last?.block !== 'item' || (indent === 0 && listKind(c.marker) !== list);
      if (indent === 0) list = listKind(c.marker);
    }
    out.push({ block: c.block, marker: c.marker, texts: [c.text], indent, startsList });
  }
  return out;
}

/** The concepts as Markdown (headings, nested lists, paragraphs, code), ending with one newline. */
export function renderMarkdown(concepts: readonly Concept[]): string {
  let md = '';
  let prev: RenderBlock | undefined;
  for (const b of renderBlocks(concepts)) {
    if (prev) md += b.block === 'item' && !b.startsList ? '\n' : '\n\n';
    const text = joinSentences(b.texts);
    if (b.block === 'heading') md += `${b.marker ?? '#'} ${text}`;
    else if (b.block === 'item') md += `${' '.repeat(b.indent)}${b.marker ?? '-'} ${text}`;
    else if (b.block === 'code') {
      const fence = /^(`+|~+)/.exec(b.marker ?? '')?.[1] ?? '```';
      md += `${b.marker ?? fence}\n${b.texts.join('\n')}${b.texts.join('') ? '\n' : ''}${fence}`;
    } else md += text;
    prev = b;
  }
  return md ? `${md}\n` : '';
}

/** The concepts as plain text: one line per block, a blank line between blocks except between list items. */
export function renderText(concepts: readonly Concept[]): string {
  let text = '';
  let prev: RenderBlock | undefined;
  for (const b of renderBlocks(concepts)) {
    if (prev) text += b.block === 'item' && !b.startsList ? '\n' : '\n\n';
    text += b.block === 'code' ? b.texts.join('\n') : joinSentences(b.texts);
    prev = b;
  }
  return text ? `${text}\n` : '';
}
