/**
 * AutoBLEU, the LCM paper's segmenter score (arXiv 2412.08821 §2.2, Figure 2 "Segmenters quality: average AutoBLEU
 * … depending on segment length"): each segment is encoded to a concept and decoded back in its own language, and
 * the decoded text is scored with BLEU against the segment; the figure is the average over segments. A segmenter
 * that makes segments the embedding space holds well scores high.
 *
 * Here: sacreBLEU sentence BLEU (exp smoothing, effective order) per segment, averaged; the corpus BLEU of the same
 * pairs is given too. The encode → decode round trip itself runs in the engine (src/eval/segmenters.ts).
 */
import { corpusBleu, sentenceBleu, type BleuTokenizer } from './bleu.ts';

export interface AutoBleuScore {
  /** Mean sentence BLEU over segments, 0–100 (the paper's AutoBLEU). */
  mean: number;
  /** Corpus BLEU of all (decoded, segment) pairs, 0–100. */
  corpus: number;
  segments: number;
}

/** AutoBLEU of `segments` and their round trips `decoded` (same order), tokenized with `tokenize`. */
export function autoBleu(segments: readonly string[], decoded: readonly string[], tokenize: BleuTokenizer = '13a'): AutoBleuScore {
  if (segments.length !== decoded.length) throw new RangeError(`AutoBLEU: ${segments.length} segments but ${decoded.length} decoded texts.`);
  if (segments.length === 0) throw new RangeError('AutoBLEU: no segments.');
  const scores = segments.map((s, i) => sentenceBleu(decoded[i]!, s, { tokenize }).score);
  return {
    mean: scores.reduce((a, b) => a + b, 0) / scores.length,
    corpus: corpusBleu(decoded, segments, { tokenize }).score,
    segments: segments.length,
  };
}
