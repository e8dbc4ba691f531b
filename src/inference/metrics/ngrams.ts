/**
 * Word n-gram statistics of generated text used by the LCM paper (arXiv 2412.08821, §3.1, Tables 3–4):
 *
 * - REP-n: repetition, 1 − distinct n-grams / n-grams of the output (Welleck et al. 2019, "Neural text generation
 *   with unlikelihood training", seq-rep-n); the paper reports REP-4.
 * - OVL-n: overlap with the source, the fraction of the output's n-grams (with multiplicity) that occur in the source
 *   document; the paper reports OVL-3 for summaries (how extractive they are).
 *
 * Words are the multilingual ROUGE tokens (tokens.ts: lowercase, Unicode letters/marks/digits, Han and kana one
 * character per token), the same words as recipe/train/metrics.py `rep_n`.
 */
import { rougeTokens, type RougeTokenizer } from './tokens.ts';

export interface NgramOptions {
  /** Default `multilingual`. */
  tokenizer?: RougeTokenizer;
}

function checkN(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n-gram order must be an integer ≥ 1, got ${String(n)}.`);
}

/** The n-grams of a token list, in order, as strings (tokens never contain spaces). */
export function wordNgrams(tokens: readonly string[], n: number): string[] {
  checkN(n);
  const out: string[] = [];
  for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n).join(' '));
  return out;
}

/** REP-n of `text`: 1 − distinct/total n-grams; 0 when the text has fewer than n words. */
export function repetitionRate(text: string, n = 4, options: NgramOptions = {}): number {
  const grams = wordNgrams(rougeTokens(text, options.tokenizer), n);
  return grams.length === 0 ? 0 : 1 - new Set(grams).size / grams.length;
}

/**
 * OVL-n of `output` against `source`: the share of the output's n-grams found among the source's; 0 when the output
 * has fewer than n words.
 */
export function sourceOverlap(output: string, source: string, n = 3, options: NgramOptions = {}): number {
  const grams = wordNgrams(rougeTokens(output, options.tokenizer), n);
  if (grams.length === 0) return 0;
  const src = new Set(wordNgrams(rougeTokens(source, options.tokenizer), n));
  let found = 0;
  for (const g of grams) if (src.has(g)) found++;
  return found / grams.length;
}
