/**
 * The LCM paper's generation metrics (OVL-3, REP-4, word-count ratio, local coherence) on hand-computed cases, and
 * against the recipe's Python definitions (recipe/train/metrics.py rep_n, recipe/train/common.py word_count,
 * recipe/train/lcm.py cos; values printed by /usr/bin/python3, exact).
 */
import { describe, expect, it } from 'vitest';
import { coherenceCosines, cosine, localCoherence } from '../../src/inference/metrics/coherence.ts';
import { repetitionRate, sourceOverlap, wordNgrams } from '../../src/inference/metrics/ngrams.ts';
import { pySplit } from '../../src/inference/metrics/tokens.ts';
import { wordCount, wordCountRatio } from '../../src/inference/metrics/wordCount.ts';

describe('REP-4', () => {
  it('is 1 − distinct/total 4-grams (recipe rep_n values)', () => {
    // "a b c d a b c d": 5 four-grams, 4 distinct (recipe selftest: 0.2).
    expect(repetitionRate('a b c d a b c d')).toBeCloseTo(0.2, 15);
    // 5 four-grams: "one two three one", "two three one two", "three one two three", then the first two again → 3 distinct (recipe: 0.4).
    expect(repetitionRate('one two three one two three one two')).toBeCloseTo(0.4, 15);
    expect(repetitionRate('The cat sat on the mat.')).toBe(0);
    expect(repetitionRate('a b c')).toBe(0); // fewer than 4 words
  });

  it('counts Han characters as words and ignores case and punctuation', () => {
    expect(repetitionRate('好好好好好')).toBeCloseTo(1 - 1 / 2, 15); // 2 four-grams, 1 distinct
    expect(repetitionRate('A b, C d. a B c D', 4)).toBeCloseTo(repetitionRate('a b c d a b c d'), 15);
  });
});

describe('OVL-3', () => {
  it('is the share of the output\'s 3-grams (with repeats) found in the source', () => {
    const source = 'the cat sat on the mat';
    expect(sourceOverlap('the cat sat on a mat', source)).toBeCloseTo(2 / 4, 15); // the cat sat, cat sat on ✓; sat on a, on a mat ✗
    expect(sourceOverlap('the cat sat the cat sat', source)).toBeCloseTo(2 / 4, 15); // the cat sat ×2 ✓; cat sat the, sat the cat ✗
    expect(sourceOverlap(source, source)).toBe(1);
    expect(sourceOverlap('a dog', source)).toBe(0); // no 3-gram
  });

  it('n-grams are in order and need n tokens', () => {
    expect(wordNgrams(['a', 'b', 'c'], 2)).toEqual(['a b', 'b c']);
    expect(wordNgrams(['a'], 2)).toEqual([]);
    expect(() => wordNgrams(['a'], 0)).toThrow(RangeError);
  });
});

describe('word count', () => {
  it.each([
    ['The cat sat on the mat.', 6],
    ['今天天气很好，我们去公园。', 6],
    ['東京タワーは高い。 Tokyo tower', 6],
    ['ภาษาไทย ง่าย', 7],
    ['', 0],
    ['  a\u3000b\x1cc  ', 3],
    ['abc 今天', 2],
  ])('%j → %i words (recipe word_count)', (text, n) => {
    expect(wordCount(text)).toBe(n);
  });

  it('ratio = output words / reference words', () => {
    expect(wordCountRatio('one two three', 'one two three four five six')).toBe(0.5);
    expect(() => wordCountRatio('x', '  ')).toThrow(/no words/);
  });

  it('splits on Python\'s whitespace (U+001C–U+001F, U+0085), not on U+FEFF', () => {
    expect(pySplit('a\x1fb\x85c\ufeffd')).toEqual(['a', 'b', 'c\ufeffd']);
  });
});

describe('local coherence', () => {
  it('cosine as recipe cos (a zero vector gives 0)', () => {
    expect(cosine([1, 0], [1, 0])).toBeCloseTo(1, 10); // 1 / (1 + 1e-12)
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([3, 4], [-3, -4])).toBeCloseTo(-1, 10);
    expect(cosine([0, 0], [1, 1])).toBe(0);
    expect(() => cosine([1], [1, 2])).toThrow(RangeError);
  });

  it('is the mean cosine of concepts n and n + 2', () => {
    const a = [1, 0];
    const b = [0, 1];
    const c = [Math.SQRT1_2, Math.SQRT1_2];
    expect(coherenceCosines([a, b, a, c])).toEqual([cosine(a, a), cosine(b, c)]);
    expect(localCoherence([a, b, a, c])).toBeCloseTo((1 + Math.SQRT1_2) / 2, 10);
    expect(localCoherence([a, b, b])).toBe(0);
    expect(coherenceCosines([a, b])).toEqual([]);
    expect(() => localCoherence([a, b])).toThrow(/at least 3 concepts/);
  });
});
