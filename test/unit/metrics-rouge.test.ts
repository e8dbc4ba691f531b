/**
 * ROUGE-L against Google rouge_score's published test values (google-research/google-research,
 * rouge/rouge_scorer_test.py and rouge/testdata/{target,prediction}.txt; its tolerance: 5 decimals for the
 * ROUGE-1.5.5 cases, assertAlmostEqual's 7 otherwise), and the multilingual tokenizer against the recipe's Python
 * (recipe/train/metrics.py rouge_tokens / rouge_l, values printed by /usr/bin/python3, tolerance 1e-12).
 */
import { describe, expect, it } from 'vitest';
import { lcsIndices, lcsLength, rougeL, rougeLsum, rougeLsumTokens, unionLcs } from '../../src/inference/metrics/rougeL.ts';
import { rougeTokenizerFor, rougeTokens } from '../../src/inference/metrics/tokens.ts';

const standard = { tokenizer: 'standard' as const };

// rouge/testdata: lines 1 and 2 of target.txt and prediction.txt (random strings with "ing"/"tion"/"er" endings).
const TARGETS = [
  "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L",
  "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN",
];
const PREDICTIONS = [
  "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi",
  "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD",
];

describe('rougeL = rouge_score', () => {
  it('testRougeLConsecutive / NonConsecutive: P 1, R 2/3, F 4/5', () => {
    for (const hyp of ['testing one', 'testing two']) {
      const s = rougeL(hyp, 'testing one two', standard);
      expect(s.precision).toBe(1);
      expect(s.recall).toBeCloseTo(2 / 3, 7);
      expect(s.fmeasure).toBeCloseTo(4 / 5, 7);
    }
  });

  it('testRougeLAgainstRouge155 (ROUGE-1.5.5 values, 5 decimals)', () => {
    const expected = [[0.40741, 0.6875, 0.51163], [0.40476, 0.65385, 0.5]];
    TARGETS.forEach((target, i) => {
      const s = rougeL(PREDICTIONS[i]!, target, standard);
      expect(s.recall).toBeCloseTo(expected[i]![0]!, 5);
      expect(s.precision).toBeCloseTo(expected[i]![1]!, 5);
      expect(s.fmeasure).toBeCloseTo(expected[i]![2]!, 5);
    });
  });

  it('testRougeEmpty: an empty side scores 0', () => {
    expect(rougeL('', 'testing one two', standard)).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
    expect(rougeLsum('', 'testing one two', standard)).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
  });
});

describe('rougeLsum = rouge_score', () => {
  it('testLcsTable: LCS length and the backtracked indices', () => {
    const ref = ['1', '2', '3', '4', '5'];
    expect(lcsLength(ref, ['2', '5', '3', '4'])).toBe(3);
    expect(lcsIndices(ref, ['2', '5', '3', '4'])).toEqual([1, 2, 3]);
    expect(lcsIndices(ref, ['8', '9'])).toEqual([]);
  });

  it('testUnionLcs: the union LCS of Lin 2004 §3.2', () => {
    const ref = ['1', '2', '3', '4', '5'];
    expect(unionLcs(ref, [['1', '2', '6', '7', '8'], ['1', '3', '8', '9', '5']])).toEqual(['1', '2', '3', '5']);
  });

  it('testSummaryLevelLcs and testRougeLsum: R 4/5, P 4/10, F 0.5333', () => {
    const direct = rougeLsumTokens([['1', '2', '6', '7', '8'], ['1', '3', '8', '9', '5']], [['1', '2', '3', '4', '5']]);
    expect(direct.recall).toBe(0.8);
    expect(direct.precision).toBe(0.4);
    expect(direct.fmeasure).toBeCloseTo(0.5333, 3);
    expect(rougeLsumTokens([[]], [['reference']]).recall).toBe(0);
    const s = rougeLsum('w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5', 'w1 w2 w3 w4 w5', standard);
    expect([s.recall, s.precision]).toEqual([0.8, 0.4]);
    expect(s.fmeasure).toBeCloseTo(0.5333, 3);
    expect(rougeLsum('', 'w1 w2 w3 w4 w5', standard).fmeasure).toBe(0);
    expect(rougeLsum('w1', '', standard).fmeasure).toBe(0);
    expect(rougeLsum('/', 'w1 w2 w3 w4 w5', standard).fmeasure).toBe(0); // a summary of non-word characters only
  });

  it('a token shared by several union LCSs is counted once per occurrence (ROUGE-1.5.5)', () => {
    // Both reference sentences' union LCS contain "a", but the candidate has one "a": 2 hits of 4 reference tokens.
    const s = rougeLsumTokens([['a', 'b']], [['a', 'x'], ['a', 'b']]);
    expect(s.recall).toBe(2 / 4);
    expect(s.precision).toBe(2 / 2);
  });

  it('equals rougeL for one sentence on each side', () => {
    expect(rougeLsum(PREDICTIONS[0]!, TARGETS[0]!, standard)).toEqual(rougeL(PREDICTIONS[0]!, TARGETS[0]!, standard));
  });
});

