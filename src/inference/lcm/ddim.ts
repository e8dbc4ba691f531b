/**
 * The DDIM step (η = 0), ε from an x̂0 prediction, and classifier-free guidance
 * with rescale, on flat row-major Float32Array batches [rows × dim].
 *
 * Each formula is the reference's (Meta's lcm/nn/schedulers/ddim.py `step` and
 * `get_epsilon`, lcm/models/two_tower_diffusion_lcm/builder.py
 * `apply_classifier_free_guidance`; PyTorch twin recipe/lcmref/ddim.py), and each
 * float32 tensor operation there is one Math.fround here, so results match
 * test/fixtures/diffusion/{ddim,guidance}.json (see the tests for tolerances).
 */
import type { Schedule } from './schedule.ts';

const f = Math.fround;

/** What the model output given to {@link ddimStep} is: the clean vector x̂0 or the noise ε̂. */
export type PredictionType = 'sample' | 'epsilon';

export interface DdimStepArgs {
  schedule: Schedule;
  /** Current training timestep t, 0 ≤ t < T. */
  timestep: number;
  /** Where the step lands (from the inference plan); negative means past the end (ᾱ_prev = 1). */
  prevTimestep: number;
  /** [rows × dim] x̂0 ("sample") or ε̂ ("epsilon"). */
  modelOutput: Float32Array;
  /** [rows × dim] x_t. */
  sample: Float32Array;
  predictionType: PredictionType;
  /** λ of epsilon scaling (Ning et al. 2023, arXiv 2308.15321; paper setting 1.00045), or null for none. */
  epsilonScaling: number | null;
}

export interface DdimStepResult {
  /** x_prev, the next latents. */
  prevSample: Float32Array;
  /** x̂0 at this step (the loop's result after its last step). */
  predOriginalSample: Float32Array;
}

function checkTimestep(schedule: Schedule, timestep: number): void {
  if (!Number.isInteger(timestep) || timestep < 0 || timestep >= schedule.trainSteps) {
    throw new RangeError(`Timestep must be an integer from 0 to ${schedule.trainSteps - 1}, got ${String(timestep)}.`);
  }
}

