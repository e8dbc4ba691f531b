/**
 * The LCM generation loop (after Meta's TwoTowerDiffusionLCMGenerator and
 * LCMGenerator): sample the next concept, check the stopping rules, append it
 * to the context, repeat. The same loop runs every architecture through the
 * ConceptContext interface (model.ts): for the Base-LCM "sample" is its
 * deterministic prediction, and the stopping rules are the same.
 */
import { throwIfCancelled } from '../errors.ts';
import type { Rng } from '../rng.ts';
import { cosine } from '../tensor.ts';
import type { QuantSamplingOptions } from './quantLcm.ts';
import type { DiffusionOptions } from './sampler.ts';
import type { ConceptContext } from './model.ts';

/** Why generation ended. */
export type StopReason = 'end-of-text' | 'repetition' | 'max-concepts';

export interface GenerateOptions {
  /** Most concepts to generate (≥ 1). */
  maxConcepts: number;
  /** Stopping rules apply only after this many new concepts (reference: min_gen_len, default 1). */
  minConcepts?: number;
  /** Stop when cos(x̂, end-of-text vector) ≥ threshold (reference: 0.9 on "End of text."). */
  endOfText?: { vector: Float32Array; threshold: number } | null;
  /** Stop when cos(x̂, previous concept) ≥ this (off when null). */
  repetitionThreshold?: number | null;
  rng: Rng;
  /** Diffusion settings (default: the pack's); ignored by the Base-LCM. */
  sampling?: DiffusionOptions;
  /** Quant-LCM temperature/top-k (default: the pack's); ignored by the other architectures. */
  quant?: QuantSamplingOptions;
  signal?: AbortSignal;
  /** Called after each denoising step of each concept. */
  onStep?: (concept: number, step: number, steps: number) => void;
}

/**
 * Yields generated raw vectors one by one and appends each to `ctx`. The
 * concept that triggers a stop (the end-of-text vector, or a repetition) is
 * not yielded: a writer never wants "End of text." in the document. Returns
 * the stop reason.
 */
export async function* generateVectors(ctx: ConceptContext, options: GenerateOptions): AsyncGenerator<Float32Array, StopReason> {
  const { maxConcepts } = options;
  const minConcepts = options.minConcepts ?? 1;
  if (!Number.isInteger(maxConcepts) || maxConcepts < 1) throw new RangeError(`maxConcepts must be a positive integer, got ${String(maxConcepts)}.`);
  if (!Number.isInteger(minConcepts) || minConcepts < 0 || minConcepts > maxConcepts) throw new RangeError(`minConcepts must be an integer from 0 to maxConcepts (${maxConcepts}), got ${String(minConcepts)}.`);
  for (let n = 0; n < maxConcepts; n++) {
    throwIfCancelled(options.signal);
    const [vector] = await ctx.sample({
      candidates: 1,
      rng: options.rng,
      ...(options.sampling ? { options: options.sampling } : {}),
      ...(options.quant ? { quant: options.quant } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onStep ? { onStep: (done: number, total: number) => options.onStep!(n, done, total) } : {}),
    });
    const v = vector!;
    // As the reference: the n-th new concept (0-based) may stop generation only once n ≥ minConcepts.
    if (n >= minConcepts) {
      if (options.endOfText && cosine(v, options.endOfText.vector) >= options.endOfText.threshold) return 'end-of-text';
      const previous = ctx.concepts.at(-1);
      if (options.repetitionThreshold != null && previous && cosine(v, previous) >= options.repetitionThreshold) return 'repetition';
    }
    yield v;
    await ctx.append([v], options.signal);
  }
  return 'max-concepts';
}
