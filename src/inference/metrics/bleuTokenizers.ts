/**
 * sacreBLEU 2.x's BLEU tokenizers (sacrebleu/tokenizers/), ported to give the same token strings:
 *
 * - `13a`: mteval-v13a.pl's, sacreBLEU's default (tokenizer_13a.py + tokenizer_re.py);
 * - `intl`: mteval-v14.pl's international tokenizer (tokenizer_intl.py: Unicode punctuation and symbols);
 * - `zh`: each Chinese character a token, the rest as `13a` (tokenizer_zh.py), sacreBLEU's choice for Chinese;
 * - `char`: every character a token (tokenizer_char.py);
 * - `none`: the text as it is.
 *
 * sacreBLEU's `ja-mecab` and `ko-mecab` need MeCab and are not provided: reports score Japanese with `char`.
 */
import { pySplit, pyStrip } from './tokens.ts';

export type BleuTokenizer = '13a' | 'intl' | 'zh' | 'char' | 'none';

/**
 * tokenizer_re.py, TokenizerRegexp (without the `u` flag on purpose: the class must stay byte-for-byte the
 * Python one, and `[^0-9]` on a lone surrogate only re-spaces what Python spaces around the whole code point).
 */
const RE_13A: readonly [RegExp, string][] = [
  // ASCII punctuation and symbols except apostrophe, comma, period and hyphen: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
  [/([{-~[-` -&(-+:-@/])/g, ' $1 '],
  // period and comma unless preceded by a digit
  [/([^0-9])([.,])/g, '$1 $2 '],
  // period and comma unless followed by a digit
  [/([.,])([^0-9])/g, ' $1 $2'],
  // dash when preceded by a digit
  [/([0-9])(-)/g, '$1 $2 '],
];

function postTokenize(line: string): string {
  let s = line;
  for (const [re, repl] of RE_13A) s = s.replace(re, repl);
  return pySplit(s).join(' ');
}

function tokenize13a(line: string): string {
  const s = line
    .replaceAll('<skipped>', '')
    .replaceAll('-\n', '')
    .replaceAll('\n', ' ')
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>');
  return postTokenize(` ${s} `);
}

/** tokenizer_intl.py (Python `regex` module classes \p{N}, \p{P}, \p{S}). */
const RE_INTL: readonly [RegExp, string][] = [
  [/(\P{N})(\p{P})/gu, '$1 $2 '],
  [/(\p{P})(\P{N})/gu, ' $1 $2'],
  [/(\p{S})/gu, ' $1 '],
];

function tokenizeIntl(line: string): string {
  let s = line;
  for (const [re, repl] of RE_INTL) s = s.replace(re, repl);
  return pySplit(s).join(' ');
}

/**
 * tokenizer_zh.py `_UCODE_RANGES`, compared as Python compares them: two of the entries are written
 * `'\u20000'`–`'\u2a6d6'` and `'\u2f800'`–`'\u2fa1d'`, which Python reads as two-character strings (U+2000 then "0",
 * …), so a single character c is inside when U+2000 < c ≤ U+2A6D or U+2F80 < c ≤ U+2FA1. That takes in general
 * punctuation, arrows, symbols and more, and no character outside the BMP; kept exactly so scores match sacreBLEU.
 */
const ZH_RANGES: readonly [number, number][] = [
  [0x3400, 0x4db5], [0x4e00, 0x9fa5], [0x9fa6, 0x9fbb], [0xf900, 0xfa2d], [0xfa30, 0xfa6a], [0xfa70, 0xfad9],
  [0x2001, 0x2a6d], [0x2f81, 0x2fa1],
  [0xff00, 0xffef], [0x2e80, 0x2eff], [0x3000, 0x303f], [0x31c0, 0x31ef], [0x2f00, 0x2fdf], [0x2ff0, 0x2fff],
  [0x3100, 0x312f], [0x31a0, 0x31bf], [0xfe10, 0xfe1f], [0xfe30, 0xfe4f], [0x2600, 0x26ff], [0x2700, 0x27bf],
  [0x3200, 0x32ff], [0x3300, 0x33ff],
];

function isChineseChar(cp: number): boolean {
  return ZH_RANGES.some(([a, b]) => cp >= a && cp <= b);
}

function tokenizeZh(line: string): string {
  let s = '';
  for (const ch of pyStrip(line)) s += isChineseChar(ch.codePointAt(0)!) ? ` ${ch} ` : ch;
  return postTokenize(s);
}

/** Tokenizes one (already lowercased, right-stripped) segment as sacreBLEU's tokenizer `name` does. */
export function bleuTokenize(line: string, name: BleuTokenizer): string {
  switch (name) {
    case '13a':
      return tokenize13a(line);
    case 'intl':
      return tokenizeIntl(line);
    case 'zh':
      return tokenizeZh(line);
    case 'char':
      return Array.from(line).join(' ');
    case 'none':
      return line;
    default:
      throw new RangeError(`BLEU: unknown tokenizer "${String(name)}"; use 13a, intl, zh, char or none.`);
  }
}

/**
 * The tokenizer a report uses for a language: sacreBLEU's `zh` for Chinese, `char` for Japanese (sacreBLEU would use
 * ja-mecab, which needs MeCab), `13a` for everything else (sacreBLEU's default).
 */
export function bleuTokenizerFor(lang: string): BleuTokenizer {
  if (lang.startsWith('zho_') || lang.startsWith('yue_')) return 'zh';
  if (lang === 'jpn_Jpan') return 'char';
  return '13a';
}
