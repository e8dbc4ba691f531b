/**
 * Token search for the SONAR decoder: greedy, beam search with a length
 * penalty, and sampling (temperature, top-k, top-p). The decoder is hidden
 * behind `DecoderSession`, so these run on the ONNX decoder (decoder.ts) and
 * on toy models in tests alike.
 *
 * The rules follow fairseq2's `BeamSearchSeq2SeqGenerator`, SONAR's default
 * generator (fairseq2 src/fairseq2/generation/_beam_search/_generator.py);
 * docs/decoding.md gives the formulas and every place where this differs.
 */
import { EngineError } from '../errors.ts';
import type { Rng } from '../rng.ts';

/** Incremental decoder state over `rows` hypotheses (the ONNX decoder with a key/value cache implements it). */
export interface DecoderSession {
  readonly vocabSize: number;
  /**
   * Rebuilds the cached state as rows `parents[j]` of the previous state (rows may be copied, dropped, reordered;
   * parents.length becomes the new row count), then feeds `tokens[j]` to row j; returns the next-token logits,
   * rows × vocabSize, row-major.
   */
  step(parents: Int32Array, tokens: Int32Array): Promise<Float32Array>;
}

export interface SearchStart {
  session: DecoderSession;
  /** Logits after the prompt, one row per sentence (row i of the session is sentence i). */
  logits: Float32Array;
  sentences: number;
  /**
   * Tokens in the decoder prompt (SONAR: 2, `</s> __lang__`). fairseq2 divides a hypothesis's score by the
   * whole sequence length minus one, prompt included, so pass 2 to rank exactly as SONAR does. Default 1:
   * the length is the generated tokens alone.
   */
  promptLength?: number;
  /**
   * Per sentence, the summed log-probability of the prompt tokens after the first (SONAR: log P(lang tag | </s>)),
   * which fairseq2 counts in every hypothesis's score. Default 0.
   */
  promptLogProbs?: ArrayLike<number>;
}

export interface SearchOptions {
  eos: number;
  /** New tokens at most, eos included (fairseq2's max_gen_len). The token at this position is forced to eos. */
  maxLength: number;
  /** New tokens at least, eos included (fairseq2's min_gen_len, default 1: an empty output is allowed). */
  minLength?: number;
  /** Never generated: pad, bos, language tags… (eos cannot be banned; use minLength). */
  bannedTokens?: readonly number[];
  signal?: AbortSignal;
}

export interface BeamOptions extends SearchOptions {
  /** Hypotheses kept per sentence (SONAR reference: 5). */
  beamSize: number;
  /** Exponent of the length in the score's denominator (reference: 1; 0 = raw log-probability). */
  lengthPenalty: number;
  /**
   * true (default, fairseq2): a sentence stops as soon as `beamSize` hypotheses have ended.
   * false: it goes on while a live hypothesis could still beat the worst of the `beamSize` best ended ones.
   */
  earlyStopping?: boolean;
}

export interface SampleOptions extends SearchOptions {
  rng: Rng;
  /** Logits are divided by it before sampling; > 0 (use greedySearch for 0). */
  temperature: number;
  /** Sample among the k most likely allowed tokens only. */
  topK?: number;
  /** Nucleus: sample among the fewest most likely tokens whose probability reaches p, 0 < p ≤ 1. */
  topP?: number;
}

export interface Hypothesis {
  /** Generated ids, without prompt and without eos. */
  tokens: number[];
  /** (promptLogProb + logProb) / (promptLength − 1 + tokens.length + 1) ** lengthPenalty; greedy and sampling use penalty 1. */
  score: number;
  /** Sum of the model's log-probabilities (temperature 1, before bans) of the tokens and the final eos, forced or not. */
  logProb: number;
  /**
   * false only when the hypothesis reached maxLength and its eos was forced although the search would have
   * picked another token there (greedy and beam: eos was not the row's most likely allowed token; sampling:
   * the draw was not eos).
   */
  finished: boolean;
}

interface Setup {
  vocab: number;
  eos: number;
  maxLength: number;
  minLength: number;
  /** 1 = may be generated at the current position; allowed[eos] follows minLength. */
  allowed: Uint8Array;
  promptLength: number;
  promptLogProbs: Float64Array;
}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

