/**
 * DDIM step, ε from x̂0, and guidance with rescale against the PyTorch reference
 * (recipe/lcmref/ddim.py → test/fixtures/diffusion/{ddim,guidance}.json).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ScheduleSpec } from '../../src/inference/pack/types.ts';
import { alphaProd, applyGuidance, ddimStep, epsilonFromSample, type PredictionType } from '../../src/inference/lcm/ddim.ts';
import { inferencePlan, makeSchedule, type Spacing } from '../../src/inference/lcm/schedule.ts';

interface StepCase {
  steps: number; spacing: Spacing; timestep: number; prevTimestep: number; predictionType: PredictionType; epsilonScaling: number | null;
  modelOutput: number[]; sample: number[]; prevSample: number[]; predOriginalSample: number[];
}
interface EpsCase { timestep: number; modelOutput: number[]; sample: number[]; epsilon: number[] }
interface DdimFixture { spec: ScheduleSpec; rows: number; dim: number; steps: StepCase[]; epsilon: EpsCase[] }
interface GuidanceCase { guidanceScale: number; guidanceRescale: number; rows: number; dim: number; cond: number[]; uncond: number[]; guided: number[] }

const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/diffusion/${name}`, import.meta.url), 'utf8')) as T;
const ddimCases = load<{ cases: DdimFixture[] }>('ddim.json').cases;
const guidanceCases = load<{ cases: GuidanceCase[] }>('guidance.json').cases;

/** Fixture floats are shortest float32 decimals; Float32Array.from restores the exact float32 values. */
const f32 = (values: number[]): Float32Array => Float32Array.from(values);

/**
 * Stated tolerance: ≤ 1e-6 relative to max(1, |expected|) per value. Every float32 operation of the
 * reference is one Math.fround here, so the values are expected to be bit-identical (asserted
 * separately); the tolerance is the contract.
 */
