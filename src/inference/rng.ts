/**
 * Seeded random numbers for everything the engine samples: diffusion noise,
 * token sampling, candidate noise. Nothing in the engine calls Math.random.
 *
 * Algorithm (mirrored bit for bit in recipe/lcmref/rng.py, so a seeded run in
 * TypeScript and in the PyTorch reference draws the same noise):
 * - state: xoshiro128** (Blackman & Vigna), four 32-bit words, seeded from a
 *   uint32 seed by splitmix32;
 * - uniform(): a double in [0, 1) built from 53 bits of two draws;
 * - normal(): Box–Muller on two uniforms, both outputs used in turn.
 */
export interface Rng {
  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform double in [0, 1). */
  uniform(): number;
  /** Standard normal deviate (float64). */
  normal(): number;
  /** Fill `out` with standard normal deviates rounded to float32, scaled by `scale`. */
  fillNormal(out: Float32Array, scale?: number): Float32Array;
}

const MAX_SEED = 0xffffffff;

/** Throws a RangeError unless `seed` is an integer in [0, 2^32 - 1]. */
export function checkSeed(seed: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new RangeError(`Seed must be an integer from 0 to ${MAX_SEED}, got ${String(seed)}.`);
  }
  return seed;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

class Xoshiro128 implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number) {
    const st = { s: checkSeed(seed) | 0 };
    this.s0 = splitmix32(st);
    this.s1 = splitmix32(st);
    this.s2 = splitmix32(st);
    this.s3 = splitmix32(st);
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  uniform(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  fillNormal(out: Float32Array, scale = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal() * scale;
    return out;
  }
}

/** A new generator for `seed` (an integer in [0, 2^32 - 1]). */
export function createRng(seed: number): Rng {
  return new Xoshiro128(seed);
}

/** A seed drawn from the clock, for callers that did not give one; it is reported back so a run can be repeated. */
export function freshSeed(): number {
  return (Date.now() ^ (performance.now() * 1000)) >>> 0;
}
