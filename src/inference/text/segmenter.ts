/**
 * Multilingual sentence splitting: text → concepts.
 *
 * Sentence boundaries come from `sentencex` (Wikimedia's rule-based splitter, native, with abbreviation
 * lists for ~240 languages), patched where it fails (see docs/text.md, "Segmenter"): our own paragraph
 * and line handling, extra abbreviations (Russian "т.е.", French "M.", German "Fr." …), closing quotes
 * that land on the wrong side, Japanese quotative 」と, Khmer and Tibetan full stops, and a repair of
 * sentencex's internal 10 KB chunking (which cuts inside words). Then every segment longer than
 * `maxChars` is split at clause boundaries, whitespace, or finally anywhere outside a grapheme cluster.
 * The cap's default, 200 characters, is the LCM paper's best setting ("SaT Capped" at 200 characters,
 * arXiv 2412.08821 §2.2).
 *
 * Offsets are UTF-16 indices into the input; every segment is trimmed and non-empty, segments are in
 * order and do not overlap, and only whitespace lies between them, so no character is lost or moved.
 */
import { createRequire } from 'node:module';
import { resolveLanguage, type LanguageInfo } from '../../shared/languages.ts';

/** Options for {@link segmentText}. */
export interface SegmentOptions {
  /** FLORES-200 code or ISO 639-1 alias; decides abbreviations and punctuation. Default `eng_Latn`. */
  lang?: string;
  /** Longest segment in UTF-16 code units (a character outside the BMP counts 2). Default 200; `Infinity` disables the cap. */
  maxChars?: number;
}

/** One sentence (or capped piece of one). `text === input.slice(start, end)`, already trimmed. */
export interface Segment {
  text: string;
  start: number;
  end: number;
}

/** LCM paper §2.2: capping SaT segments at 200 characters worked best. */
export const DEFAULT_MAX_CHARS = 200;
/** sentencex cuts its input every 10240 bytes, inside words; 3000 UTF-16 units stay below that in UTF-8. */
const CHUNK = 3000;

const TERMINALS = '.!?…‼⁇⁈⁉。！？｡．؟۔।॥։።။។៕།༎܀߹᙮꓿︒﹒﹖﹗';
const CLOSERS = '"\'”’»›」』）)]}〉》】〕〗〙〛＂＇］｝';
const STRAIGHT = '"\'’＂＇'; // closers that also open quotes or are apostrophes
const CLAUSE_SPACED = ',;:،؛՝፣፤፥፦·၊'; // clause marks that count only before whitespace (not "1,000", "10:30")
const CLAUSE_ANY = '、，；：﹐﹑﹔﹕—―'; // CJK clause marks and the em dash count anywhere
const WS = /\s/;
const WORD = /[\p{L}\p{N}]/u;

/** Abbreviations (lowercase, without the final period) after which a split is always undone: titles and references. */
const ALWAYS: Record<string, string> = {
  en: 'mr mrs ms mx dr prof rev', fr: 'm mm mme mmes mlle mlles dr pr me mgr cf chap vol',
  de: 'hr hrn fr frl dr prof vgl nr', nl: 'dhr mevr mw mr dr prof ir ing drs', es: 'sr sra srta sres dña dn dr dra lic ing avda av prof',
  pt: 'sr sra srta dr dra prof profa av', it: 'sig sigg dott prof avv ing', pl: 'prof dr inż mgr ks hab',
  ru: 'проф акад доц ул пер пл им тов гр рис табл гл напр см стр ср', uk: 'проф акад доц вул пров пл ім див стор рис табл гл напр',
  bg: 'проф акад доц ул гр', ar: 'د أ', hi: 'डॉ प्रो श्री सं पृ', mr: 'डॉ प्रो श्री', ne: 'डॉ प्रो श्री',
};
/** Abbreviations that may end a sentence: the split is undone only when the next piece starts in lowercase or a digit. */
const LOWER: Record<string, string> = {
  en: 'etc vs approx ca', fr: 'etc env', de: 'bzw usw ca evtl ggf inkl', nl: 'enz bijv', es: 'etc aprox', pl: 'np tzn itd itp ok godz',
  ru: 'гг вв др пр руб коп тыс млн млрд мин сек', uk: 'рр ст тис млн млрд грн коп хв',
};
const words = (table: Record<string, string>, code: string): ReadonlySet<string> => new Set((table[code] ?? '').split(' ').filter(Boolean));

