/**
 * Schedules and inference plans against the PyTorch reference
 * (recipe/lcmref/ddim.py → test/fixtures/diffusion/{schedules,timesteps}.json,
 * made by recipe/fixtures/make_diffusion_fixtures.py).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ScheduleSpec } from '../../src/inference/pack/types.ts';
import { inferencePlan, makeSchedule, type Spacing } from '../../src/inference/lcm/schedule.ts';

interface ScheduleCase { name: string; spec: ScheduleSpec; betas: number[]; alphasCumprod: number[] }
interface PlanCase { trainSteps: number; steps: number; spacing: Spacing; timesteps: number[]; prevTimesteps: number[] }

const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/diffusion/${name}`, import.meta.url), 'utf8')) as T;
const schedules = load<{ cases: ScheduleCase[] }>('schedules.json').cases;
const plans = load<{ cases: PlanCase[] }>('timesteps.json').cases;

/** Stated tolerance for schedules: ≤ 1e-7 absolute per value (float32 emulation of torch). */
const SCHEDULE_TOL = 1e-7;

/** Fixture floats are the shortest decimals of float32 values; fround restores the exact float32. */
const f32 = (values: number[]): number[] => values.map((v) => Math.fround(v));

function maxAbsDiff(actual: Float32Array, expected: number[]): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - Math.fround(expected[i]!)));
  return worst;
}

const cosine100: ScheduleSpec = {
  kind: 'cosine', trainSteps: 100, betaStart: 0.0001, betaEnd: 0.02, sigmoidGamma: 1.5, sigmoidDelta: 0, zeroTerminalSnr: true, predictionType: 'sample',
};

describe('makeSchedule matches the PyTorch reference', () => {
  it('covers every kind, with and without zero terminal SNR, at T = 100 and 1000', () => {
    const kinds = new Set(schedules.map((c) => `${c.spec.kind}/${c.spec.trainSteps}/${c.spec.zeroTerminalSnr}`));
    expect(kinds.size).toBe(4 * 2 * 2);
  });

  it.each(schedules.map((c) => [c.name, c] as const))('%s: betas and ᾱ within 1e-7', (_name, c) => {
    const s = makeSchedule(c.spec);
    expect(s.trainSteps).toBe(c.spec.trainSteps);
    expect(maxAbsDiff(s.betas, c.betas)).toBeLessThanOrEqual(SCHEDULE_TOL);
    expect(maxAbsDiff(s.alphasCumprod, c.alphasCumprod)).toBeLessThanOrEqual(SCHEDULE_TOL);
  });

  it('is in fact bit-identical to the committed fixtures (V8 ships its own libm, so this holds on every platform)', () => {
    for (const c of schedules) {
      const s = makeSchedule(c.spec);
      expect(Array.from(s.betas), c.name).toEqual(f32(c.betas));
      expect(Array.from(s.alphasCumprod), c.name).toEqual(f32(c.alphasCumprod));
    }
  });

  it('puts ᾱ exactly at 0 on the last step with zero terminal SNR, and above 0 without', () => {
    for (const c of schedules) {
      const s = makeSchedule(c.spec);
      const last = s.alphasCumprod[c.spec.trainSteps - 1]!;
      if (c.spec.zeroTerminalSnr) expect(last, c.name).toBe(0);
      else expect(last, c.name).toBeGreaterThan(0);
      // Non-increasing (a steep sigmoid keeps ᾱ at float32 1 for the first steps), and falling overall.
      for (let t = 1; t < c.spec.trainSteps; t++) expect(s.alphasCumprod[t]!, c.name).toBeLessThanOrEqual(s.alphasCumprod[t - 1]!);
      expect(last, c.name).toBeLessThan(s.alphasCumprod[0]!);
    }
  });

  it('reproduces the float32 clamp of the sigmoid schedule at t = 0 and t = 1', () => {
    const s = makeSchedule({ ...cosine100, kind: 'sigmoid', zeroTerminalSnr: false });
    // ᾱ(0) = sigmoid(0 − 1.5·log(float32(1e-32))) = 1 in float64; ᾱ(1) = 0 (ratio 1/0 = ∞), so β[T−1] is capped at 0.999.
    expect(s.betas[99]).toBe(Math.fround(0.999));
  });

  it('rejects specs it cannot build, saying what is allowed', () => {
    expect(() => makeSchedule({ ...cosine100, kind: 'exp' as ScheduleSpec['kind'] })).toThrow(/Unknown schedule kind "exp"/);
    expect(() => makeSchedule({ ...cosine100, trainSteps: 1 })).toThrow(RangeError);
    expect(() => makeSchedule({ ...cosine100, trainSteps: 99.5 })).toThrow(/integer ≥ 2/);
    expect(() => makeSchedule({ ...cosine100, kind: 'linear', betaStart: 0.02, betaEnd: 0.01 })).toThrow(/betaStart ≤ betaEnd/);
    expect(() => makeSchedule({ ...cosine100, kind: 'quadratic', betaEnd: 1 })).toThrow(RangeError);
    expect(() => makeSchedule({ ...cosine100, kind: 'sigmoid', sigmoidGamma: 0 })).toThrow(/sigmoidGamma > 0/);
    expect(() => makeSchedule({ ...cosine100, kind: 'sigmoid', sigmoidDelta: Number.NaN })).toThrow(/sigmoidDelta/);
    // Irrelevant fields are not checked: a cosine schedule ignores betaStart/betaEnd, as the reference does.
    expect(() => makeSchedule({ ...cosine100, betaStart: 5 })).not.toThrow();
  });
});

