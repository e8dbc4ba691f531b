/**
 * The embedding normalizer against the reference SonarNormalizer's float32
 * arithmetic (test/fixtures/diffusion/normalizer.json, made by
 * recipe/fixtures/make_diffusion_fixtures.py), and normalizer.json validation.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Normalizer } from '../../src/inference/lcm/normalizer.ts';

interface NormalizerFixture {
  dim: number; rows: number; center: number[]; scale: number[]; x: number[]; normalized: number[]; y: number[]; denormalized: number[];
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/diffusion/normalizer.json', import.meta.url), 'utf8')) as NormalizerFixture;
const f32 = (v: number[]): number[] => v.map((x) => Math.fround(x));

describe('Normalizer matches torch float32 arithmetic', () => {
  // Tolerance: exact. Each output is two correctly rounded float32 operations, as in torch.
  const n = Normalizer.fromJson({ center: fx.center, scale: fx.scale }, fx.dim);

  it('normalize = (x − center)/scale, bit for bit', () => {
    expect(Array.from(n.normalize(Float32Array.from(fx.x), fx.rows))).toEqual(f32(fx.normalized));
    expect(Array.from(n.normalize(Float32Array.from(fx.x)))).toEqual(f32(fx.normalized)); // rows inferred
  });

  it('denormalize = y·scale + center, bit for bit', () => {
    expect(Array.from(n.denormalize(Float32Array.from(fx.y), fx.rows))).toEqual(f32(fx.denormalized));
  });

  it('round-trips to within float32 rounding and leaves its input untouched', () => {
    const x = Float32Array.from(fx.x);
    const back = n.denormalize(n.normalize(x));
    expect(Array.from(x)).toEqual(f32(fx.x));
    for (let i = 0; i < x.length; i++) expect(Math.abs(back[i]! - x[i]!)).toBeLessThanOrEqual(4e-9);
  });

  it('rejects a batch that is not rows × dim', () => {
    expect(() => n.normalize(new Float32Array(fx.dim * 2 + 1))).toThrow(`normalize: got ${fx.dim * 2 + 1} values; expected rows × ${fx.dim}.`);
    expect(() => n.denormalize(new Float32Array(fx.dim * 2), 3)).toThrow(/for 3 rows; expected rows × 16/);
  });
});

describe('Normalizer.fromJson validates normalizer.json', () => {
  const ok = { center: [0, 0.5], scale: [1, 2] };
  it('accepts a valid object and stores float32 values', () => {
    const n = Normalizer.fromJson({ center: [0.1, 0], scale: [1, 3] }, 2);
    expect(n.dim).toBe(2);
    expect(n.center[0]).toBe(Math.fround(0.1));
  });
  it.each([
    ['not an object', [1, 2], TypeError, /must be an object \{"center": \[...\], "scale": \[...\]\}, got an array of 2/],
    ['null', null, TypeError, /got null/],
    ['missing scale', { center: [0, 0] }, TypeError, /`scale` must be an array of 2 numbers, got undefined/],
    ['wrong length', { ...ok, center: [0, 0, 0] }, RangeError, /`center` has 3 values; the pack's embedding dimension is 2/],
    ['a string value', { ...ok, scale: [1, '2'] }, TypeError, /`scale\[1\]` must be a number, got string/],
    ['a non-finite value', { ...ok, center: [0, Number.NaN] }, RangeError, /`center\[1\]` = NaN is not a finite float32/],
    ['beyond float32', { ...ok, center: [1e39, 0] }, RangeError, /`center\[0\]` = 1e\+39 is not a finite float32/],
    ['a zero scale', { ...ok, scale: [1, 0] }, RangeError, /`scale\[1\]` = 0 must be > 0/],
    ['a negative scale', { ...ok, scale: [-1, 1] }, RangeError, /`scale\[0\]` = -1 must be > 0/],
    ['a scale that rounds to 0 in float32', { ...ok, scale: [1e-50, 1] }, RangeError, /`scale\[0\]` = 1e-50 must be > 0 as a float32/],
  ] as const)('rejects %s', (_what, obj, type, message) => {
    expect(() => Normalizer.fromJson(obj, 2)).toThrow(type);
    expect(() => Normalizer.fromJson(obj, 2)).toThrow(message);
  });
  it('rejects a bad dimension', () => {
    expect(() => Normalizer.fromJson(ok, 0)).toThrow(/positive integer/);
  });
});
