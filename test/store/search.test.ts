/**
 * Search: full text (trigram FTS5, CJK included, kept in step with edits) and
 * semantic (exact cosine ranking equal to a brute force computed here; the
 * sign-bit index + rerank; filters; packs kept apart; the JavaScript stand-ins
 * when sqlite-vec is not loaded). Also the embedding cache.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/inference/rng.ts';
import { signBits } from '../../src/main/store/embeddings.ts';
import { ConceptStore } from '../../src/main/store/store.ts';
import type { Concept } from '../../src/main/store/types.ts';
import { tempDir } from './helpers/tmp.ts';

describe('full-text search', () => {
  const store = ConceptStore.open(':memory:');
  const en = store.createDocument({ title: 'Sea', language: 'eng_Latn' });
  const zh = store.createDocument({ title: '海', language: 'zho_Hans' });
  const [calm] = store.insertConcepts(en.id, [
    { text: 'The sea was calm that morning.' },
    { text: 'A Café by the harbour served strong coffee.' },
    { text: 'Storms came in the afternoon.' },
    { text: 'Le café était fermé.', language: 'fra_Latn' },
  ]);
  store.insertConcepts(zh.id, [{ text: '灯塔建在悬崖边。' }, { text: '每天晚上，灯光扫过黑暗的海面。' }, { text: '灯台は崖の上に立っていた。', language: 'jpn_Jpan' }]);
  const find = (q: string, f = {}) => store.searchText(q, f).map((h) => h.concept.text);

  it('finds words regardless of case and diacritics; all terms must match', () => {
    expect(find('CALM')).toEqual(['The sea was calm that morning.']);
    expect(find('cafe').sort()).toEqual(['A Café by the harbour served strong coffee.', 'Le café était fermé.']);
    expect(find('cafe harbour')).toEqual(['A Café by the harbour served strong coffee.']);
    expect(find('calm storms')).toEqual([]);
  });

  it('finds Chinese and Japanese text: 3+ characters through the index, shorter by substring', () => {
    expect(find('悬崖边')).toEqual(['灯塔建在悬崖边。']);
    expect(find('灯塔')).toEqual(['灯塔建在悬崖边。']); // 2 characters: substring scan
    expect(find('灯').length).toBe(3);
    expect(find('崖の上')).toEqual(['灯台は崖の上に立っていた。']);
    expect(find('黑暗的海面')).toEqual(['每天晚上，灯光扫过黑暗的海面。']);
  });

  it('filters by document and language, and limits', () => {
    expect(find('café', { language: 'fra_Latn' })).toEqual(['Le café était fermé.']);
    expect(find('灯', { documentId: zh.id, language: 'zho_Hans' }).length).toBe(2);
    expect(find('the', { documentId: en.id, limit: 1 }).length).toBe(1);
    expect(find('the', { documentId: zh.id })).toEqual([]);
  });

  it('treats query syntax as text and rejects an empty query', () => {
    expect(find('"calm" AND (sea*')).toEqual([]);
    expect(find('calm"')).toEqual([]);
    expect(() => store.searchText('  ')).toThrow(RangeError);
    expect(() => store.searchText('sea', { limit: 0 })).toThrow(RangeError);
  });

  it('follows edits and deletions', () => {
    store.updateConcept(calm!.id, { text: 'The sea was rough that morning.' });
    expect(find('calm')).toEqual([]);
    expect(find('rough')).toEqual(['The sea was rough that morning.']);
    store.deleteConcept(calm!.id);
    expect(find('rough')).toEqual([]);
    expect(store.check()).toEqual(['ok']);
  });
});

/** Seeded random unit-ish vectors. */
function vectors(n: number, dim: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => rng.fillNormal(new Float32Array(dim)));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let x = 0;
  let y = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    x += a[i]! ** 2;
    y += b[i]! ** 2;
  }
  return 1 - d / Math.sqrt(x * y);
}

