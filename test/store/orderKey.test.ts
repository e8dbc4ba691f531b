/** Fractional order keys: known values, order under random inserts, short keys when appending. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/inference/rng.ts';
import { checkOrderKey, keyBetween, keysBetween } from '../../src/main/store/orderKey.ts';

describe('keyBetween', () => {
  it('gives the reference implementation’s keys (rocicorp/fractional-indexing test values)', () => {
    expect(keyBetween(null, null)).toBe('a0');
    expect(keyBetween(null, 'a0')).toBe('Zz');
    expect(keyBetween('a0', null)).toBe('a1');
    expect(keyBetween('a0', 'a1')).toBe('a0V');
    expect(keyBetween('a1', 'a2')).toBe('a1V');
    expect(keyBetween('az', null)).toBe('b00');
    expect(keyBetween('Zz', 'a0')).toBe('ZzV');
    expect(keyBetween('a0V', 'a1')).toBe('a0l');
    expect(keyBetween(null, 'a0V')).toBe('a0');
  });

  it('rejects keys out of order and malformed keys', () => {
    expect(() => keyBetween('a1', 'a0')).toThrow(RangeError);
    expect(() => keyBetween('a0', 'a0')).toThrow(RangeError);
    expect(() => checkOrderKey('a0V0')).toThrow(/ends in 0/);
    expect(() => checkOrderKey('b1')).toThrow(/cut short/);
    expect(() => checkOrderKey('a!')).toThrow(/base-62/);
  });

  it('keeps 3,000 random inserts in order, distinct, and agreeing with byte order', () => {
    const rng = createRng(7);
    const keys: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const at = Math.floor(rng.uniform() * (keys.length + 1));
      const k = keyBetween(keys[at - 1] ?? null, keys[at] ?? null);
      keys.splice(at, 0, k);
    }
    for (let i = 1; i < keys.length; i++) expect(keys[i - 1]! < keys[i]!).toBe(true);
    // SQLite's BINARY collation compares bytes: the same order as JavaScript's for these ASCII keys.
    const bytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(bytes).toEqual(keys);
    expect(Math.max(...keys.map((k) => k.length))).toBeLessThan(30);
  });

  it('stays short when a writer types at the end (10,000 appends) or the start', () => {
    let k: string | null = null;
    for (let i = 0; i < 10_000; i++) k = keyBetween(k, null);
    expect(k!.length).toBeLessThanOrEqual(4);
    let s: string | null = null;
    for (let i = 0; i < 10_000; i++) s = keyBetween(null, s);
    expect(s!.length).toBeLessThanOrEqual(4);
  });

  it('grows by about one character per six halvings when always inserting at the same place', () => {
    let hi = 'a1';
    for (let i = 0; i < 60; i++) hi = keyBetween('a0', hi);
    expect(hi.length).toBeLessThanOrEqual(2 + 11);
  });
});

describe('keysBetween', () => {
  it('spreads n keys between two bounds, in order, with logarithmic length', () => {
    const keys = keysBetween('a0', 'a1', 1000);
    expect(keys.length).toBe(1000);
    expect(new Set(keys).size).toBe(1000);
    for (let i = 1; i < keys.length; i++) expect(keys[i - 1]! < keys[i]!).toBe(true);
    expect(keys[0]! > 'a0' && keys[999]! < 'a1').toBe(true);
    expect(Math.max(...keys.map((k) => k.length))).toBeLessThanOrEqual(2 + 12);
  });

  it('appends and prepends with open bounds', () => {
    expect(keysBetween(null, null, 3)).toEqual(['a0', 'a1', 'a2']);
    expect(keysBetween('a5', null, 2)).toEqual(['a6', 'a7']);
    expect(keysBetween(null, 'a0', 2)).toEqual(['Zy', 'Zz']);
    expect(keysBetween('a0', 'a1', 0)).toEqual([]);
    expect(() => keysBetween(null, null, -1)).toThrow(RangeError);
  });
});
