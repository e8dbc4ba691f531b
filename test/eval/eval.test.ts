/**
 * `lcm eval` end to end on the fixture pack (random weights): every suite runs on the held-out files, every figure
 * is a finite number (or null where nothing was measurable), the same seed gives the same figures, a pack without a
 * language or an instruction format is evaluated on what it has and the report says what it skipped, and the
 * Markdown / SVG / JSON are written. The weights are random, so no test looks at a score's size.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/eval/report.ts';
import { parseSuites, runEvaluation } from '../../src/eval/run.ts';
import { CONSENSUS_SAMPLES } from '../../src/eval/nextSuite.ts';
import { SUITE_NAMES, byLanguage, limitPerLanguage, loadSuite, supportedItems } from '../../src/eval/suites.ts';
import { itemSeed, SeedStream } from '../../src/eval/util.ts';
import { cosine } from '../../src/inference/metrics/coherence.ts';
import { createRng } from '../../src/inference/rng.ts';
import type { EvalReport } from '../../src/eval/types.ts';
import { ConceptEngine } from '../../src/inference/engine.ts';
import { TINY_PACK } from '../helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/lcm.mjs', import.meta.url));
// Few items and few diffusion steps keep the run short on 2 shared cores; the code paths are the full ones.
const FAST = { limit: 1, seed: 11, sampling: { inferenceSteps: 4 } };

/** Every number anywhere in `value`, with its path; fails on NaN/±Infinity, and on undefined (JSON would drop it). */
function numbers(value: unknown, path = '$', out: [string, number][] = []): [string, number][] {
  if (typeof value === 'number') {
    expect(Number.isFinite(value), `${path} = ${value}`).toBe(true);
    out.push([path, value]);
  } else if (value === undefined) expect.fail(`${path} is undefined`);
  else if (Array.isArray(value)) value.forEach((v, i) => numbers(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) numbers(v, `${path}.${k}`, out);
  return out;
}

/** A result without its timings, which differ from run to run. */
const withoutTimes = (x: unknown) => JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'seconds' ? undefined : v))) as unknown;