/** sentencex language for scripts whose languages have no ISO 639-1 code (e.g. acm_Arab → ar). */
const SCRIPT_FALLBACK: Record<string, string> = {
  Arab: 'ar', Hebr: 'he', Deva: 'hi', Beng: 'bn', Cyrl: 'ru', Hans: 'zh', Hant: 'zh', Jpan: 'ja', Hang: 'ko', Ethi: 'am',
  Grek: 'el', Armn: 'hy', Mymr: 'my', Thai: 'th', Khmr: 'km', Tibt: 'bo', Laoo: 'lo', Geor: 'ka',
};

type SplitFn = (lang: string, text: string) => string[];
let splitter: SplitFn | undefined;

/** sentencex, loaded on first use (no work at import time); Intl.Segmenter if its native module is missing. */
function sentenceSplitter(): SplitFn {
  if (!splitter) {
    try {
      const load = createRequire(import.meta.url)('sentencex') as { segment: SplitFn };
      splitter = (lang, text) => load.segment(lang, text);
    } catch {
      splitter = (lang, text) => [...new Intl.Segmenter(lang, { granularity: 'sentence' }).segment(text)].map((s) => s.segment);
    }
  }
  return splitter;
}

/** Splits `input` into sentences, then caps each at `maxChars`. Empty or whitespace-only input gives []. */
export function segmentText(input: string, options: SegmentOptions = {}): Segment[] {
  if (typeof input !== 'string') throw new TypeError(`segmentText expects a string, got ${typeof input}.`);
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  if (maxChars !== Infinity && (!Number.isInteger(maxChars) || maxChars < 1)) {
    throw new RangeError(`maxChars must be a positive integer or Infinity, got ${String(maxChars)}.`);
  }
  const info = resolveLanguage(options.lang ?? 'eng_Latn');
  const ctx = context(info);
  const out: Segment[] = [];
  for (const [bs, be] of blocks(input)) {
    const cuts = sentenceCuts(input, bs, be, ctx);
    let prev = bs;
    for (const c of [...cuts, be]) {
      const [s, e] = trim(input, prev, c);
      if (s < e) for (const [a, b] of cap(input, s, e, maxChars)) out.push({ text: input.slice(a, b), start: a, end: b });
      prev = c;
    }
  }
  return out;
}

interface Ctx {
  code: string;
  info: LanguageInfo;
  terminals: string;
  always: ReadonlySet<string>;
  lower: ReadonlySet<string>;
}

function context(info: LanguageInfo): Ctx {
  const code = info.iso6391 ?? SCRIPT_FALLBACK[info.script] ?? 'en';
  // Greek writes its question mark as ";" (U+037E normalizes to U+003B).
  const terminals = info.script === 'Grek' ? `${TERMINALS};\u037e` : TERMINALS;
  return { code, info, terminals, always: words(ALWAYS, code), lower: words(LOWER, code) };
}

/**
 * Paragraphs and lines: a blank line (or U+2029, form feed) always ends a block; a single line break
 * ends one too unless the next line starts in lowercase (hard-wrapped prose continues).
 */
function blocks(input: string): [number, number][] {
  const out: [number, number][] = [];
  const lineBreak = /\r\n|[\n\r\u2028\u2029\u0085\v\f]/g;
  let blockStart = -1;
  let blockEnd = -1;
  let lineStart = 0;
  const close = (): void => {
    if (blockStart >= 0) out.push([blockStart, blockEnd]);
    blockStart = -1;
  };
  const line = (s: number, e: number): void => {
    const [ts, te] = trim(input, s, e);
    if (ts === te) return close();
    if (blockStart < 0 || !/^\p{Ll}/u.test(input.slice(ts, ts + 2))) {
      close();
      blockStart = ts;
    }
    blockEnd = te;
  };
  for (let m = lineBreak.exec(input); m; m = lineBreak.exec(input)) {
    line(lineStart, m.index);
    if (m[0] === '\u2029' || m[0] === '\f') close();
    lineStart = m.index + m[0].length;
  }
  line(lineStart, input.length);
  close();
  return out;
}

