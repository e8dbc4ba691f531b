/**
 * The Quant-LCM packs (docs/variants.md) through the engine's own code: the
 * RVQ codebooks against recipe/lcmref/rvq.py (exact codes, sums to float32
 * rounding), both LCM graphs against PyTorch (1e-5), seeded generation against
 * recipe/lcmref/quant_lcm.py (exact codes, vectors 1e-5), temperature/top-k
 * behaviour, the writer's operations and broken manifests.
 * Fixtures: recipe/fixtures/make_quant_packs.py.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { f32, i64, type TensorValue } from '../../src/inference/backend/ort.ts';
import { ConceptEngine, type GeneratedConcept, type StreamResult } from '../../src/inference/engine.ts';
import { InputError, PackError } from '../../src/inference/errors.ts';
import { generateVectors, type StopReason } from '../../src/inference/lcm/generate.ts';
import { openLcm } from '../../src/inference/lcm/openLcm.ts';
import { QuantLcm, QuantLcmContext, sampleUnit } from '../../src/inference/lcm/quantLcm.ts';
import { ModelPack } from '../../src/inference/pack/loader.ts';
import { graphRoles } from '../../src/inference/pack/signatures.ts';
import { validateManifest } from '../../src/inference/pack/validate.ts';
import { createRng } from '../../src/inference/rng.ts';
import { expectClose, fixture, flat } from '../helpers/fixtures.ts';
import { packCopies } from '../helpers/packCopies.ts';

const PACKS = {
  'quant-discrete': fileURLToPath(new URL('../fixtures/packs/tiny-quant-d', import.meta.url)),
  'quant-continuous': fileURLToPath(new URL('../fixtures/packs/tiny-quant-c', import.meta.url)),
} as const;
const REFS = { 'quant-discrete': 'tiny-quant-d', 'quant-continuous': 'tiny-quant-c' } as const;
const GRAPH_TOL = 1e-5;
const RUN_TOL = 1e-5;
const STOP: Record<string, StopReason> = { maxConcepts: 'max-concepts', endOfText: 'end-of-text', repetition: 'repetition' };

interface Run {
  name: string; seed: number; temperature: number; topK: number; maxConcepts: number; candidates: number; promptRows: number;
  eotThreshold: number | null; repetitionThreshold: number | null; stopReason: string; vectors: number[][]; codes: number[][][];
}
interface SamplerRef { prompt: number[][]; eotVector: number[]; runs: Run[] }
interface RvqRef { levels: number; size: number; vectors: number[][]; codes: number[][]; decoded: number[][]; decodedTwoLevels: number[][] }
interface GraphsRef {
  embeddings: number[][]; hidden: number[][]; presentKey: number[][][][]; partial: number[][]; level: number[]; contextRows: number;
  crossKey: number[][][][]; crossValue: number[][][][];
  output: number[][]; outputEmptyContext: number[][]; outputName: 'logits' | 'residual';
}
const vecs = (rows: number[][]) => rows.map((v) => Float32Array.from(v));

async function collect(stream: AsyncGenerator<GeneratedConcept, StreamResult>): Promise<{ concepts: GeneratedConcept[]; result: StreamResult }> {
  const concepts: GeneratedConcept[] = [];
  for (;;) {
    const next = await stream.next();
    if (next.done) return { concepts, result: next.value };
    concepts.push(next.value);
  }
}

describe('sampleUnit: temperature and top-k', () => {
  const scores = [0.5, 2, 2, -1, 1.5];
  it('temperature 0 is the argmax (ties to the lower index) and draws nothing', () => {
    const rng = createRng(3);
    const probe = createRng(3);
    expect(sampleUnit(scores, 0, 0, rng)).toBe(1);
    expect(rng.uniform()).toBe(probe.uniform());
  });
  it('top-k 1 always gives the argmax; top-k k never leaves the k best', () => {
    const rng = createRng(5);
    for (let i = 0; i < 200; i++) expect(sampleUnit(scores, 10, 1, rng)).toBe(1);
    const seen = new Set<number>();
    for (let i = 0; i < 400; i++) seen.add(sampleUnit(scores, 10, 3, rng));
    expect([...seen].sort()).toEqual([1, 2, 4]);
  });
  it('frequencies follow softmax(scores / T); a high temperature flattens them', () => {
    const count = (t: number) => {
      const rng = createRng(11);
      const n = new Array<number>(scores.length).fill(0);
      for (let i = 0; i < 20000; i++) n[sampleUnit(scores, t, 0, rng)]!++;
      return n.map((c) => c / 20000);
    };
    const t = 0.7;
    const z = scores.map((s) => Math.exp(s / t));
    const sum = z.reduce((a, b) => a + b, 0);
    count(t).forEach((f, i) => expect(Math.abs(f - z[i]! / sum)).toBeLessThan(0.015));
    const hot = count(1000);
    hot.forEach((f) => expect(Math.abs(f - 0.2)).toBeLessThan(0.015));
  });
});

for (const architecture of ['quant-discrete', 'quant-continuous'] as const) {
  describe(`Quant-LCM ${architecture}`, () => {
    const dir = PACKS[architecture];
    const rvqRef = fixture<RvqRef>(`reference/${REFS[architecture]}/rvq.json`);
    const graphs = fixture<GraphsRef>(`reference/${REFS[architecture]}/graphs.json`);
    const ref = fixture<SamplerRef>(`reference/${REFS[architecture]}/sampler.json`);
    let pack: ModelPack;
    let lcm: QuantLcm;
    beforeAll(async () => {
      pack = await ModelPack.open(dir);
      lcm = openLcm(pack) as QuantLcm;
    });
    afterAll(async () => {
      await pack.close();
    });

    it('validates, lists its graphs, and openLcm gives the Quant-LCM runtime', async () => {
      const { manifest, problems } = validateManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
      expect(problems).toEqual([]);
      expect(manifest!.lcm.architecture).toBe(architecture);
      expect(graphRoles(manifest!)).toEqual(['encoder', 'decoder', 'contextualizer', 'denoiserContext', 'denoiser']);
      // A quant pack exported before the head's cross keys/values had their own graph is refused with what to do.
      const old = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { lcm: { denoiser: Record<string, unknown> } };
      delete old.lcm.denoiser.contextFile;
      expect(validateManifest(old).problems).toContainEqual(expect.stringMatching(/`lcm\.denoiser\.contextFile` is missing: a quant-.* pack's head takes its context keys\/values from denoiser_context\.onnx .*export the pack again/));
      expect(lcm).toBeInstanceOf(QuantLcm);
      expect(lcm.deterministic).toBe(false);
      for (const role of graphRoles(pack.manifest)) await pack.graph(role); // each passes its signature check
      expect(() => lcm.schedule).toThrow(/is a Quant-LCM \(quant-.*\): it samples codebook units with temperature and top-k and has no noise schedule/);
      expect(() => lcm.samplingOptions()).toThrow(/has no diffusion sampling options/);
    });

    it('RVQ encode gives the reference codes exactly; decode the reference sums', async () => {
      const books = await lcm.codebooks();
      expect([books.levels, books.size]).toEqual([rvqRef.levels, rvqRef.size]);
      rvqRef.vectors.forEach((v, i) => {
        const codes = books.encode(Float32Array.from(v));
        expect(codes).toEqual(rvqRef.codes[i]);
        expect(Array.from(books.decode(codes))).toEqual(Array.from(Float32Array.from(rvqRef.decoded[i]!)));
        expect(Array.from(books.decode(codes.slice(0, 2)))).toEqual(Array.from(Float32Array.from(rvqRef.decodedTwoLevels[i]!)));
      });
      expect(() => books.decode([0, 0, 0, 0, 0])).toThrow(/5 codes; the pack has 4 codebooks/);
    });

    it('contextualizer.onnx, denoiser_context.onnx and denoiser.onnx (the head) equal PyTorch, with and without context', async () => {
      const c = pack.manifest.lcm.contextualizer;
      const E = pack.manifest.embeddingDim;
      const feeds: Record<string, TensorValue> = { embeddings: f32(Float32Array.from(graphs.embeddings.flat()), [1, 5, E]) };
      for (let l = 0; l < c.layers; l++) {
        feeds[`past_key.${l}`] = f32(new Float32Array(0), [1, c.heads, 0, c.modelDim / c.heads]);
        feeds[`past_value.${l}`] = f32(new Float32Array(0), [1, c.heads, 0, c.modelDim / c.heads]);
      }
      const out = await (await pack.graph('contextualizer')).run(feeds);
      expectClose(out.hidden!.data as Float32Array, flat(graphs.hidden), GRAPH_TOL, 'hidden');
      expectClose(out['present_key.1']!.data as Float32Array, flat(graphs.presentKey[1]), GRAPH_TOL, 'present_key.1');
      // The head's cross keys/values of [zero row; the first contextRows hidden rows], then the head on them.
      const d = pack.manifest.lcm.denoiser!;
      const dh = d.modelDim / d.heads;
      const rows = Float32Array.from([...new Array<number>(d.modelDim).fill(0), ...graphs.hidden.slice(0, graphs.contextRows).flat()]);
      const cross = await (await pack.graph('denoiserContext')).run({ context: f32(rows, [1, 1 + graphs.contextRows, d.modelDim]) });
      const crossFeeds: Record<string, TensorValue> = {};
      for (let l = 0; l < d.layers; l++) {
        expectClose(cross[`cross_key.${l}`]!.data as Float32Array, flat(graphs.crossKey[l]!), GRAPH_TOL, `cross_key.${l}`);
        expectClose(cross[`cross_value.${l}`]!.data as Float32Array, flat(graphs.crossValue[l]!), GRAPH_TOL, `cross_value.${l}`);
        crossFeeds[`cross_key.${l}`] = cross[`cross_key.${l}`]!;
        crossFeeds[`cross_value.${l}`] = cross[`cross_value.${l}`]!;
      }
      const head = await pack.graph('denoiser');
      const y = await head.run({ partial: f32(Float32Array.from(graphs.partial.flat()), [3, E]), level: i64(graphs.level, [3]), ...crossFeeds });
      expectClose(y[graphs.outputName]!.data as Float32Array, flat(graphs.output), GRAPH_TOL, graphs.outputName);
      // An empty context: the zero row's keys only.
      const zeroOnly: Record<string, TensorValue> = {};
      for (let l = 0; l < d.layers; l++) {
        for (const kind of ['key', 'value'] as const) {
          const t = crossFeeds[`cross_${kind}.${l}`]!.data as Float32Array;
          const first = new Float32Array(d.heads * dh);
          for (let h = 0; h < d.heads; h++) first.set(t.subarray(h * (1 + graphs.contextRows) * dh, (h * (1 + graphs.contextRows) + 1) * dh), h * dh);
          zeroOnly[`cross_${kind}.${l}`] = f32(first, [1, d.heads, 1, dh]);
        }
      }
      const y0 = await head.run({ partial: f32(Float32Array.from(graphs.partial.slice(0, 2).flat()), [2, E]), level: i64(graphs.level.slice(0, 2), [2]), ...zeroOnly });
      expectClose(y0[graphs.outputName]!.data as Float32Array, flat(graphs.outputEmptyContext), GRAPH_TOL, `${graphs.outputName}, empty context`);
    });

    for (const run of ref.runs) {
      it(`seeded generation "${run.name}" = the reference: the same codes, the same vectors`, async () => {
        const ctx = (await lcm.newContext()) as QuantLcmContext;
        await ctx.append(vecs(ref.prompt.slice(0, run.promptRows)));
        const quant = { temperature: run.temperature, topK: run.topK };
        if (run.candidates > 1) {
          const got = await ctx.sample({ candidates: run.candidates, rng: createRng(run.seed), quant });
          expect(ctx.lastCodes).toEqual(run.codes[0]);
          got.forEach((v, i) => expectClose(v, run.vectors[i]!, RUN_TOL, `candidate ${i}`));
          expect(new Set(ctx.lastCodes.map((c) => c.join())).size).toBeGreaterThan(1); // distinct candidates
          return;
        }
        const gen = generateVectors(ctx, {
          maxConcepts: run.maxConcepts,
          endOfText: run.eotThreshold === null ? null : { vector: Float32Array.from(ref.eotVector), threshold: run.eotThreshold },
          repetitionThreshold: run.repetitionThreshold,
          rng: createRng(run.seed),
          quant,
        });
        const got: Float32Array[] = [];
        const codes: number[][][] = [];
        let next = await gen.next();
        while (!next.done) {
          got.push(next.value);
          codes.push(ctx.lastCodes);
          next = await gen.next();
        }
        codes.push(ctx.lastCodes);
        expect(next.value).toBe(STOP[run.stopReason]);
        expect(codes.slice(0, run.codes.length)).toEqual(run.codes);
        const expected = run.stopReason === 'maxConcepts' ? run.vectors : run.vectors.slice(0, -1);
        expect(got.length).toBe(expected.length);
        got.forEach((v, i) => expectClose(v, expected[i]!, RUN_TOL, `${run.name} concept ${i}`));
      });
    }

    it('temperature 0 and top-k 1 give the greedy codes; the defaults come from the manifest and are checked', async () => {
      const greedy = ref.runs.find((r) => r.name === 'greedy')!;
      const top1 = ref.runs.find((r) => r.name === 'topK1')!;
      expect(top1.codes).toEqual(greedy.codes);
      expect(lcm.quantOptions()).toEqual(pack.manifest.lcm.sampling);
      expect(lcm.quantOptions({ temperature: 0 })).toEqual({ temperature: 0, topK: lcm.spec.sampling.topK });
      expect(() => lcm.quantOptions({ temperature: -1 })).toThrow(InputError);
      expect(() => lcm.quantOptions({ topK: 17 })).toThrow(/top-k must be an integer from 0 \(all units\) to 16 \(the codebook size\), got 17/);
    });
  });
}

describe('the engine on a Quant-LCM pack', () => {
  let engine: ConceptEngine;
  beforeAll(async () => {
    engine = await ConceptEngine.open(PACKS['quant-discrete']);
  });
  afterAll(async () => {
    await engine.close();
  });
  const doc = [{ text: 'My name is SONAR.', lang: 'eng_Latn' }, { text: 'I can embed the sentences into vectorial space.', lang: 'eng_Latn' }];

  it('continue: same seed → same concepts; progress counts codebook levels; temperature 0 ignores the seed', async () => {
    const steps: number[] = [];
    const a = await collect(engine.continue(doc, { seed: 7, count: 2, onProgress: (p) => steps.push(p.step) }));
    expect(a.concepts.length).toBeGreaterThan(0);
    expect(steps.slice(0, 4)).toEqual([1, 2, 3, 4]);
    const b = await collect(engine.continue(doc, { seed: 7, count: 2 }));
    expect(b.concepts.map((c) => Array.from(c.embedding))).toEqual(a.concepts.map((c) => Array.from(c.embedding)));
    const g1 = await collect(engine.continue(doc, { seed: 1, count: 1, quant: { temperature: 0 } }));
    const g2 = await collect(engine.continue(doc, { seed: 2, count: 1, quant: { temperature: 0 } }));
    expect(Array.from(g2.concepts[0]!.embedding)).toEqual(Array.from(g1.concepts[0]!.embedding));
  });

  it('regenerate gives count distinct candidates (sampled), not marked deterministic; bad overrides are refused', async () => {
    const r = await engine.regenerate(doc, 2, { seed: 11, count: 4, quant: { temperature: 3, topK: 0 } });
    expect(r.deterministic).toBe(false);
    expect(r.candidates.length).toBe(4);
    expect(new Set(r.candidates.map((c) => Array.from(c.embedding).join())).size).toBeGreaterThan(1);
    await expect(engine.regenerate(doc, 2, { quant: { topK: -2 } })).rejects.toThrow(/top-k must be an integer/);
  });
});

describe('broken Quant-LCM manifests', () => {
  const { copy, edit } = packCopies('quant');
  const problems = (dir: string) => validateManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).problems;

  it('names the missing or misplaced field and what to do', () => {
    const dir = copy(PACKS['quant-discrete']);
    edit(dir, (m) => delete m.lcm.codebooks);
    expect(problems(dir)).toContain('`lcm.codebooks.file` is missing');
    edit(dir, (m) => {
      m.lcm.codebooks = { file: 'codebooks.bin', levels: 4, size: 16, space: 'normalized' };
      m.lcm.schedule = { kind: 'cosine' };
      m.lcm.sampling.guidanceScale = 3;
      m.lcm.sampling.topK = 99;
    });
    const p = problems(dir);
    expect(p.some((x) => /`lcm\.schedule` does not apply to a quant-discrete pack .*remove it/.test(x))).toBe(true);
    expect(p.some((x) => /`lcm\.sampling\.guidanceScale` does not apply to a quant-discrete pack \(its sampling options are temperature and topK\)/.test(x))).toBe(true);
    expect(p).toContain('`lcm.sampling.topK` must be an integer from 0 to 16, got 99');
  });

  it('codebooks of the wrong size are refused when the engine reads them, naming the file and the sizes', async () => {
    const dir = copy(PACKS['quant-continuous']);
    edit(dir, (m) => (m.lcm.codebooks.levels = 3));
    const pack = await ModelPack.open(dir);
    try {
      const error = await openLcm(pack).newContext().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(PackError);
      expect((error as Error).message).toMatch(/codebooks\.bin.*has 4096 bytes; lcm\.codebooks says 3 levels × 16 units × 16 dims × 4 bytes = 3072/);
    } finally {
      await pack.close();
    }
  });
});
