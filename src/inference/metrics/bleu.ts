/**
 * BLEU (Papineni et al. 2002) exactly as sacreBLEU 2.x computes it (sacrebleu/metrics/bleu.py, class BLEU): word
 * n-grams of orders 1–4 after a tokenizer (default `13a`, mteval-v13a.pl's), clipped counts against the references
 * (the maximum count over references), the closest reference length (shorter on ties) for the brevity penalty,
 * smoothing per Chen & Cherry 2014 (`exp` by default, `floor`, `add-k`, `none`), on 0–100.
 *
 * Corpus BLEU sums the statistics over segments before scoring (sacreBLEU `corpus_bleu`, effective order off);
 * sentence BLEU scores one segment with effective order on (sacreBLEU `sentence_bleu`'s defaults), so that a short
 * sentence with no 4-gram match is not zero.
 */
import { bleuTokenize, type BleuTokenizer } from './bleuTokenizers.ts';
import { pyRstrip, pySplit } from './tokens.ts';

export type { BleuTokenizer } from './bleuTokenizers.ts';
export type SmoothMethod = 'none' | 'floor' | 'add-k' | 'exp';

export interface BleuOptions {
  /** Default `13a` (sacreBLEU BLEU.TOKENIZER_DEFAULT). */
  tokenize?: BleuTokenizer;
  /** Default `exp` (sacreBLEU's default, NIST smoothing: method 3 of Chen & Cherry). */
  smoothMethod?: SmoothMethod;
  /** For `floor` (default 0.1) and `add-k` (default 1): sacreBLEU BLEU.SMOOTH_DEFAULTS. */
  smoothValue?: number;
  /** Default 4 (sacreBLEU MAX_NGRAM_ORDER). */
  maxNgramOrder?: number;
  /** Average only over the orders the hypothesis has n-grams of (sentence BLEU's default: true; corpus: false). */
  effectiveOrder?: boolean;
  lowercase?: boolean;
}

/** A segment's reference, or several. */
export type BleuReference = string | readonly string[];

export interface BleuScore {
  /** 0–100. */
  score: number;
  /** Matched n-grams per order (after add-k smoothing, as sacreBLEU reports them). */
  counts: number[];
  /** Hypothesis n-grams per order. */
  totals: number[];
  /** Per-order precisions, 0–100. */
  precisions: number[];
  /** Brevity penalty. */
  bp: number;
  sysLen: number;
  refLen: number;
}

const SMOOTH_DEFAULTS: Record<SmoothMethod, number | undefined> = { none: undefined, floor: 0.1, 'add-k': 1, exp: undefined };

interface Resolved {
  tokenize: BleuTokenizer;
  smoothMethod: SmoothMethod;
  smoothValue: number | undefined;
  maxNgramOrder: number;
  effectiveOrder: boolean;
  lowercase: boolean;
}

function resolve(options: BleuOptions | undefined, effectiveOrder: boolean): Resolved {
  const o: Resolved = { tokenize: '13a', smoothMethod: 'exp', smoothValue: undefined, maxNgramOrder: 4, effectiveOrder, lowercase: false, ...options };
  if (!(o.smoothMethod in SMOOTH_DEFAULTS)) throw new RangeError(`BLEU: unknown smoothMethod "${String(o.smoothMethod)}"; use none, floor, add-k or exp.`);
  if (!Number.isInteger(o.maxNgramOrder) || o.maxNgramOrder < 1) throw new RangeError(`BLEU: maxNgramOrder must be an integer ≥ 1, got ${String(o.maxNgramOrder)}.`);
  if (o.smoothValue !== undefined && !(Number.isFinite(o.smoothValue) && o.smoothValue >= 0)) throw new RangeError(`BLEU: smoothValue must be a finite number ≥ 0, got ${String(o.smoothValue)}.`);
  return o;
}

/** sacreBLEU `my_log`: log, with log(0) floored to −9999999999. */
function myLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/**
 * sacreBLEU `BLEU.compute_bleu`: the score from summed statistics. `correct` and `total` are not modified (sacreBLEU
 * adds add-k's value to them in place; the returned `counts`/`totals` show that).
 */
export function computeBleu(correctIn: readonly number[], totalIn: readonly number[], sysLen: number, refLen: number, options?: BleuOptions): BleuScore {
  const o = resolve(options, options?.effectiveOrder ?? false);
  const order = o.maxNgramOrder;
  if (correctIn.length !== order || totalIn.length !== order) throw new RangeError(`BLEU: expected ${order} counts and totals, got ${correctIn.length} and ${totalIn.length}.`);
  const correct = [...correctIn];
  const total = [...totalIn];
  const smoothValue = o.smoothValue ?? SMOOTH_DEFAULTS[o.smoothMethod];
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(order).fill(0);
  const result = (score: number): BleuScore => ({ score, counts: correct, totals: total, precisions, bp, sysLen, refLen });
  // No match of any order → 0 whatever the smoothing (sacreBLEU #141).
  if (!correct.some((c) => c !== 0)) return result(0);
  let smoothMteval = 1;
  let effOrder = order;
  for (let n = 1; n <= order; n++) {
    if (o.smoothMethod === 'add-k' && n > 1) {
      correct[n - 1]! += smoothValue!;
      total[n - 1]! += smoothValue!;
    }
    if (total[n - 1] === 0) break;
    if (o.effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      if (o.smoothMethod === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * total[n - 1]!);
      } else if (o.smoothMethod === 'floor') {
        precisions[n - 1] = (100 * smoothValue!) / total[n - 1]!;
      }
    } else {
      precisions[n - 1] = (100 * correct[n - 1]!) / total[n - 1]!;
    }
  }
  let logSum = 0;
  for (const p of precisions.slice(0, effOrder)) logSum += myLog(p);
  return result(bp * Math.exp(logSum / effOrder));
}