function setup(start: SearchStart, opts: SearchOptions, fn: string): Setup {
  const vocab = start.session?.vocabSize;
  if (!isInt(vocab) || vocab < 1) throw new RangeError(`${fn}: session.vocabSize must be a positive integer, got ${String(vocab)}.`);
  if (!isInt(start.sentences) || start.sentences < 0) throw new RangeError(`${fn}: sentences must be an integer ≥ 0, got ${String(start.sentences)}.`);
  if (start.logits.length !== start.sentences * vocab) {
    throw new RangeError(`${fn}: start.logits has ${start.logits.length} values; expected sentences × vocabSize = ${start.sentences} × ${vocab}.`);
  }
  const { eos, maxLength } = opts;
  const minLength = opts.minLength ?? 1;
  if (!isInt(eos) || eos < 0 || eos >= vocab) throw new RangeError(`${fn}: eos must be a token id from 0 to ${vocab - 1}, got ${String(eos)}.`);
  if (!isInt(maxLength) || maxLength < 1) throw new RangeError(`${fn}: maxLength must be an integer ≥ 1 (new tokens, eos included), got ${String(maxLength)}.`);
  if (!isInt(minLength) || minLength < 1 || minLength > maxLength) {
    throw new RangeError(`${fn}: minLength must be an integer from 1 to maxLength (${maxLength}), got ${String(minLength)}.`);
  }
  const allowed = new Uint8Array(vocab).fill(1);
  for (const t of opts.bannedTokens ?? []) {
    if (!isInt(t) || t < 0 || t >= vocab) throw new RangeError(`${fn}: banned token ${String(t)} is not an id from 0 to ${vocab - 1}.`);
    if (t === eos) throw new RangeError(`${fn}: eos (${eos}) cannot be banned; use minLength to delay it.`);
    allowed[t] = 0;
  }
  if (minLength > 1 && allowed.reduce((n, a) => n + a, 0) < 2) {
    throw new RangeError(`${fn}: minLength ${minLength} needs a token other than eos, but every other token is banned.`);
  }
  const promptLength = start.promptLength ?? 1;
  if (!isInt(promptLength) || promptLength < 1) throw new RangeError(`${fn}: promptLength must be an integer ≥ 1, got ${String(promptLength)}.`);
  const promptLogProbs = new Float64Array(start.sentences);
  if (start.promptLogProbs !== undefined) {
    if (start.promptLogProbs.length !== start.sentences) {
      throw new RangeError(`${fn}: promptLogProbs has ${start.promptLogProbs.length} values for ${start.sentences} sentences.`);
    }
    for (let i = 0; i < start.sentences; i++) {
      const p = start.promptLogProbs[i]!;
      if (!(p <= 0) || !Number.isFinite(p)) throw new RangeError(`${fn}: promptLogProbs[${i}] must be a finite log-probability ≤ 0, got ${String(p)}.`);
      promptLogProbs[i] = p;
    }
  }
  return { vocab, eos, maxLength, minLength, allowed, promptLength, promptLogProbs };
}

/** Sets which tokens position `t` (0-based, among new tokens) allows; true when only eos is allowed (the last one). */
function enterPosition(s: Setup, t: number, signal: AbortSignal | undefined): boolean {
  signal?.throwIfAborted();
  // fairseq2 bans eos while step_nr < min_seq_len − 1, i.e. at new positions t < minLength − 1.
  s.allowed[s.eos] = t >= s.minLength - 1 ? 1 : 0;
  return t === s.maxLength - 1;
}

/** log Σ exp over the whole row, in float64 (fairseq2 normalizes over the full vocabulary, bans come after). */
function logSumExp(logits: Float32Array, row: number, vocab: number, t: number): number {
  const o = row * vocab;
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) {
    const x = logits[o + v]!;
    if (Number.isNaN(x) || x === Infinity) {
      throw new EngineError('INFERENCE_FAILED', `The decoder produced a non-finite logit (${x}) at new position ${t}, row ${row}, token ${v}; decoding cannot continue. Check the model pack's decoder.`);
    }
    if (x > max) max = x;
  }
  if (max === -Infinity) {
    throw new EngineError('INFERENCE_FAILED', `The decoder gave every token probability 0 (all logits −∞) at new position ${t}, row ${row}; decoding cannot continue.`);
  }
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(logits[o + v]! - max);
  return max + Math.log(sum);
}

/** The allowed token with the highest logit (ties → lowest id). */
function argmaxAllowed(logits: Float32Array, row: number, s: Setup): number {
  const o = row * s.vocab;
  let best = -1;
  let bestX = -Infinity;
  for (let v = 0; v < s.vocab; v++) {
    if (s.allowed[v] === 0) continue;
    const x = logits[o + v]!;
    if (best < 0 || x > bestX) {
      best = v;
      bestX = x;
    }
  }
  return best;
}

