/**
 * Fragility of a sentence in the concept space (LCM paper, "fragility of
 * SONAR space"; docs/variants.md): how much of the sentence survives when its
 * embedding is perturbed. Encode the sentence, add Gaussian noise of a given
 * relative scale to the vector, decode, and score the decoded text against the
 * original; the score is the mean over noise levels and samples.
 *
 * Choices (stated in docs/variants.md):
 * - noise: x̃ = x + α·(‖x‖/√E)·ε, ε ~ N(0, I) from the seeded RNG (levels
 *   outer, samples inner, dimensions in order), so α is the expected noise norm
 *   relative to ‖x‖;
 * - similarity: sentence chrF (0–100) of the decoded text against the original,
 *   the app's round-trip metric (the paper reports auto-encoding BLEU and an
 *   external-encoder cosine; chrF is the sentence-level text metric the engine
 *   already has and is stable on short sentences);
 * - score = mean chrF over every (level, sample); a HIGH score is a robust
 *   sentence, a low one a fragile one. `fragility` = 100 − score.
 */
import { createRng, type Rng } from '../rng.ts';
import { sentenceChrf } from './chrf.ts';

export interface FragilityOptions {
  /** Relative noise scales α (default [0.1, 0.2, 0.3, 0.5]); each from 0 to 10. */
  noiseLevels?: readonly number[];
  /** Noisy copies per level (default 2; 1–32). */
  samples?: number;
  /** Seed of the noise; the same seed gives the same result. */
  seed: number;
  signal?: AbortSignal;
}

export interface FragilitySample {
  decoded: string;
  /** chrF of `decoded` against the original sentence. */
  chrf: number;
  /** chrF of `decoded` against the plain (noise-free) round trip: 100 when the noise changed nothing. */
  stability: number;
}

export interface FragilityLevel {
  noise: number;
  /** Mean chrF of the level's samples. */
  score: number;
  /** Mean stability of the level's samples. */
  stability: number;
  samples: FragilitySample[];
}

export interface FragilityResult {
  text: string;
  lang: string;
  seed: number;
  /** The plain round trip (no noise) and its chrF. */
  roundTrip: FragilitySample;
  levels: FragilityLevel[];
  /** Mean round-trip chrF over every level and sample (0–100; higher = more robust). */
  score: number;
  /** 100 − score: higher = more fragile. */
  fragility: number;
  /**
   * Mean chrF of the noisy decodes against the plain round trip (0–100): how
   * much the noise changes the decoder's output, whatever the round trip keeps
   * of the sentence (useful where the plain round trip is already poor).
   */
  stability: number;
}

/** The two engine operations fragility needs. */
export interface FragilityIo {
  encode(texts: readonly string[], lang: string, signal?: AbortSignal): Promise<Float32Array[]>;
  decode(vectors: readonly Float32Array[], lang: string, options?: { signal?: AbortSignal }): Promise<{ text: string }[]>;
}

export const DEFAULT_NOISE_LEVELS = [0.1, 0.2, 0.3, 0.5] as const;
export const DEFAULT_SAMPLES = 2;

/** Sentence chrF, with an empty reference (a round trip that decoded to nothing) scored 100 if the hypothesis is empty too, else 0. */
export function similarity(hypothesis: string, reference: string): number {
  if (reference.trim() === '') return hypothesis.trim() === '' ? 100 : 0;
  return sentenceChrf(hypothesis, reference);
}

/** Checks the options; the messages name the option and the allowed range. */
export function fragilityPlan(options: FragilityOptions): { noiseLevels: number[]; samples: number } {
  const noiseLevels = [...(options.noiseLevels ?? DEFAULT_NOISE_LEVELS)];
  if (noiseLevels.length === 0 || noiseLevels.length > 16) throw new RangeError(`noiseLevels must list 1 to 16 noise scales, got ${noiseLevels.length}.`);
  for (const a of noiseLevels) {
    if (typeof a !== 'number' || !Number.isFinite(a) || a < 0 || a > 10) throw new RangeError(`each noise level must be a number from 0 to 10 (relative to the vector's norm), got ${String(a)}.`);
  }
  const samples = options.samples ?? DEFAULT_SAMPLES;
  if (!Number.isInteger(samples) || samples < 1 || samples > 32) throw new RangeError(`samples must be an integer from 1 to 32, got ${String(samples)}.`);
  return { noiseLevels, samples };
}

/** x + α·(‖x‖/√E)·ε, ε drawn from `rng` (one normal per dimension, in order). */
export function perturb(x: Float32Array, noise: number, rng: Rng): Float32Array {
  let norm = 0;
  for (let e = 0; e < x.length; e++) norm += x[e]! * x[e]!;
  const scale = noise * Math.sqrt(norm / x.length);
  const out = new Float32Array(x.length);
  for (let e = 0; e < x.length; e++) out[e] = x[e]! + scale * rng.normal();
  return out;
}

/** Encodes `text`, decodes it plain and under every (level, sample) of noise in one batch, and scores each. */
export async function computeFragility(io: FragilityIo, text: string, lang: string, options: FragilityOptions): Promise<FragilityResult> {
  const { noiseLevels, samples } = fragilityPlan(options);
  const [x] = await io.encode([text], lang, options.signal);
  const rng = createRng(options.seed);
  const noisy: Float32Array[] = [x!];
  for (const a of noiseLevels) for (let s = 0; s < samples; s++) noisy.push(perturb(x!, a, rng));
  const decoded = await io.decode(noisy, lang, options.signal ? { signal: options.signal } : {});
  const plain = decoded[0]!.text;
  const scored = decoded.map((d) => ({ decoded: d.text, chrf: similarity(d.text, text), stability: similarity(d.text, plain) }));
  const mean = (xs: readonly FragilitySample[], key: 'chrf' | 'stability') => xs.reduce((t, s) => t + s[key], 0) / xs.length;
  const levels = noiseLevels.map((noise, i) => {
    const own = scored.slice(1 + i * samples, 1 + (i + 1) * samples);
    return { noise, score: mean(own, 'chrf'), stability: mean(own, 'stability'), samples: own };
  });
  const all = scored.slice(1);
  const score = mean(all, 'chrf');
  return { text, lang, seed: options.seed, roundTrip: scored[0]!, levels, score, fragility: 100 - score, stability: mean(all, 'stability') };
}
