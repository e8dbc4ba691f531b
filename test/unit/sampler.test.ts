/**
 * The one-concept diffusion loop against the PyTorch reference `sample_next`
 * (recipe/lcmref/ddim.py → test/fixtures/diffusion/sampler.json), with the
 * fixture's analytic toy denoiser; plus option validation and cancellation.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ScheduleSpec } from '../../src/inference/pack/types.ts';
import { createRng } from '../../src/inference/rng.ts';
import { sampleNext, type DenoiseCall, type DiffusionOptions, type SampleNextArgs } from '../../src/inference/lcm/sampler.ts';
import { makeSchedule } from '../../src/inference/lcm/schedule.ts';

interface Call { timestep: number; withUnconditional: boolean }
interface Run {
  spec: ScheduleSpec; options: DiffusionOptions; seed: number; candidates: number; dim: number;
  initialNoise: number[]; calls: Call[]; output: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/diffusion/sampler.json', import.meta.url), 'utf8')) as { direction: number[]; runs: Run[] };
const direction = Float32Array.from(fixture.direction);
const f = Math.fround;

/** Stated tolerance for whole runs: ≤ 1e-5 absolute per output value. */
const RUN_TOL = 1e-5;

/**
 * TypeScript twin of the fixture's toy denoiser: x0_cond = tanh(0.5·x + v·(t/T)), x0_uncond = 0.3·x,
 * float32 ops as torch, tanh in float64 then rounded (as the Python side does on purpose).
 */
function toyDenoiser(trainSteps: number, dim: number, calls: Call[]): DenoiseCall {
  return async (latents, timestep, withUnconditional) => {
    calls.push({ timestep, withUnconditional });
    const tt = f(timestep / trainSteps);
    const conditional = new Float32Array(latents.length);
    for (let i = 0; i < latents.length; i++) conditional[i] = Math.tanh(f(f(0.5 * latents[i]!) + f(direction[i % dim]! * tt)));
    if (!withUnconditional) return { conditional };
    return { conditional, unconditional: latents.map((x) => f(f(0.3) * x)) };
  };
}

const label = (r: Run): string =>
  `${r.spec.kind} T=${r.spec.trainSteps} S=${r.options.inferenceSteps} ${r.options.spacing} g=${r.options.guidanceScale} n=${r.candidates} clip=${r.options.clipNoise} λ=${r.options.epsilonScaling}`;

describe('sampleNext matches the reference loop', () => {
  it('the fixture covers guidance 1 and 3, candidates 1 and 3, both spacings', () => {
    const combos = new Set(fixture.runs.map((r) => `${r.options.guidanceScale}/${r.candidates}/${r.options.spacing}`));
    for (const g of [1, 3]) for (const n of [1, 3]) for (const s of ['trailing', 'trailing-exact']) expect(combos.has(`${g}/${n}/${s}`)).toBe(true);
  });

  it.each(fixture.runs.map((r) => [label(r), r] as const))('%s', async (_name, r) => {
    const schedule = makeSchedule(r.spec);
    // The starting noise is the shared RNG's (src/inference/rng.ts ↔ recipe/lcmref/rng.py).
    expect(Array.from(createRng(r.seed).fillNormal(new Float32Array(r.candidates * r.dim), r.options.initialNoiseScale))).toEqual(r.initialNoise.map(f));
    const calls: Call[] = [];
    const steps: Array<[number, number]> = [];
    const out = await sampleNext({
      schedule, options: r.options, dim: r.dim, candidates: r.candidates, rng: createRng(r.seed),
      denoise: toyDenoiser(r.spec.trainSteps, r.dim, calls), onStep: (done, total) => steps.push([done, total]),
    });
    // Same timesteps, same order, unconditional branch asked for on every guided step.
    expect(calls).toEqual(r.calls);
    expect(steps).toEqual(r.calls.map((_c, i) => [i + 1, r.calls.length]));
    expect(out.length).toBe(r.output.length);
    for (let i = 0; i < out.length; i++) expect(Math.abs(out[i]! - f(r.output[i]!)), `output[${i}]`).toBeLessThanOrEqual(RUN_TOL);
    // Stronger than the contract, and true today: every float32 op is emulated, so the run is bit-identical.
    expect(Array.from(out)).toEqual(r.output.map(f));
  });

  it('is deterministic for a seed and changes with the seed', async () => {
    const r = fixture.runs.find((x) => x.options.guidanceScale === 3 && x.candidates === 3)!;
    const run = async (seed: number): Promise<number[]> =>
      Array.from(await sampleNext({ schedule: makeSchedule(r.spec), options: r.options, dim: r.dim, candidates: r.candidates, rng: createRng(seed), denoise: toyDenoiser(100, r.dim, []) }));
    expect(await run(7)).toEqual(await run(7));
    expect(await run(8)).not.toEqual(await run(7));
  });
});

const spec: ScheduleSpec = {
  kind: 'cosine', trainSteps: 100, betaStart: 0.0001, betaEnd: 0.02, sigmoidGamma: 1.5, sigmoidDelta: 0, zeroTerminalSnr: true, predictionType: 'sample',
};
const options: DiffusionOptions = {
  inferenceSteps: 10, spacing: 'trailing', guidanceScale: 3, guidanceRescale: 0.7, initialNoiseScale: 0.6, epsilonScaling: 1.00045, clipNoise: 100,
};
const schedule = makeSchedule(spec);
const args = (over: Partial<SampleNextArgs> = {}, opts: Partial<DiffusionOptions> = {}): SampleNextArgs => ({
  schedule, options: { ...options, ...opts }, dim: 4, candidates: 2, rng: createRng(1), denoise: toyDenoiserFor4([]), ...over,
});
function toyDenoiserFor4(calls: Call[]): DenoiseCall {
  return async (latents, timestep, withUnconditional) => {
    calls.push({ timestep, withUnconditional });
    const conditional = latents.map((x) => Math.tanh(x));
    return withUnconditional ? { conditional, unconditional: latents.map((x) => 0.3 * x) } : { conditional };
  };
}

