/**
 * Multilingual sentence splitting: text → concepts.
 *
 * Sentence boundaries come from ICU (`Intl.Segmenter`, granularity "sentence": the Unicode UAX #29
 * rules, built into Node and Electron on every platform), corrected where ICU fails (see docs/text.md,
 * "Segmenter"): our own paragraph and line handling, abbreviation lists (abbreviations.ts), initials,
 * German ordinal dates, quoted speech that continues in lowercase, opening quotes left on the wrong
 * side, Japanese quotative 」と, Tibetan full stops and a missing space after a period. Then every
 * segment longer than `maxChars` is split at clause boundaries, whitespace, or finally anywhere outside
 * a grapheme cluster. The cap's default, 200 characters, is the LCM paper's best setting ("SaT Capped"
 * at 200 characters, arXiv 2412.08821 §2.2).
 *
 * Offsets are UTF-16 indices into the input; every segment is trimmed and non-empty, segments are in
 * order and do not overlap, and only whitespace lies between them, so no character is lost or moved.
 */
import { resolveLanguage, type LanguageInfo } from '../../shared/languages.ts';
import { ENDINGS, ORDINAL_NOUNS, TITLES, wordSet } from './abbreviations.ts';

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

const TERMINALS = '.!?…‼⁇⁈⁉。！？｡．؟۔।॥։።။។៕།༎܀߹᙮꓿︒﹒﹖﹗';
const CLOSERS = '"\'”’»›」』）)]}〉》】〕〗〙〛＂＇］｝';
const STRAIGHT = '"\'’＂＇'; // closers that also open quotes or are apostrophes
const CLAUSE_SPACED = ',;:،؛՝፣፤፥፦·၊'; // clause marks that count only before whitespace (not "1,000", "10:30")
const CLAUSE_ANY = '、，；：﹐﹑﹔﹕—―'; // CJK clause marks and the em dash count anywhere
const WS = /\s/;
const WORD = /[\p{L}\p{N}]/u;
const STERM = /\p{Sentence_Terminal}/u;

/** ICU locale and abbreviation language for scripts whose languages have no ISO 639-1 code (e.g. acm_Arab → ar). */
const SCRIPT_FALLBACK: Record<string, string> = {
  Arab: 'ar', Hebr: 'he', Deva: 'hi', Beng: 'bn', Cyrl: 'ru', Hans: 'zh', Hant: 'zh', Jpan: 'ja', Hang: 'ko', Ethi: 'am',
  Grek: 'el', Armn: 'hy', Mymr: 'my', Thai: 'th', Khmr: 'km', Tibt: 'bo', Laoo: 'lo', Geor: 'ka',
};

/** One ICU sentence segmenter per locale, made on first use (no work at import time). */
const icu = new Map<string, Intl.Segmenter>();
function icuSegmenter(code: string): Intl.Segmenter {
  let seg = icu.get(code);
  if (!seg) icu.set(code, (seg = new Intl.Segmenter(code, { granularity: 'sentence' })));
  return seg;
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
  titles: ReadonlySet<string>;
  endings: ReadonlySet<string>;
  ordinalNouns: ReadonlySet<string>;
}

function context(info: LanguageInfo): Ctx {
  const code = info.iso6391 ?? SCRIPT_FALLBACK[info.script] ?? 'en';
  // Greek writes its question mark as ";" (U+037E normalizes to U+003B).
  const terminals = info.script === 'Grek' ? `${TERMINALS};\u037e` : TERMINALS;
  return { code, info, terminals, titles: wordSet(TITLES, code), endings: wordSet(ENDINGS, code), ordinalNouns: wordSet(ORDINAL_NOUNS, code) };
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
  // Line breaks inside a block become spaces (same length): ICU would treat each as a paragraph end.
  const text = input.slice(bs, be).replace(/[\r\n\u2028\u0085\v]/g, ' ');
  let cuts: number[] = [];
  for (const { index } of icuSegmenter(ctx.code).segment(text)) if (index > 0) cuts.push(bs + index);
  cuts = addCuts(text, bs, cuts, ctx);
  cuts = cuts.map((c, i) => moveOpeners(input, c, cuts[i - 1] ?? bs));
  // Undo cuts that do not follow a sentence end (a guard: ICU's rules and data change between versions)
  // or that follow an abbreviation, left to right so that "Т." + "зв." + "реформа" is judged on the
  // merged "Т.зв.".
  const kept: number[] = [];
  let start = bs;
  cuts.forEach((c, i) => {
    if (endsSentence(input, start, c, ctx) && !continues(input, start, c, cuts[i + 1] ?? be, ctx)) kept.push((start = c));
  });
  cuts = kept.map((c, i) => moveClosers(input, c, kept[i + 1] ?? be));
  // A piece with no letter or digit ("»", "—", "།") joins the piece before it (the first one joins the next).
  return cuts.filter((c, i) => WORD.test(input.slice(c, cuts[i + 1] ?? be)) && (i > 0 || WORD.test(input.slice(bs, c))));
}