/** Word n-grams of orders 1…max of a tokenized line (sacreBLEU `extract_all_word_ngrams`), and its length. */
function wordNgrams(line: string, maxOrder: number): { grams: Map<string, number>; length: number } {
  const tokens = pySplit(line);
  const grams = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      // Tokens never contain whitespace, so a space-joined key is unique; the order prefix files it under its n.
      const g = `${n}:${tokens.slice(i, i + n).join(' ')}`;
      grams.set(g, (grams.get(g) ?? 0) + 1);
    }
  }
  return { grams, length: tokens.length };
}

function preprocess(sentence: string, o: Resolved): string {
  return bleuTokenize(pyRstrip(o.lowercase ? sentence.toLowerCase() : sentence), o.tokenize);
}

/** sacreBLEU `_get_closest_ref_len`: the reference length closest to the hypothesis length, the shorter on ties. */
function closestRefLen(hypLen: number, refLens: readonly number[]): number {
  let bestDiff = -1;
  let best = -1;
  for (const r of refLens) {
    const d = Math.abs(hypLen - r);
    if (bestDiff === -1 || d < bestDiff) {
      bestDiff = d;
      best = r;
    } else if (d === bestDiff && r < best) best = r;
  }
  return best;
}

/**
 * A segment's sufficient statistics `[sysLen, refLen, correct × order, total × order]` (sacreBLEU's layout). Empty
 * references are ignored; a segment with none left is an error, as in sacreBLEU.
 */
export function bleuStatistics(hypothesis: string, reference: BleuReference, options?: BleuOptions): number[] {
  const o = resolve(options, false);
  const refs = (typeof reference === 'string' ? [reference] : reference).filter((r) => r !== '');
  if (refs.length === 0) throw new RangeError('BLEU: the reference is empty; BLEU (like sacreBLEU) needs a non-empty reference for every segment.');
  const refGrams = new Map<string, number>();
  const refLens: number[] = [];
  for (const r of refs) {
    const { grams, length } = wordNgrams(preprocess(r, o), o.maxNgramOrder);
    refLens.push(length);
    for (const [g, c] of grams) refGrams.set(g, Math.max(refGrams.get(g) ?? 0, c));
  }
  const hyp = wordNgrams(preprocess(hypothesis, o), o.maxNgramOrder);
  const correct = new Array<number>(o.maxNgramOrder).fill(0);
  const total = new Array<number>(o.maxNgramOrder).fill(0);
  for (const [g, c] of hyp.grams) {
    const n = Number(g.slice(0, g.indexOf(':'))) - 1;
    total[n]! += c;
    const r = refGrams.get(g);
    if (r !== undefined) correct[n]! += Math.min(c, r);
  }
  return [hyp.length, closestRefLen(hyp.length, refLens), ...correct, ...total];
}

/** The score of (summed) statistics in {@link bleuStatistics}' layout. */
export function bleuFromStatistics(statistics: readonly number[], options?: BleuOptions): BleuScore {
  const order = options?.maxNgramOrder ?? 4;
  if (statistics.length !== 2 + 2 * order) throw new RangeError(`BLEU: expected ${2 + 2 * order} statistics, got ${statistics.length}.`);
  return computeBleu(statistics.slice(2, 2 + order), statistics.slice(2 + order), statistics[0]!, statistics[1]!, options);
}

/**
 * Corpus BLEU (sacreBLEU `corpus_bleu` defaults: 13a, exp smoothing, no effective order): statistics summed over
 * segments, then one score. `references[i]` belongs to `hypotheses[i]` (sacreBLEU takes reference *streams*, i.e.
 * the transpose).
 */
export function corpusBleu(hypotheses: readonly string[], references: readonly BleuReference[], options?: BleuOptions): BleuScore {
  if (hypotheses.length !== references.length) {
    throw new RangeError(`BLEU: ${hypotheses.length} hypotheses but ${references.length} references; give one reference (or list) per hypothesis.`);
  }
  if (hypotheses.length === 0) throw new RangeError('BLEU: the corpus is empty.');
  const o = { ...options, effectiveOrder: options?.effectiveOrder ?? false };
  let total: number[] | undefined;
  hypotheses.forEach((h, i) => {
    const s = bleuStatistics(h, references[i]!, o);
    total = total ? total.map((x, j) => x + s[j]!) : s;
  });
  return bleuFromStatistics(total!, o);
}

/** Sentence BLEU (sacreBLEU `sentence_bleu` defaults: 13a, exp smoothing, effective order). */
export function sentenceBleu(hypothesis: string, reference: BleuReference, options?: BleuOptions): BleuScore {
  const o = { ...options, effectiveOrder: options?.effectiveOrder ?? true };
  return bleuFromStatistics(bleuStatistics(hypothesis, reference, o), o);
}
