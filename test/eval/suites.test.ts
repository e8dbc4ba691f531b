/**
 * The pieces of `lcm eval` that need no model: the committed suite files load and validate, the per-language limit,
 * language filtering, the naive segmenter, and the SVG bar chart writer.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { naiveSegments } from '../../src/eval/segmentersSuite.ts';
import { EVAL_SUITES_DIR, limitPerLanguage, loadSuite, supportedItems } from '../../src/eval/suites.ts';
import { barChart, escapeXml, niceCeil } from '../../src/eval/svg.ts';
import { wordCount } from '../../src/inference/metrics/wordCount.ts';
import { itemSeed, SeedStream } from '../../src/eval/util.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lcm-suites-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the committed suites (resources/eval)', () => {
  const manifest = JSON.parse(readFileSync(join(EVAL_SUITES_DIR, 'manifest.json'), 'utf8')) as { split: string; suites: Record<string, { items: number; languages: Record<string, number> }> };

  it('load, validate and match manifest.json', () => {
    expect(manifest.split).toBe('test');
    for (const file of ['roundtrip', 'translate', 'next', 'summarize', 'segmenters'] as const) {
      const items = loadSuite(file);
      expect(items.length, file).toBe(manifest.suites[file]!.items);
      const langs: Record<string, number> = {};
      for (const it of items) langs[it.lang] = (langs[it.lang] ?? 0) + 1;
      expect(langs, file).toEqual(manifest.suites[file]!.languages);
    }
  });

  it('hold what the suites promise: round-trip sentences of 5–25 words, positions inside their documents', () => {
    expect(loadSuite('roundtrip').every((r) => wordCount(r.text) >= 5 && wordCount(r.text) <= 25)).toBe(true);
    expect(loadSuite('next').every((d) => d.position >= 1 && d.position < d.sentences.length && d.sentences.length >= 6)).toBe(true);
    expect(new Set(loadSuite('roundtrip').map((r) => r.lang)).size).toBe(15); // every language of the data (docs/data.md)
  });

  it('bad rows fail with the file, the line and what to do', () => {
    writeFileSync(join(tmp, 'next.jsonl'), '{"lang":"eng_Latn","doc":"d","source":"s","sentences":["a","b"],"position":2}\n');
    expect(() => loadSuite('next', tmp)).toThrow(/next\.jsonl:1: "position" must be an integer from 1 to sentences\.length − 1\. Rebuild the suites with/);
    writeFileSync(join(tmp, 'roundtrip.jsonl'), '{"lang":"eng_Latn","text":"ok"}\n\n{"lang":"eng_Latn"\n');
    expect(() => loadSuite('roundtrip', tmp)).toThrow(/roundtrip\.jsonl:3: not JSON/);
    expect(() => loadSuite('segmenters', tmp)).toThrow(/segmenters\.jsonl is missing; build it with \/usr\/bin\/python3 recipe\/fixtures\/make_eval_suites\.py/);
  });
});

describe('item selection', () => {
  const items = [{ lang: 'a', i: 0 }, { lang: 'b', i: 1 }, { lang: 'a', i: 2 }, { lang: 'a', i: 3 }, { lang: 'b', i: 4 }];
  it('limitPerLanguage keeps the first N of each language, in file order', () => {
    expect(limitPerLanguage(items, 1).map((x) => x.i)).toEqual([0, 1]);
    expect(limitPerLanguage(items, 2).map((x) => x.i)).toEqual([0, 1, 2, 4]);
    expect(limitPerLanguage(items, undefined)).toEqual(items);
  });
  it('supportedItems drops languages the pack lacks and says which', () => {
    expect(supportedItems(items, ['a', 'c'])).toEqual({ items: items.filter((x) => x.lang === 'a'), note: 'Not in the pack, left out: b (2).' });
    expect(supportedItems(items, ['a', 'b']).note).toBeUndefined();
  });
});

describe('naive segmenter', () => {
  it('cuts after every run of . ! ? (abbreviations and decimals included), nowhere else', () => {
    expect(naiveSegments('Dr. Smith paid 3.50 dollars! Really?! Yes')).toEqual(['Dr.', 'Smith paid 3.', '50 dollars!', 'Really?!', 'Yes']);
    expect(naiveSegments('今天很好。我们去公园。')).toEqual(['今天很好。我们去公园。']);
    expect(naiveSegments('  ')).toEqual([]);
  });
});

describe('SVG bar chart', () => {
  it('rounds the axis up to 1, 2 or 5 × 10^k', () => {
    expect([niceCeil(0), niceCeil(0.62), niceCeil(1), niceCeil(1.2), niceCeil(37), niceCeil(100)]).toEqual([1, 1, 1, 2, 50, 100]);
  });

  it('draws one bar per finite value and a dash for null, with escaped labels', () => {
    const svg = barChart({ title: 'A & B', categories: ['x<y', 'z'], series: [{ name: 's1', values: [10, null] }, { name: 's2', values: [20, 30] }], yLabel: 'v' });
    expect(svg.match(/<rect [^>]*><title>/g)?.length).toBe(3); // bars carry a tooltip; legend swatches do not
    expect(svg).toContain('<title>A &amp; B</title>');
    expect(svg).toContain('>x&lt;y</text>');
    expect(svg).toContain('>–</text>');
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('refuses a series whose length does not match the categories', () => {
    expect(() => barChart({ title: 't', categories: ['a', 'b'], series: [{ name: 's', values: [1] }], yLabel: 'v' })).toThrow(/series "s" has 1 values for 2 categories/);
    expect(() => barChart({ title: 't', categories: [], series: [], yLabel: 'v' })).toThrow(/nothing to draw/);
  });
});

describe('itemSeed', () => {
  it('gives every stream its own seeds, however many items a suite has', () => {
    const seen = new Set<number>();
    for (const stream of Object.values(SeedStream)) {
      for (const k of [0, 1, 999, 1000, 1001, 2000, 5000]) seen.add(itemSeed(7, stream, k));
    }
    expect(seen.size).toBe(Object.values(SeedStream).length * 7);
    expect(itemSeed(7, SeedStream.next, 3)).toBe(10);
    expect(itemSeed(7, SeedStream.consensus, 3)).toBe(7 + 2 * 2 ** 28 + 3);
  });

  it('wraps into the engine seed range and refuses an index outside a stream', () => {
    expect(itemSeed(2 ** 32 - 1, SeedStream.expand, 1)).toBe((2 ** 32 + 4 * 2 ** 28) % 2 ** 32);
    expect(() => itemSeed(0, SeedStream.next, 2 ** 28)).toThrow(RangeError);
    expect(() => itemSeed(0, SeedStream.next, -1)).toThrow(/outside/);
  });
});
