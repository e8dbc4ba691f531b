/**
 * BLEU against sacreBLEU 2.x's own test values (github.com/mjpost/sacrebleu, test/test_bleu.py and
 * test/test_sentence_bleu.py; their tolerance: 1e-8 for corpus scores, 1e-3 for sentence scores, "%.2f" for the
 * max-order cases), and the tokenizers against hand-derived mteval/sacreBLEU output.
 */
import { describe, expect, it } from 'vitest';
import { autoBleu } from '../../src/inference/metrics/autoBleu.ts';
import { bleuStatistics, computeBleu, corpusBleu, sentenceBleu, type BleuOptions } from '../../src/inference/metrics/bleu.ts';
import { bleuTokenize, bleuTokenizerFor } from '../../src/inference/metrics/bleuTokenizers.ts';

// test_bleu.py: the README example, references as two streams; ours are per segment (the transpose).
const REF_STREAMS = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];
const HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const REFS = HYPS.map((_, i) => REF_STREAMS.map((s) => s[i]!));

/** sacrebleu.raw_corpus_bleu: floor smoothing, no tokenization, effective order. */
const raw = (hyps: string[], refs: string[], smoothValue?: number) =>
  corpusBleu(hyps, refs, { tokenize: 'none', smoothMethod: 'floor', effectiveOrder: true, ...(smoothValue !== undefined ? { smoothValue } : {}) });