describe('tokenizers', () => {
  it('standard = rouge_score tokenize: lowercase [a-z0-9] runs; non-ASCII letters separate', () => {
    expect(rougeTokens('Hello, World_x 42! café naïve', 'standard')).toEqual(['hello', 'world', 'x', '42', 'caf', 'na', 've']);
    expect(rougeTokens('今天天气很好', 'standard')).toEqual([]);
  });

  // Expected values printed by: cd recipe && /usr/bin/python3 -c "from train.metrics import rouge_tokens, rouge_l; …"
  it.each([
    ['Hello, World_x 42!', ['hello', 'world', 'x', '42']],
    ['Le chat dort sur le canapé du salon.', ['le', 'chat', 'dort', 'sur', 'le', 'canapé', 'du', 'salon']],
    ['今天天气很好，我们去公园。', ['今', '天', '天', '气', '很', '好', '我', '们', '去', '公', '园']],
    ['東京タワーは高い。', ['東', '京', 'タ', 'ワ', 'ー', 'は', '高', 'い']],
    ['다음 파일을 열 수 없습니다', ['다음', '파일을', '열', '수', '없습니다']],
    ['Straße ÄÖÜ naïve café', ['straße', 'äöü', 'naïve', 'café']],
  ])('multilingual %j = recipe rouge_tokens', (text, tokens) => {
    expect(rougeTokens(text, 'multilingual')).toEqual(tokens);
  });

  it.each([
    ['Le chat dort sur le canapé du salon.', 'Le chat dort sur le canapé.', 0.8571428571428571],
    ['Привет, мир! Это тест.', 'Это тест, привет.', 0.5714285714285715],
    ['今天天气很好，我们去公园。', '今天的天气很好。', 0.6666666666666665],
    ['東京タワーは高い。', '東京のタワーは高いです。', 0.8421052631578948],
    ['Η γάτα κάθεται στο χαλί.', 'Η γάτα κοιμάται στο χαλί.', 0.8000000000000002],
    ['다음 파일을 열 수 없습니다', '파일을 열 수 없습니다', 0.888888888888889],
    ['لا يقبل الأمر update أية معطيات', 'الأمر لا يقبل أية معطيات', 0.7272727272727272],
    ['Straße ÄÖÜ naïve café', 'strasse äöü naive cafe', 0.25],
  ])('multilingual ROUGE-L F of %j = recipe rouge_l', (hyp, ref, f) => {
    expect(Math.abs(rougeL(hyp, ref).fmeasure - f)).toBeLessThan(1e-12);
  });

  it('keeps combining marks inside words (where Python\'s \\w, and so the recipe today, splits them)', () => {
    // recipe rouge_tokens gives ['ह', 'न', 'द', 'भ', 'ष'] and ['م', 'عطيات']: docs/evaluation.md, "Tokenization".
    expect(rougeTokens('हिन्दी भाषा')).toEqual(['हिन्दी', 'भाषा']);
    expect(rougeTokens('مُعطيات')).toEqual(['مُعطيات']);
    expect(rougeTokens('ภาษาไทยสวัสดี')).toEqual(['ภาษาไทยสวัสดี']);
  });

  it('reports use the standard tokenizer for English only', () => {
    expect([rougeTokenizerFor('eng_Latn'), rougeTokenizerFor('fra_Latn'), rougeTokenizerFor('zho_Hans')]).toEqual(['standard', 'multilingual', 'multilingual']);
    expect(() => rougeTokens('a', 'nltk' as never)).toThrow(/Unknown ROUGE tokenizer/);
  });
});
