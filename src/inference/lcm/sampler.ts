/**
 * The diffusion loop that produces one next concept: start from seeded
 * Gaussian noise, run the denoiser at each timestep of the inference plan and
 * step with DDIM, with classifier-free guidance when the guidance scale is
 * above 1. It reproduces the reference's `predict_next_sentence` and
 * `predict_next_sentence_with_cf_guidance` (Meta's
 * lcm/models/two_tower_diffusion_lcm/builder.py; PyTorch twin
 * recipe/lcmref/ddim.py `sample_next`) and is checked against
 * test/fixtures/diffusion/sampler.json. docs/diffusion.md explains each rule.
 *
 * The denoiser is injected, so this file knows nothing about ONNX.
 */
import type { SamplingDefaults } from '../pack/types.ts';
import type { Rng } from '../rng.ts';
import { applyGuidance, ddimStep, epsilonFromSample, type DdimStepResult } from './ddim.ts';
import { checkInferenceSteps, inferencePlan, type Schedule, type Spacing } from './schedule.ts';

/** What one denoiser call returns: x̂0 for the conditional rows and, when asked, the unconditional ones. */
export interface DenoiseResult {
  /** [n × dim] x̂0 given the context. */
  conditional: Float32Array;
  /** [n × dim] x̂0 given only the zero key (no context); required when `withUnconditional` was true. */
  unconditional?: Float32Array;
}

/**
 * Runs the denoiser on `latents` ([n × dim] x_t, normalized space; do not modify it) at one
 * training timestep. With `withUnconditional` it must also return the unconditional prediction
 * (the engine batches both, as the reference does).
 */
export interface DenoiseCall {
  (latents: Float32Array, timestep: number, withUnconditional: boolean): Promise<DenoiseResult>;
}

/** Sampling settings (the pack's `lcm.sampling` defaults, overridable per request). */
export interface DiffusionOptions {
  /** S, 1 ≤ S ≤ T. With "trailing" spacing the loop runs ceil(T / floor(T/S)) steps. */
  inferenceSteps: number;
  spacing: Spacing;
  /** g ≥ 1; 1 turns classifier-free guidance off (paper setting 3). */
  guidanceScale: number;
  /** r in [0, 1] (Lin et al. 2023; paper setting 0.7). */
  guidanceRescale: number;
  /** Standard deviation of the starting noise, > 0 (paper setting 0.6). */
  initialNoiseScale: number;
  /** λ > 0 dividing ε̂ at each step, or null (paper setting 1.00045). */
  epsilonScaling: number | null;
  /** Latents are clamped to ±clipNoise after the draw and after every step, > 0 (reference default 100). */
  clipNoise: number;
}

/** A pack's sampling defaults (manifest `lcm.sampling`) as DiffusionOptions, overridden by `overrides`. */
export function diffusionOptions(s: SamplingDefaults, overrides: Partial<DiffusionOptions> = {}): DiffusionOptions {
  return {
    inferenceSteps: s.inferenceSteps,
    spacing: s.spacing,
    guidanceScale: s.guidanceScale,
    guidanceRescale: s.guidanceRescale,
    initialNoiseScale: s.initialNoiseScale,
    epsilonScaling: s.epsilonScaling,
    clipNoise: s.clipNoise,
    ...overrides,
  };
}

export interface SampleNextArgs {
  schedule: Schedule;
  options: DiffusionOptions;
  /** Embedding dimension E. */
  dim: number;
  /** How many independent candidates to sample in one batch. */
  candidates: number;
  /** Draws the starting noise: candidates × dim normals, row-major, one sequence. */
  rng: Rng;
  denoise: DenoiseCall;
  /** Checked before every denoiser call and after the last one. */
  signal?: AbortSignal;
  /** Called after each step with (steps done, total steps). */
  onStep?: (done: number, total: number) => void;
}

const f = Math.fround;