let engine: ConceptEngine;
let report: EvalReport;
let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lcm-eval-'));
  engine = await ConceptEngine.open(TINY_PACK);
  report = await runEvaluation(engine, FAST);
}, 240_000);
afterAll(async () => {
  await engine.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('runEvaluation on the fixture pack', () => {
  it('runs every suite on the pack\'s languages, one item per language', () => {
    expect(Object.keys(report.suites)).toEqual([...SUITE_NAMES]);
    const pack = new Set(engine.pack.languageCodes);
    for (const name of SUITE_NAMES) expect(report.suites[name]?.status, name).toBe('ran');
    const rt = report.suites.roundtrip!;
    if (rt.status !== 'ran') throw new Error('roundtrip skipped');
    expect(rt.languages.map((l) => l.lang).sort()).toEqual([...pack].sort()); // the suite has every pack language
    expect(rt.languages.every((l) => l.n === 1)).toBe(true);
    expect(rt.notes.join(' ')).toMatch(/Not in the pack, left out: .*kor_Hang \(1\)/);
    const tr = report.suites.translate!;
    if (tr.status !== 'ran') throw new Error('translate skipped');
    expect(tr.directions.length).toBe(2 * (pack.size - 1)); // both directions for every non-English pack language
    expect(tr.directions.every((d) => pack.has(d.source) && pack.has(d.target) && (d.source === 'eng_Latn') !== (d.target === 'eng_Latn'))).toBe(true);
    const seg = report.suites.segmenters!;
    if (seg.status !== 'ran') throw new Error('segmenters skipped');
    expect(seg.segmenters.map((s) => s.segmenter)).toEqual(['engine-200', 'engine-uncapped', 'naive']);
    expect(seg.segmenters.every((s) => s.byLength.reduce((n, b) => n + b.n, 0) === s.segments)).toBe(true);
  });

  it('every figure is a finite number in its range', () => {
    const all = numbers(report);
    expect(all.length).toBeGreaterThan(100);
    for (const [path, v] of all) {
      const range: [number, number] | undefined = /\.(chrf|bleu|autoBleu|corpusBleu)$/.test(path) ? [0, 100]
        : /\.(rougeL|rougeLsum|rep4|ovl3|referenceOvl3|over200)$/.test(path) ? [0, 1]
        : /\.(lcm|lcmConsensus|previous|contextMean)$/.test(path) ? [-1 - 1e-6, 1 + 1e-6]
        : undefined;
      if (range) {
        expect(v, path).toBeGreaterThanOrEqual(range[0]);
        expect(v, path).toBeLessThanOrEqual(range[1]);
      }
    }
    const next = report.suites.next!;
    if (next.status !== 'ran') throw new Error('next skipped');
    expect(next.continuation.generated).toBeGreaterThan(0);
    expect(typeof next.continuation.coherence.generated).toBe('number');
  });

  it('the consensus figure is the cosine of the mean of the samples drawn for the position', async () => {
    const { items } = supportedItems(limitPerLanguage(loadSuite('next'), FAST.limit), engine.pack.languageCodes);
    const [lang, docs] = [...byLanguage(items)][0]!;
    const doc = docs[0]!;
    const v = await engine.encode(doc.sentences, lang);
    const lcmCtx = await engine.lcm.newContext();
    await lcmCtx.append(v.slice(0, doc.position));
    const samples = await lcmCtx.sample({ candidates: CONSENSUS_SAMPLES, rng: createRng(itemSeed(FAST.seed, SeedStream.consensus, 0)), ...engine.sampleOptions({ sampling: FAST.sampling }) });
    const avg = new Float64Array(samples[0]!.length);
    for (const s of samples) s.forEach((x, i) => { avg[i]! += x / samples.length; });
    const next = report.suites.next!;
    if (next.status !== 'ran') throw new Error('next skipped');
    expect(next.languages[0]).toMatchObject({ lang, n: 1 });
    expect(next.languages[0]!.lcmConsensus).toBeCloseTo(cosine(avg, v[doc.position]!), 6);
    expect(next.languages[0]!.lcmConsensus).not.toBe(next.languages[0]!.lcm); // a separate estimate, not the sample's figure
  });

  it('records the settings and the suite files it read', () => {
    expect(report.settings).toMatchObject({ seed: 11, limit: 1, decode: 'greedy' });
    expect(report.settings.sampling.inferenceSteps).toBe(4);
    expect(Object.keys(report.settings.suiteFiles).sort()).toEqual(['next.jsonl', 'roundtrip.jsonl', 'segmenters.jsonl', 'summarize.jsonl', 'translate.jsonl']);
    expect(Object.values(report.settings.suiteFiles).every((f) => f.items > 0 && /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    expect(report.pack).toMatchObject({ name: 'tiny-fixture', randomWeights: true, instructions: ['summarize', 'expand'] });
  });

  it('the same seed gives the same figures', async () => {
    // The next suite draws every kind of seeded sample (one per position, and whole continuations).
    const again = await runEvaluation(engine, { ...FAST, suites: ['next'] });
    expect(withoutTimes(again.suites.next)).toEqual(withoutTimes(report.suites.next));
    const other = await runEvaluation(engine, { ...FAST, seed: 12, suites: ['next'] });
    expect(withoutTimes(other.suites.next)).not.toEqual(withoutTimes(report.suites.next));
  }, 120_000);

  it('writes report.md, report.json and one chart per suite', () => {
    const out = join(tmp, 'report');
    writeFileSync(join(tmp, 'stale.txt'), '');
    const written = writeReport({ ...report, command: 'lcm eval --pack tiny --limit 1' }, out);
    expect(written.map((p) => p.slice(out.length + 1)).sort()).toEqual(
      ['expand-rouge.svg', 'next-cosine.svg', 'report.json', 'report.md', 'roundtrip-chrf.svg', 'segmenters-autobleu.svg', 'summarize-rouge.svg', 'translate-chrf.svg'],
    );
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/^# Evaluation: tiny-fixture 1\.0\.0\n/);
    expect(md).toMatch(/\*\*Random weights\.\*\*/);
    expect(md).toContain('Command: `lcm eval --pack tiny --limit 1`');
    for (const h of ['## Round trip', '## Translation', '## Next concept', '## Summarization', '## Expansion', '## Segmenters']) expect(md).toContain(h);
    for (const svg of written.filter((p) => p.endsWith('.svg'))) {
      const text = readFileSync(svg, 'utf8');
      expect(text).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>/);
      expect(text.trimEnd().endsWith('</svg>')).toBe(true);
      expect(md).toContain(`](${svg.slice(out.length + 1)})`); // linked from the report
    }
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify({ ...report, command: 'lcm eval --pack tiny --limit 1' })));
  });
});

describe('a pack that lacks languages and instruction formats', () => {
  it('is evaluated on what it has; the report says what was skipped and why', async () => {
    const dir = join(tmp, 'pack');
    cpSync(TINY_PACK, dir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { languages: { code: string }[]; lcm: { instructions: object } };
    manifest.languages = manifest.languages.filter((l) => l.code === 'eng_Latn' || l.code === 'fra_Latn');
    manifest.lcm.instructions = {};
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const small = await ConceptEngine.open(dir);
    try {
      const r = await runEvaluation(small, { ...FAST, suites: ['roundtrip', 'summarize', 'expand'] });
      expect(r.suites.summarize).toEqual({ status: 'skipped', reason: 'the pack was not fine-tuned for summarize (its manifest has no lcm.instructions.summarize).' });
      expect(r.suites.expand?.status).toBe('skipped');
      const rt = r.suites.roundtrip!;
      if (rt.status !== 'ran') throw new Error('roundtrip skipped');
      expect(rt.languages.map((l) => l.lang)).toEqual(['eng_Latn', 'fra_Latn']);
      expect(rt.notes[0]).toMatch(/left out: arb_Arab \(1\), deu_Latn \(1\)/);
      const out = join(tmp, 'small-report');
      writeReport(r, out);
      const md = readFileSync(join(out, 'report.md'), 'utf8');
      expect(md).toContain('| summarize | skipped | – | the pack was not fine-tuned for summarize');
      expect(existsSync(join(out, 'summarize-rouge.svg'))).toBe(false);
    } finally {
      await small.close();
    }
  }, 120_000);
});

describe('lcm eval (command line)', () => {
  it('rejects an unknown suite with usage exit code 2', () => {
    expect(() => parseSuites('roundtrip,bogus')).toThrow(/Unknown suite bogus; choose from roundtrip, translate, next, summarize, expand, segmenters/);
    expect(parseSuites('segmenters, roundtrip')).toEqual(['roundtrip', 'segmenters']); // run in the report's order
    const r = spawnSync(process.execPath, [BIN, 'eval', '--pack', TINY_PACK, '--suites', 'bogus'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Unknown suite bogus/);
  });

  it('writes the report where --out says, with the command that made it', () => {
    const out = join(tmp, 'cli');
    const r = spawnSync(process.execPath, [BIN, 'eval', '--pack', TINY_PACK, '--suites', 'roundtrip,segmenters', '--limit', '1', '--seed', '5', '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^roundtrip: 8 items, [\d.]+ s\nsegmenters: 7 items, [\d.]+ s\nwrote /);
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as EvalReport;
    expect(json.command).toMatch(/^lcm eval --pack \S+ --suites roundtrip,segmenters --limit 1 --seed 5 --out \S+$/);
    expect(Object.keys(json.suites)).toEqual(['roundtrip', 'segmenters']);
  });
});