function makeHypothesis(s: Setup, sentence: number, tokens: number[], logProb: number, lengthPenalty: number, finished: boolean): Hypothesis {
  const length = s.promptLength - 1 + tokens.length + 1;
  return { tokens, score: (s.promptLogProbs[sentence]! + logProb) / length ** lengthPenalty, logProb, finished };
}

async function advance(session: DecoderSession, parents: number[], tokens: number[], vocab: number, t: number): Promise<Float32Array> {
  const logits = await session.step(Int32Array.from(parents), Int32Array.from(tokens));
  if (logits.length !== parents.length * vocab) {
    throw new EngineError('INFERENCE_FAILED', `DecoderSession.step returned ${logits.length} logits after new position ${t}; expected ${parents.length} rows × ${vocab}.`);
  }
  return logits;
}

/**
 * The `cap` best (score, a, b) triples pushed, best first. Among equal scores the one pushed first ranks first,
 * so pushing in increasing index order breaks ties toward the lowest index (torch.topk leaves ties unspecified).
 */
class TopList {
  readonly score: Float64Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
  size = 0;
  constructor(readonly cap: number) {
    this.score = new Float64Array(cap);
    this.a = new Int32Array(cap);
    this.b = new Int32Array(cap);
  }
  /** Lowest score that would still enter the list. */
  get floor(): number {
    return this.size < this.cap ? -Infinity : this.score[this.size - 1]!;
  }
  push(score: number, a: number, b: number): void {
    if (this.size === this.cap && !(score > this.score[this.size - 1]!)) return;
    let i = this.size < this.cap ? this.size++ : this.size - 1;
    for (; i > 0 && score > this.score[i - 1]!; i--) {
      this.score[i] = this.score[i - 1]!;
      this.a[i] = this.a[i - 1]!;
      this.b[i] = this.b[i - 1]!;
    }
    this.score[i] = score;
    this.a[i] = a;
    this.b[i] = b;
  }
}

/** Argmax decoding: one row per sentence, dropped from the session when its sentence ends. */
export async function greedySearch(start: SearchStart, opts: SearchOptions): Promise<Hypothesis[]> {
  const s = setup(start, opts, 'greedySearch');
  return runSingle(start, s, opts.signal, (logits, row) => argmaxAllowed(logits, row, s));
}

/**
 * Sampling with a seeded Rng: logits / temperature, bans, then top-k, then top-p over what is left, renormalized.
 * Exactly one `rng.uniform()` per live row per position, rows in sentence order (docs/decoding.md).
 */
export async function sampleSearch(start: SearchStart, opts: SampleOptions): Promise<Hypothesis[]> {
  const s = setup(start, opts, 'sampleSearch');
  const { rng, temperature, topK, topP = 1 } = opts;
  if (typeof rng?.uniform !== 'function') throw new TypeError('sampleSearch: rng must be a seeded Rng (createRng(seed) from src/inference/rng.ts).');
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new RangeError(`sampleSearch: temperature must be a finite number > 0 (use greedySearch for 0), got ${String(temperature)}.`);
  if (topK !== undefined && (!isInt(topK) || topK < 1)) throw new RangeError(`sampleSearch: topK must be an integer ≥ 1, got ${String(topK)}.`);
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`sampleSearch: topP must be in (0, 1], got ${String(topP)}.`);
  const weights = new Float64Array(s.vocab);
  return runSingle(start, s, opts.signal, (logits, row) => drawToken(logits, row, s, rng.uniform(), temperature, topK, topP, weights));
}