describe('inferencePlan', () => {
  it.each(plans.map((c) => [`T=${c.trainSteps} S=${c.steps} ${c.spacing}`, c] as const))('%s equals the reference exactly', (_n, c) => {
    expect(inferencePlan(c.trainSteps, c.steps, c.spacing)).toEqual({ timesteps: c.timesteps, prevTimesteps: c.prevTimesteps });
  });

  it('trailing uses the integer stride floor(T/S): S = 40 of T = 100 runs 50 steps 99, 97, …, 1', () => {
    const plan = inferencePlan(100, 40, 'trailing');
    expect(plan.timesteps).toHaveLength(50);
    expect(plan.timesteps.slice(0, 3)).toEqual([99, 97, 95]);
    expect(plan.timesteps.at(-1)).toBe(1);
    expect(plan.prevTimesteps.at(-1)).toBe(-1);
    const thirty = inferencePlan(100, 30, 'trailing');
    expect(thirty.timesteps).toHaveLength(34);
    expect(thirty.timesteps.slice(0, 3)).toEqual([99, 96, 93]);
    expect(thirty.timesteps.at(-1)).toBe(0);
    expect(thirty.prevTimesteps.at(-1)).toBe(-3);
  });

  it('trailing-exact runs exactly S distinct steps from T − 1 for every S', () => {
    for (const T of [100, 1000]) {
      for (let S = 1; S <= T; S++) {
        const { timesteps, prevTimesteps } = inferencePlan(T, S, 'trailing-exact');
        const ok = timesteps.length === S && timesteps[0] === T - 1 && timesteps.at(-1)! >= 0 &&
          timesteps.every((t, i) => i === 0 || t < timesteps[i - 1]!) &&
          prevTimesteps.every((p, i) => p === (i + 1 < S ? timesteps[i + 1] : -1));
        expect(ok, `T=${T} S=${S}: ${timesteps.join(',')}`).toBe(true);
      }
    }
  });

  it('rejects step counts outside 1..T and unknown spacings', () => {
    expect(() => inferencePlan(100, 0, 'trailing')).toThrow(/from 1 to the schedule's trainSteps \(100\), got 0/);
    expect(() => inferencePlan(100, 101, 'trailing-exact')).toThrow(RangeError);
    expect(() => inferencePlan(100, 2.5, 'trailing')).toThrow(RangeError);
    expect(() => inferencePlan(100, 40, 'leading' as Spacing)).toThrow(/Unknown spacing "leading"/);
    expect(() => inferencePlan(1, 1, 'trailing')).toThrow(RangeError);
  });
});
