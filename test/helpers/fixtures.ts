/** Shared test helpers: fixture paths, JSON loading, numeric comparison with a stated tolerance. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const TINY_PACK = fileURLToPath(new URL('../fixtures/packs/tiny', import.meta.url));

export function fixture<T>(relative: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${relative}`, import.meta.url), 'utf8')) as T;
}

export const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);

/** Largest absolute difference; fails with the index of the worst element if it exceeds `tol`. */
export function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol: number, what = 'values'): number {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  expect(worst, `${what}: max |diff| at index ${at} (${actual[at]} vs ${expected[at]})`).toBeLessThanOrEqual(tol);
  return worst;
}