/** Greedy and sampling share this loop; `choose` picks the token at a position under the current bans. */
async function runSingle(start: SearchStart, s: Setup, signal: AbortSignal | undefined, choose: (logits: Float32Array, row: number) => number): Promise<Hypothesis[]> {
  const out: Hypothesis[] = new Array<Hypothesis>(start.sentences);
  let rows = Array.from({ length: start.sentences }, (_, i) => i); // sentence of each session row
  const tokens = rows.map((): number[] => []);
  const logProbs = new Float64Array(start.sentences);
  let logits = start.logits;
  for (let t = 0; rows.length > 0; t++) {
    const forced = enterPosition(s, t, signal);
    const parents: number[] = [];
    const next: number[] = [];
    for (let r = 0; r < rows.length; r++) {
      const sentence = rows[r]!;
      const lse = logSumExp(logits, r, s.vocab, t);
      const choice = choose(logits, r);
      const token = forced ? s.eos : choice;
      // (sum − lse) + logit, the same order as beam search, so that beam 1 reproduces greedy to the bit.
      logProbs[sentence] = logProbs[sentence]! - lse + logits[r * s.vocab + token]!;
      if (token === s.eos) {
        out[sentence] = makeHypothesis(s, sentence, tokens[sentence]!, logProbs[sentence]!, 1, choice === s.eos);
      } else {
        tokens[sentence]!.push(token);
        parents.push(r);
        next.push(token);
      }
    }
    if (parents.length === 0) break;
    logits = await advance(start.session, parents, next, s.vocab, t);
    rows = parents.map((r) => rows[r]!);
  }
  return out;
}

/** One draw from the row's truncated, tempered distribution; `u` is the row's uniform. */
function drawToken(logits: Float32Array, row: number, s: Setup, u: number, temperature: number, topK: number | undefined, topP: number, w: Float64Array): number {
  const o = row * s.vocab;
  let max = -Infinity;
  let first = -1;
  for (let v = 0; v < s.vocab; v++) {
    if (s.allowed[v] === 0) continue;
    if (first < 0) first = v;
    if (logits[o + v]! > max) max = logits[o + v]!;
  }
  if (max === -Infinity) return first; // every allowed token has probability 0: nothing to draw from
  let total = 0;
  let count = 0;
  for (let v = 0; v < s.vocab; v++) {
    w[v] = s.allowed[v] === 0 ? 0 : Math.exp((logits[o + v]! - max) / temperature);
    total += w[v]!;
    if (w[v]! > 0) count++;
  }
  let kept: number[] | undefined; // candidate ids, most likely first (ties → lower id); undefined = all allowed
  if (topK !== undefined && topK < count) {
    if (topK > 256) {
      // A long list is cheaper to sort once than to insert into.
      kept = sortedHead(w, Infinity).slice(0, topK);
    } else {
      const top = new TopList(topK);
      for (let v = 0; v < s.vocab; v++) if (w[v]! > 0 && w[v]! > top.floor) top.push(w[v]!, v, 0);
      kept = Array.from(top.a.subarray(0, top.size));
    }
  }
  if (topP < 1) {
    const need = topP * (kept ? kept.reduce((acc, v) => acc + w[v]!, 0) : total);
    const pool = kept ?? sortedHead(w, need);
    let acc = 0;
    let n = 0;
    while (n < pool.length && acc < need) acc += w[pool[n++]!]!; // keep while the mass before a token is < p
    kept = pool.slice(0, n);
  }
  // The draw walks the kept ids in increasing id order, so it does not depend on how they were ranked.
  const ids = kept ? kept.sort((x, y) => x - y) : undefined;
  const sum = ids ? ids.reduce((acc, v) => acc + w[v]!, 0) : total;
  const target = u * sum;
  let acc = 0;
  let last = first;
  const n = ids ? ids.length : s.vocab;
  for (let i = 0; i < n; i++) {
    const v = ids ? ids[i]! : i;
    if (w[v]! === 0) continue;
    acc += w[v]!;
    last = v;
    if (acc > target) return v;
  }
  return last; // u·sum rounded up to the full sum
}

/**
 * The ids that hold the first `need` of the mass, and more, sorted by weight (desc, ties → lower id). Tokens
 * of weight ≥ 1e-4 × the largest usually suffice; ids left out weigh less than every id kept, so the head of
 * the full ranking is exact without sorting the whole vocabulary. Otherwise every id with weight > 0 is sorted.
 */
function sortedHead(w: Float64Array, need: number): number[] {
  for (const tau of [1e-4, 0]) {
    const ids: number[] = [];
    let sum = 0;
    for (let v = 0; v < w.length; v++) {
      if (w[v]! > tau) {
        ids.push(v);
        sum += w[v]!;
      }
    }
    if (sum >= need || tau === 0) return ids.sort((x, y) => w[y]! - w[x]! || x - y);
  }
  return [];
}

/**
 * fairseq2's standard beam search. Per sentence and position: the best 2·beamSize (row, token) candidates by
 * cumulative log-probability; eos candidates among the first beamSize end (score normalized by length), the
 * first beamSize others continue. Sentences end independently and their rows leave the session.
 * Returns per sentence the ended hypotheses, best first (at most beamSize).
 */