/** Throws a RangeError naming the first option that is out of range, and what is allowed. */
export function checkDiffusionOptions(options: DiffusionOptions, trainSteps: number): void {
  checkInferenceSteps(trainSteps, options.inferenceSteps);
  if (options.spacing !== 'trailing' && options.spacing !== 'trailing-exact') {
    throw new RangeError(`spacing must be "trailing" (reference, stride floor(T/S)) or "trailing-exact" (exactly S steps), got ${JSON.stringify(options.spacing)}.`);
  }
  if (!(Number.isFinite(options.guidanceScale) && options.guidanceScale >= 1)) {
    throw new RangeError(`guidanceScale must be a finite number ≥ 1 (1 turns guidance off; the paper uses 3), got ${String(options.guidanceScale)}.`);
  }
  if (!(Number.isFinite(options.guidanceRescale) && options.guidanceRescale >= 0 && options.guidanceRescale <= 1)) {
    throw new RangeError(`guidanceRescale must be from 0 to 1 (the paper uses 0.7), got ${String(options.guidanceRescale)}.`);
  }
  if (!(Number.isFinite(options.initialNoiseScale) && options.initialNoiseScale > 0)) {
    throw new RangeError(`initialNoiseScale must be a finite number > 0 (the paper uses 0.6), got ${String(options.initialNoiseScale)}.`);
  }
  if (options.epsilonScaling !== null && !(Number.isFinite(options.epsilonScaling) && options.epsilonScaling > 0)) {
    throw new RangeError(`epsilonScaling must be null (off) or a finite number > 0 (the paper uses 1.00045), got ${String(options.epsilonScaling)}.`);
  }
  if (!(typeof options.clipNoise === 'number' && options.clipNoise > 0)) {
    throw new RangeError(`clipNoise must be a number > 0 (the reference default is 100), got ${String(options.clipNoise)}.`);
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('The diffusion run was aborted.', 'AbortError');
}

/** torch's clamp(−c, c) on float32 (NaN passes through, as in torch). */
function clampInPlace(x: Float32Array, limit: number): Float32Array {
  const hi = f(limit);
  const lo = -hi;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < lo) x[i] = lo;
    else if (v > hi) x[i] = hi;
  }
  return x;
}

function checkPrediction(out: Float32Array | undefined, length: number, which: string, timestep: number): Float32Array {
  if (!(out instanceof Float32Array) || out.length !== length) {
    const got = out instanceof Float32Array ? `${out.length} values` : 'nothing';
    throw new RangeError(`The denoiser returned ${got} for the ${which} prediction at timestep ${timestep}; expected a Float32Array of ${length} (rows × dim).`);
  }
  return out;
}

/**
 * Samples `candidates` next concepts; returns their x̂0, [candidates × dim], in normalized space
 * (the caller denormalizes).
 *
 * Without guidance each step is DDIM on the conditional x̂0. With guidance (g > 1) every step
 * asks for both predictions; at t = T − 1 (the reference tests the timestep, not ᾱ = 0) it steps
 * with the conditional x̂0, elsewhere it converts both to ε, applies guidance with rescale, and
 * steps in ε. Latents are clamped to ±clipNoise after the draw and after each step.
 */
export async function sampleNext(args: SampleNextArgs): Promise<Float32Array> {
  const { schedule, options, dim, candidates, rng, denoise, signal, onStep } = args;
  const T = schedule.trainSteps;
  if (schedule.alphasCumprod.length !== T) {
    throw new RangeError(`The schedule has ${schedule.alphasCumprod.length} ᾱ values for trainSteps ${T}; build it with makeSchedule.`);
  }
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim must be a positive integer, got ${String(dim)}.`);
  if (!Number.isInteger(candidates) || candidates < 1) {
    throw new RangeError(`candidates must be a positive integer, got ${String(candidates)}.`);
  }
  checkDiffusionOptions(options, T);
  const guided = options.guidanceScale !== 1;
  if (guided && dim < 2) {
    throw new RangeError('Classifier-free guidance rescale needs dim ≥ 2 (it divides by an unbiased std); use guidanceScale 1 for 1-dimensional vectors.');
  }
  const plan = inferencePlan(T, options.inferenceSteps, options.spacing);
  const total = plan.timesteps.length;
  const size = candidates * dim;
  let latents = clampInPlace(rng.fillNormal(new Float32Array(size), options.initialNoiseScale), options.clipNoise);
  let result: DdimStepResult | undefined;
  for (let i = 0; i < total; i++) {
    const timestep = plan.timesteps[i]!;
    const prevTimestep = plan.prevTimesteps[i]!;
    throwIfAborted(signal);
    const out = await denoise(latents, timestep, guided);
    const conditional = checkPrediction(out.conditional, size, 'conditional', timestep);
    const base = { schedule, timestep, prevTimestep, sample: latents, epsilonScaling: options.epsilonScaling };
    if (!guided || timestep === T - 1) {
      // At t = T − 1, ᾱ = 0 under zero terminal SNR, so ε from x̂0 is x_t itself and guidance on ε
      // would not move x̂0: the reference steps with the conditional x̂0 there.
      result = ddimStep({ ...base, modelOutput: conditional, predictionType: 'sample' });
    } else {
      const unconditional = checkPrediction(out.unconditional, size, 'unconditional', timestep);
      const eps = applyGuidance(
        epsilonFromSample(schedule, timestep, conditional, latents),
        epsilonFromSample(schedule, timestep, unconditional, latents),
        dim,
        options.guidanceScale,
        options.guidanceRescale,
      );
      result = ddimStep({ ...base, modelOutput: eps, predictionType: 'epsilon' });
    }
    latents = clampInPlace(result.prevSample, options.clipNoise);
    onStep?.(i + 1, total);
  }
  throwIfAborted(signal);
  // The plan always has at least one step (inferenceSteps ≥ 1).
  return result!.predOriginalSample;
}