/** Splits ICU misses, added to `cuts` (block text `text` starts at bs): Tibetan ། ༎ before a space, "end.Next". */
function addCuts(text: string, bs: number, cuts: number[], ctx: Ctx): number[] {
  const extra: number[] = [];
  // Tibetan: ICU does not count the shad as a full stop (it also ends clauses). A period glued to a
  // capitalized word after a lowercase word is a missing space ("here.The"), which UAX #29 rule SB7 keeps
  // together; "Ph.D", "U.S", "e.g.The" do not match (a single letter before the period).
  const re = ctx.info.script === 'Tibt' ? /[།༎](?=\s)|(?<=\p{Ll}{2})\.(?=\p{Lu}\p{Ll})/gu : /(?<=\p{Ll}{2})\.(?=\p{Lu}\p{Ll})/gu;
  for (let m = re.exec(text); m; m = re.exec(text)) extra.push(bs + m.index + m[0].length);
  if (extra.length === 0) return cuts;
  return [...new Set([...cuts, ...extra])].sort((a, b) => a - b);
}

/** True if [s, c) ends, after whitespace and closing quotes/brackets, with sentence-final punctuation. */
function endsSentence(input: string, s: number, c: number, ctx: Ctx): boolean {
  let p = c - 1;
  while (p >= s && WS.test(input[p]!)) p--;
  while (p >= s && CLOSERS.includes(input[p]!)) p--;
  // Our list, plus any other Unicode Sentence_Terminal ICU splits at (Mongolian ᠃, Vai ꘎ …).
  return p >= s && (ctx.terminals.includes(input[p]!) || STERM.test(input[p]!));
}

/**
 * True if the sentence goes on past the cut at c (piece [s, c), next piece ending at e): an abbreviation,
 * initials, an ordinal date, quoted speech continued in lowercase, or a Japanese quotation.
 */
function continues(input: string, s: number, c: number, e: number, ctx: Ctx): boolean {
  // Bounded windows: the merged piece can be long, and re-reading it at every cut would be quadratic.
  const prev = input.slice(Math.max(s, c - 64), c).trimEnd();
  const next = input.slice(c, Math.min(e, c + 64)).trimStart();
  if (/[」』]$/.test(prev) && /^(と|って)/.test(next)) return true; // 「…。」と言った is one sentence
  // '"Stop!" he said', '(why?) and went', '« Bonjour ! » puis': ICU splits after ? and ! whatever follows.
  const afterClosers = next.slice(closerRun(next, 0, next.length)).trimStart();
  if ((CLOSERS.includes(prev.at(-1) ?? '') || afterClosers !== next) && /^\p{Ll}/u.test(afterClosers)) return true;
  if (!prev.endsWith('.')) return false;
  const raw = (/\S*$/.exec(prev.slice(0, -1))?.[0] ?? '').replace(/^[\p{Ps}\p{Pi}"']+/u, '');
  const token = raw.toLowerCase();
  if (token === '') return false;
  if (ctx.titles.has(token)) return true;
  const upper = /^[\p{Ps}\p{Pi}"']*\p{Lu}/u.test(next);
  // Initials ("J. R. R. Tolkien", "А. С. Пушкин") and dotted capitals ("U.S. Army") before a capital;
  // a spaced dotted abbreviation ("z. B.", "i. e.", "т. е.") whatever the case.
  if (upper && /^\p{Lu}(\.\p{Lu})*$/u.test(raw)) return true;
  if (/^\p{L}$/u.test(raw) && /^\p{L}\./u.test(next)) return true;
  if (upper && /^\p{N}{1,2}$/u.test(token) && ctx.ordinalNouns.has((/^\p{L}+/u.exec(next)?.[0] ?? '').toLowerCase())) return true;
  const lower = /^[\p{Ps}\p{Pi}"']*[\p{Ll}\p{N}]/u.test(next);
  return lower && (/^\p{L}$/u.test(token) || /^\p{N}{1,4}$/u.test(token) || /\p{L}\.\p{L}/u.test(token) || ctx.endings.has(token));
}

/** End of the run of closing quotes/brackets at p (before be); a straight quote or ’ before a letter opens instead. */
function closerRun(input: string, p: number, be: number): number {
  let q = p;
  while (q < be && CLOSERS.includes(input[q]!) && !(STRAIGHT.includes(input[q]!) && q + 1 < be && WORD.test(input[q + 1]!))) q++;
  return q;
}

/** Moves a cut past closing quotes/brackets that start the next piece (which ends at be) but close the previous sentence. */
function moveClosers(input: string, c: number, be: number): number {
  let p = c;
  while (p < be && WS.test(input[p]!)) p++;
  const q = closerRun(input, p, be);
  return q > p ? q : c;
}

/**
 * Moves a cut (not below the previous one, s) before opening brackets and quotes glued to the next
 * sentence: ICU leaves them on the left ("です。「こんにちは", "left.“Hi").
 */
function moveOpeners(input: string, c: number, s: number): number {
  if (c >= input.length || WS.test(input[c]!)) return c;
  let p = c;
  while (p > s && /[\p{Ps}\p{Pi}"＂]/u.test(input[p - 1]!)) p--;
  return p;
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
