/**
 * Fragility (src/inference/metrics/fragility.ts, docs/variants.md): the
 * noise, the scoring and the engine method on the tiny fixture pack (random
 * weights: its round trip keeps little of the text, so the "more noise lowers
 * the score" check uses a decoder stand-in whose output degrades with the
 * distance, and on the real pack the stability against the plain round trip).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConceptEngine } from '../../src/inference/engine.ts';
import { InputError } from '../../src/inference/errors.ts';
import { sentenceBleu } from '../../src/inference/metrics/bleu.ts';
import { sentenceChrf } from '../../src/inference/metrics/chrf.ts';
import { computeFragility, fragilityPlan, perturbNormalized, type FragilityIo } from '../../src/inference/metrics/fragility.ts';
import { createRng } from '../../src/inference/rng.ts';
import { cosine } from '../../src/inference/tensor.ts';
import { TINY_PACK } from '../helpers/fixtures.ts';

describe('the noise and the plan', () => {
  it('mixes the normalized vector as √(1 − α)·z + √α·ε with ε from the seeded RNG, in dimension order', () => {
    const z = Float32Array.from([3, -4, 0.5, 0]);
    const probe = createRng(9);
    const y = perturbNormalized(z, 0.36, createRng(9));
    Array.from(y).forEach((v, e) => expect(v).toBe(Math.fround(Math.fround(0.8 * z[e]!) + Math.fround(0.6 * probe.normal()))));
    expect(Array.from(perturbNormalized(z, 0, createRng(1)))).toEqual(Array.from(z));
    const noise = createRng(2);
    expect(Array.from(perturbNormalized(z, 1, createRng(2)))).toEqual(Array.from(z, () => Math.fround(noise.normal())));
  });
  it('checks the options with messages that name them', () => {
    expect(fragilityPlan({ seed: 1 })).toEqual({ noiseLevels: [0.1, 0.3, 0.5, 0.7, 0.9], samples: 2 });
    expect(() => fragilityPlan({ seed: 1, noiseLevels: [] })).toThrow(/noiseLevels must list 1 to 16 noise levels, got 0/);
    expect(() => fragilityPlan({ seed: 1, noiseLevels: [0.1, -1] })).toThrow(/each noise level α must be a number from 0 \(no noise\) to 1 \(pure noise\), got -1/);
    expect(() => fragilityPlan({ seed: 1, noiseLevels: [1.5] })).toThrow(/got 1\.5/);
    expect(() => fragilityPlan({ seed: 1, samples: 0 })).toThrow(/samples must be an integer from 1 to 32, got 0/);
  });
});

describe('computeFragility with a stand-in engine whose decodes degrade with the distance', () => {
  const sentence = 'The quick brown fox jumps over the lazy dog.';
  const E = 16;
  const origin = Float32Array.from({ length: E }, (_, i) => 2 + Math.sin(i + 1));
  const other = Float32Array.from({ length: E }, (_, i) => Math.cos(3 * i));
  const center = Float32Array.from({ length: E }, (_, i) => 2 + 0.1 * i);
  const scale = Float32Array.from({ length: E }, (_, i) => 0.5 + 0.05 * i);
  const decodedInputs: Float32Array[] = [];
  const io: FragilityIo = {
    // The sentence (or a prefix of it) encodes to a mix of `origin` and `other` by how much of it is kept.
    encode: async (texts) => texts.map((t) => {
      const kept = t === sentence ? 1 : t.length / sentence.length;
      return Float32Array.from(origin, (o, i) => kept * o + (1 - kept) * other[i]!);
    }),
    // Decoding keeps a prefix of the sentence that shrinks as the normalized vector moves away from the original's.
    decode: async (vectors) => {
      decodedInputs.push(...vectors);
      const z0 = io.normalize(origin);
      return vectors.map((v) => {
        const z = io.normalize(v);
        let d = 0;
        let n = 0;
        z.forEach((x, i) => {
          d += (x - z0[i]!) ** 2;
          n += z0[i]! ** 2;
        });
        const keep = Math.max(0, Math.round(sentence.length * (1 - Math.sqrt(d / n))));
        return { text: sentence.slice(0, keep) };
      });
    },
    normalize: (x) => Float32Array.from(x, (v, i) => (v - center[i]!) / scale[i]!),
    denormalize: (y) => Float32Array.from(y, (v, i) => v * scale[i]! + center[i]!),
  };

  it('perturbs in the normalized space: the decoder gets denormalize(√(1 − α)·normalize(x) + √α·ε)', async () => {
    decodedInputs.length = 0;
    await computeFragility(io, sentence, 'eng_Latn', { seed: 3, noiseLevels: [0.25, 1], samples: 2 });
    const rng = createRng(3);
    const z = io.normalize(origin);
    const expected = [origin, ...[0.25, 0.25, 1, 1].map((a) => io.denormalize(perturbNormalized(z, a, rng)))];
    expect(decodedInputs.map((v) => Array.from(v))).toEqual(expected.map((v) => Array.from(v)));
  });

  it('noise 0 is the plain round trip; more noise lowers BLEU, chrF and cosine; the headline is BLEU; the seed fixes the result', async () => {
    const r = await computeFragility(io, sentence, 'eng_Latn', { seed: 4, noiseLevels: [0, 0.01, 0.05, 0.2], samples: 4 });
    const perfect = sentenceBleu(sentence, sentence).score; // 100 up to rounding (exp of a sum of logs)
    expect(perfect).toBeCloseTo(100, 10);
    expect(r.roundTrip).toEqual({ decoded: sentence, bleu: perfect, chrf: 100, cosine: 1, stability: 100 });
    expect(r.levels[0]).toMatchObject({ bleu: perfect, chrf: 100, cosine: 1, stability: 100 });
    for (const key of ['bleu', 'chrf', 'cosine'] as const) {
      const values = r.levels.map((l) => l[key]);
      for (let i = 1; i < values.length; i++) expect(values[i]!).toBeLessThan(values[i - 1]!);
    }
    const sample = r.levels[2]!.samples[0]!;
    expect(sample.bleu).toBe(sentenceBleu(sample.decoded, sentence).score);
    expect(sample.chrf).toBe(sentenceChrf(sample.decoded, sentence));
    expect(sample.cosine).toBe(cosine((await io.encode([sample.decoded], 'eng_Latn'))[0]!, origin));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(r.bleu).toBeCloseTo(mean(r.levels.flatMap((l) => l.samples.map((s) => s.bleu))), 10);
    expect(r.cosine).toBeCloseTo(mean(r.levels.flatMap((l) => l.samples.map((s) => s.cosine))), 10);
    expect([r.score, r.fragility]).toEqual([r.bleu, 100 - r.bleu]);
    expect(await computeFragility(io, sentence, 'eng_Latn', { seed: 4, noiseLevels: [0, 0.01, 0.05, 0.2], samples: 4 })).toEqual(r);
    expect((await computeFragility(io, sentence, 'eng_Latn', { seed: 5, noiseLevels: [0.2], samples: 4 })).levels[0]!.samples)
      .not.toEqual(r.levels[3]!.samples);
  });

  it('an empty decode scores 0 (cosine 0, nothing re-encoded)', async () => {
    const r = await computeFragility(io, sentence, 'eng_Latn', { seed: 1, noiseLevels: [1], samples: 2 });
    const empty = r.levels[0]!.samples.filter((s) => s.decoded === '');
    expect(empty.length).toBeGreaterThan(0);
    empty.forEach((s) => expect([s.bleu, s.chrf, s.cosine]).toEqual([0, 0, 0]));
  });
});

describe('ConceptEngine.fragility on the tiny pack', () => {
  let engine: ConceptEngine;
  beforeAll(async () => {
    engine = await ConceptEngine.open(TINY_PACK);
  });
  afterAll(async () => {
    await engine.close();
  });
  const text = 'I can embed the sentences into vectorial space.';

  it('is deterministic for a seed; noise 0 gives the plain round trip; more noise changes the output more', async () => {
    const options = { seed: 1, noiseLevels: [0, 0.002, 0.005, 0.9, 1], samples: 4 };
    const r = await engine.fragility(text, 'eng_Latn', options);
    const [plain] = await engine.roundTrip([text], 'eng_Latn');
    expect(r.roundTrip.decoded).toBe(plain!.decoded);
    expect(r.roundTrip.chrf).toBe(plain!.chrf);
    expect(r.roundTrip.bleu).toBe(sentenceBleu(plain!.decoded, text).score);
    const [x, again] = await engine.encode([text, plain!.decoded], 'eng_Latn');
    expect(r.roundTrip.cosine).toBeCloseTo(cosine(again!, x!), 6); // batch padding moves the encoder's output by ~1e-9
    expect(r.levels[0]!.samples.every((s) => s.decoded === plain!.decoded)).toBe(true);
    expect(r.levels[0]).toMatchObject({ chrf: plain!.chrf, bleu: r.roundTrip.bleu, cosine: r.roundTrip.cosine, stability: 100 });
    const low = (r.levels[1]!.stability + r.levels[2]!.stability) / 2;
    const high = (r.levels[3]!.stability + r.levels[4]!.stability) / 2;
    expect(low).toBeGreaterThan(high + 10);
    expect(await engine.fragility(text, 'eng_Latn', options)).toEqual(r);
    expect(r.seed).toBe(1);
  });

  it('at α = 1 the vector is pure noise in the pack\'s normalized space: another sentence with the same seed decodes the same', async () => {
    const a = await engine.fragility(text, 'eng_Latn', { seed: 7, noiseLevels: [1], samples: 3 });
    const b = await engine.fragility('Sailors trusted the calm sea.', 'eng_Latn', { seed: 7, noiseLevels: [1], samples: 3 });
    expect(b.levels[0]!.samples.map((s) => s.decoded)).toEqual(a.levels[0]!.samples.map((s) => s.decoded));
    const rng = createRng(7);
    const pure = engine.pack.normalizer.denormalize(Float32Array.from({ length: engine.pack.manifest.embeddingDim }, () => rng.normal()), 1);
    const [decoded] = await engine.decode([pure], 'eng_Latn');
    expect(a.levels[0]!.samples[0]!.decoded).toBe(decoded!.text);
  });

  it('refuses an empty sentence, an unknown language and bad options with InputErrors', async () => {
    await expect(engine.fragility('  ', 'eng_Latn', { seed: 1 })).rejects.toThrow(/The sentence is empty/);
    await expect(engine.fragility(text, 'eng_Latn', { seed: 1, samples: 99 })).rejects.toBeInstanceOf(InputError);
    await expect(engine.fragility(text, 'xxx_Xxxx', { seed: 1 })).rejects.toThrow();
  });
});