function expectClose(actual: Float32Array, expected: number[], label: string): void {
  expect(actual.length, label).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = Math.fround(expected[i]!);
    expect(Math.abs(actual[i]! - e), `${label}[${i}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(e)));
  }
}

describe('ddimStep matches the reference step', () => {
  for (const fx of ddimCases) {
    const schedule = makeSchedule(fx.spec);
    const name = `${fx.spec.kind} zsnr=${fx.spec.zeroTerminalSnr}`;
    it(`${name}: ${fx.steps.length} steps (both prediction types, λ on and off, first/middle/last steps)`, () => {
      expect(new Set(fx.steps.map((c) => `${c.predictionType}/${c.epsilonScaling}`)).size).toBe(4);
      for (const c of fx.steps) {
        // The fixture's landing step is the plan's, so the plan and the step agree.
        const plan = inferencePlan(fx.spec.trainSteps, c.steps, c.spacing);
        expect(plan.prevTimesteps[plan.timesteps.indexOf(c.timestep)]).toBe(c.prevTimestep);
        const out = ddimStep({
          schedule, timestep: c.timestep, prevTimestep: c.prevTimestep, modelOutput: f32(c.modelOutput), sample: f32(c.sample),
          predictionType: c.predictionType, epsilonScaling: c.epsilonScaling,
        });
        const label = `t=${c.timestep} ${c.predictionType} λ=${c.epsilonScaling}`;
        expectClose(out.prevSample, c.prevSample, `${label} prevSample`);
        expectClose(out.predOriginalSample, c.predOriginalSample, `${label} x0`);
        expect(Array.from(out.prevSample), label).toEqual(Array.from(f32(c.prevSample)));
        expect(Array.from(out.predOriginalSample), label).toEqual(Array.from(f32(c.predOriginalSample)));
      }
    });

    it(`${name}: epsilonFromSample matches get_epsilon, including ᾱ = 0 and t = 0`, () => {
      for (const c of fx.epsilon) {
        const eps = epsilonFromSample(schedule, c.timestep, f32(c.modelOutput), f32(c.sample));
        expectClose(eps, c.epsilon, `t=${c.timestep}`);
        expect(Array.from(eps)).toEqual(Array.from(f32(c.epsilon)));
      }
    });
  }

  const schedule = makeSchedule(ddimCases[0]!.spec);

  it('at ᾱ_t = 0 a "sample" step takes ε = x_t, and past the end ᾱ_prev = 1 returns x̂0', () => {
    expect(schedule.alphasCumprod[99]).toBe(0);
    const x0 = Float32Array.of(0.25, -1.5);
    const xt = Float32Array.of(2, 3);
    const first = ddimStep({ schedule, timestep: 99, prevTimestep: 97, modelOutput: x0, sample: xt, predictionType: 'sample', epsilonScaling: null });
    const a = alphaProd(schedule, 97);
    for (let i = 0; i < 2; i++) expect(first.prevSample[i]).toBe(Math.fround(Math.fround(Math.fround(Math.sqrt(a)) * x0[i]!) + Math.fround(Math.fround(Math.sqrt(Math.fround(1 - a))) * xt[i]!)));
    expect(alphaProd(schedule, -1)).toBe(1);
    const last = ddimStep({ schedule, timestep: 1, prevTimestep: -1, modelOutput: x0, sample: xt, predictionType: 'sample', epsilonScaling: 1.00045 });
    expect(Array.from(last.prevSample)).toEqual(Array.from(x0));
    expect(last.predOriginalSample).not.toBe(x0); // a copy, never the denoiser's buffer
  });

  it('epsilon scaling divides ε̂ only (x̂0 is derived before it)', () => {
    const args = { schedule, timestep: 50, prevTimestep: 48, modelOutput: Float32Array.of(0.3, -0.7), sample: Float32Array.of(1, 2), predictionType: 'epsilon' as const };
    const plain = ddimStep({ ...args, epsilonScaling: null });
    const scaled = ddimStep({ ...args, epsilonScaling: 2 });
    expect(Array.from(scaled.predOriginalSample)).toEqual(Array.from(plain.predOriginalSample));
    expect(Array.from(scaled.prevSample)).not.toEqual(Array.from(plain.prevSample));
  });

  it('rejects bad timesteps and mismatched batches', () => {
    const base = { schedule, prevTimestep: -1, modelOutput: new Float32Array(4), sample: new Float32Array(4), predictionType: 'sample' as const, epsilonScaling: null };
    expect(() => ddimStep({ ...base, timestep: 100 })).toThrow(/from 0 to 99, got 100/);
    expect(() => ddimStep({ ...base, timestep: 1.5 })).toThrow(RangeError);
    expect(() => ddimStep({ ...base, timestep: 10, prevTimestep: 10 })).toThrow(/below the timestep 10/);
    expect(() => ddimStep({ ...base, timestep: 10, sample: new Float32Array(3) })).toThrow(/lengths differ \(4 and 3\)/);
    expect(() => epsilonFromSample(schedule, -1, new Float32Array(2), new Float32Array(2))).toThrow(RangeError);
  });
});

describe('applyGuidance matches apply_classifier_free_guidance with rescale', () => {
  it.each(guidanceCases.map((c) => [c.guidanceScale, c.guidanceRescale, c] as const))('g=%s r=%s', (_g, _r, c) => {
    const out = applyGuidance(f32(c.cond), f32(c.uncond), c.dim, c.guidanceScale, c.guidanceRescale);
    expectClose(out, c.guided, 'guided');
    expect(Array.from(out)).toEqual(Array.from(f32(c.guided)));
  });

  it('rescales each row on its own (per-row std, not a batch std)', () => {
    const c = guidanceCases.find((x) => x.guidanceScale === 3 && x.guidanceRescale === 0.7)!;
    const full = applyGuidance(f32(c.cond), f32(c.uncond), c.dim, 3, 0.7);
    const row1 = applyGuidance(f32(c.cond).subarray(c.dim, 2 * c.dim), f32(c.uncond).subarray(c.dim, 2 * c.dim), c.dim, 3, 0.7);
    expect(Array.from(full.subarray(c.dim, 2 * c.dim))).toEqual(Array.from(row1));
  });

  it('with rescale 1 the guided ε has the conditional ε\'s unbiased std', () => {
    const cond = Float32Array.of(1, -2, 0.5, 3);
    const out = applyGuidance(cond, Float32Array.of(0, 1, 1, -1), 4, 5, 1);
    const std = (v: Float32Array): number => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
    };
    expect(std(out)).toBeCloseTo(std(cond), 5);
  });

  it('rejects dim < 2, a dim that does not divide the batch, and non-finite settings', () => {
    expect(() => applyGuidance(new Float32Array(3), new Float32Array(3), 1, 3, 0.7)).toThrow(/dim ≥ 2/);
    expect(() => applyGuidance(new Float32Array(6), new Float32Array(6), 4, 3, 0.7)).toThrow(RangeError);
    expect(() => applyGuidance(new Float32Array(4), new Float32Array(2), 2, 3, 0.7)).toThrow(/lengths differ/);
    expect(() => applyGuidance(new Float32Array(4), new Float32Array(4), 2, Number.NaN, 0.7)).toThrow(/finite/);
  });
});
