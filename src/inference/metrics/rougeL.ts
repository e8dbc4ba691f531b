/**
 * ROUGE-L (Lin 2004, "ROUGE: A Package for Automatic Evaluation of Summaries", §3) exactly as Google's
 * `rouge_score` computes it (rouge/rouge_scorer.py): `rougeL` is the longest common subsequence of the two token
 * sequences, P = LCS/|prediction|, R = LCS/|target|, F = 2PR/(P+R); `rougeLsum` is the summary-level variant (§3.2):
 * texts split into sentences on newlines, each reference sentence's union LCS with all candidate sentences, hits
 * counted without double counting as ROUGE-1.5.5 does. No stemming (rouge_score's default `use_stemmer=False`).
 *
 * Argument order is (hypothesis, reference) like every metric here; rouge_score's `score(target, prediction)` takes
 * them the other way round.
 */
import { rougeTokens, type RougeTokenizer } from './tokens.ts';

/** Precision, recall and F-measure, each in [0, 1] (rouge_score `Score`). */
export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

export interface RougeOptions {
  /** Default `multilingual`; `standard` is rouge_score's ASCII tokenizer (see tokens.ts). */
  tokenizer?: RougeTokenizer;
}

const ZERO: RougeScore = { precision: 0, recall: 0, fmeasure: 0 };

/** rouge_score `scoring.fmeasure`. */
function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

/** Length of the longest common subsequence (two rows of the DP table: O(|a|·|b|) time, O(|b|) memory). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/** rouge_score `_lcs_table`: (|ref|+1) × (|can|+1), row-major. */
function lcsTable(ref: readonly string[], can: readonly string[]): Int32Array {
  const cols = can.length + 1;
  const t = new Int32Array((ref.length + 1) * cols);
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= can.length; j++) {
      t[i * cols + j] = ref[i - 1] === can[j - 1] ? t[(i - 1) * cols + j - 1]! + 1 : Math.max(t[(i - 1) * cols + j]!, t[i * cols + j - 1]!);
    }
  }
  return t;
}

/**
 * Indices into `ref` of one longest common subsequence, chosen as rouge_score's `_backtrack_norec` does (on a tie it
 * moves up, i.e. drops the reference token): the union LCS depends on this choice, so it is copied exactly.
 */
export function lcsIndices(ref: readonly string[], can: readonly string[]): number[] {
  const t = lcsTable(ref, can);
  const cols = can.length + 1;
  const out: number[] = [];
  let i = ref.length;
  let j = can.length;
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      out.push(i - 1);
      i--;
      j--;
    } else if (t[i * cols + j - 1]! > t[(i - 1) * cols + j]!) j--;
    else i--;
  }
  return out.reverse();
}

/** rouge_score `_union_lcs`: the tokens of `ref` in the union of its LCS with each candidate sentence, in order. */
export function unionLcs(ref: readonly string[], candidates: readonly (readonly string[])[]): string[] {
  const union = new Set<number>();
  for (const c of candidates) for (const i of lcsIndices(ref, c)) union.add(i);
  return [...union].sort((a, b) => a - b).map((i) => ref[i]!);
}

/** Sentence-level ROUGE-L of token sequences (rouge_score `_score_lcs`); either side empty → all zero. */
export function rougeLTokens(hypothesis: readonly string[], reference: readonly string[]): RougeScore {
  if (hypothesis.length === 0 || reference.length === 0) return { ...ZERO };
  const lcs = lcsLength(reference, hypothesis);
  const precision = lcs / hypothesis.length;
  const recall = lcs / reference.length;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** Summary-level ROUGE-L of tokenized sentences (rouge_score `_summary_level_lcs`). */
export function rougeLsumTokens(hypothesis: readonly (readonly string[])[], reference: readonly (readonly string[])[]): RougeScore {
  if (hypothesis.length === 0 || reference.length === 0) return { ...ZERO };
  const m = reference.reduce((s, x) => s + x.length, 0);
  const n = hypothesis.reduce((s, x) => s + x.length, 0);
  if (m === 0 || n === 0) return { ...ZERO };
  // Token budgets prevent double counting a token that several union LCSs share (as ROUGE-1.5.5).
  const countsR = new Map<string, number>();
  const countsC = new Map<string, number>();
  for (const s of reference) for (const t of s) countsR.set(t, (countsR.get(t) ?? 0) + 1);
  for (const s of hypothesis) for (const t of s) countsC.set(t, (countsC.get(t) ?? 0) + 1);
  let hits = 0;
  for (const r of reference) {
    for (const t of unionLcs(r, hypothesis)) {
      const c = countsC.get(t) ?? 0;
      const rr = countsR.get(t) ?? 0;
      if (c > 0 && rr > 0) {
        hits++;
        countsC.set(t, c - 1);
        countsR.set(t, rr - 1);
      }
    }
  }
  const recall = hits / m;
  const precision = hits / n;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** ROUGE-L (`rougeL`) of two texts, sentence level: the whole text is one token sequence. */
export function rougeL(hypothesis: string, reference: string, options: RougeOptions = {}): RougeScore {
  return rougeLTokens(rougeTokens(hypothesis, options.tokenizer), rougeTokens(reference, options.tokenizer));
}

/** rouge_score's sentence split for rougeLsum: lines, empty ones dropped. */
function lines(text: string): string[] {
  return text.split('\n').filter((s) => s.length > 0);
}

/**
 * ROUGE-Lsum (`rougeLsum`): summary-level ROUGE-L, one sentence per line in both texts. Use it for multi-sentence
 * outputs (join concepts with "\n"); for single sentences it equals {@link rougeL}.
 */
export function rougeLsum(hypothesis: string, reference: string, options: RougeOptions = {}): RougeScore {
  const tok = (t: string) => lines(t).map((s) => rougeTokens(s, options.tokenizer));
  return rougeLsumTokens(tok(hypothesis), tok(reference));
}
