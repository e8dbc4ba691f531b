/**
 * Diffusion noise schedules and inference plans of the Two-Tower LCM,
 * reproducing Meta's `large_concept_model` (lcm/nn/schedulers/ddim.py) and our
 * PyTorch reference recipe/lcmref/ddim.py. docs/diffusion.md has the formulas
 * and a worked example of the trailing plan.
 *
 * Where the reference computes in float32 tensors, every operation here is
 * rounded with Math.fround, so the values match the Python fixtures
 * (test/fixtures/diffusion/schedules.json) to ≤ 1e-7 absolute; most are
 * bit-identical (see the tests for the stated tolerance).
 */
import type { ScheduleKind, ScheduleSpec } from '../pack/types.ts';

/** The precomputed schedule the sampler steps over. All arrays have length `trainSteps`. */
export interface Schedule {
  readonly trainSteps: number;
  /** β_t, float32 (after the zero-terminal-SNR rescale when the spec asks for it). */
  readonly betas: Float32Array;
  /** ᾱ_t = ∏_{s ≤ t} (1 − β_s), float32; ᾱ[T−1] is exactly 0 with zero terminal SNR. */
  readonly alphasCumprod: Float32Array;
}

/**
 * "trailing": the reference plan, integer stride floor(T/S) (S = 40 of T = 100 runs 50 steps).
 * "trailing-exact": exactly S steps (our deviation, see docs/diffusion.md).
 */
export type Spacing = 'trailing' | 'trailing-exact';

/** Which training timesteps the sampler visits, noisiest first, and where each step lands. */
export interface InferencePlan {
  timesteps: number[];
  /** The step from timesteps[i] lands here; negative means past the end, where ᾱ_prev = 1. */
  prevTimesteps: number[];
}

const f = Math.fround;
const KINDS: readonly ScheduleKind[] = ['cosine', 'linear', 'quadratic', 'sigmoid'];
const SPACINGS: readonly Spacing[] = ['trailing', 'trailing-exact'];
/** betas_for_alpha_bar caps every β here (reference `max_beta=0.999`, Nichol & Dhariwal 2021). */
const MAX_BETA = 0.999;
/**
 * The sigmoid schedule clamps t into [1e-32, 1 − 1e-32] (reference `epsilon = 1e-32`) on a
 * float32 tensor, so the bounds are float32(1e-32) ≈ 1.0000000237e-32 and float32(1 − 1e-32) = 1.
 */
const SIGMOID_T_MIN = f(1e-32);
const SIGMOID_T_MAX = f(1 - 1e-32);

function checkSpec(spec: ScheduleSpec): void {
  if (!KINDS.includes(spec.kind)) {
    throw new RangeError(`Unknown schedule kind ${JSON.stringify(spec.kind)}; use one of ${KINDS.join(', ')}.`);
  }
  if (!Number.isInteger(spec.trainSteps) || spec.trainSteps < 2) {
    throw new RangeError(`Schedule trainSteps must be an integer ≥ 2, got ${String(spec.trainSteps)}.`);
  }
  if (spec.kind === 'linear' || spec.kind === 'quadratic') {
    const { betaStart, betaEnd } = spec;
    if (!(Number.isFinite(betaStart) && Number.isFinite(betaEnd) && betaStart >= 0 && betaStart <= betaEnd && betaEnd < 1)) {
      throw new RangeError(`A ${spec.kind} schedule needs 0 ≤ betaStart ≤ betaEnd < 1, got betaStart ${betaStart} and betaEnd ${betaEnd}.`);
    }
  }
  if (spec.kind === 'sigmoid') {
    if (!(Number.isFinite(spec.sigmoidGamma) && spec.sigmoidGamma > 0)) {
      throw new RangeError(`A sigmoid schedule needs a finite sigmoidGamma > 0 (paper default 1.5), got ${spec.sigmoidGamma}.`);
    }
    if (!Number.isFinite(spec.sigmoidDelta)) {
      throw new RangeError(`A sigmoid schedule needs a finite sigmoidDelta (paper default 0), got ${spec.sigmoidDelta}.`);
    }
  }
}

/**
 * torch.linspace(start, end, n, dtype=float32) by its scalar formula: the first half counts up from
 * `start`, the second half down from `end`, step = (end − start)/(n − 1), all in float32. torch's
 * SIMD path rounds a few entries differently (≤ 2 ulp, ~1.5e-8 here); that is inside the stated
 * tolerance and would make the result depend on the CPU, so it is not emulated.
 */
function linspaceF32(start: number, end: number, n: number): Float32Array {
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (n - 1));
  const half = n >> 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = i < half ? f(s + f(step * i)) : f(e - f(step * (n - i - 1)));
  return out;
}

/** squaredcos_cap_v2 (Nichol & Dhariwal 2021, s = 0.008), float64 as the reference's `math`. */
function alphaBarCosine(t: number): number {
  return Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
}