function checkSameLength(a: Float32Array, b: Float32Array, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: lengths differ (${a.length} and ${b.length}); both must be rows × dim.`);
}

/** ᾱ at `timestep`, or 1 past the end (reference `set_alpha_to_one=True`). */
export function alphaProd(schedule: Schedule, timestep: number): number {
  return timestep >= 0 ? schedule.alphasCumprod[timestep]! : 1;
}

/**
 * One deterministic DDIM step (Song et al. 2021, eq. 12 with σ = 0):
 * "sample": ε̂ = (x_t − √ᾱ_t·x̂0)/√(1−ᾱ_t); "epsilon": x̂0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t;
 * then ε̂ /= λ if epsilon scaling is on (after x̂0 is known, as the reference);
 * x_prev = √ᾱ_prev·x̂0 + √(1−ᾱ_prev)·ε̂.
 */
export function ddimStep(args: DdimStepArgs): DdimStepResult {
  const { schedule, timestep, prevTimestep, modelOutput, sample, predictionType, epsilonScaling } = args;
  checkTimestep(schedule, timestep);
  if (!Number.isInteger(prevTimestep) || prevTimestep >= timestep) {
    throw new RangeError(`prevTimestep must be an integer below the timestep ${timestep}, got ${String(prevTimestep)}.`);
  }
  checkSameLength(modelOutput, sample, 'ddimStep modelOutput and sample');
  const alphaT = schedule.alphasCumprod[timestep]!;
  const alphaPrev = alphaProd(schedule, prevTimestep);
  const sqrtAlpha = f(Math.sqrt(alphaT));
  const sqrtBeta = f(Math.sqrt(f(1 - alphaT)));
  const sqrtAlphaPrev = f(Math.sqrt(alphaPrev));
  const sqrtBetaPrev = f(Math.sqrt(f(1 - alphaPrev)));
  const lambda = epsilonScaling === null ? null : f(epsilonScaling);
  const n = sample.length;
  const x0 = new Float32Array(n);
  const prev = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const m = modelOutput[i]!;
    const x = sample[i]!;
    let x0i: number;
    let eps: number;
    if (predictionType === 'sample') {
      x0i = m;
      eps = f(f(x - f(sqrtAlpha * m)) / sqrtBeta);
    } else {
      eps = m;
      x0i = f(f(x - f(sqrtBeta * m)) / sqrtAlpha);
    }
    if (lambda !== null) eps = f(eps / lambda);
    x0[i] = x0i;
    prev[i] = f(f(sqrtAlphaPrev * x0i) + f(sqrtBetaPrev * eps));
  }
  return { prevSample: prev, predOriginalSample: x0 };
}

/** ε̂ implied by an x̂0 prediction at `timestep` (reference `get_epsilon`): (x_t − √ᾱ_t·x̂0)/√(1 − ᾱ_t). */
export function epsilonFromSample(schedule: Schedule, timestep: number, x0: Float32Array, sample: Float32Array): Float32Array {
  checkTimestep(schedule, timestep);
  checkSameLength(x0, sample, 'epsilonFromSample x0 and sample');
  const alphaT = schedule.alphasCumprod[timestep]!;
  const sqrtAlpha = f(Math.sqrt(alphaT));
  const sqrtBeta = f(Math.sqrt(f(1 - alphaT)));
  const out = new Float32Array(x0.length);
  for (let i = 0; i < x0.length; i++) out[i] = f(f(sample[i]! - f(sqrtAlpha * x0[i]!)) / sqrtBeta);
  return out;
}

/** Unbiased standard deviation of v[start, start + n), accumulated in float64 like torch's CPU std, rounded to float32. */
function rowStd(v: Float32Array, start: number, n: number): number {
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[start + i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = v[start + i]! - mean;
    ss += d * d;
  }
  return f(Math.sqrt(ss / (n - 1)));
}

/**
 * Classifier-free guidance with rescale (Lin et al. 2023, Algorithm 2), per row of [rows × dim]:
 * ε_g = ε_u + g·(ε_c − ε_u); φ = r·std(ε_c)/std(ε_g) + (1 − r); returns φ·ε_g.
 * std is torch's default (unbiased, n − 1) over the dim axis, so dim must be ≥ 2.
 */
export function applyGuidance(cond: Float32Array, uncond: Float32Array, dim: number, guidanceScale: number, guidanceRescale: number): Float32Array {
  checkSameLength(cond, uncond, 'applyGuidance cond and uncond');
  if (!Number.isInteger(dim) || dim < 2 || cond.length % dim !== 0) {
    throw new RangeError(`applyGuidance needs an integer dim ≥ 2 (the unbiased std divides by dim − 1) that divides the length ${cond.length}, got ${String(dim)}.`);
  }
  if (!Number.isFinite(guidanceScale) || !Number.isFinite(guidanceRescale)) {
    throw new RangeError(`Guidance scale and rescale must be finite, got ${guidanceScale} and ${guidanceRescale}.`);
  }
  // Python scalars meet float32 tensors as float32; (1 − r) is formed in float64 first.
  const g = f(guidanceScale);
  const r = f(guidanceRescale);
  const oneMinusR = f(1 - guidanceRescale);
  const out = new Float32Array(cond.length);
  for (let start = 0; start < cond.length; start += dim) {
    for (let i = start; i < start + dim; i++) {
      const u = uncond[i]!;
      out[i] = f(u + f(g * f(cond[i]! - u)));
    }
    const ratio = f(rowStd(cond, start, dim) / rowStd(out, start, dim));
    const phi = f(f(r * ratio) + oneMinusR);
    for (let i = start; i < start + dim; i++) out[i] = f(phi * out[i]!);
  }
  return out;
}