describe('sampleNext validates its options', () => {
  it.each([
    [{ inferenceSteps: 0 }, /inferenceSteps must be an integer from 1 to the schedule's trainSteps \(100\), got 0/],
    [{ inferenceSteps: 101 }, /from 1 to the schedule's trainSteps/],
    [{ inferenceSteps: 4.5 }, /inferenceSteps/],
    [{ spacing: 'leading' as DiffusionOptions['spacing'] }, /spacing must be "trailing"/],
    [{ guidanceScale: 0.5 }, /guidanceScale must be a finite number ≥ 1 \(1 turns guidance off/],
    [{ guidanceScale: Number.NaN }, /guidanceScale/],
    [{ guidanceRescale: 1.5 }, /guidanceRescale must be from 0 to 1/],
    [{ guidanceRescale: -0.1 }, /guidanceRescale/],
    [{ initialNoiseScale: 0 }, /initialNoiseScale must be a finite number > 0/],
    [{ epsilonScaling: 0 }, /epsilonScaling must be null \(off\) or a finite number > 0/],
    [{ epsilonScaling: Number.POSITIVE_INFINITY }, /epsilonScaling/],
    [{ clipNoise: 0 }, /clipNoise must be a number > 0/],
    [{ clipNoise: Number.NaN }, /clipNoise/],
  ] as const)('%o', async (bad, message) => {
    const calls: Call[] = [];
    await expect(sampleNext(args({ denoise: toyDenoiserFor4(calls) }, bad))).rejects.toThrow(message);
    await expect(sampleNext(args({}, bad))).rejects.toBeInstanceOf(RangeError);
    expect(calls).toEqual([]);
  });

  it('rejects bad shapes and bad denoiser outputs', async () => {
    await expect(sampleNext(args({ candidates: 0 }))).rejects.toThrow(/candidates must be a positive integer/);
    await expect(sampleNext(args({ dim: 0 }))).rejects.toThrow(/dim must be a positive integer/);
    await expect(sampleNext(args({ dim: 1 }))).rejects.toThrow(/needs dim ≥ 2/);
    await expect(sampleNext(args({ dim: 1 }, { guidanceScale: 1 }))).resolves.toHaveLength(2);
    await expect(sampleNext(args({ denoise: async () => ({ conditional: new Float32Array(3) }) }))).rejects.toThrow(
      /returned 3 values for the conditional prediction at timestep 99; expected a Float32Array of 8/,
    );
    // Guided steps after the first need the unconditional prediction.
    await expect(sampleNext(args({ denoise: async (x) => ({ conditional: x.slice() }) }))).rejects.toThrow(/nothing for the unconditional prediction at timestep 89/);
  });

  it('asks for the unconditional branch on every step only when guidance is on', async () => {
    const guided: Call[] = [];
    await sampleNext(args({ denoise: toyDenoiserFor4(guided) }));
    expect(guided.map((c) => c.timestep)).toEqual([99, 89, 79, 69, 59, 49, 39, 29, 19, 9]);
    expect(guided.every((c) => c.withUnconditional)).toBe(true);
    const plain: Call[] = [];
    await sampleNext(args({ denoise: toyDenoiserFor4(plain) }, { guidanceScale: 1 }));
    expect(plain.every((c) => !c.withUnconditional)).toBe(true);
  });

  it('clamps the starting noise and every step to ±clipNoise', async () => {
    const seen: number[] = [];
    const denoise: DenoiseCall = async (latents) => {
      seen.push(...latents);
      // Large, row-varying predictions push every step far past the clip.
      return { conditional: latents.map((_x, i) => 5 * ((i % 4) + 1)), unconditional: latents.map((_x, i) => -5 * ((i % 4) + 1)) };
    };
    await sampleNext(args({ denoise }, { clipNoise: 0.25, initialNoiseScale: 3 }));
    expect(Math.max(...seen.map(Math.abs))).toBe(0.25);
  });
});

describe('sampleNext cancellation', () => {
  it('does not call the denoiser when the signal is already aborted, and throws its reason', async () => {
    const calls: Call[] = [];
    const controller = new AbortController();
    const reason = new Error('user pressed stop');
    controller.abort(reason);
    await expect(sampleNext(args({ denoise: toyDenoiserFor4(calls), signal: controller.signal }))).rejects.toBe(reason);
    expect(calls).toEqual([]);
  });

  it('stops before the next denoiser call once aborted mid-run', async () => {
    const calls: Call[] = [];
    const controller = new AbortController();
    const inner = toyDenoiserFor4(calls);
    const denoise: DenoiseCall = async (latents, t, u) => {
      const out = await inner(latents, t, u);
      if (calls.length === 3) controller.abort();
      return out;
    };
    const run = sampleNext(args({ denoise, signal: controller.signal }));
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    await expect(run).rejects.toBeInstanceOf(DOMException);
    expect(calls).toHaveLength(3);
  });

  it('does not return a result when aborted during the last denoiser call', async () => {
    const controller = new AbortController();
    const inner = toyDenoiserFor4([]);
    const denoise: DenoiseCall = async (latents, t, u) => {
      if (t === 9) controller.abort();
      return inner(latents, t, u);
    };
    await expect(sampleNext(args({ denoise, signal: controller.signal }))).rejects.toMatchObject({ name: 'AbortError' });
  });
});
