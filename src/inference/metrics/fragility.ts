/**
 * Fragility of a sentence in the concept space (LCM paper §2.5.1, "fragility
 * of SONAR space"; docs/variants.md): how much of the sentence survives when
 * its embedding is perturbed. The paper's definition:
 *
 *   fragility(w) = −E_{α ~ U[0,1], ε ~ N(0, I)} [score(w, w_{α,ε})],
 *   x_{α,ε} = denormalize(√(1 − α)·normalize(x) + √α·ε),  w_{α,ε} = decode(x_{α,ε}),
 *
 * x = encode(w), the normalizer being the pack's (the LCM's robust scaler), so
 * α = 0 is the plain round trip and α = 1 is pure noise in the normalized
 * space. Each decode is scored three ways against the sentence:
 * - `bleu`: sentence BLEU (sacreBLEU `sentence_bleu` defaults), the paper's
 *   auto-encoding BLEU; the headline `score` is its mean and
 *   `fragility` = 100 − score;
 * - `chrf`: sentence chrF (the app's round-trip metric, steadier on short
 *   sentences);
 * - `cosine`: cosine of the decode's re-encoding with the sentence's vector.
 *   The paper re-encodes with an external encoder; a pack has only its own,
 *   so this measures agreement within the pack's space (stated in the docs).
 * The expectation over α is taken on fixed levels: by default the midpoints
 * of five equal strata of [0, 1] (0.1, 0.3 … 0.9), `samples` draws of ε each
 * (levels outer, samples inner, dimensions in order, one seeded RNG).
 */
import { cosine } from '../tensor.ts';
import { createRng, type Rng } from '../rng.ts';
import { sentenceBleu } from './bleu.ts';
import { sentenceChrf } from './chrf.ts';

export interface FragilityOptions {
  /** Noise levels α in [0, 1] (default: the midpoints 0.1, 0.3, 0.5, 0.7, 0.9 of U[0, 1]). */
  noiseLevels?: readonly number[];
  /** Noisy copies per level (default 2; 1–32). */
  samples?: number;
  /** Seed of the noise; the same seed gives the same result. */
  seed: number;
  signal?: AbortSignal;
}

export interface FragilityScores {
  /** Sentence BLEU of the decode against the sentence (0–100): the paper's auto-encoding score. */
  bleu: number;
  /** Sentence chrF of the decode against the sentence (0–100). */
  chrf: number;
  /** Cosine of the decode's re-encoding (the pack's encoder) with the sentence's vector; 0 for an empty decode. */
  cosine: number;
  /** chrF of the decode against the plain (noise-free) round trip: 100 when the noise changed nothing. */
  stability: number;
}

export interface FragilitySample extends FragilityScores {
  decoded: string;
}

export interface FragilityLevel extends FragilityScores {
  /** α. */
  noise: number;
  samples: FragilitySample[];
}

export interface FragilityResult extends FragilityScores {
  text: string;
  lang: string;
  seed: number;
  /** The plain round trip (no noise) and its scores. */
  roundTrip: FragilitySample;
  levels: FragilityLevel[];
  /** Mean BLEU over every level and sample (0–100; higher = more robust). Equal to `bleu`. */
  score: number;
  /** 100 − score: the paper's fragility, shifted to 0–100 (higher = more fragile). */
  fragility: number;
}

/** The engine operations fragility needs. */
export interface FragilityIo {
  encode(texts: readonly string[], lang: string, signal?: AbortSignal): Promise<Float32Array[]>;
  decode(vectors: readonly Float32Array[], lang: string, options?: { signal?: AbortSignal }): Promise<{ text: string }[]>;
  /** The pack's normalizer (raw ↔ normalized space), one vector at a time. */
  normalize(x: Float32Array): Float32Array;
  denormalize(y: Float32Array): Float32Array;
}

export const DEFAULT_NOISE_LEVELS = [0.1, 0.3, 0.5, 0.7, 0.9] as const;
export const DEFAULT_SAMPLES = 2;

