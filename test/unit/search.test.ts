/**
 * Token search (src/inference/sonar/search.ts) on toy decoders: a DecoderSession whose logits come from a
 * function of (sentence, prefix), either a hand-written probability table or seeded pseudo-random logits.
 * Exact expectations come from brute-force enumeration of every sequence (small vocabularies and lengths)
 * or from hand computation; score comparisons use 12 decimal places (float64 sums in another order).
 */
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/inference/errors.ts';
import { createRng } from '../../src/inference/rng.ts';
import { beamSearch, greedySearch, sampleSearch, type BeamOptions, type DecoderSession, type Hypothesis, type SearchOptions, type SearchStart } from '../../src/inference/sonar/search.ts';

/** Logits for `sentence` after `prefix` (generated tokens only). */
type Model = (sentence: number, prefix: readonly number[]) => number[];

interface Row {
  sentence: number;
  prefix: number[];
}

/** A DecoderSession over a Model that records every step call and checks the parents contract. */
class ToySession implements DecoderSession {
  rows: Row[];
  readonly calls: { parents: number[]; tokens: number[]; sentences: number[] }[] = [];
  constructor(
    readonly vocabSize: number,
    private readonly model: Model,
    sentences: readonly number[],
    private readonly onStep?: (call: number) => void,
  ) {
    this.rows = sentences.map((sentence) => ({ sentence, prefix: [] }));
  }
  start(extra: Partial<SearchStart> = {}): SearchStart {
    return { session: this, logits: this.logits(), sentences: this.rows.length, ...extra };
  }
  private logits(): Float32Array {
    return Float32Array.from(this.rows.flatMap((r) => this.model(r.sentence, r.prefix)));
  }
  async step(parents: Int32Array, tokens: Int32Array): Promise<Float32Array> {
    expect(parents.length).toBe(tokens.length);
    for (const p of parents) expect(p >= 0 && p < this.rows.length).toBe(true);
    this.rows = Array.from(parents, (p, j) => ({ sentence: this.rows[p]!.sentence, prefix: [...this.rows[p]!.prefix, tokens[j]!] }));
    this.calls.push({ parents: Array.from(parents), tokens: Array.from(tokens), sentences: this.rows.map((r) => r.sentence) });
    this.onStep?.(this.calls.length);
    return this.logits();
  }
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Seeded pseudo-random logits per (sentence, prefix); eos (id 0) grows likelier with length so sequences end. */
function randomModel(seed: number, vocab: number, bias: (v: number, prefix: readonly number[]) => number = () => 0): Model {
  return (sentence, prefix) => {
    let h = (2166136261 ^ seed) >>> 0;
    for (const x of [sentence, prefix.length, ...prefix]) h = Math.imul(h ^ x, 16777619) >>> 0;
    const rng = createRng(h);
    return range(vocab).map((v) => 2 * rng.normal() + (v === 0 ? 0.4 * prefix.length : 0) + bias(v, prefix));
  };
}

/** Logits ln p from a table keyed by the prefix ("" for none, "1,2" …), `fallback` elsewhere. */
function tableModel(table: Record<string, number[]>, fallback: number[]): Model {
  return (_s, prefix) => (table[prefix.join(',')] ?? fallback).map((p) => Math.log(p));
}

/** Model log-probabilities of a row, float64 over the float32 logits the session hands out (all tokens). */
function logSoftmax(logits: readonly number[]): number[] {
  const x = logits.map((v) => Math.fround(v));
  const m = Math.max(...x);
  const lse = m + Math.log(x.reduce((a, v) => a + Math.exp(v - m), 0));
  return x.map((v) => v - lse);
}

function replayLogProb(model: Model, sentence: number, tokens: readonly number[], eos: number): number {
  return [...tokens, eos].reduce((acc, tok, i) => acc + logSoftmax(model(sentence, tokens.slice(0, i)))[tok]!, 0);
}

interface Spec {
  vocab: number;
  eos: number;
  maxLength: number;
  minLength: number;
  banned: number[];
  promptLength: number;
  promptLogProb: number;
  lengthPenalty: number;
}

/** Every sequence the search may produce, with fairseq2's score, best first (the reference for beam search). */
function enumerate(model: Model, sentence: number, spec: Spec): Hypothesis[] {
  const out: Hypothesis[] = [];
  const walk = (prefix: number[], logProb: number): void => {
    const t = prefix.length;
    const logits = model(sentence, prefix).map((v) => Math.fround(v));
    const lp = logSoftmax(logits);
    const allowed = (v: number): boolean => (v === spec.eos ? t >= spec.minLength - 1 : !spec.banned.includes(v));
    const end = (finished: boolean): void => {
      const total = logProb + lp[spec.eos]!;
      const score = (spec.promptLogProb + total) / (spec.promptLength - 1 + t + 1) ** spec.lengthPenalty;
      out.push({ tokens: prefix, score, logProb: total, finished });
    };
    if (t === spec.maxLength - 1) {
      const best = range(spec.vocab).filter(allowed).reduce((b, v) => (logits[v]! > logits[b]! ? v : b));
      end(best === spec.eos);
      return;
    }
    if (allowed(spec.eos)) end(true);
    for (let v = 0; v < spec.vocab; v++) if (v !== spec.eos && allowed(v)) walk([...prefix, v], logProb + lp[v]!);
  };
  walk([], 0);
  return out.sort((a, b) => b.score - a.score);
}

function expectSameHypotheses(actual: readonly Hypothesis[], expected: readonly Hypothesis[]): void {
  expect(actual.map((h) => h.tokens)).toEqual(expected.map((h) => h.tokens));
  expect(actual.map((h) => h.finished)).toEqual(expected.map((h) => h.finished));
  actual.forEach((h, i) => {
    expect(h.score).toBeCloseTo(expected[i]!.score, 12);
    expect(h.logProb).toBeCloseTo(expected[i]!.logProb, 12);
  });
}

const base = (extra: Partial<SearchOptions> = {}): SearchOptions => ({ eos: 0, maxLength: 8, ...extra });

describe('beamSearch finds the exact optimum', () => {
  const spec: Spec = { vocab: 5, eos: 0, maxLength: 4, minLength: 2, banned: [4], promptLength: 2, promptLogProb: -0.7, lengthPenalty: 1 };
  it.each([1, 0.5, 0, 2])('with a beam wider than the tree, every sequence comes out in exact order (lengthPenalty %d)', async (lengthPenalty) => {
    const model = randomModel(7, spec.vocab);
    const session = new ToySession(spec.vocab, model, [0, 1]);
    const s = { ...spec, lengthPenalty };
    const result = await beamSearch(session.start({ promptLength: 2, promptLogProbs: [-0.7, -0.7] }), {
      eos: 0, maxLength: 4, minLength: 2, bannedTokens: [4], beamSize: 100, lengthPenalty,
    });
    // 3 first tokens, then eos or 3 tokens twice, then forced eos: 3·(1 + 3·(1 + 3)) = 39 sequences.
    for (const sentence of [0, 1]) {
      const all = enumerate(model, sentence, s);
      expect(all).toHaveLength(39);
      expectSameHypotheses(result[sentence]!, all);
    }
  });

  it('beam 5 on a larger random model returns at most 5, best first, scored by the fairseq2 formula', async () => {
    const model = randomModel(3, 40);
    const session = new ToySession(40, model, [0, 1, 2]);
    const result = await beamSearch(session.start({ promptLength: 2, promptLogProbs: [-0.3, -1.2, 0] }), { ...base({ maxLength: 12, bannedTokens: [1, 2] }), beamSize: 5, lengthPenalty: 1 });
    result.forEach((hyps, sentence) => {
      expect(hyps.length).toBeGreaterThan(0);
      expect(hyps.length).toBeLessThanOrEqual(5);
      for (let i = 1; i < hyps.length; i++) expect(hyps[i - 1]!.score).toBeGreaterThanOrEqual(hyps[i]!.score);
      for (const h of hyps) {
        expect(h.logProb).toBeCloseTo(replayLogProb(model, sentence, h.tokens, 0), 12);
        expect(h.score).toBeCloseTo(([-0.3, -1.2, 0][sentence]! + h.logProb) / (1 + h.tokens.length + 1), 12);
      }
    });
  });
});

describe('beam against greedy', () => {
  it('beam 1 is greedy', async () => {
    const model = randomModel(11, 30);
    const opts = base({ maxLength: 10, bannedTokens: [5] });
    const greedy = await greedySearch(new ToySession(30, model, [0, 1, 2, 3]).start(), opts);
    const beam = await beamSearch(new ToySession(30, model, [0, 1, 2, 3]).start(), { ...opts, beamSize: 1, lengthPenalty: 1 });
    expect(beam.map((h) => h.length)).toEqual([1, 1, 1, 1]);
    expect(beam.map((h) => h[0])).toEqual(greedy);
  });

  it('greedy is myopic where beam search is not', async () => {
    // eos 0, A 1, B 2, C 3. A is likelier first, but after B the sentence ends almost surely.
    const model = tableModel({ '': [1e-6, 0.55, 0.45 - 2e-6, 1e-6], '1': [0.25, 0.25, 0.25, 0.25], '2': [0.99, 0.005, 0.004, 0.001] }, [0.97, 0.01, 0.01, 0.01]);
    const greedy = await greedySearch(new ToySession(4, model, [0]).start(), base());
    expect(greedy[0]!.tokens).toEqual([1]); // after A all tie; ties go to the lowest id, eos
    expect(greedy[0]!.score).toBeCloseTo((Math.log(0.55) + Math.log(0.25)) / 2, 6);
    const beam = await beamSearch(new ToySession(4, model, [0]).start(), { ...base(), beamSize: 2, lengthPenalty: 1 });
    expect(beam[0]!.map((h) => h.tokens)).toEqual([[2], [1]]);
    expect(beam[0]![0]!.score).toBeCloseTo((Math.log(0.45 - 2e-6) + Math.log(0.99)) / 2, 6);
  });
});

describe('length penalty', () => {
  // Short: A eos = 0.5·0.6 over 2 tokens. Long: B C D eos = 0.4·0.9·0.9·0.9 over 4 tokens. Elsewhere eos is
  // unlikely, so that few other hypotheses end and fill the beam before B C D eos does (fairseq2's stopping rule).
  const model = tableModel(
    { '': [0.001, 0.5, 0.4, 0.0495, 0.0495], '1': [0.6, 0.1, 0.1, 0.1, 0.1], '2': [0.04, 0.02, 0.02, 0.9, 0.02], '2,3': [0.04, 0.02, 0.02, 0.02, 0.9], '2,3,4': [0.9, 0.025, 0.025, 0.025, 0.025] },
    [1e-4, 0.249975, 0.249975, 0.249975, 0.249975],
  );
  it.each([
    [0, [1], Math.log(0.5) + Math.log(0.6)],
    [1, [2, 3, 4], (Math.log(0.4) + 3 * Math.log(0.9)) / 4],
    [2, [2, 3, 4], (Math.log(0.4) + 3 * Math.log(0.9)) / 16],
  ])('lengthPenalty %d picks %j', async (lengthPenalty, tokens, score) => {
    const result = await beamSearch(new ToySession(5, model, [0]).start(), { ...base({ maxLength: 6 }), beamSize: 4, lengthPenalty });
    expect(result[0]![0]!.tokens).toEqual(tokens);
    expect(result[0]![0]!.score).toBeCloseTo(score, 6);
    const spec: Spec = { vocab: 5, eos: 0, maxLength: 6, minLength: 1, banned: [], promptLength: 1, promptLogProb: 0, lengthPenalty };
    expect(enumerate(model, 0, spec)[0]!.tokens).toEqual(tokens); // and nothing else in the tree beats it
    const thorough = await beamSearch(new ToySession(5, model, [0]).start(), { ...base({ maxLength: 6 }), beamSize: 4, lengthPenalty, earlyStopping: false });
    expect(thorough[0]![0]!.tokens).toEqual(tokens);
  });
});

describe('length limits and bans', () => {
  const eosFirst = tableModel({}, [0.7, 0.1, 0.1, 0.1]);
  it('bans eos before minLength (counted with the eos)', async () => {
    const greedy = await greedySearch(new ToySession(4, eosFirst, [0]).start(), base({ minLength: 3 }));
    expect(greedy[0]).toMatchObject({ tokens: [1, 1], finished: true });
    const beam = await beamSearch(new ToySession(4, eosFirst, [0]).start(), { ...base({ minLength: 3 }), beamSize: 3, lengthPenalty: 1 });
    for (const h of beam[0]!) expect(h.tokens.length).toBeGreaterThanOrEqual(2);
    for (const seed of range(10)) {
      const [h] = await sampleSearch(new ToySession(4, eosFirst, [0]).start(), { ...base({ minLength: 3 }), rng: createRng(seed), temperature: 1 });
      expect(h!.tokens.length).toBeGreaterThanOrEqual(2);
    }
  });

  it('forces eos at maxLength; finished tells whether the search would have chosen it', async () => {
    const neverEnds = tableModel({}, [0.01, 0.33, 0.33, 0.33]);
    const [cut] = await greedySearch(new ToySession(4, neverEnds, [0]).start(), base({ maxLength: 4 }));
    expect(cut).toMatchObject({ tokens: [1, 1, 1], finished: false });
    expect(cut!.logProb).toBeCloseTo(3 * Math.log(0.33) + Math.log(0.01), 6); // the forced eos counts
    const beam = await beamSearch(new ToySession(4, neverEnds, [0]).start(), { ...base({ maxLength: 4 }), beamSize: 2, lengthPenalty: 1 });
    expect(beam[0]!.every((h) => h.tokens.length === 3 && !h.finished)).toBe(true);
    // eos is the likeliest token when the limit forces it: a natural end.
    const [natural] = await greedySearch(new ToySession(4, eosFirst, [0]).start(), base({ minLength: 3, maxLength: 3 }));
    expect(natural).toMatchObject({ tokens: [1, 1], finished: true });
    const [sampled] = await sampleSearch(new ToySession(4, neverEnds, [0]).start(), { ...base({ maxLength: 5 }), rng: createRng(1), temperature: 1, topK: 3 });
    expect(sampled!.tokens).toHaveLength(4);
    expect(sampled!.finished).toBe(false); // top-k 3 never draws eos here
  });

  it('never generates banned tokens, and scores with the unrenormalized model log-probabilities', async () => {
    const model = randomModel(5, 12, (v) => (v === 3 || v === 4 ? 6 : 0)); // banned tokens are the likeliest
    const opts = base({ maxLength: 10, bannedTokens: [3, 4] });
    const uses = (h: Hypothesis): boolean => h.tokens.some((t) => t === 3 || t === 4);
    const [g] = await greedySearch(new ToySession(12, model, [0]).start(), opts);
    expect(uses(g!)).toBe(false);
    expect(g!.logProb).toBeCloseTo(replayLogProb(model, 0, g!.tokens, 0), 12);
    const beam = await beamSearch(new ToySession(12, model, [0]).start(), { ...opts, beamSize: 4, lengthPenalty: 1 });
    expect(beam[0]!.some(uses)).toBe(false);
    for (const seed of range(20)) {
      const [h] = await sampleSearch(new ToySession(12, model, [0]).start(), { ...opts, rng: createRng(seed), temperature: 1.5 });
      expect(uses(h!)).toBe(false);
    }
  });
});

describe('sentences and session rows', () => {
  it('greedy drops a sentence row from the session when it ends', async () => {
    // Sentence 0 says A then ends; sentence 1 says B B B then ends.
    const model: Model = (s, prefix) => (s === 0 ? (prefix.length === 0 ? [0.1, 0.9, 0] : [0.9, 0.1, 0]) : prefix.length < 3 ? [0.1, 0, 0.9] : [0.9, 0, 0.1]).map((p) => Math.log(p + 1e-9));
    const session = new ToySession(3, model, [0, 1]);
    const out = await greedySearch(session.start(), base());
    expect(out.map((h) => h.tokens)).toEqual([[1], [2, 2, 2]]);
    expect(session.calls.map((c) => [c.parents, c.tokens])).toEqual([
      [[0, 1], [1, 2]],
      [[1], [2]],
      [[0], [2]],
    ]);
  });

  it('beam search drops the rows of a finished sentence and keeps rows grouped by sentence', async () => {
    const eager = tableModel({}, [0.99, 0.0025, 0.0025, 0.0025, 0.0025]);
    const random = randomModel(2, 5);
    const model: Model = (s, prefix) => (s === 0 ? eager(s, prefix) : random(s, prefix));
    const session = new ToySession(5, model, [0, 1]);
    const out = await beamSearch(session.start(), { ...base({ maxLength: 7 }), beamSize: 2, lengthPenalty: 1 });
    expect(out[0]!.map((h) => h.tokens.length)).toEqual([0, 1]);
    expect(session.calls[0]!.sentences).toEqual([0, 0, 1, 1]);
    for (const call of session.calls.slice(1)) expect(call.sentences.every((s) => s === 1)).toBe(true);
    for (const call of session.calls) expect(call.sentences.length).toBeLessThanOrEqual(4);
    expect(session.calls.length).toBeLessThanOrEqual(6); // maxLength − 1 steps at most
  });

  it('several sentences at once give what one at a time gives', async () => {
    const model = randomModel(9, 25);
    const opts = base({ maxLength: 9, bannedTokens: [7] });
    const ids = [0, 1, 2, 3];
    const beamOpts: BeamOptions = { ...opts, beamSize: 3, lengthPenalty: 1 };
    const together = await beamSearch(new ToySession(25, model, ids).start(), beamOpts);
    const greedyTogether = await greedySearch(new ToySession(25, model, ids).start(), opts);
    for (const id of ids) {
      expect([together[id]]).toEqual(await beamSearch(new ToySession(25, model, [id]).start(), beamOpts));
      expect([greedyTogether[id]]).toEqual(await greedySearch(new ToySession(25, model, [id]).start(), opts));
    }
  });

  it('returns nothing for no sentences, without stepping', async () => {
    const session = new ToySession(4, randomModel(1, 4), []);
    expect(await beamSearch(session.start(), { ...base(), beamSize: 5, lengthPenalty: 1 })).toEqual([]);
    expect(session.calls).toHaveLength(0);
  });
});

describe('early stopping', () => {
  // eos 0, A 1, B 2: ending at once (0.5) beats A (0.4) now, but "A eos" averages better.
  const model = tableModel({ '': [0.5, 0.4, 0.1], '1': [0.99, 0.005, 0.005] }, [0.01, 0.495, 0.495]);
  it('fairseq2 stops at beamSize ended hypotheses; earlyStopping false keeps looking while a live one could win', async () => {
    const fairseq2 = await beamSearch(new ToySession(3, model, [0]).start(), { ...base({ maxLength: 10 }), beamSize: 1, lengthPenalty: 1 });
    expect(fairseq2[0]!.map((h) => h.tokens)).toEqual([[]]);
    const session = new ToySession(3, model, [0]);
    const thorough = await beamSearch(session.start(), { ...base({ maxLength: 10 }), beamSize: 1, lengthPenalty: 1, earlyStopping: false });
    expect(thorough[0]!.map((h) => h.tokens)).toEqual([[1]]);
    expect(thorough[0]![0]!.score).toBeCloseTo((Math.log(0.4) + Math.log(0.99)) / 2, 6);
    // After "A eos" the best live hypothesis is bounded by (ln .4 + ln .005) / 10 < (ln .4 + ln .99) / 2: it stops.
    expect(session.calls).toHaveLength(1);
  });

  it('earlyStopping false never ends worse than the default', async () => {
    const random = randomModel(4, 20);
    const opts: BeamOptions = { ...base({ maxLength: 8 }), beamSize: 2, lengthPenalty: 1 };
    const a = await beamSearch(new ToySession(20, random, range(6)).start(), opts);
    const b = await beamSearch(new ToySession(20, random, range(6)).start(), { ...opts, earlyStopping: false });
    a.forEach((hyps, i) => expect(b[i]![0]!.score).toBeGreaterThanOrEqual(hyps[0]!.score));
  });
});

describe('sampling', () => {
  const model = randomModel(21, 30);
  const sample = (seed: number, extra: Partial<Parameters<typeof sampleSearch>[1]> = {}): Promise<Hypothesis[]> =>
    sampleSearch(new ToySession(30, model, [0, 1, 2]).start(), { ...base({ maxLength: 10 }), rng: createRng(seed), temperature: 1, ...extra });

  it('is reproducible for a seed and varies across seeds', async () => {
    expect(await sample(42)).toEqual(await sample(42));
    const draws = await Promise.all(range(5).map((s) => sample(s)));
    expect(new Set(draws.map((d) => JSON.stringify(d.map((h) => h.tokens)))).size).toBeGreaterThan(1);
  });

  it('top-k 1 is greedy', async () => {
    const greedy = await greedySearch(new ToySession(30, model, [0, 1, 2]).start(), base({ maxLength: 10 }));
    expect(await sample(3, { topK: 1 })).toEqual(greedy);
  });

  it('draws the first token exactly as documented (one uniform, kept ids walked in increasing order)', async () => {
    // eos 0 .1, A .2, B .3, C .4; top-k 2 keeps {B, C}; top-p .6 keeps C then B; top-p .35 keeps C.
    const probs = [0.1, 0.2, 0.3, 0.4];
    const table = tableModel({}, probs);
    const cases: [Partial<Parameters<typeof sampleSearch>[1]>, number[], number][] = [
      [{}, [0, 1, 2, 3], 1],
      [{ topK: 2 }, [2, 3], 1],
      [{ topP: 0.6 }, [2, 3], 1],
      [{ topP: 0.75 }, [1, 2, 3], 1],
      [{ topP: 0.35 }, [3], 1],
      [{ temperature: 2 }, [0, 1, 2, 3], 2],
      [{ topK: 3, topP: 0.6, temperature: 0.5 }, [2, 3], 0.5], // weights ∝ p²; top-p over the top-k set, renormalized
    ];
    for (const [extra, kept, temperature] of cases) {
      for (const seed of range(40)) {
        const [h] = await sampleSearch(new ToySession(4, table, [0]).start(), { ...base({ maxLength: 2 }), rng: createRng(seed), temperature: 1, ...extra });
        const w = kept.map((v) => probs[v]! ** (1 / temperature));
        const target = createRng(seed).uniform() * w.reduce((a, b) => a + b, 0);
        let acc = 0;
        const expected = kept.find((_, i) => (acc += w[i]!) > target)!;
        expect(expected === 0 ? h!.tokens : h!.tokens[0]).toEqual(expected === 0 ? [] : expected);
      }
    }
  });

  it('respects top-k and top-p at every position', async () => {
    for (const seed of range(15)) {
      for (const [extra, inSet] of [
        [{ topK: 3 }, (lp: number[], t: number) => lp.filter((x) => x > lp[t]!).length < 3],
        [{ topP: 0.5 }, (lp: number[], t: number) => lp.filter((x) => x > lp[t]!).reduce((a, x) => a + Math.exp(x), 0) < 0.5],
      ] as const) {
        const hyps = await sample(seed, extra);
        hyps.forEach((h, s) => h.tokens.forEach((tok, i) => expect(inSet(logSoftmax(model(s, h.tokens.slice(0, i))), tok)).toBe(true)));
      }
    }
  });
});

describe('sampling with a long top-k list', () => {
  it('keeps only the k most likely tokens when k is large (sorted path, k > 256)', async () => {
    const wide = randomModel(8, 600);
    for (const seed of range(4)) {
      const [h] = await sampleSearch(new ToySession(600, wide, [0]).start(), { ...base({ maxLength: 6 }), rng: createRng(seed), temperature: 3, topK: 300 });
      h!.tokens.forEach((tok, i) => {
        const lp = logSoftmax(wide(0, h!.tokens.slice(0, i)));
        expect(lp.filter((x) => x > lp[tok]!).length).toBeLessThan(300);
      });
    }
  });
});

describe('cancellation and bad input', () => {
  const model = randomModel(1, 6);
  it('throws the signal reason before stepping when already aborted', async () => {
    const reason = new Error('stop now');
    const ac = new AbortController();
    ac.abort(reason);
    for (const run of [
      (s: SearchStart) => greedySearch(s, base({ signal: ac.signal })),
      (s: SearchStart) => beamSearch(s, { ...base({ signal: ac.signal }), beamSize: 2, lengthPenalty: 1 }),
      (s: SearchStart) => sampleSearch(s, { ...base({ signal: ac.signal }), rng: createRng(1), temperature: 1 }),
    ]) {
      const session = new ToySession(6, model, [0]);
      await expect(run(session.start())).rejects.toBe(reason);
      expect(session.calls).toHaveLength(0);
    }
  });

  it('stops before the next step when aborted during one (AbortError)', async () => {
    const ac = new AbortController();
    const neverEnds = tableModel({}, [1e-6, 0.5, 0.5 - 1e-6]);
    const session = new ToySession(3, neverEnds, [0], (call) => call === 2 && ac.abort());
    await expect(beamSearch(session.start(), { ...base({ maxLength: 50, signal: ac.signal }), beamSize: 2, lengthPenalty: 1 })).rejects.toMatchObject({ name: 'AbortError' });
    expect(session.calls).toHaveLength(2);
  });

  it('refuses bad options with RangeErrors that name the option', async () => {
    const start = (): SearchStart => new ToySession(6, model, [0]).start();
    const beam = { ...base(), beamSize: 2, lengthPenalty: 1 };
    const sampleOpts = { ...base(), rng: createRng(1), temperature: 1 };
    const bad: [() => Promise<unknown>, RegExp][] = [
      [() => greedySearch(start(), base({ maxLength: 0 })), /maxLength/],
      [() => greedySearch(start(), base({ minLength: 9 })), /minLength/],
      [() => greedySearch(start(), base({ eos: 6 })), /eos must be/],
      [() => greedySearch(start(), base({ bannedTokens: [0] })), /cannot be banned/],
      [() => greedySearch(start(), base({ bannedTokens: [17] })), /banned token 17/],
      [() => greedySearch(start(), base({ minLength: 2, bannedTokens: [1, 2, 3, 4, 5] })), /every other token is banned/],
      [() => greedySearch({ ...start(), logits: new Float32Array(5) }, base()), /start.logits has 5/],
      [() => greedySearch({ ...start(), promptLogProbs: [0, 0] }, base()), /promptLogProbs/],
      [() => greedySearch({ ...start(), promptLength: 0 }, base()), /promptLength/],
      [() => beamSearch(start(), { ...beam, beamSize: 0 }), /beamSize/],
      [() => beamSearch(start(), { ...beam, lengthPenalty: Number.NaN }), /lengthPenalty/],
      [() => sampleSearch(start(), { ...sampleOpts, temperature: 0 }), /temperature/],
      [() => sampleSearch(start(), { ...sampleOpts, topK: 0 }), /topK/],
      [() => sampleSearch(start(), { ...sampleOpts, topP: 1.5 }), /topP/],
      [() => sampleSearch(start(), { ...sampleOpts, topP: 0 }), /topP/],
    ];
    for (const [run, message] of bad) {
      const error = await run().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RangeError);
      expect((error as RangeError).message).toMatch(message);
    }
  });

  it('reports NaN or all −∞ logits and a session that returns the wrong number of logits', async () => {
    const nan: Model = (_s, prefix) => (prefix.length === 2 ? [0, Number.NaN, 0] : [-5, 0, 0]);
    await expect(greedySearch(new ToySession(3, nan, [0]).start(), base())).rejects.toThrow(/non-finite logit \(NaN\) at new position 2/);
    const dead: Model = () => [-Infinity, -Infinity, -Infinity];
    await expect(beamSearch(new ToySession(3, dead, [0]).start(), { ...base(), beamSize: 2, lengthPenalty: 1 })).rejects.toThrow(/all logits −∞/);
    const short: DecoderSession = { vocabSize: 3, step: async () => new Float32Array(2) };
    const err = await greedySearch({ session: short, logits: Float32Array.from([-5, 0, 0]), sentences: 1 }, base()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('INFERENCE_FAILED');
  });
});
