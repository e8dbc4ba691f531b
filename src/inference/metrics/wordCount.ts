/**
 * Word counts for length statistics (the LCM paper's word-count ratio, arXiv 2412.08821 §3.1: words of the output
 * over words of the reference), defined as recipe/train/common.py `word_count` so that the eval suites' length
 * filters and the reports count alike: whitespace-separated words, except that text in scripts written without
 * spaces (Han, kana, Thai) counts one word per two of their characters.
 */
import { pySplit } from './tokens.ts';

/** Hiragana/katakana, CJK Extension A + Unified Ideographs, Thai: recipe/train/common.py's dense ranges. */
function isDense(cp: number): boolean {
  return (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x9fff) || (cp >= 0x0e00 && cp <= 0x0e7f);
}

/** recipe/train/common.py `word_count`: max(spaced, spaced − 1 + ⌊(dense + 1) / 2⌋) when there are dense characters. */
export function wordCount(text: string): number {
  const spaced = pySplit(text).length;
  let dense = 0;
  for (const ch of text) if (isDense(ch.codePointAt(0)!)) dense++;
  return dense > 0 ? Math.max(spaced, spaced - 1 + Math.floor((dense + 1) / 2)) : spaced;
}

/** Words of `output` / words of `reference`; RangeError when the reference has no words. */
export function wordCountRatio(output: string, reference: string): number {
  const ref = wordCount(reference);
  if (ref === 0) throw new RangeError('Word-count ratio: the reference has no words.');
  return wordCount(output) / ref;
}