/** Cut positions strictly inside the block [bs, be), ascending. */
function sentenceCuts(input: string, bs: number, be: number, ctx: Ctx): number[] {
  const split = sentenceSplitter();
  let cuts: number[] = [];
  for (let cs = bs; cs < be; ) {
    const ce = chunkEnd(input, cs, be, ctx);
    // Line breaks inside a block become spaces (same length): sentencex drops "\r" and treats "\n" itself.
    const text = input.slice(cs, ce).replace(/[\r\n\u2028\u0085\v]/g, ' ');
    let parts = split(ctx.code, text);
    if (parts.join('') !== text) parts = [...new Intl.Segmenter(ctx.code, { granularity: 'sentence' }).segment(text)].map((s) => s.segment);
    let at = cs;
    for (const p of parts.slice(0, -1)) cuts.push((at += p.length));
    if (ce < be) cuts.push(ce);
    cs = ce;
  }
  // Undo cuts that do not follow a sentence end (sentencex's chunking, our own chunk ends) or follow an
  // abbreviation, left to right so that "Т." + "зв." + "реформа" is judged on the merged "Т.зв.".
  const kept: number[] = [];
  let start = bs;
  cuts.forEach((c, i) => {
    if (endsSentence(input, start, c, ctx) && !isAbbreviation(input, start, c, cuts[i + 1] ?? be, ctx)) kept.push((start = c));
  });
  cuts = kept;
  cuts = cuts.map((c, i) => moveClosers(input, c, cuts[i + 1] ?? be));
  cuts = addCuts(input, bs, be, cuts, ctx);
  // A piece with no letter or digit ("»", "—", "།") joins the piece before it (the first one joins the next).
  return cuts.filter((c, i) => WORD.test(input.slice(c, cuts[i + 1] ?? be)) && (i > 0 || WORD.test(input.slice(bs, c))));
}

/** End of the chunk starting at cs: ≤ CHUNK units, preferring a sentence end, then whitespace. */
function chunkEnd(input: string, cs: number, be: number, ctx: Ctx): number {
  if (be - cs <= CHUNK) return be;
  let space = -1;
  for (let p = cs + CHUNK; p > cs + CHUNK / 3; p--) {
    if (!WS.test(input[p]!) || WS.test(input[p - 1]!)) continue;
    if (endsSentence(input, cs, p, ctx)) return p;
    if (space < 0) space = p;
  }
  return space > 0 ? space : safeCut(input, cs + CHUNK, cs, be);
}

/** True if [s, c) ends, after whitespace and closing quotes/brackets, with sentence-final punctuation. */
function endsSentence(input: string, s: number, c: number, ctx: Ctx): boolean {
  let p = c - 1;
  while (p >= s && WS.test(input[p]!)) p--;
  while (p >= s && CLOSERS.includes(input[p]!)) p--;
  return p >= s && ctx.terminals.includes(input[p]!);
}

