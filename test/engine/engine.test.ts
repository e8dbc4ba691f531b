/**
 * ConceptEngine, the writer's operations, on the fixture pack: the full stack
 * equals the PyTorch reference for a seed, same seed → same output, streaming,
 * progress, cancellation, and clear errors for bad input. The fixture's
 * weights are random, so texts are gibberish: tests check structure and
 * determinism, never wording.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConceptEngine, joinSentences, type GeneratedConcept, type Progress, type StreamResult } from '../../src/inference/engine.ts';
import { EngineError, isCancellation } from '../../src/inference/errors.ts';
import { expectClose, fixture, TINY_PACK } from '../helpers/fixtures.ts';

let engine: ConceptEngine;
beforeAll(async () => {
  engine = await ConceptEngine.open(TINY_PACK);
});
afterAll(async () => {
  await engine.close();
});

async function collect(stream: AsyncGenerator<GeneratedConcept, StreamResult>): Promise<{ concepts: GeneratedConcept[]; result: StreamResult }> {
  const concepts: GeneratedConcept[] = [];
  for (;;) {
    const next = await stream.next();
    if (next.done) return { concepts, result: next.value };
    concepts.push(next.value);
  }
}

const doc = [
  { text: 'The old lighthouse stood at the edge of the cliff.', lang: 'eng_Latn' },
  { text: 'Every night its lamp swept across the dark water.', lang: 'eng_Latn' },
  { text: 'Sailors trusted it to guide them home.', lang: 'eng_Latn' },
];

async function expectEngineError(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(EngineError);
  expect((error as EngineError).code).toBe(code);
  expect((error as Error).message).toMatch(message);
}

describe('generation', () => {
  it('continue = the PyTorch reference run for seed 7 (text in, vectors out), decoded one by one', async () => {
    const ref = fixture<{ promptTexts: string[]; runs: { name: string; vectors: number[][]; eotCosines: number[] }[] }>('reference/tiny/sampler.json');
    const run = ref.runs.find((r) => r.name === 'defaults')!;
    expect(Math.max(...run.eotCosines)).toBeLessThan(0.9); // the pack's end-of-text rule does not fire in this run
    expect(ref.promptTexts).toEqual(doc.map((d) => d.text));
    const { concepts, result } = await collect(engine.continue(doc, { seed: 7, count: 3 }));
    expect(result).toEqual({ seed: 7, stop: 'max-concepts' });
    expect(concepts.map((c) => c.index)).toEqual([0, 1, 2]);
    concepts.forEach((c, i) => {
      expectClose(c.embedding, run.vectors[i]!, 1e-4, `concept ${i}`);
      expect(c.lang).toBe('eng_Latn');
      expect(c.text.length).toBeGreaterThan(0);
    });
  });

  it('the same seed gives the same concepts; another seed gives others', async () => {
    const a = await collect(engine.continue(doc, { seed: 42, count: 2 }));
    const b = await collect(engine.continue(doc, { seed: 42, count: 2 }));
    const c = await collect(engine.continue(doc, { seed: 43, count: 2 }));
    expect(b.concepts.map((x) => x.text)).toEqual(a.concepts.map((x) => x.text));
    expect(b.concepts.map((x) => Array.from(x.embedding))).toEqual(a.concepts.map((x) => Array.from(x.embedding)));
    expect(c.concepts.map((x) => Array.from(x.embedding))).not.toEqual(a.concepts.map((x) => Array.from(x.embedding)));
  });

  it('without a seed, one is drawn and reported, and reproduces the run', async () => {
    const a = await collect(engine.continue(doc, { count: 1 }));
    const b = await collect(engine.continue(doc, { count: 1, seed: a.result.seed }));
    expect(b.concepts[0]!.text).toBe(a.concepts[0]!.text);
  });

  it('reports progress for every denoising step of every concept', async () => {
    const events: Progress[] = [];
    await collect(engine.continue(doc, { seed: 1, count: 2, sampling: { inferenceSteps: 10 }, onProgress: (p) => events.push(p) }));
    // 10 of T=100 with the reference's integer stride: 10 steps per concept.
    expect(events.length).toBe(20);
    expect(events[0]).toEqual({ operation: 'continue', concept: 0, concepts: 2, step: 1, steps: 10 });
    expect(events.at(-1)).toEqual({ operation: 'continue', concept: 1, concepts: 2, step: 10, steps: 10 });
  });

  it('cancels between concepts and during denoising, keeping what was already streamed', async () => {
    const controller = new AbortController();
    const got: GeneratedConcept[] = [];
    const stream = engine.continue(doc, { seed: 3, count: 5, signal: controller.signal });
    const error = await (async () => {
      for await (const concept of stream) {
        got.push(concept);
        controller.abort();
      }
    })().then(() => undefined, (e: unknown) => e);
    expect(isCancellation(error)).toBe(true);
    expect(got.length).toBe(1);

    const mid = new AbortController();
    const failed = await collect(engine.continue(doc, { seed: 3, count: 2, signal: mid.signal, onProgress: (p) => p.step === 5 && mid.abort() })).then(() => undefined, (e: unknown) => e);
    expect(isCancellation(failed)).toBe(true);
  });

  it('regenerate draws N different candidates in one batch, reproducibly', async () => {
    const a = await engine.regenerate(doc, 2, { seed: 11, count: 4 });
    const b = await engine.regenerate(doc, 2, { seed: 11, count: 4 });
    expect(a.seed).toBe(11);
    expect(a.candidates.length).toBe(4);
    expect(new Set(a.candidates.map((c) => Array.from(c.embedding).join())).size).toBe(4);
    expect(b.candidates.map((c) => c.text)).toEqual(a.candidates.map((c) => c.text));
  });

  it('expand gives exactly K concepts; summarize at most the asked length', async () => {
    const expanded = await collect(engine.expand(doc, 1, { seed: 5, count: 4 }));
    expect(expanded.concepts.length).toBe(4);
    expect(expanded.result.stop).toBe('max-concepts');
    const summary = await collect(engine.summarize(doc, { seed: 5, maxConcepts: 2 }));
    expect(summary.concepts.length).toBeGreaterThanOrEqual(1);
    expect(summary.concepts.length).toBeLessThanOrEqual(2);
  });

  it('writes generated concepts in the requested language', async () => {
    const { concepts } = await collect(engine.continue(doc, { seed: 2, count: 1, lang: 'zho_Hans' }));
    expect(concepts[0]!.lang).toBe('zho_Hans');
  });
});

describe('encode, decode, translate, round trip', () => {
  it('translate segments, decodes in the target language and joins as the target script does', async () => {
    const t = await engine.translate('The cat sleeps. The dog barks!', 'eng_Latn', 'zho_Hans');
    expect(t.segments.map((s) => s.source)).toEqual(['The cat sleeps.', 'The dog barks!']);
    expect(t.text).toBe(t.segments.map((s) => s.text).join(''));
    expect(joinSentences(['a', 'b'], 'fra_Latn')).toBe('a b');
    expect((await engine.translate('   ', 'eng_Latn', 'fra_Latn')).segments).toEqual([]);
  });

  it('round trip returns the decoded text and a chrF in [0, 100] per sentence', async () => {
    const r = await engine.roundTrip(['Hello world.', 'Bonjour.'], 'eng_Latn');
    expect(r.map((x) => x.text)).toEqual(['Hello world.', 'Bonjour.']);
    for (const x of r) expect(x.chrf >= 0 && x.chrf <= 100).toBe(true);
  });

  it('decoding strategies: beam (default), greedy and seeded sampling', async () => {
    const [v] = await engine.encode(['A sentence to decode.'], 'eng_Latn');
    const beam = await engine.decode([v!], 'eng_Latn', { maxLength: 12 });
    const greedy = await engine.decode([v!], 'eng_Latn', { strategy: 'greedy', maxLength: 12 });
    const banned = new Set(engine.pack.tokenizer.bannedInText());
    for (const d of [...beam, ...greedy]) {
      expect(d.tokens.length).toBeLessThanOrEqual(12);
      expect(d.tokens.some((t) => banned.has(t))).toBe(false);
    }
    await expectEngineError(engine.decode([v!], 'eng_Latn', { strategy: 'sample' }), 'BAD_INPUT', /seeded rng/);
  });
});

describe('bad input', () => {
  it('unknown or unsupported languages say what the pack supports', async () => {
    await expectEngineError(engine.encode(['x'], 'xxx_Latn'), 'UNSUPPORTED_LANGUAGE', /Unknown language code "xxx_Latn".*supports: eng_Latn/);
    await expectEngineError(engine.encode(['x'], 'swh_Latn'), 'UNSUPPORTED_LANGUAGE', /does not support Swahili \(swh_Latn\)/);
    await expectEngineError(engine.translate('Hi.', 'eng_Latn', 'kor_Hang'), 'UNSUPPORTED_LANGUAGE', /Korean/);
  });

  it('empty texts, bad indices, counts and vectors', async () => {
    await expectEngineError(engine.encode(['ok', '  '], 'eng_Latn'), 'BAD_INPUT', /Text 2 is empty/);
    await expectEngineError(engine.regenerate(doc, 9, { seed: 1 }), 'BAD_INPUT', /index must be from 0 to 3/);
    await expectEngineError(collect(engine.continue(doc, { seed: 1, count: 0 })), 'BAD_INPUT', /count must be an integer from 1/);
    await expectEngineError(collect(engine.summarize([], {})), 'BAD_INPUT', /Nothing to summarize/);
    await expectEngineError(collect(engine.continue([{ embedding: new Float32Array(5) }], { seed: 1 })), 'BAD_INPUT', /5-d vector; pack tiny-fixture uses 32-d/);
    await expect(collect(engine.continue(doc, { seed: -1 }))).rejects.toThrow(/Seed must be an integer/);
  });

  it('a huge input is segmented and encoded in bounded batches', async () => {
    const sentences = Array.from({ length: 300 }, (_, i) => `Sentence number ${i} talks about something ${'very '.repeat(i % 7)}different.`);
    const vectors = await engine.encode(sentences, 'eng_Latn');
    expect(vectors.length).toBe(300);
    expect(vectors.every((v) => v.length === 32 && v.every(Number.isFinite))).toBe(true);
  });
});

describe('execution providers', () => {
  it('asking for CUDA where it cannot start falls back to CPU and says why', async () => {
    const e = await ConceptEngine.open(TINY_PACK, { provider: 'cuda' });
    try {
      const [g] = await e.pack.openAll();
      // This CI machine has no CUDA libraries; on a GPU machine the provider would be "cuda".
      if (g!.provider === 'cpu') expect(g!.fallbackReason).toMatch(/execution provider "cuda"/);
      else expect(g!.provider).toBe('cuda');
    } finally {
      await e.close();
    }
  });
});