/** LCM paper eq. 14: ᾱ(t) = sigmoid(δ − γ·logit(t)), with the reference's float32 clamp and ratio. */
function alphaBarSigmoid(t: number, gamma: number, delta: number): number {
  const x = Math.min(Math.max(f(t), SIGMOID_T_MIN), SIGMOID_T_MAX);
  const ratio = f(x / f(1 - x)); // float32 tensor division: +Infinity at t = 1, so ᾱ(1) = 0
  return 1 / (1 + Math.exp(-(delta - gamma * Math.log(ratio))));
}

function betasForAlphaBar(trainSteps: number, alphaBar: (t: number) => number): Float32Array {
  const betas = new Float32Array(trainSteps);
  for (let i = 0; i < trainSteps; i++) {
    const t1 = i / trainSteps;
    const t2 = (i + 1) / trainSteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), MAX_BETA);
  }
  return betas;
}

/** torch.cumprod on CPU accumulates float32 inputs in float64 and rounds each output to float32. */
function cumprodF32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i]!;
    out[i] = acc;
  }
  return out;
}

/**
 * Zero terminal SNR (Lin et al. 2023, arXiv 2305.08891, Algorithm 1), float32 as the reference:
 * shift √ᾱ so the last is 0, rescale so the first is unchanged, convert back to betas.
 */
function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const sqrtAb = cumprodF32(betas.map((b) => f(1 - b)));
  for (let i = 0; i < n; i++) sqrtAb[i] = f(Math.sqrt(sqrtAb[i]!));
  const first = sqrtAb[0]!;
  const last = sqrtAb[n - 1]!;
  const k = f(first / f(first - last));
  const ab = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = f(f(sqrtAb[i]! - last) * k);
    ab[i] = f(s * s);
  }
  const out = new Float32Array(n);
  out[0] = f(1 - ab[0]!);
  for (let i = 1; i < n; i++) out[i] = f(1 - f(ab[i]! / ab[i - 1]!));
  return out;
}

/** Builds the schedule a pack declares (betas, ᾱ) exactly as the reference scheduler's constructor. */
export function makeSchedule(spec: ScheduleSpec): Schedule {
  checkSpec(spec);
  const T = spec.trainSteps;
  let betas: Float32Array;
  switch (spec.kind) {
    case 'linear':
      betas = linspaceF32(spec.betaStart, spec.betaEnd, T);
      break;
    case 'quadratic':
      // Reference "scaled_linear" with exponent 2: linspace of √β, squared in float32.
      betas = linspaceF32(Math.sqrt(spec.betaStart), Math.sqrt(spec.betaEnd), T).map((b) => f(b * b));
      break;
    case 'cosine':
      betas = betasForAlphaBar(T, alphaBarCosine);
      break;
    case 'sigmoid':
      betas = betasForAlphaBar(T, (t) => alphaBarSigmoid(t, spec.sigmoidGamma, spec.sigmoidDelta));
      break;
  }
  if (spec.zeroTerminalSnr) betas = rescaleZeroTerminalSnr(betas);
  const alphasCumprod = cumprodF32(betas.map((b) => f(1 - b)));
  return { trainSteps: T, betas, alphasCumprod };
}

/** Throws a RangeError unless `steps` is a usable number of inference steps for `trainSteps`. */
export function checkInferenceSteps(trainSteps: number, steps: number): void {
  if (!Number.isInteger(steps) || steps < 1 || steps > trainSteps) {
    throw new RangeError(`inferenceSteps must be an integer from 1 to the schedule's trainSteps (${trainSteps}), got ${String(steps)}.`);
  }
}

/**
 * The timesteps a run of `steps` inference steps visits.
 *
 * "trailing" (reference): torch.arange(T, 0, −T/S, dtype=long) − 1. The integer dtype truncates the
 * step, so the stride is k = floor(T/S) and the plan has ceil(T/k) entries T−1, T−1−k, …; each
 * step lands on t − k. "trailing-exact": exactly S entries round(T·(S−i)/S) − 1 (half to even,
 * computed on integers), each landing on the next entry and the last on −1.
 */
export function inferencePlan(trainSteps: number, steps: number, spacing: Spacing): InferencePlan {
  if (!Number.isInteger(trainSteps) || trainSteps < 2) {
    throw new RangeError(`trainSteps must be an integer ≥ 2, got ${String(trainSteps)}.`);
  }
  checkInferenceSteps(trainSteps, steps);
  if (!SPACINGS.includes(spacing)) {
    throw new RangeError(`Unknown spacing ${JSON.stringify(spacing)}; use "trailing" (reference) or "trailing-exact".`);
  }
  const timesteps: number[] = [];
  const prevTimesteps: number[] = [];
  if (spacing === 'trailing') {
    const stride = Math.floor(trainSteps / steps);
    for (let v = trainSteps; v > 0; v -= stride) {
      timesteps.push(v - 1);
      prevTimesteps.push(v - 1 - stride);
    }
  } else {
    for (let i = 0; i < steps; i++) {
      const num = trainSteps * (steps - i);
      let q = Math.floor(num / steps);
      const r = num - q * steps;
      if (2 * r > steps || (2 * r === steps && q % 2 === 1)) q += 1;
      timesteps.push(q - 1);
    }
    for (let i = 0; i < steps; i++) prevTimesteps.push(i + 1 < steps ? timesteps[i + 1]! : -1);
  }
  return { timesteps, prevTimesteps };
}