describe('semantic search', () => {
  const DIM = 64;
  const path = join(tempDir('search-'), 'library.sqlite');
  const vecs = vectors(300, DIM, 11);
  let store: ConceptStore;
  let all: Concept[];
  const vectorOf = new Map<string, Float32Array>();

  beforeAll(() => {
    store = ConceptStore.open(path);
    const docs = [store.createDocument({ title: 'A', language: 'eng_Latn' }), store.createDocument({ title: 'B', language: 'eng_Latn' })];
    all = [];
    for (let i = 0; i < vecs.length; i++) {
      const lang = i % 3 === 0 ? 'fra_Latn' : 'eng_Latn';
      const c = store.insertConcept(docs[i % 2]!.id, { text: `Concept number ${i}.`, language: lang });
      all.push(c);
      vectorOf.set(c.id, vecs[i]!);
    }
    const added = store.putEmbeddings('mini@1', DIM, all.map((c) => ({ language: c.language, text: c.text, vector: vectorOf.get(c.id)! })));
    expect(added).toBe(300);
    return () => store.close();
  });

  /** The `limit` nearest by brute force over `subset`. */
  const brute = (q: Float32Array, subset: Concept[], limit: number) =>
    subset.map((c) => ({ id: c.id, d: cosine(q, vectorOf.get(c.id)!) })).sort((a, b) => a.d - b.d).slice(0, limit);

  it('exact: the same ranking and distances as a brute force (tolerance 1e-6: float32 arithmetic)', () => {
    const q = vectors(1, DIM, 99)[0]!;
    const r = store.searchSemantic('mini@1', q, { limit: 10, method: 'exact' });
    expect(r.method).toBe('exact');
    const want = brute(q, all, 10);
    expect(r.hits.map((h) => h.concept.id)).toEqual(want.map((w) => w.id));
    r.hits.forEach((h, i) => expect(Math.abs(h.distance - want[i]!.d)).toBeLessThan(1e-6));
    // 'auto' on a small library is exact.
    expect(store.searchSemantic('mini@1', q).method).toBe('exact');
  });

  it('filters by document and language', () => {
    const q = vectors(1, DIM, 5)[0]!;
    const doc = all[1]!.documentId;
    const r = store.searchSemantic('mini@1', q, { documentId: doc, language: 'fra_Latn', limit: 5 });
    const want = brute(q, all.filter((c) => c.documentId === doc && c.language === 'fra_Latn'), 5);
    expect(r.hits.map((h) => h.concept.id)).toEqual(want.map((w) => w.id));
  });

  it('index (sign-bit Hamming scan + exact rerank): finds a stored vector first, and equals exact when the candidates cover the library', () => {
    expect(store.vectors.extension).toBe(true);
    const r = store.searchSemantic('mini@1', vecs[42]!, { limit: 10, method: 'index' });
    expect(r.method).toBe('index');
    expect(r.hits[0]!.concept.id).toBe(all[42]!.id);
    expect(r.hits[0]!.distance).toBeLessThan(1e-6);
    // 300 vectors < 1000 candidates: the rerank sees everything, so the answer is the exact one.
    const exact = store.searchSemantic('mini@1', vecs[7]!, { limit: 10, method: 'exact' });
    expect(store.searchSemantic('mini@1', vecs[7]!, { limit: 10, method: 'index' }).hits).toEqual(exact.hits);
  });

  it('index with a filter: candidates outside the filter are dropped; too few left → the exact method answers', () => {
    const q = vectors(1, DIM, 8)[0]!;
    const french = all.filter((c) => c.language === 'fra_Latn');
    const want = brute(q, french, 10).map((w) => w.id);
    // 20 candidates of 300 hold only a few of the 100 French concepts: fewer than 10 survive.
    const few = store.searchSemantic('mini@1', q, { language: 'fra_Latn', method: 'index', candidates: 20 });
    expect(few.method).toBe('exact');
    expect(few.hits.map((h) => h.concept.id)).toEqual(want);
    const many = store.searchSemantic('mini@1', q, { language: 'fra_Latn', method: 'index' });
    expect(many.method).toBe('index');
    expect(many.hits.map((h) => h.concept.id)).toEqual(want);
    expect(() => store.searchSemantic('mini@1', q, { candidates: 5 })).toThrow(RangeError);
  });

  it('index: the bit scan ranks by Hamming distance between sign bits (checked against a count done here)', () => {
    const q = vectors(1, DIM, 31)[0]!;
    const sign = (v: Float32Array) => Array.from(v, (x) => x > 0);
    const hamming = (a: Float32Array) => sign(a).filter((b, i) => b !== sign(q)[i]).length;
    const ranked = store.db
      .prepare("SELECT e.id, vec_distance_hamming(vec_bit(b.bits), vec_bit(?)) AS d FROM embedding_bits b JOIN embeddings e ON e.id = b.embedding_id JOIN packs p ON p.id = b.pack_id WHERE p.key = 'mini@1' ORDER BY d, e.id LIMIT 20")
      .all(signBits(q)) as { id: number; d: number }[];
    const byEmbedding = new Map(all.map((c, i) => [i + 1, vecs[i]!]));
    for (const r of ranked) expect(r.d).toBe(hamming(byEmbedding.get(r.id)!));
    expect(ranked[0]!.d).toBe(Math.min(...vecs.map(hamming)));
  });

  it('keeps packs apart, and checks vectors', () => {
    const other = vectors(2, 16, 3);
    store.putEmbeddings('other@2', 16, [{ language: all[0]!.language, text: all[0]!.text, vector: other[0]! }]);
    const r = store.searchSemantic('other@2', other[1]!, { limit: 10 });
    expect(r.hits.map((h) => h.concept.id)).toEqual([all[0]!.id]);
    expect(store.searchSemantic('unknown@1', other[1]!).hits).toEqual([]);
    expect(() => store.searchSemantic('mini@1', other[1]!)).toThrow(/Float32Array of 64 values/);
    expect(() => store.putEmbeddings('other@2', 32, [])).toThrow(/16-d vectors in this library, not 32-d/);
    const nan = new Float32Array(16);
    nan[3] = NaN;
    expect(() => store.putEmbeddings('other@2', 16, [{ language: 'eng_Latn', text: 'x', vector: nan }])).toThrow(/non-finite value at index 3/);
  });

  it('caches vectors per (pack, language, text): nothing stored twice, missing ones listed', () => {
    const c = all[3]!;
    expect(store.putEmbeddings('mini@1', DIM, [{ language: c.language, text: c.text, vector: vecs[3]! }])).toBe(0);
    expect(store.getEmbeddings('mini@1', [{ language: c.language, text: c.text }])[0]).toEqual(vecs[3]);
    expect(store.getEmbeddings('mini@1', [{ language: 'deu_Latn', text: c.text }])[0]).toBeUndefined();
    const fresh = store.insertConcept(c.documentId, { text: 'Not encoded yet.' });
    store.insertConcept(c.documentId, { text: c.text, language: c.language }); // same text: already cached
    store.insertConcept(c.documentId, { text: ' \n\t' }); // a blank line has nothing to encode
    expect(store.missingEmbeddings('mini@1')).toEqual([{ language: 'eng_Latn', text: 'Not encoded yet.' }]);
    store.deleteConcept(fresh.id);
  });

  it('without sqlite-vec: the JavaScript stand-ins give the same answers, exact and indexed', () => {
    const plain = ConceptStore.open(path, { vectorExtension: false });
    try {
      expect(plain.vectors.extension).toBe(false);
      const q = vectors(1, DIM, 123)[0]!;
      for (const method of ['exact', 'index'] as const) {
        const a = plain.searchSemantic('mini@1', q, { limit: 8, method });
        const b = store.searchSemantic('mini@1', q, { limit: 8, method });
        expect(a.method).toBe(method);
        expect(a.hits.map((h) => h.concept.id)).toEqual(b.hits.map((h) => h.concept.id));
        a.hits.forEach((h, i) => expect(Math.abs(h.distance - b.hits[i]!.distance)).toBeLessThan(1e-6));
      }
      // Vectors written without the extension are indexed the same way.
      const c = plain.insertConcept(all[0]!.documentId, { text: 'Added without sqlite-vec.' });
      const v = vectors(1, DIM, 77)[0]!;
      plain.putEmbeddings('mini@1', DIM, [{ language: c.language, text: c.text, vector: v }]);
      expect(store.searchSemantic('mini@1', v, { limit: 3, method: 'index' }).hits[0]!.concept.id).toBe(c.id);
    } finally {
      plain.close();
    }
  });

  it('a dimension that is not a multiple of 8 is indexed too (the last byte of bits is padded)', () => {
    const mem = ConceptStore.open(':memory:');
    const d = mem.createDocument({ title: 'T', language: 'en' });
    const cs = mem.insertConcepts(d.id, [{ text: 'Seven.' }, { text: 'Other.' }]);
    const v = Float32Array.from([1, -2, 3, 4, -5, 6, 7]);
    mem.putEmbeddings('odd@1', 7, [{ language: 'eng_Latn', text: 'Seven.', vector: v }, { language: 'eng_Latn', text: 'Other.', vector: v.map((x) => -x) }]);
    const r = mem.searchSemantic('odd@1', v, { method: 'index' });
    expect(r.hits.map((h) => h.concept.id)).toEqual([cs[0]!.id, cs[1]!.id]);
    expect(r.hits[1]!.distance).toBeCloseTo(2, 6);
    mem.close();
  });
});
