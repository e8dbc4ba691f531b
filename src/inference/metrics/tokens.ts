/**
 * Word tokenizers shared by the text metrics, each the exact counterpart of a
 * Python definition so that scores agree with the reference tools and with the
 * recipe (recipe/train/metrics.py):
 *
 * - {@link pySplit}: Python's `str.split()` (what sacreBLEU splits n-grams on);
 * - {@link rougeTokens} `standard`: Google `rouge_score`'s tokenizer
 *   (rouge/tokenize.py: lowercase, runs of `[a-z0-9]`, everything else a separator);
 * - {@link rougeTokens} `multilingual`: lowercase runs of Unicode letters, marks and
 *   digits, each Han or kana character a token of its own (docs/evaluation.md).
 */

/**
 * What Python's `str.split()` splits on (`str.isspace()`). Unlike JS `\s` it includes U+001C–U+001F and U+0085
 * and excludes U+FEFF (the same set as chrf.ts).
 */
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** Python's `s.split()`: runs of whitespace separate, no empty pieces. */
export function pySplit(s: string): string[] {
  return s.split(PY_WHITESPACE).filter((w) => w.length > 0);
}

/** Python's `s.strip()` / `s.rstrip()`. */
export function pyStrip(s: string): string {
  return pyRstrip(s.replace(new RegExp(`^${PY_WHITESPACE.source}`, 'u'), ''));
}

export function pyRstrip(s: string): string {
  return s.replace(new RegExp(`${PY_WHITESPACE.source}$`, 'u'), '');
}

/**
 * Han and kana, one token per character: those scripts do not separate words by spaces. The same ranges as
 * recipe/train/metrics.py `_CJK` (hiragana + katakana U+3040–30FF, CJK Extension A, CJK Unified Ideographs,
 * CJK Compatibility Ideographs).
 */
const CJK = '\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff';

/**
 * Multilingual word: one Han/kana character, or a run of letters, combining marks and digits that are not Han/kana.
 * Marks (\p{M}) belong to the word: without them Devanagari, Thai and vowelled Arabic/Hebrew words fall apart at
 * every vowel sign (Python's `\w`, used by recipe/train/metrics.py, leaves them out; docs/evaluation.md).
 */
const MULTILINGUAL_TOKEN = new RegExp(`[${CJK}]|(?:(?![${CJK}])[\\p{L}\\p{M}\\p{N}])+`, 'gu');

/** rouge_score's tokens: `text.lower()`, then the runs of ASCII lowercase letters and digits. */
const STANDARD_TOKEN = /[a-z0-9]+/g;

/**
 * `standard`: rouge_score's default (ASCII only: every other letter is a separator, so "café" → "caf" and Chinese
 * gives no tokens). `multilingual`: Unicode letters/marks/digits, Han and kana per character; on ASCII text both give
 * the same tokens.
 */
export type RougeTokenizer = 'standard' | 'multilingual';

/** Lowercased word tokens of `text` under `tokenizer` (default multilingual). */
export function rougeTokens(text: string, tokenizer: RougeTokenizer = 'multilingual'): string[] {
  if (typeof text !== 'string') throw new TypeError(`rougeTokens expects a string, got ${typeof text}.`);
  const lower = text.toLowerCase();
  if (tokenizer === 'standard') return lower.match(STANDARD_TOKEN) ?? [];
  if (tokenizer === 'multilingual') return lower.match(MULTILINGUAL_TOKEN) ?? [];
  throw new RangeError(`Unknown ROUGE tokenizer "${String(tokenizer)}": use "standard" or "multilingual".`);
}

/**
 * The tokenizer a report uses for a language: rouge_score's own for English (scores comparable with published
 * ROUGE), the multilingual one for every other language, whose letters the standard tokenizer deletes.
 */
export function rougeTokenizerFor(lang: string): RougeTokenizer {
  return lang === 'eng_Latn' ? 'standard' : 'multilingual';
}
