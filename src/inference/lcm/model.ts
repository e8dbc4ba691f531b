/**
 * The one interface the facade (engine.ts) and the generation loop
 * (generate.ts) use for every LCM architecture a pack can hold
 * (docs/variants.md): a model opens document contexts; a context takes
 * concepts (`append`) and proposes the next one (`sample`).
 *
 * - Two-Tower (twoTower.ts): contextualizer cache + denoiser cross keys/values; diffusion.
 * - One-Tower (oneTower.ts): the clean rows' keys/values cached; the whole tower per denoising step.
 * - Base-LCM (baseLcm.ts): the next vector is the regression output; deterministic, no noise.
 * - Quant-LCM (quantLcm.ts): RVQ units sampled level by level (temperature, top-k).
 */
import type { ModelPack } from '../pack/loader.ts';
import type { LcmArchitecture } from '../pack/types.ts';
import type { Rng } from '../rng.ts';
import type { QuantSamplingOptions } from './quantLcm.ts';
import type { DiffusionOptions } from './sampler.ts';
import type { Schedule } from './schedule.ts';

export interface SampleRequest {
  /** Samples drawn in one batch for the same next position (regenerate's candidates). */
  candidates: number;
  /** Draws the diffusion noise; the Base-LCM draws nothing. */
  rng: Rng;
  /** Diffusion settings (default: the pack's); ignored by the Base-LCM, which has none. */
  options?: DiffusionOptions;
  /** Quant-LCM temperature/top-k (default: the pack's lcm.sampling); ignored by the other architectures. */
  quant?: QuantSamplingOptions;
  signal?: AbortSignal;
  /** Progress per denoising step; the Base-LCM reports one step (1 of 1). */
  onStep?: (done: number, total: number) => void;
}

/** The concepts of one document as an LCM sees them. */
export interface ConceptContext {
  /** Concepts in the context (after windowing to the pack's maxContext). */
  readonly length: number;
  /** The raw vectors in the context, oldest first (a copy of the list). */
  readonly concepts: Float32Array[];
  /** Empties the context. */
  reset(): Promise<void>;
  /** Appends raw concept vectors (as the SONAR encoder gives them). */
  append(raw: readonly Float32Array[], signal?: AbortSignal): Promise<void>;
  /**
   * `candidates` raw vectors for the next concept; the context is not changed.
   * Diffusion LCMs sample them in one batch; the Base-LCM returns its one
   * prediction `candidates` times (identical rows).
   */
  sample(request: SampleRequest): Promise<Float32Array[]>;
}

/** An LCM of any architecture, as the engine uses it. */
export interface ConceptLcm {
  readonly pack: ModelPack;
  readonly architecture: LcmArchitecture;
  /**
   * True when the same context always gives the same next concept (Base-LCM):
   * seeds change nothing and several candidates would be identical.
   */
  readonly deterministic: boolean;
  /** A fresh, empty document context. */
  newContext(): Promise<ConceptContext>;
  /**
   * The noise schedule. Diffusion LCMs only: the Base-LCM throws an
   * InputError saying it has none (check `deterministic` first).
   */
  readonly schedule: Schedule;
  /**
   * Diffusion options from the pack's defaults, overridden by `overrides`.
   * Diffusion LCMs only: the Base-LCM throws an InputError saying it has none.
   */
  samplingOptions(overrides?: Partial<DiffusionOptions>): DiffusionOptions;
}
