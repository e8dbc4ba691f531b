/**
 * The text and concept metrics of the evaluation (docs/evaluation.md gives each definition and its source): chrF and
 * BLEU as sacreBLEU 2.x, ROUGE-L as Google's rouge_score, OVL-3 / REP-4 / word-count ratio / local coherence /
 * AutoBLEU as the LCM paper uses them.
 */
export { chrfFromStatistics, chrfPlusPlus, chrfStatistics, corpusChrf, corpusChrfPlusPlus, sentenceChrf, type ChrfOptions, type ChrfReference } from './chrf.ts';
export { bleuFromStatistics, bleuStatistics, computeBleu, corpusBleu, sentenceBleu, type BleuOptions, type BleuReference, type BleuScore, type SmoothMethod } from './bleu.ts';
export { bleuTokenize, bleuTokenizerFor, type BleuTokenizer } from './bleuTokenizers.ts';
export { autoBleu, type AutoBleuScore } from './autoBleu.ts';
export { lcsIndices, lcsLength, rougeL, rougeLsum, rougeLsumTokens, rougeLTokens, unionLcs, type RougeOptions, type RougeScore } from './rougeL.ts';
export { pySplit, rougeTokenizerFor, rougeTokens, type RougeTokenizer } from './tokens.ts';
export { repetitionRate, sourceOverlap, wordNgrams, type NgramOptions } from './ngrams.ts';
export { wordCount, wordCountRatio } from './wordCount.ts';
export { coherenceCosines, cosine, localCoherence } from './coherence.ts';