/** True if the cut at c (piece [s, c), next piece ending at e) follows an abbreviation or splits a Japanese quotation. */
function isAbbreviation(input: string, s: number, c: number, e: number, ctx: Ctx): boolean {
  // Bounded windows: the merged piece can be long, and re-reading it at every cut would be quadratic.
  const prev = input.slice(Math.max(s, c - 64), c).trimEnd();
  const next = input.slice(c, Math.min(e, c + 64)).trimStart();
  if (/[」』]$/.test(prev) && /^(と|って)/.test(next)) return true; // 「…。」と言った is one sentence
  if (!prev.endsWith('.')) return false;
  const token = (/\S*$/.exec(prev.slice(0, -1))?.[0] ?? '').replace(/^[\p{Ps}\p{Pi}"']+/u, '').toLowerCase();
  if (token === '') return false;
  if (ctx.always.has(token)) return true;
  const continues = /^[\p{Ps}\p{Pi}"']*[\p{Ll}\p{N}]/u.test(next);
  return continues && (/^\p{L}$/u.test(token) || /^\p{N}{1,4}$/u.test(token) || /\p{L}\.\p{L}/u.test(token) || ctx.lower.has(token));
}

/** Moves a cut past closing quotes/brackets that start the next piece (which ends at be) but close the previous sentence. */
function moveClosers(input: string, c: number, be: number): number {
  let p = c;
  while (p < be && WS.test(input[p]!)) p++;
  let q = p;
  while (q < be && CLOSERS.includes(input[q]!)) {
    // A straight quote or ’ closes only if what follows is not a letter (else it opens the next sentence).
    if (STRAIGHT.includes(input[q]!) && q + 1 < be && WORD.test(input[q + 1]!)) break;
    q++;
  }
  return q > p ? q : c;
}

/** Splits sentencex misses: Khmer ។ ៕ and Tibetan ། ༎ before a space, and "(They left.) Next". */
function addCuts(input: string, bs: number, be: number, cuts: number[], ctx: Ctx): number[] {
  const extra: number[] = [];
  const text = input.slice(bs, be);
  const re = /[។៕།༎](?=\s)|[.!?…][)\]）]+(?=\s+[\p{Lu}"“«‘¿¡])/gu;
  if (ctx.info.script === 'Khmr' || ctx.info.script === 'Tibt' || /[.!?…][)\]）]/.test(text)) {
    for (let m = re.exec(text); m; m = re.exec(text)) extra.push(bs + m.index + m[0].length);
  }
  if (extra.length === 0) return cuts;
  return [...new Set([...cuts, ...extra])].sort((a, b) => a - b);
}

/** [s, e) without leading and trailing whitespace. */
function trim(input: string, s: number, e: number): [number, number] {
  while (s < e && WS.test(input[s]!)) s++;
  while (e > s && WS.test(input[e - 1]!)) e--;
  return [s, e];
}

/**
 * Splits the trimmed range [s, e) into pieces of at most maxChars. Each cut aims at an even share
 * (length / pieces still needed) and is taken, in order of preference, after a clause mark, at
 * whitespace, or anywhere outside a grapheme cluster; it never leaves a piece under maxChars / 4
 * except by a hard cut, which keeps the work linear in the length.
 */
function cap(input: string, s: number, e: number, maxChars: number): [number, number][] {
  const out: [number, number][] = [];
  while (e - s > maxChars) {
    const target = s + (e - s) / Math.ceil((e - s) / maxChars);
    const lo = s + Math.max(1, Math.floor(maxChars / 4));
    const hi = s + maxChars;
    let clause = -1;
    let space = -1;
    const better = (cand: number, best: number): boolean => best < 0 || Math.abs(cand - target) <= Math.abs(best - target);
    for (let i = lo - 1; i <= hi; i++) {
      const ch = input[i]!;
      if (CLAUSE_ANY.includes(ch) || CLAUSE_SPACED.includes(ch)) {
        let c = i + 1;
        while (c < e && CLOSERS.includes(input[c]!)) c++; // 'said,” he' cuts after the quote
        const counts = CLAUSE_ANY.includes(ch) || WS.test(input[c] ?? '');
        if (counts && c >= lo && c <= hi && c < e && better(c, clause)) clause = c;
      } else if (i >= lo && WS.test(ch) && !WS.test(input[i - 1]!) && better(i, space)) space = i;
    }
    const cut = clause >= 0 ? clause : space >= 0 ? space : safeCut(input, Math.round(target), s, e);
    const [a, b] = trim(input, s, cut);
    out.push([a, b]);
    s = trim(input, cut, e)[0];
  }
  out.push([s, e]);
  return out;
}

/** A position near c in (s, e) that splits no surrogate pair, combining mark, ZWJ sequence or variation selector. */
function safeCut(input: string, c: number, s: number, e: number): number {
  const ok = (p: number): boolean => {
    const here = input.codePointAt(p) ?? 0;
    const lowSurrogate = here >= 0xdc00 && here <= 0xdfff;
    const joins = /[\p{M}\u200d\ufe00-\ufe0f\u{1f3fb}-\u{1f3ff}\u{e0020}-\u{e007f}]/u.test(String.fromCodePoint(here));
    return !lowSurrogate && !joins && input[p - 1] !== '\u200d';
  };
  for (let p = c; p > s; p--) if (ok(p)) return p;
  for (let p = c + 1; p < e; p++) if (ok(p)) return p;
  return c;
}
