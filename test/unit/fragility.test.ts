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
import { computeFragility, fragilityPlan, perturb, type FragilityIo } from '../../src/inference/metrics/fragility.ts';
import { createRng } from '../../src/inference/rng.ts';
import { TINY_PACK } from '../helpers/fixtures.ts';

describe('perturb and the plan', () => {
  it('adds α·‖x‖/√E·ε with ε from the seeded RNG, in dimension order', () => {
    const x = Float32Array.from([3, 4, 0, 0]); // ‖x‖ = 5, √E = 2
    const rng = createRng(9);
    const probe = createRng(9);
    const y = perturb(x, 0.4, rng);
    Array.from(y).forEach((v, e) => expect(v).toBe(Math.fround(x[e]! + 0.4 * 2.5 * probe.normal())));
    expect(Array.from(perturb(x, 0, createRng(1)))).toEqual(Array.from(x));
  });
  it('checks the options with messages that name them', () => {
    expect(fragilityPlan({ seed: 1 })).toEqual({ noiseLevels: [0.1, 0.2, 0.3, 0.5], samples: 2 });
    expect(() => fragilityPlan({ seed: 1, noiseLevels: [] })).toThrow(/noiseLevels must list 1 to 16 noise scales, got 0/);
    expect(() => fragilityPlan({ seed: 1, noiseLevels: [0.1, -1] })).toThrow(/each noise level must be a number from 0 to 10 .*got -1/);
    expect(() => fragilityPlan({ seed: 1, samples: 0 })).toThrow(/samples must be an integer from 1 to 32, got 0/);
  });
});

describe('computeFragility with a decoder whose output degrades with the distance', () => {
  const sentence = 'The quick brown fox jumps over the lazy dog.';
  const origin = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
  // Decoding keeps a prefix of the sentence that shrinks as the vector moves away from the original's.
  const io: FragilityIo = {
    encode: async () => [origin],
    decode: async (vectors) => vectors.map((v) => {
      let d = 0;
      let n = 0;
      v.forEach((x, i) => {
        d += (x - origin[i]!) ** 2;
        n += origin[i]! ** 2;
      });
      const keep = Math.max(0, Math.round(sentence.length * (1 - Math.sqrt(d / n))));
      return { text: sentence.slice(0, keep) };
    }),
  };
  it('noise 0 is the plain round trip; more noise lowers the score; the seed fixes the result', async () => {
    const r = await computeFragility(io, sentence, 'eng_Latn', { seed: 4, noiseLevels: [0, 0.05, 0.2, 0.5], samples: 4 });
    expect(r.roundTrip).toEqual({ decoded: sentence, chrf: 100, stability: 100 });
    expect(r.levels[0]!.score).toBe(100);
    const scores = r.levels.map((l) => l.score);
    for (let i = 1; i < scores.length; i++) expect(scores[i]!).toBeLessThan(scores[i - 1]!);
    expect(r.score).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / scores.length, 10);
    expect(r.fragility).toBeCloseTo(100 - r.score, 10);
    expect(await computeFragility(io, sentence, 'eng_Latn', { seed: 4, noiseLevels: [0, 0.05, 0.2, 0.5], samples: 4 })).toEqual(r);
    expect((await computeFragility(io, sentence, 'eng_Latn', { seed: 5, noiseLevels: [0.2], samples: 4 })).levels[0]!.samples)
      .not.toEqual(r.levels[2]!.samples);
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
    const options = { seed: 1, noiseLevels: [0, 0.05, 0.1, 1, 2], samples: 4 };
    const r = await engine.fragility(text, 'eng_Latn', options);
    const [plain] = await engine.roundTrip([text], 'eng_Latn');
    expect(r.roundTrip.decoded).toBe(plain!.decoded);
    expect(r.roundTrip.chrf).toBe(plain!.chrf);
    expect(r.levels[0]!.samples.every((s) => s.decoded === plain!.decoded)).toBe(true);
    expect(r.levels[0]!.score).toBe(plain!.chrf);
    expect(r.levels[0]!.stability).toBe(100);
    const low = (r.levels[1]!.stability + r.levels[2]!.stability) / 2;
    const high = (r.levels[3]!.stability + r.levels[4]!.stability) / 2;
    expect(low).toBeGreaterThan(high + 10);
    expect(await engine.fragility(text, 'eng_Latn', options)).toEqual(r);
    expect(r.seed).toBe(1);
  });

  it('refuses an empty sentence, an unknown language and bad options with InputErrors', async () => {
    await expect(engine.fragility('  ', 'eng_Latn', { seed: 1 })).rejects.toThrow(/The sentence is empty/);
    await expect(engine.fragility(text, 'eng_Latn', { seed: 1, samples: 99 })).rejects.toBeInstanceOf(InputError);
    await expect(engine.fragility(text, 'xxx_Xxxx', { seed: 1 })).rejects.toThrow();
  });
});
