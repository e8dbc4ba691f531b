import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TokenizerSpec } from '../../src/inference/pack/types.ts';
import { ConceptTokenizer, readPieceTypes } from '../../src/inference/text/tokenizer.ts';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'tokenizer');
const MODEL = join(DIR, 'fixture.model');

interface ParityCase {
  text: string;
  ids: number[];
  pieces: string[];
}
// Made by recipe/fixtures/make_tokenizer_fixture.py with Python sentencepiece 0.1.97.
const parity = JSON.parse(readFileSync(join(DIR, 'parity.json'), 'utf8')) as { cases: ParityCase[] };

const TAGS = { eng_Latn: 2501, fra_Latn: 2502, deu_Latn: 2503, rus_Cyrl: 2504, zho_Hans: 2505, jpn_Jpan: 2506, arb_Arab: 2507, hin_Deva: 2508 };
/** fairseq2 / SONAR order of the specials (what the fixture pack uses). */
const FAIRSEQ: TokenizerSpec = {
  kind: 'sentencepiece', file: 'fixture.model', vocabSize: 2512, languageTokens: TAGS,
  ids: { pad: 0, unk: 1, bos: 2, eos: 3, pieceOffset: 1, spmUnk: 0, spmBos: 1, spmEos: 2 },
};
/** Hugging Face (NllbTokenizer / M2M100) order of the specials. */
const HF: TokenizerSpec = { ...FAIRSEQ, ids: { bos: 0, pad: 1, eos: 2, unk: 3, pieceOffset: 1, spmUnk: 0, spmBos: 1, spmEos: 2 } };

/** SentencePiece's own decoding of a piece sequence: ▁ → space, unk → " ⁇ ", one leading space dropped. */
function spmDecode(c: ParityCase): string {
  const s = c.pieces.map((p, i) => (c.ids[i] === 0 ? ' \u2047 ' : p)).join('').replace(/\u2581/g, ' ');
  return s.startsWith(' ') ? s.slice(1) : s;
}

async function loadError(path: string, spec: TokenizerSpec): Promise<Error> {
  try {
    await ConceptTokenizer.load(path, spec);
  } catch (error) {
    return error as Error;
  }
  throw new Error('load did not throw');
}

let fs2: ConceptTokenizer;
let hf: ConceptTokenizer;
beforeAll(async () => {
  // Loaded in parallel on purpose: each instance has its own wasm module (see the next describe block).
  [fs2, hf] = await Promise.all([ConceptTokenizer.load(MODEL, FAIRSEQ), ConceptTokenizer.load(MODEL, HF)]);
});

describe('parity with Python sentencepiece', () => {
  it('gives exactly the ids Python gives for all 422 strings', () => {
    expect(parity.cases).toHaveLength(422);
    const mismatches = parity.cases.filter((c) => JSON.stringify(fs2.pieceIds(c.text)) !== JSON.stringify(c.ids)).map((c) => c.text);
    expect(mismatches).toEqual([]);
  });

  it('decode(encode(x)) is SentencePiece decoding of Python\'s pieces, for both id maps', () => {
    for (const c of parity.cases) {
      expect(fs2.decode(fs2.encode(c.text, 'eng_Latn')), c.text).toBe(spmDecode(c));
      expect(hf.decode(hf.encode(c.text, 'eng_Latn')), c.text).toBe(spmDecode(c));
    }
  });

  it('round-trips already-normalized text exactly', () => {
    // nmt_nfkc: NFKC, whitespace runs collapsed, no leading/trailing space; and nothing unknown to the model.
    // (nmt_nfkc also drops control and format characters such as U+200F, so texts with those are left out.)
    const normalized = parity.cases.filter(
      (c) => !c.ids.includes(0) && !/\p{Cc}|\p{Cf}/u.test(c.text) && c.text === c.text.normalize('NFKC').replace(/\s+/g, ' ').trim(),
    );
    expect(normalized.length).toBe(349);
    for (const c of normalized) expect(fs2.decode(fs2.encode(c.text, 'fra_Latn')), c.text).toBe(c.text);
  });
});

