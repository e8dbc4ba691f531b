/**
 * chrF and chrF++ (Popović 2015, 2017) exactly as sacreBLEU 2.x computes them
 * (sacrebleu/metrics/chrf.py, class CHRF): character n-grams of orders 1…6 with
 * whitespace removed, optional word n-grams, per-order precision and recall
 * averaged over the orders that occur, F-beta with beta 2, on 0–100. Used to
 * score round trips text → vector → text.
 *
 * Strings are handled as Python does: n-grams over code points (not UTF-16
 * units), whitespace as Python's `str.split()` sees it.
 */

export interface ChrfOptions {
  /** Character n-gram orders 1…charOrder (sacreBLEU CHRF.CHAR_ORDER = 6). */
  charOrder?: number;
  /** Word n-gram orders 1…wordOrder; 2 makes chrF++ (CHRF.WORD_ORDER = 0). */
  wordOrder?: number;
  /** Recall weighs beta times precision (CHRF.BETA = 2, per Popović, WMT16). */
  beta?: number;
  /** Compare case-insensitively (default false). */
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams (default false: removed). */
  whitespace?: boolean;
  /**
   * true: chrF++.py / NLTK / Moses style, every order counts and an empty order scores 1e-16.
   * false (sacreBLEU's default): average precision and recall over the orders that have n-grams on both sides.
   */
  epsSmoothing?: boolean;
}

/** A segment's reference, or several (sacreBLEU keeps the one with the best F score). */
export type ChrfReference = string | readonly string[];

type Resolved = Required<ChrfOptions>;

function resolve(options: ChrfOptions | undefined): Resolved {
  const o: Resolved = { charOrder: 6, wordOrder: 0, beta: 2, lowercase: false, whitespace: false, epsSmoothing: false, ...options };
  if (!Number.isInteger(o.charOrder) || o.charOrder < 0) throw new RangeError(`chrF: charOrder must be an integer ≥ 0, got ${String(o.charOrder)}.`);
  if (!Number.isInteger(o.wordOrder) || o.wordOrder < 0) throw new RangeError(`chrF: wordOrder must be an integer ≥ 0, got ${String(o.wordOrder)}.`);
  if (o.charOrder + o.wordOrder === 0) throw new RangeError('chrF: charOrder + wordOrder must be at least 1.');
  if (typeof o.beta !== 'number' || !Number.isFinite(o.beta) || o.beta < 0) throw new RangeError(`chrF: beta must be a finite number ≥ 0, got ${String(o.beta)}.`);
  return o;
}

/**
 * What Python's `str.split()` splits on (`str.isspace()`: bidi class WS, B or S, or category Zs). Unlike JS `\s`
 * it includes U+001C–U+001F and U+0085 and excludes U+FEFF.
 */
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;
const PY_WHITESPACE_G = new RegExp(PY_WHITESPACE.source, 'gu');

/** Python's `s.split()`: runs of whitespace separate, no empty pieces. */
function pySplit(s: string): string[] {
  return s.split(PY_WHITESPACE).filter((w) => w.length > 0);
}

/** string.punctuation, which sacreBLEU's `_remove_punctuation` peels off word ends. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** sacreBLEU `CHRF._remove_punctuation`: split words, then separate one punctuation mark at the end, else at the start. */
function wordsForChrf(sentence: string): string[] {
  const out: string[] = [];
  for (const word of pySplit(sentence)) {
    const cps = Array.from(word);
    if (cps.length === 1) out.push(word);
    else if (PUNCTUATION.has(cps[cps.length - 1]!)) out.push(cps.slice(0, -1).join(''), cps[cps.length - 1]!);
    else if (PUNCTUATION.has(cps[0]!)) out.push(cps[0]!, cps.slice(1).join(''));
    else out.push(word);
  }
  return out;
}

function count(grams: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const g of grams) m.set(g, (m.get(g) ?? 0) + 1);
  return m;
}

function* windows(items: readonly string[], n: number, sep: string): Generator<string> {
  for (let i = 0; i + n <= items.length; i++) yield items.slice(i, i + n).join(sep);
}

/** Per-order n-gram counts of one segment: character orders first, then word orders (sacreBLEU's layout). */
function ngrams(segment: string, o: Resolved): Map<string, number>[] {
  const s = o.lowercase ? segment.toLowerCase() : segment;
  const chars = Array.from(o.whitespace ? s : s.replace(PY_WHITESPACE_G, ''));
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= o.charOrder; n++) out.push(count(windows(chars, n, '')));
  if (o.wordOrder > 0) {
    const words = wordsForChrf(s);
    for (let n = 1; n <= o.wordOrder; n++) out.push(count(windows(words, n, ' ')));
  }
  return out;
}