export async function beamSearch(start: SearchStart, opts: BeamOptions): Promise<Hypothesis[][]> {
  const s = setup(start, opts, 'beamSearch');
  const { beamSize: k, lengthPenalty: lp, earlyStopping = true } = opts;
  if (!isInt(k) || k < 1) throw new RangeError(`beamSearch: beamSize must be an integer ≥ 1 (reference: 5), got ${String(k)}.`);
  if (typeof lp !== 'number' || !Number.isFinite(lp)) throw new RangeError(`beamSearch: lengthPenalty must be a finite number (reference: 1), got ${String(lp)}.`);
  interface Live {
    sentence: number;
    tokens: number[];
    logProb: number;
  }
  const ended: Hypothesis[][] = Array.from({ length: start.sentences }, () => []);
  let live: Live[] = ended.map((_, sentence) => ({ sentence, tokens: [], logProb: 0 }));
  let logits = start.logits;
  const top = new TopList(2 * k);
  for (let t = 0; live.length > 0; t++) {
    const forced = enterPosition(s, t, opts.signal);
    const lse = live.map((_, r) => logSumExp(logits, r, s.vocab, t));
    const nextLive: Live[] = [];
    const parents: number[] = [];
    for (let a = 0, b = 0; a < live.length; a = b) {
      const sentence = live[a]!.sentence;
      while (b < live.length && live[b]!.sentence === sentence) b++;
      top.size = 0;
      for (let r = a; r < b; r++) {
        const base = live[r]!.logProb - lse[r]!;
        const o = r * s.vocab;
        if (forced) {
          top.push(base + logits[o + s.eos]!, r, s.eos); // even at −∞, so that every sentence ends with a hypothesis
          continue;
        }
        let floor = top.floor;
        for (let v = 0; v < s.vocab; v++) {
          const x = logits[o + v]!;
          // −∞ candidates are skipped: fairseq2 would carry them as dead rows that can never win.
          if (base + x > floor && s.allowed[v] === 1 && x !== -Infinity) {
            top.push(base + x, r, v);
            floor = top.floor;
          }
        }
      }
      const list = ended[sentence]!;
      let done = forced;
      const continuing: number[] = [];
      for (let i = 0; i < top.size; i++) {
        const r = top.a[i]!;
        const v = top.b[i]!;
        if (v !== s.eos) {
          if (continuing.length < k) continuing.push(i);
        } else if (i < k && !(earlyStopping && list.length >= k)) {
          // fairseq2 only ends eos candidates ranked among the first beamSize; the others are dropped.
          const free = !forced || argmaxAllowed(logits, r, s) === s.eos;
          list.push(makeHypothesis(s, sentence, live[r]!.tokens, top.score[i]!, lp, free));
        }
      }
      if (earlyStopping && list.length >= k) done = true;
      if (!done && !earlyStopping) done = !canImprove(s, sentence, list, continuing.map((i) => top.score[i]!), live[a]!.tokens.length + 1, k, lp);
      if (done) continue;
      for (const i of continuing) {
        const r = top.a[i]!;
        nextLive.push({ sentence, tokens: [...live[r]!.tokens, top.b[i]!], logProb: top.score[i]! });
        parents.push(r);
      }
    }
    if (nextLive.length === 0) break;
    logits = await advance(start.session, parents, nextLive.map((h) => h.tokens[h.tokens.length - 1]!), s.vocab, t);
    live = nextLive;
  }
  // Stable sort: equal scores keep the order they ended in, as Python's sort in fairseq2.
  return ended.map((list) => list.sort((x, y) => y.score - x.score).slice(0, k));
}

/**
 * earlyStopping = false: can a live hypothesis (cumulative log-probability `cum`, `n` tokens) still end above
 * the k-th best ended score? Later tokens add log-probabilities ≤ 0, so its best final score is
 * (prompt + cum) / L^lp for a final length L between n + 1 and maxLength, largest at one of the two ends.
 */
function canImprove(s: Setup, sentence: number, list: Hypothesis[], liveCums: number[], n: number, k: number, lp: number): boolean {
  if (liveCums.length === 0) return false;
  if (list.length < k) return true;
  const kth = list.map((h) => h.score).sort((x, y) => y - x)[k - 1]!;
  const lengths = [s.promptLength - 1 + n + 1, s.promptLength - 1 + s.maxLength];
  return liveCums.some((cum) => lengths.some((len) => (s.promptLogProbs[sentence]! + cum) / len ** lp > kth));
}