describe('text edge cases', () => {
  it('reads a lone surrogate as U+FFFD instead of losing the rest of the text', () => {
    // Python: sp.encode('a\ufffdb') == [3, 7, 3, 26]; the raw wasm binding gives [3, 7, 0] for 'a\ud800b'.
    expect(fs2.pieceIds('a\ufffdb')).toEqual([3, 7, 3, 26]);
    expect(fs2.pieceIds('a\ud800b')).toEqual([3, 7, 3, 26]);
    expect(fs2.pieceIds('a\udc00b')).toEqual([3, 7, 3, 26]);
    // A valid pair is untouched: Python gives sp.encode('x😀y') == [3, 74, 0, 41] (the emoji is unknown).
    expect(fs2.pieceIds('x😀y')).toEqual([3, 74, 0, 41]);
  });
});

describe('loading', () => {
  it('is safe twice and in parallel: instances are independent and agree', async () => {
    const more = await Promise.all([1, 2, 3].map(() => ConceptTokenizer.load(MODEL, FAIRSEQ)));
    const text = 'Привет, мир! 日本語のテキストです。';
    const expected = fs2.pieceIds(text);
    // Interleave calls across instances.
    for (let round = 0; round < 3; round++) for (const t of [...more, fs2, hf]) expect(t.pieceIds(text)).toEqual(expected);
    expect(hf.encode(text, 'rus_Cyrl')[0]).toBe(2504);
  });

  it('reads the piece table of the model', () => {
    const types = readPieceTypes(readFileSync(MODEL));
    expect(types).toHaveLength(2500);
    expect([types[0], types[1], types[2], types[3]]).toEqual([2, 3, 3, 1]); // <unk>, <s>, </s>, ▁
    expect(fs2.pieceCount).toBe(2500);
  });

  it('names the file when it is missing, not a model, or truncated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tok-'));
    const missing = join(dir, 'nope.model');
    expect((await loadError(missing, FAIRSEQ)).message).toMatch(new RegExp(`Cannot read the SentencePiece model ${missing}: ENOENT`));
    const text = join(dir, 'text.model');
    writeFileSync(text, 'This is not a model at all.\n');
    expect((await loadError(text, FAIRSEQ)).message).toMatch(new RegExp(`${text} is not a SentencePiece model \\(`));
    const cut = join(dir, 'cut.model');
    writeFileSync(cut, readFileSync(MODEL).subarray(0, 5000));
    expect((await loadError(cut, FAIRSEQ)).message).toMatch(new RegExp(`${cut} is not a SentencePiece model \\(.*runs past the end`));
    const empty = join(dir, 'empty.model');
    writeFileSync(empty, '');
    expect((await loadError(empty, FAIRSEQ)).message).toMatch(/is not a SentencePiece model \(it holds no pieces\)/);
  });

  it('refuses an id map that does not fit the model', async () => {
    const bad = (ids: Partial<TokenizerSpec['ids']>, extra: Partial<TokenizerSpec> = {}): Promise<Error> =>
      loadError(MODEL, { ...FAIRSEQ, ...extra, ids: { ...FAIRSEQ.ids, ...ids } });
    expect((await bad({ spmUnk: 1 })).message).toMatch(/ids\.spmUnk = 1, but that piece is not the model's unknown/);
    expect((await bad({ spmEos: 3 })).message).toMatch(/ids\.spmEos = 3/);
    expect((await bad({}, { vocabSize: 2400 })).message).toMatch(/not below vocabSize 2400/);
    expect((await bad({ pad: 3 })).message).toMatch(/eos and pad both have id 3/);
    expect((await bad({}, { languageTokens: { eng_Latn: 100 } })).message).toMatch(/piece 99 maps to 100, which is already the eng_Latn tag/);
    expect((await bad({ pieceOffset: 0 })).message).toMatch(/piece 3 maps to 3, which is already eos/);
  });
});