/** sacreBLEU `_get_match_statistics`: [hypothesis count, reference count, matches]; no reference n-grams → hyp count 0. */
function matchStatistics(hyp: Map<string, number>, ref: Map<string, number>): [number, number, number] {
  let hypCount = 0;
  let matches = 0;
  for (const [g, c] of hyp) {
    hypCount += c;
    const r = ref.get(g);
    if (r !== undefined) matches += Math.min(c, r);
  }
  let refCount = 0;
  for (const c of ref.values()) refCount += c;
  return [ref.size > 0 ? hypCount : 0, refCount, matches];
}

/**
 * The F score (0–100) of flattened statistics [hyp, ref, match] × (charOrder + wordOrder), as sacreBLEU's
 * `CHRF._compute_f_score`. Corpus scores apply it to statistics summed over segments.
 */
export function chrfFromStatistics(statistics: readonly number[], options?: ChrfOptions): number {
  const o = resolve(options);
  const order = o.charOrder + o.wordOrder;
  if (statistics.length !== 3 * order) throw new RangeError(`chrF: expected ${3 * order} statistics (3 per order), got ${statistics.length}.`);
  const eps = 1e-16;
  const factor = o.beta ** 2;
  let score = 0;
  let effectiveOrder = 0;
  let avgPrec = 0;
  let avgRec = 0;
  for (let i = 0; i < order; i++) {
    const nHyp = statistics[3 * i]!;
    const nRef = statistics[3 * i + 1]!;
    const nMatch = statistics[3 * i + 2]!;
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effectiveOrder++;
    }
  }
  if (o.epsSmoothing) return (100 * score) / order;
  if (effectiveOrder === 0) return 0;
  avgPrec /= effectiveOrder;
  avgRec /= effectiveOrder;
  if (avgPrec + avgRec === 0) return 0;
  // Same operation order as sacreBLEU, so that scores agree to the last bit.
  const f = ((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec);
  return 100 * f;
}

/**
 * A segment's statistics against its reference(s): for several references, those of the one with the highest
 * F score (the first on ties). Empty references are ignored; a segment with none left is an error, as in
 * sacreBLEU ("Empty or `None` reference sentence found.").
 */
export function chrfStatistics(hypothesis: string, reference: ChrfReference, options?: ChrfOptions): number[] {
  const o = resolve(options);
  const refs = (typeof reference === 'string' ? [reference] : reference).filter((r) => r !== '');
  if (refs.length === 0) throw new RangeError('chrF: the reference is empty; chrF (like sacreBLEU) needs a non-empty reference for every segment.');
  const hyp = ngrams(hypothesis, o);
  let best: number[] = [];
  let bestF = -1;
  for (const r of refs) {
    const ref = ngrams(r, o);
    const stats = hyp.flatMap((h, i) => matchStatistics(h, ref[i]!));
    const f = chrfFromStatistics(stats, o);
    if (f > bestF) {
      best = stats;
      bestF = f;
    }
  }
  return best;
}

/** Sentence-level chrF (0–100) of `hypothesis` against `reference`: sacreBLEU `sentence_chrf` with the same options. */
export function sentenceChrf(hypothesis: string, reference: ChrfReference, options?: ChrfOptions): number {
  return chrfFromStatistics(chrfStatistics(hypothesis, reference, options), options);
}

/**
 * Corpus-level chrF (0–100): statistics summed over segments, then one F score (sacreBLEU `corpus_chrf`), which
 * is not the mean of sentence scores. `references[i]` belongs to `hypotheses[i]`.
 */
export function corpusChrf(hypotheses: readonly string[], references: readonly ChrfReference[], options?: ChrfOptions): number {
  if (hypotheses.length !== references.length) {
    throw new RangeError(`chrF: ${hypotheses.length} hypotheses but ${references.length} references; give one reference (or list) per hypothesis.`);
  }
  if (hypotheses.length === 0) throw new RangeError('chrF: the corpus is empty.');
  const o = resolve(options);
  const total = new Array<number>(3 * (o.charOrder + o.wordOrder)).fill(0);
  hypotheses.forEach((h, i) => chrfStatistics(h, references[i]!, o).forEach((x, j) => (total[j] = total[j]! + x)));
  return chrfFromStatistics(total, o);
}

/** Sentence-level chrF++: chrF with word unigrams and bigrams (sacreBLEU `CHRF(word_order=2)`). */
export function chrfPlusPlus(hypothesis: string, reference: ChrfReference, options?: ChrfOptions): number {
  return sentenceChrf(hypothesis, reference, { ...options, wordOrder: 2 });
}

/** Corpus-level chrF++. */
export function corpusChrfPlusPlus(hypotheses: readonly string[], references: readonly ChrfReference[], options?: ChrfOptions): number {
  return corpusChrf(hypotheses, references, { ...options, wordOrder: 2 });
}