describe('corpus BLEU = sacreBLEU test_bleu.py', () => {
  it.each([
    [{}, 48.530827],
    [{ tokenize: 'none' }, 49.1919566],
    [{ tokenize: '13a' }, 48.530827],
    [{ tokenize: 'intl' }, 43.91623493],
    [{ smoothMethod: 'none' }, 48.530827],
  ] as [BleuOptions, number][])('%j → %f', (options, expected) => {
    expect(Math.abs(corpusBleu(HYPS, REFS, options).score - expected)).toBeLessThan(1e-6);
  });

  it('empty hypotheses are scored (0), not dropped', () => {
    expect(corpusBleu(['', '', ''], REFS).score).toBe(0);
  });

  it.each([[1, '77.65'], [2, '60.50'], [3, '53.93'], [4, '48.53'], [5, '46.14'], [6, '43.28']])('max n-gram order %i → %s', (order, expected) => {
    expect(corpusBleu(HYPS, REFS, { maxNgramOrder: order }).score.toFixed(2)).toBe(expected);
  });

  it('raw_corpus_bleu cases, effective order and statistics', () => {
    expect(raw(['this is a test', 'another test'], ['ref1', 'ref2'], 0.01).score).toBe(0); // sacreBLEU #141
    expect(Math.abs(raw(['this is a test'], ['this is a test'], 0.01).score / 100 - 1)).toBeLessThan(1e-8);
    expect(Math.abs(raw(['this is a fest'], ['this is a test'], 0.01).score / 100 - 0.223606797749979)).toBeLessThan(1e-8);
    expect(Math.abs(raw(['test'], ['a test'], 0.01).score / 100 - 0.3678794411714425)).toBeLessThan(1e-8);
    expect(Math.abs(raw(['a test'], ['a test'], 0.01).score / 100 - 1)).toBeLessThan(1e-8);
    expect(Math.abs(raw(['a little test'], ['a test'], 0.01).score / 100 - 0.03218297948685433)).toBeLessThan(1e-8);
    const s = raw(['am I am a character sequence'], ['I am a symbol string sequence a a'], 0.01);
    expect([s.counts, s.totals]).toEqual([[4, 2, 1, 0], [6, 5, 4, 3]]);
    // test_offset: floor smoothing with 0 → 0; with the default 0.1 → 0.1555722182.
    expect(raw(['am I am a character sequence'], ['I am a symbol string sequence a a'], 0).score).toBe(0);
    expect(Math.abs(raw(['am I am a character sequence'], ['I am a symbol string sequence a a']).score / 100 - 0.1555722182)).toBeLessThan(1e-8);
  });

  it('compute_bleu from statistics (test_scoring, test_degenerate_statistics)', () => {
    expect(Math.abs(computeBleu([9, 7, 5, 3], [10, 8, 6, 4], 11, 11).score / 100 - 0.8375922397)).toBeLessThan(1e-8);
    const floor = (c: number[], t: number[], sys: number, ref: number, v: number) => computeBleu(c, t, sys, ref, { smoothMethod: 'floor', smoothValue: v }).score;
    expect(floor([0, 0, 0, 0], [4, 4, 2, 1], 0, 1, 0)).toBe(0);
    expect(floor([0, 0, 0, 0], [10, 11, 12, 0], 14, 10, 0)).toBe(0);
    expect(floor([0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0)).toBe(0);
    expect(floor([6, 5, 4, 0], [6, 5, 4, 3], 6, 6, 0)).toBe(0);
    expect(floor([0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.1)).toBe(0);
    expect(floor([0, 0, 0, 0], [0, 0, 0, 0], 1, 5, 0.01)).toBe(0);
  });

  it('multiple references: clipped by the max count over references, closest length (shorter on ties)', () => {
    // hyp "a a b" (3 tokens); reference lengths 2 and 4 are equally close → 2. Unigrams: "a" twice (the second
    // reference has two), "b" once → 3; bigrams: "a a" from the second, "a b" from the first → 2.
    expect(bleuStatistics('a a b', ['a b', 'a a c d'], { tokenize: 'none' }).slice(0, 4)).toEqual([3, 2, 3, 2]);
    expect(bleuStatistics('a a b', ['a b'], { tokenize: 'none' }).slice(0, 4)).toEqual([3, 2, 2, 1]);
  });
});

describe('sentence BLEU = sacreBLEU test_sentence_bleu.py', () => {
  // sacreBLEU issue #98's pair.
  const REF = 'producţia de zahăr brut se exprimă în zahăr alb;';
  const SYS = 'Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;';
  it.each([
    [{ smoothMethod: 'exp' }, 8.493],
    [{ smoothMethod: 'none' }, 0],
    [{ smoothMethod: 'floor' }, 4.51688],
    [{ smoothMethod: 'floor', smoothValue: 0.1 }, 4.51688],
    [{ smoothMethod: 'floor', smoothValue: 0.5 }, 10.1],
    [{ smoothMethod: 'add-k' }, 14.882],
    [{ smoothMethod: 'add-k', smoothValue: 1 }, 14.882],
    [{ smoothMethod: 'add-k', smoothValue: 2 }, 21.389],
    [{ tokenize: 'none' }, 7.347],
    [{ tokenize: 'intl' }, 8.493],
    [{ tokenize: 'char' }, 40.8759],
    [{ tokenize: 'char', lowercase: true }, 42.0267],
  ] as [BleuOptions, number][])('%j → %f', (options, expected) => {
    expect(Math.abs(sentenceBleu(SYS, REF, options).score - expected)).toBeLessThan(1e-3);
  });

  it.each(['exp', 'none', 'floor', 'add-k'] as const)('no match at all scores 0 with %s smoothing (#141)', (smoothMethod) => {
    expect(sentenceBleu('this is a cat', 'okay thanks', { smoothMethod }).score).toBe(0);
  });

  it('an empty reference is an error, as in sacreBLEU', () => {
    expect(() => sentenceBleu('a', '')).toThrow(/reference is empty/);
    expect(() => corpusBleu(['a'], ['a', 'b'])).toThrow(/1 hypotheses but 2 references/);
  });
});

describe('tokenizers', () => {
  it('13a separates punctuation and symbols, keeps apostrophes, decimals and thousands', () => {
    expect(bleuTokenize("It wasn't 3.5 or 1,000 (really)!", '13a')).toBe("It wasn't 3.5 or 1,000 ( really ) !");
    expect(bleuTokenize('end. 2015-2016 &amp; a-b', '13a')).toBe('end . 2015 - 2016 & a-b');
  });

  it('zh splits Chinese characters and, like sacreBLEU, the general-punctuation block its range table lets in', () => {
    expect(bleuTokenize('我们去Beijing玩。', 'zh')).toBe('我 们 去 Beijing 玩 。');
    // U+2026 "…" falls in sacreBLEU's misread range '\u20000'–'\u2a6d6' (= U+2001–U+2A6D); U+2A6D is its last
    // character, U+2A6E is outside.
    expect(bleuTokenize('a…b', 'zh')).toBe('a … b');
    expect(bleuTokenize('a\u2a6db', 'zh')).toBe('a \u2a6d b');
    expect(bleuTokenize('a\u2a6eb', 'zh')).toBe('a\u2a6eb');
    // An actual Extension B ideograph (U+20000) is outside every range.
    expect(bleuTokenize('a\u{20000}b', 'zh')).toBe('a\u{20000}b');
  });

  it('char makes every code point a token; the report picks zh / char / 13a by language', () => {
    expect(bleuTokenize('日本 語', 'char')).toBe('日 本   語');
    expect([bleuTokenizerFor('zho_Hans'), bleuTokenizerFor('jpn_Jpan'), bleuTokenizerFor('fra_Latn')]).toEqual(['zh', 'char', '13a']);
  });
});

describe('AutoBLEU', () => {
  it('is the mean sentence BLEU of the round trips, with corpus BLEU beside it', () => {
    const a = autoBleu(['The cat sat on the mat.', 'A dog.'], ['The cat sat on the mat.', 'A cat.']);
    const second = sentenceBleu('A cat.', 'A dog.').score;
    expect(second).toBeGreaterThan(0);
    expect(a.mean).toBeCloseTo((100 + second) / 2, 12);
    expect(a.corpus).toBeCloseTo(corpusBleu(['The cat sat on the mat.', 'A cat.'], ['The cat sat on the mat.', 'A dog.']).score, 12);
    expect(a.segments).toBe(2);
    expect(() => autoBleu(['a'], [])).toThrow(RangeError);
  });
});
