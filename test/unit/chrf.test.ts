/**
 * chrF / chrF++ against values published with sacreBLEU 2.x and with the Hugging Face metric that wraps it:
 * - mjpost/sacrebleu test/test_chrf.py (tolerance there: 1e-4, kept here);
 * - huggingface/evaluate metrics/chrf/chrf.py docstring examples and the huggingface/datasets
 *   metrics/chrf/README.md example, printed by Python at full precision (shortest round-trip repr), so they
 *   must match bit for bit (toBe): the F score is computed in sacreBLEU's operation order.
 */
import { describe, expect, it } from 'vitest';
import { chrfFromStatistics, chrfPlusPlus, chrfStatistics, corpusChrf, corpusChrfPlusPlus, sentenceChrf, type ChrfOptions } from '../../src/inference/metrics/chrf.ts';

const SACREBLEU_EPSILON = 1e-4;

/** test_chrf.py `test_cases`: corpus_chrf(..., char_order=6, word_order=0, beta=3, eps_smoothing=True). */
const epsSmoothingCases: [string[], string[], number][] = [
  [['abcdefg'], ['hijklmnop'], 0.0],
  [['a'], ['b'], 0.0],
  [[''], ['b'], 0.0],
  [[''], ['ref'], 0.0],
  [[''], ['reference'], 0.0],
  [['aa'], ['ab'], 8.3333],
  [['a', 'b'], ['a', 'c'], 8.3333],
  [['a'], ['a'], 16.6667],
  [['a b c'], ['a b c'], 50.0],
  [['a b c'], ['abc'], 50.0],
  [
    [' risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .'],
    ['risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .'],
    63.36173,
  ],
  [[' Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. '], ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'], 64.1302698],
  [['Niemand hat die Absicht, eine Mauer zu errichten'], ['Niemand hat die Absicht, eine Mauer zu errichten'], 100.0],
];

/** test_chrf.py `test_cases_effective_order`: beta=3, eps_smoothing=False (sacreBLEU < 2.0 behaviour, 2.x default). */
const effectiveOrderCases: [string[], string[], number][] = [
  [['a'], ['a'], 100.0],
  [[''], ['reference'], 0.0],
  [['a b c'], ['a b c'], 100.0],
  [['a b c'], ['abc'], 100.0],
  [[''], ['c'], 0.0],
  [['a', 'b'], ['a', 'c'], 50.0],
  [['aa'], ['ab'], 25.0],
];

/** test_chrf.py `test_cases_keep_whitespace`: beta=3, remove_whitespace=False. */
const keepWhitespaceCases: [string[], string[], number][] = [
  [['Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.'], ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'], 67.3481606],
  [
    ['risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .'],
    ['risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .'],
    65.2414427,
  ],
];

/** test_chrf.py `test_sentence_level_chrf`: sentence_chrf(hyp, refs, eps_smoothing=True), other options default. */
const sentenceCases: [string, string, number][] = [
  ['Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.', 'Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.', 39.14078509],
  ['Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.', 'A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.', 31.22557079],
  ['Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.', 'Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.', 57.15704367],
];

describe('chrF against sacreBLEU test_chrf.py', () => {
  const beta3: ChrfOptions = { beta: 3 };
  it.each(epsSmoothingCases)('eps smoothing %j vs %j → %d', (hyps, refs, expected) => {
    expect(Math.abs(corpusChrf(hyps, refs, { ...beta3, epsSmoothing: true }) - expected)).toBeLessThan(SACREBLEU_EPSILON);
  });
  it.each(effectiveOrderCases)('effective order %j vs %j → %d', (hyps, refs, expected) => {
    expect(Math.abs(corpusChrf(hyps, refs, beta3) - expected)).toBeLessThan(SACREBLEU_EPSILON);
  });
  it.each(keepWhitespaceCases)('keep whitespace %j → %d', (hyps, refs, expected) => {
    expect(Math.abs(corpusChrf(hyps, refs, { ...beta3, whitespace: true }) - expected)).toBeLessThan(SACREBLEU_EPSILON);
  });
  it.each(sentenceCases)('sentence level %s → %d', (hyp, ref, expected) => {
    expect(Math.abs(sentenceChrf(hyp, ref, { epsSmoothing: true }) - expected)).toBeLessThan(SACREBLEU_EPSILON);
  });
});

describe('chrF and chrF++ with sacreBLEU defaults (Hugging Face metric examples)', () => {
  const hyps = ['The relationship between cats and dogs is not exactly friendly.', 'a good bookshop is just a genteel black hole that knows how to read.'];
  const refs = ['The relationship between dogs and cats is not exactly friendly.', 'A good bookshop is just a genteel Black Hole that knows how to read.'];

  it('corpus chrF2 = 84.64214891738334', () => {
    expect(corpusChrf(hyps, refs)).toBe(84.64214891738334);
  });
  it('corpus chrF2++ = 82.87263732906315', () => {
    expect(corpusChrfPlusPlus(hyps, refs)).toBe(82.87263732906315);
    expect(corpusChrf(hyps, refs, { wordOrder: 2 })).toBe(corpusChrfPlusPlus(hyps, refs));
  });
  it('corpus chrF2++ lowercased = 92.12853119829202', () => {
    expect(corpusChrfPlusPlus(hyps, refs, { lowercase: true })).toBe(92.12853119829202);
  });
  it('single pair, corpus = sentence: 61.576379378113785', () => {
    const h = 'The relationship between Obama and Netanyahu is not exactly friendly.';
    const r = 'The ties between Obama and Netanyahu are not particularly friendly.';
    expect(corpusChrf([h], [r])).toBe(61.576379378113785);
    expect(sentenceChrf(h, r)).toBe(corpusChrf([h], [r]));
  });
  it('corpus score sums statistics; it is not the mean of sentence scores', () => {
    const corpus = corpusChrf(hyps, refs);
    const mean = (sentenceChrf(hyps[0]!, refs[0]!) + sentenceChrf(hyps[1]!, refs[1]!)) / 2;
    const summed = chrfStatistics(hyps[0]!, refs[0]!).map((x, i) => x + chrfStatistics(hyps[1]!, refs[1]!)[i]!);
    expect(corpus).toBe(chrfFromStatistics(summed));
    expect(Math.abs(corpus - mean)).toBeGreaterThan(1e-6);
  });
  it('chrfPlusPlus is sentence-level chrF with word orders 1 and 2', () => {
    expect(chrfPlusPlus(hyps[0]!, refs[0]!)).toBe(sentenceChrf(hyps[0]!, refs[0]!, { wordOrder: 2 }));
    expect(chrfPlusPlus(hyps[0]!, refs[0]!)).not.toBe(sentenceChrf(hyps[0]!, refs[0]!));
  });
});

describe('chrF statistics, hand-counted', () => {
  it('counts [hyp, ref, match] per character order, whitespace removed', () => {
    // "ab a" → "aba": 1-grams a,b,a; 2-grams ab,ba; 3-gram aba. Reference "abb": a,b,b; ab,bb; abb.
    expect(chrfStatistics('ab a', 'abb', { charOrder: 3 })).toEqual([3, 3, 2, 2, 2, 1, 1, 1, 0]);
  });
  it('reports 0 hypothesis n-grams for an order the reference lacks (sacreBLEU _get_match_statistics)', () => {
    expect(chrfStatistics('abc', 'a', { charOrder: 2 })).toEqual([3, 1, 1, 0, 0, 0]);
  });
  it('splits punctuation off word ends for word n-grams (sacreBLEU _remove_punctuation)', () => {
    // "Hi, (there)" → Hi , (there )   (only the end of "(there)" is peeled: sacreBLEU issue #124)
    // "Hi , (there )" → Hi , ( there )  ("(there" has no end mark, so its start is peeled)
    // 1-grams: 4 vs 5, matching Hi , ) → 3; 2-grams: 3 vs 4, matching "Hi ," → 1.
    expect(chrfStatistics('Hi, (there)', 'Hi , (there )', { charOrder: 0, wordOrder: 2 })).toEqual([4, 5, 3, 3, 4, 1]);
    expect(chrfStatistics('"quoted', 'x', { charOrder: 0, wordOrder: 1 })).toEqual([2, 1, 0]);
  });
  it('works on code points as Python does, not UTF-16 units', () => {
    // Each emoji is one character: 2 unigrams and 1 bigram, not 4 and 3.
    expect(chrfStatistics('😀😀', '😀x', { charOrder: 2 })).toEqual([2, 2, 1, 1, 1, 0]);
  });
  it('removes whitespace as Python str.split() does (U+0085 yes, U+FEFF no)', () => {
    expect(chrfStatistics('a\u0085b', 'ab', { charOrder: 1 })).toEqual([2, 2, 2]);
    expect(chrfStatistics('a\u3000\u2028b', 'ab', { charOrder: 1 })).toEqual([2, 2, 2]);
    expect(chrfStatistics('a\ufeffb', 'ab', { charOrder: 1 })).toEqual([3, 2, 2]);
  });
  it('lowercases both sides when asked', () => {
    expect(sentenceChrf('HELLO World', 'hello world', { lowercase: true })).toBe(100);
    expect(sentenceChrf('HELLO World', 'hello world')).toBeLessThan(100);
  });
});

describe('chrF references and input checks', () => {
  it('keeps the best of several references and ignores empty ones', () => {
    const good = 'the cat sat on the mat';
    expect(sentenceChrf(good, ['a dog ran', good])).toBe(100);
    expect(sentenceChrf(good, ['', 'a dog ran'])).toBe(sentenceChrf(good, 'a dog ran'));
  });
  it('refuses an empty reference as sacreBLEU does', () => {
    expect(() => sentenceChrf('x', '')).toThrow(RangeError);
    expect(() => corpusChrf(['x'], [['', '']])).toThrow(/non-empty reference/);
  });
  it('refuses mismatched corpora and bad options', () => {
    expect(() => corpusChrf(['a', 'b'], ['a'])).toThrow(/2 hypotheses but 1 references/);
    expect(() => corpusChrf([], [])).toThrow(RangeError);
    expect(() => sentenceChrf('a', 'a', { charOrder: 0 })).toThrow(RangeError);
    expect(() => sentenceChrf('a', 'a', { charOrder: 2.5 })).toThrow(RangeError);
    expect(() => sentenceChrf('a', 'a', { beta: -1 })).toThrow(RangeError);
    expect(() => chrfFromStatistics([1, 1, 1])).toThrow(/expected 18 statistics/);
  });
});