/** Scores `hypothesis` against `reference` with `metric`; an empty reference scores 100 against an empty hypothesis, else 0. */
function textScore(metric: (h: string, r: string) => number, hypothesis: string, reference: string): number {
  if (reference.trim() === '') return hypothesis.trim() === '' ? 100 : 0;
  return metric(hypothesis, reference);
}

export const similarity = (hypothesis: string, reference: string): number => textScore(sentenceChrf, hypothesis, reference);
const bleuOf = (hypothesis: string, reference: string): number => textScore((h, r) => sentenceBleu(h, r).score, hypothesis, reference);

/** Checks the options; the messages name the option and the allowed range. */
export function fragilityPlan(options: FragilityOptions): { noiseLevels: number[]; samples: number } {
  const noiseLevels = [...(options.noiseLevels ?? DEFAULT_NOISE_LEVELS)];
  if (noiseLevels.length === 0 || noiseLevels.length > 16) throw new RangeError(`noiseLevels must list 1 to 16 noise levels, got ${noiseLevels.length}.`);
  for (const a of noiseLevels) {
    if (typeof a !== 'number' || !Number.isFinite(a) || a < 0 || a > 1) throw new RangeError(`each noise level α must be a number from 0 (no noise) to 1 (pure noise), got ${String(a)}.`);
  }
  const samples = options.samples ?? DEFAULT_SAMPLES;
  if (!Number.isInteger(samples) || samples < 1 || samples > 32) throw new RangeError(`samples must be an integer from 1 to 32, got ${String(samples)}.`);
  return { noiseLevels, samples };
}

/** √(1 − α)·z + √α·ε for a normalized vector z, ε drawn from `rng` (one normal per dimension, in order); float32 like the engine. */
export function perturbNormalized(z: Float32Array, alpha: number, rng: Rng): Float32Array {
  const keep = Math.sqrt(1 - alpha);
  const noise = Math.sqrt(alpha);
  const out = new Float32Array(z.length);
  for (let e = 0; e < z.length; e++) out[e] = Math.fround(keep * z[e]!) + Math.fround(noise * rng.normal());
  return out;
}

function mean(xs: readonly FragilityScores[]): FragilityScores {
  const sum = (key: keyof FragilityScores) => xs.reduce((t, s) => t + s[key], 0) / xs.length;
  return { bleu: sum('bleu'), chrf: sum('chrf'), cosine: sum('cosine'), stability: sum('stability') };
}

/**
 * Encodes `text`, decodes it plain and under every (level, sample) of noise in
 * one batch, re-encodes the decodes (one batch) and scores each.
 */
export async function computeFragility(io: FragilityIo, text: string, lang: string, options: FragilityOptions): Promise<FragilityResult> {
  const { noiseLevels, samples } = fragilityPlan(options);
  const [x] = await io.encode([text], lang, options.signal);
  const z = io.normalize(x!);
  const rng = createRng(options.seed);
  const vectors: Float32Array[] = [x!];
  for (const a of noiseLevels) for (let s = 0; s < samples; s++) vectors.push(io.denormalize(perturbNormalized(z, a, rng)));
  const decoded = (await io.decode(vectors, lang, options.signal ? { signal: options.signal } : {})).map((d) => d.text);
  const nonEmpty = decoded.filter((d) => d.trim() !== '');
  const reencoded = nonEmpty.length > 0 ? await io.encode([...new Set(nonEmpty)], lang, options.signal) : [];
  const vectorOf = new Map([...new Set(nonEmpty)].map((d, i) => [d, reencoded[i]!]));
  const plain = decoded[0]!;
  const scored: FragilitySample[] = decoded.map((d) => {
    const v = vectorOf.get(d);
    return { decoded: d, bleu: bleuOf(d, text), chrf: similarity(d, text), cosine: v ? cosine(v, x!) : 0, stability: similarity(d, plain) };
  });
  const levels = noiseLevels.map((noise, i) => {
    const own = scored.slice(1 + i * samples, 1 + (i + 1) * samples);
    return { noise, ...mean(own), samples: own };
  });
  const all = mean(scored.slice(1));
  return { text, lang, seed: options.seed, roundTrip: scored[0]!, levels, ...all, score: all.bleu, fragility: 100 - all.bleu };
}