describe('id map', () => {
  const sentence = parity.cases.find((c) => c.text === 'My name is SONAR.')!;
  const withUnk = parity.cases.find((c) => c.text === 'unknown ᚠᛇᚻ runes')!;

  it('exposes the specials of the map', () => {
    expect([fs2.pad, fs2.unk, fs2.bos, fs2.eos, fs2.vocabSize]).toEqual([0, 1, 2, 3, 2512]);
    expect([hf.pad, hf.unk, hf.bos, hf.eos, hf.vocabSize]).toEqual([1, 3, 0, 2, 2512]);
  });

  it('encodes [tag] pieces+offset </s> with the fairseq2 map', () => {
    expect(fs2.encode(sentence.text, 'eng_Latn')).toEqual([2501, ...sentence.ids.map((s) => s + 1), 3]);
    expect(withUnk.ids).toContain(0);
    expect(fs2.encode(withUnk.text, 'deu_Latn')).toEqual([2503, ...withUnk.ids.map((s) => (s === 0 ? 1 : s + 1)), 3]);
    expect(fs2.decoderPrompt('zho_Hans')).toEqual([3, 2505]);
  });

  it('uses the Hugging Face map when the pack says so: the map, not code, decides', () => {
    expect(hf.encode(sentence.text, 'eng_Latn')).toEqual([2501, ...sentence.ids.map((s) => s + 1), 2]);
    expect(hf.encode(withUnk.text, 'deu_Latn')).toEqual([2503, ...withUnk.ids.map((s) => (s === 0 ? 3 : s + 1)), 2]);
    expect(hf.decoderPrompt('zho_Hans')).toEqual([2, 2505]);
    expect(hf.decode(hf.encode(withUnk.text, 'deu_Latn'))).toBe(spmDecode(withUnk));
    expect(spmDecode(withUnk)).toContain('\u2047');
    // The same ids mean different things under the two maps: 1 is unk for fairseq2 but pad for Hugging Face.
    expect(fs2.decode([1]).trim()).toBe('\u2047');
    expect(hf.decode([1])).toBe('');
    expect(fs2.decode([0, 3, 100])).toBe(hf.decode([1, 2, 100]));
  });

  it('accepts an ISO 639-1 alias for a tagged language and lists the pack\'s languages otherwise', () => {
    expect(fs2.encode('Hi', 'ja')[0]).toBe(2506);
    const codes = 'arb_Arab, deu_Latn, eng_Latn, fra_Latn, hin_Deva, jpn_Jpan, rus_Cyrl, zho_Hans';
    expect(() => fs2.encode('Hi', 'kor_Hang')).toThrow(new RangeError(`This model pack has no language tag for "kor_Hang". Its languages are: ${codes}.`));
    expect(() => fs2.decoderPrompt('klingon')).toThrow(RangeError);
    expect(fs2.languages).toEqual(codes.split(', '));
  });

  it('lists and recognises the specials', () => {
    expect(fs2.languageTokenIds()).toEqual([2501, 2502, 2503, 2504, 2505, 2506, 2507, 2508]);
    for (const id of [0, 1, 2, 3, 2501, 2508]) expect(fs2.isSpecial(id), String(id)).toBe(true);
    for (const id of [4, 2500, 2509]) expect(fs2.isSpecial(id), String(id)).toBe(false);
  });

  it('decode skips pad, <s>, </s>, tags and padding rows, and rejects ids outside the vocabulary', () => {
    const ids = fs2.encode(sentence.text, 'eng_Latn');
    expect(fs2.decode([0, 2, ...ids, 2509, 2511, 0])).toBe('My name is SONAR.');
    expect(fs2.decode([])).toBe('');
    expect(fs2.decode(Int32Array.from(ids))).toBe('My name is SONAR.');
    expect(() => fs2.decode([5, 2512])).toThrow(new RangeError('Token id 2512 at position 1 is outside this tokenizer\'s vocabulary [0, 2512).'));
    expect(() => fs2.decode([-1])).toThrow(RangeError);
    expect(() => fs2.decode([1.5])).toThrow(RangeError);
  });
});

describe('truncation', () => {
  const long = 'End of text. My name is SONAR. This sentence is long enough to be cut.';

  it('keeps the tag and </s> and cuts pieces in between', () => {
    const full = fs2.encode(long, 'eng_Latn');
    expect(full.length).toBeGreaterThan(10);
    expect(fs2.encode(long, 'eng_Latn', { maxTokens: 6 })).toEqual([...full.slice(0, 5), 3]);
    expect(fs2.encode(long, 'eng_Latn', { maxTokens: 2 })).toEqual([2501, 3]);
    expect(fs2.encode(long, 'eng_Latn', { maxTokens: full.length })).toEqual(full);
    expect(fs2.encode(long, 'eng_Latn', { maxTokens: 10_000 })).toEqual(full);
    expect(fs2.encode('', 'eng_Latn', { maxTokens: 2 })).toEqual([2501, 3]);
  });

  it('rejects a maxTokens that cannot hold the tag and </s>', () => {
    expect(() => fs2.encode(long, 'eng_Latn', { maxTokens: 1 })).toThrow(/maxTokens must be an integer of at least 2/);
    expect(() => fs2.encode(long, 'eng_Latn', { maxTokens: 4.5 })).toThrow(RangeError);
  });
});
