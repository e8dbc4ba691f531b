/**
 * The Base-LCM and One-Tower packs (docs/variants.md) through the engine's own
 * code: every LCM graph against the PyTorch modules (1e-5), seeded generation
 * against the reference generator (1e-4; recipe/lcmref/generate.py with the
 * same weights and the same noise), caches split or whole, determinism, the
 * writer's operations on every architecture, and broken manifests. Fixtures:
 * recipe/fixtures/make_variant_packs.py.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { f32, i64, type TensorValue } from '../../src/inference/backend/ort.ts';
import { ConceptEngine, type GeneratedConcept, type Progress, type StreamResult } from '../../src/inference/engine.ts';
import { EngineError, PackError } from '../../src/inference/errors.ts';
import { BaseLcm } from '../../src/inference/lcm/baseLcm.ts';
import { generateVectors, type StopReason } from '../../src/inference/lcm/generate.ts';
import type { ConceptLcm } from '../../src/inference/lcm/model.ts';
import { OneTowerLcm } from '../../src/inference/lcm/oneTower.ts';
import { openLcm } from '../../src/inference/lcm/openLcm.ts';
import type { DiffusionOptions } from '../../src/inference/lcm/sampler.ts';
import { ModelPack } from '../../src/inference/pack/loader.ts';
import { expectedSignature, graphRoles } from '../../src/inference/pack/signatures.ts';
import { validateManifest } from '../../src/inference/pack/validate.ts';
import { createRng } from '../../src/inference/rng.ts';
import { expectClose, fixture, flat, TINY_PACK } from '../helpers/fixtures.ts';
import { packCopies } from '../helpers/packCopies.ts';

const BASE_PACK = fileURLToPath(new URL('../fixtures/packs/tiny-base', import.meta.url));
const ONE_TOWER_PACK = fileURLToPath(new URL('../fixtures/packs/tiny-one-tower', import.meta.url));
const GRAPH_TOL = 1e-5;
const RUN_TOL = 1e-4;
const STOP: Record<string, StopReason> = { maxConcepts: 'max-concepts', endOfText: 'end-of-text', repetition: 'repetition' };

interface Run {
  name: string;
  seed: number;
  candidates: number;
  promptRows: number;
  options: DiffusionOptions & { maxConcepts: number; minConcepts: number; eotThreshold: number | null; repetitionThreshold: number | null };
  stopReason: 'maxConcepts' | 'endOfText' | 'repetition' | 'candidates';
  timesteps: number[];
  vectors: number[][];
  eotCosines: (number | null)[];
}
interface SamplerRef { architecture: string; promptTexts: string[]; prompt: number[][]; eotVector: number[]; runs: Run[] }

const sampling = (o: Run['options']): DiffusionOptions => ({
  inferenceSteps: o.inferenceSteps, spacing: o.spacing, guidanceScale: o.guidanceScale, guidanceRescale: o.guidanceRescale,
  initialNoiseScale: o.initialNoiseScale, epsilonScaling: o.epsilonScaling, clipNoise: o.clipNoise,
});
const vecs = (rows: number[][]) => rows.map((v) => Float32Array.from(v));

async function collect(stream: AsyncGenerator<GeneratedConcept, StreamResult>): Promise<{ concepts: GeneratedConcept[]; result: StreamResult }> {
  const concepts: GeneratedConcept[] = [];
  for (;;) {
    const next = await stream.next();
    if (next.done) return { concepts, result: next.value };
    concepts.push(next.value);
  }
}

/** Runs a graph that takes past_key.i/past_value.i over `rows` in the chunks of `split`; returns the outputs of each run. */
async function runIncremental(pack: ModelPack, rows: number[][], split: number[]): Promise<Record<string, TensorValue>[]> {
  const c = pack.manifest.lcm.contextualizer;
  const E = pack.manifest.embeddingDim;
  const dh = c.modelDim / c.heads;
  const graph = await pack.graph('contextualizer');
  let past: Float32Array[] = Array.from({ length: 2 * c.layers }, () => new Float32Array(0));
  let done = 0;
  const outs: Record<string, TensorValue>[] = [];
  for (const n of split) {
    const feeds: Record<string, TensorValue> = { embeddings: f32(Float32Array.from(rows.slice(done, done + n).flat()), [1, n, E]) };
    for (let l = 0; l < c.layers; l++) {
      feeds[`past_key.${l}`] = f32(past[2 * l]!, [1, c.heads, done, dh]);
      feeds[`past_value.${l}`] = f32(past[2 * l + 1]!, [1, c.heads, done, dh]);
    }
    const out = await graph.run(feeds);
    past = Array.from({ length: 2 * c.layers }, (_, k) => out[`${k % 2 ? 'present_value' : 'present_key'}.${k >> 1}`]!.data as Float32Array);
    outs.push(out);
    done += n;
  }
  return outs;
}

const SPLITS = [[5], [3, 2], [1, 1, 1, 1, 1]];

describe('pack format: the new architectures', () => {
  it('validates both manifests and lists their graphs', () => {
    for (const [dir, arch, roles] of [
      [BASE_PACK, 'base-mse', ['encoder', 'decoder', 'contextualizer']],
      [ONE_TOWER_PACK, 'one-tower-diffusion', ['encoder', 'decoder', 'contextualizer', 'denoiser']],
      [TINY_PACK, 'two-tower-diffusion', ['encoder', 'decoder', 'contextualizer', 'denoiserContext', 'denoiser']],
    ] as const) {
      const { manifest, problems } = validateManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
      expect(problems).toEqual([]);
      expect(manifest!.lcm.architecture).toBe(arch);
      expect(graphRoles(manifest!)).toEqual(roles);
    }
  });

  it('asking for a graph the architecture does not have says which graphs it has', async () => {
    const pack = await ModelPack.open(BASE_PACK);
    try {
      expect(() => expectedSignature(pack.manifest, 'denoiser')).toThrow(/a base-mse pack has no denoiser graph \(its graphs: encoder, decoder, contextualizer/);
    } finally {
      await pack.close();
    }
  });

  it('openLcm picks the runtime of the architecture', async () => {
    for (const [dir, cls, deterministic] of [[BASE_PACK, BaseLcm, true], [ONE_TOWER_PACK, OneTowerLcm, false]] as const) {
      const pack = await ModelPack.open(dir);
      try {
        const lcm: ConceptLcm = openLcm(pack);
        expect(lcm).toBeInstanceOf(cls);
        expect(lcm.deterministic).toBe(deterministic);
        for (const role of graphRoles(pack.manifest)) await pack.graph(role); // each passes its signature check
      } finally {
        await pack.close();
      }
    }
  });
});

describe('Base-LCM', () => {
  const graphs = fixture<{ embeddings: number[][]; prediction: number[][]; presentKey: number[][][][] }>('reference/tiny-base/graphs.json');
  const ref = fixture<SamplerRef>('reference/tiny-base/sampler.json');
  let pack: ModelPack;
  let lcm: BaseLcm;
  beforeAll(async () => {
    pack = await ModelPack.open(BASE_PACK);
    lcm = new BaseLcm(pack);
  });
  afterAll(async () => {
    await pack.close();
  });

  it('contextualizer.onnx: predictions and keys equal PyTorch, in one run or in parts', async () => {
    for (const split of SPLITS) {
      const outs = await runIncremental(pack, graphs.embeddings, split);
      expectClose(outs.flatMap((o) => Array.from(o.prediction!.data as Float32Array)), flat(graphs.prediction), GRAPH_TOL, `prediction, split ${split.join('+')}`);
      expectClose(outs.at(-1)!['present_key.1']!.data as Float32Array, flat(graphs.presentKey[1]), GRAPH_TOL, `present_key.1, split ${split.join('+')}`);
    }
  });

  for (const run of ref.runs.filter((r) => r.candidates === 1)) {
    it(`generation "${run.name}" = the reference (${run.vectors.length} concepts, stop ${run.stopReason})`, async () => {
      const ctx = await lcm.newContext();
      await ctx.append(vecs(ref.prompt.slice(0, run.promptRows)));
      const gen = generateVectors(ctx, {
        maxConcepts: run.options.maxConcepts,
        minConcepts: run.options.minConcepts,
        endOfText: run.options.eotThreshold === null ? null : { vector: Float32Array.from(ref.eotVector), threshold: run.options.eotThreshold },
        repetitionThreshold: run.options.repetitionThreshold,
        rng: createRng(run.seed),
      });
      const got: Float32Array[] = [];
      let next = await gen.next();
      while (!next.done) {
        got.push(next.value);
        next = await gen.next();
      }
      expect(next.value).toBe(STOP[run.stopReason]);
      const expected = run.stopReason === 'maxConcepts' ? run.vectors : run.vectors.slice(0, -1); // the engine drops the stopping concept
      expect(got.length).toBe(expected.length);
      got.forEach((v, i) => expectClose(v, expected[i]!, RUN_TOL, `${run.name} concept ${i}`));
    });
  }

  it('is deterministic: the reference gives the same vectors for seeds 7 and 8, and so does the engine', async () => {
    const a = ref.runs.find((r) => r.name === 'defaults')!;
    const b = ref.runs.find((r) => r.name === 'otherSeed')!;
    expect(b.vectors).toEqual(a.vectors);
    const rng = createRng(1);
    const ctx = await lcm.newContext();
    await ctx.append(vecs(ref.prompt));
    const probe = createRng(1);
    const [x] = await ctx.sample({ candidates: 1, rng });
    expect(rng.uniform()).toBe(probe.uniform()); // nothing was drawn
    expectClose(x!, a.vectors[0]!, RUN_TOL, 'first concept');
  });

  it('several candidates are identical rows; an empty context is refused clearly', async () => {
    const run = ref.runs.find((r) => r.name === 'regenerate')!;
    const ctx = await lcm.newContext();
    await ctx.append(vecs(ref.prompt));
    const c = await ctx.sample({ candidates: 3, rng: createRng(run.seed) });
    expect(c.length).toBe(3);
    c.forEach((v, i) => expectClose(v, run.vectors[i]!, RUN_TOL, `candidate ${i}`));
    expect(Array.from(c[1]!)).toEqual(Array.from(c[0]!));
    const empty = await lcm.newContext();
    await expect(empty.sample({ candidates: 1, rng: createRng(1) })).rejects.toThrow(/Base-LCM: it predicts the concept after the last one it has read/);
  });

  it('has no diffusion schedule or sampling options, and says so', () => {
    expect(() => lcm.schedule).toThrow(/is a Base-LCM \(base-mse\): it predicts the next concept directly and has no noise schedule/);
    expect(() => lcm.samplingOptions()).toThrow(/has no diffusion sampling options/);
  });
});

describe('One-Tower LCM', () => {
  const graphs = fixture<{
    embeddings: number[][]; presentKey: number[][][][]; presentValue: number[][][][]; contextRows: number;
    noisy: number[][]; timesteps: number[]; contextMask: number[][]; x0: number[][]; x0EmptyContext: number[][];
  }>('reference/tiny-one-tower/graphs.json');
  const ref = fixture<SamplerRef>('reference/tiny-one-tower/sampler.json');
  let pack: ModelPack;
  let lcm: OneTowerLcm;
  beforeAll(async () => {
    pack = await ModelPack.open(ONE_TOWER_PACK);
    lcm = new OneTowerLcm(pack);
  });
  afterAll(async () => {
    await pack.close();
  });

  it('contextualizer.onnx: the clean rows\' keys/values equal PyTorch, in one run or in parts', async () => {
    const layers = pack.manifest.lcm.contextualizer.layers;
    for (const split of SPLITS) {
      const last = (await runIncremental(pack, graphs.embeddings, split)).at(-1)!;
      for (let l = 0; l < layers; l++) {
        expectClose(last[`present_key.${l}`]!.data as Float32Array, flat(graphs.presentKey[l]), GRAPH_TOL, `present_key.${l}, split ${split.join('+')}`);
        expectClose(last[`present_value.${l}`]!.data as Float32Array, flat(graphs.presentValue[l]), GRAPH_TOL, `present_value.${l}, split ${split.join('+')}`);
      }
    }
  });

  it('denoiser.onnx: x0 equals PyTorch with a masked, shared context and with no context at all', async () => {
    const d = pack.manifest.lcm.denoiser!;
    const E = pack.manifest.embeddingDim;
    const dh = d.modelDim / d.heads;
    const P = graphs.contextRows;
    const graph = await pack.graph('denoiser');
    const feeds = (rows: number, p: number, mask: number[]): Record<string, TensorValue> => {
      const out: Record<string, TensorValue> = {
        noisy: f32(Float32Array.from(graphs.noisy.slice(0, rows).flat()), [rows, E]),
        timesteps: i64(graphs.timesteps.slice(0, rows), [rows]),
        context_mask: f32(Float32Array.from(mask), [rows, p]),
      };
      for (let l = 0; l < d.layers; l++) {
        // The first p rows of the 5-row cache: [H, 5, Dh] → [1, H, p, Dh].
        out[`context_key.${l}`] = f32(Float32Array.from(graphs.presentKey[l]!.flatMap((h) => h.slice(0, p).flat())), [1, d.heads, p, dh]);
        out[`context_value.${l}`] = f32(Float32Array.from(graphs.presentValue[l]!.flatMap((h) => h.slice(0, p).flat())), [1, d.heads, p, dh]);
      }
      return out;
    };
    const x0 = await graph.runFloat(feeds(3, P, graphs.contextMask.flat()), 'x0');
    expectClose(x0.data, flat(graphs.x0), GRAPH_TOL, 'x0 (conditional, partly masked, unconditional rows)');
    const empty = await graph.runFloat(feeds(2, 0, []), 'x0');
    expectClose(empty.data, flat(graphs.x0EmptyContext), GRAPH_TOL, 'x0 with P = 0');
  });

  for (const run of ref.runs.filter((r) => r.candidates === 1)) {
    it(`generation "${run.name}" = the reference (${run.vectors.length} concepts, ${run.timesteps.length} steps, stop ${run.stopReason})`, async () => {
      const ctx = await lcm.newContext();
      await ctx.append(vecs(ref.prompt.slice(0, run.promptRows)));
      const steps: number[] = [];
      const gen = generateVectors(ctx, {
        maxConcepts: run.options.maxConcepts,
        minConcepts: run.options.minConcepts,
        endOfText: run.options.eotThreshold === null ? null : { vector: Float32Array.from(ref.eotVector), threshold: run.options.eotThreshold },
        repetitionThreshold: run.options.repetitionThreshold,
        rng: createRng(run.seed),
        sampling: sampling(run.options),
        onStep: (concept, step) => {
          if (concept === 0) steps.push(step);
        },
      });
      const got: Float32Array[] = [];
      let next = await gen.next();
      while (!next.done) {
        got.push(next.value);
        next = await gen.next();
      }
      expect(next.value).toBe(STOP[run.stopReason]);
      expect(steps.length).toBe(run.timesteps.length);
      const expected = run.stopReason === 'maxConcepts' ? run.vectors : run.vectors.slice(0, -1);
      expect(got.length).toBe(expected.length);
      got.forEach((v, i) => expectClose(v, expected[i]!, RUN_TOL, `${run.name} concept ${i}`));
      expect(ctx.length).toBe(run.promptRows + got.length);
    });
  }

  it('regenerate: 4 candidates for one position in one batch', async () => {
    const run = ref.runs.find((r) => r.name === 'regenerate')!;
    const ctx = await lcm.newContext();
    await ctx.append(vecs(ref.prompt));
    const c = await ctx.sample({ candidates: 4, rng: createRng(run.seed), options: sampling(run.options) });
    c.forEach((v, i) => expectClose(v, run.vectors[i]!, RUN_TOL, `candidate ${i}`));
    expect(ctx.length).toBe(3);
  });

  it('appending in parts or at once gives the same samples (the clean cache is exact)', async () => {
    const a = await lcm.newContext();
    await a.append(vecs(ref.prompt));
    const b = await lcm.newContext();
    for (const v of vecs(ref.prompt)) await b.append([v]);
    const [va] = await a.sample({ candidates: 1, rng: createRng(3) });
    const [vb] = await b.sample({ candidates: 1, rng: createRng(3) });
    expectClose(va!, Array.from(vb!), GRAPH_TOL, 'sample after split append');
  });

  it('a context past maxContext keeps the most recent concepts', async () => {
    const ctx = await lcm.newContext();
    const max = pack.manifest.lcm.contextualizer.maxContext;
    const v = vecs(ref.prompt)[0]!;
    await ctx.append(Array.from({ length: max + 2 }, () => v));
    expect(ctx.length).toBe(max);
  });
});

const doc = [
  { text: 'The old lighthouse stood at the edge of the cliff.', lang: 'eng_Latn' },
  { text: 'Every night its lamp swept across the dark water.', lang: 'eng_Latn' },
  { text: 'Sailors trusted it to guide them home.', lang: 'eng_Latn' },
];

describe.each([
  ['Base-LCM', BASE_PACK, 'reference/tiny-base/sampler.json'],
  ['One-Tower', ONE_TOWER_PACK, 'reference/tiny-one-tower/sampler.json'],
])('the writer\'s operations on a %s pack', (name, dir, samplerRef) => {
  let engine: ConceptEngine;
  const ref = fixture<SamplerRef>(samplerRef);
  const deterministic = name === 'Base-LCM';
  beforeAll(async () => {
    engine = await ConceptEngine.open(dir);
  });
  afterAll(async () => {
    await engine.close();
  });

  it('continue: text in = the reference run for seed 7, decoded one by one; same seed → same concepts', async () => {
    const run = ref.runs.find((r) => r.name === 'defaults')!;
    expect(ref.promptTexts).toEqual(doc.map((d) => d.text));
    expect(Math.max(...run.eotCosines.map((c) => c ?? -1))).toBeLessThan(0.9); // the pack's end-of-text rule does not fire
    const progress: Progress[] = [];
    const { concepts, result } = await collect(engine.continue(doc, { seed: 7, count: 3, onProgress: (p) => progress.push(p) }));
    expect(result).toEqual({ seed: 7, stop: 'max-concepts' });
    concepts.forEach((c, i) => {
      expectClose(c.embedding, run.vectors[i]!, RUN_TOL, `concept ${i}`);
      expect(c.text.length).toBeGreaterThan(0);
    });
    expect(progress.at(-1)).toMatchObject({ operation: 'continue', concept: 2, concepts: 3, steps: deterministic ? 1 : run.timesteps.length });
    const again = await collect(engine.continue(doc, { seed: 7, count: 3 }));
    expect(again.concepts.map((c) => c.text)).toEqual(concepts.map((c) => c.text));
    const other = await collect(engine.continue(doc, { seed: 8, count: 3 }));
    // Base-LCM: the seed changes nothing; One-Tower: another seed gives other vectors.
    if (deterministic) expect(other.concepts.map((c) => Array.from(c.embedding))).toEqual(concepts.map((c) => Array.from(c.embedding)));
    else expect(Array.from(other.concepts[0]!.embedding)).not.toEqual(Array.from(concepts[0]!.embedding));
  });

  it(deterministic ? 'regenerate: one candidate, marked deterministic (all candidates would be identical)' : 'regenerate: count distinct candidates in one batch', async () => {
    const r = await engine.regenerate(doc, 2, { seed: 11, count: 3 });
    expect(r.seed).toBe(11);
    expect(r.deterministic).toBe(deterministic);
    expect(r.candidates.length).toBe(deterministic ? 1 : 3);
    if (!deterministic) expect(new Set(r.candidates.map((c) => c.embedding.join(','))).size).toBe(3);
    await expect(engine.regenerate(doc, 2, { count: 0 })).rejects.toThrow(/count must be an integer from 1/);
  });

  it('regenerate at position 0: ' + (deterministic ? 'refused with a clear error (nothing to predict from)' : 'samples from the empty context'), async () => {
    if (deterministic) {
      const error = await engine.regenerate(doc, 0, { seed: 1 }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe('BAD_INPUT');
      expect((error as Error).message).toMatch(/needs at least one concept before the position/);
    } else {
      const r = await engine.regenerate(doc, 0, { seed: 1, count: 2 });
      expect(r.candidates.length).toBe(2);
    }
  });

  it('expand gives exactly count concepts; summarize at most maxConcepts', async () => {
    const e = await collect(engine.expand(doc, 1, { seed: 3, count: 2 }));
    expect(e.concepts.length).toBe(2);
    expect(e.result.stop).toBe('max-concepts');
    const s = await collect(engine.summarize(doc, { seed: 3, maxConcepts: 2 }));
    expect(s.concepts.length).toBeGreaterThanOrEqual(0);
    expect(s.concepts.length).toBeLessThanOrEqual(2);
    expect(s.result.seed).toBe(3);
  });

  it('sampling overrides: ' + (deterministic ? 'ignored (nothing is sampled)' : 'applied (fewer steps)'), async () => {
    const progress: Progress[] = [];
    await collect(engine.continue(doc, { seed: 7, count: 1, sampling: { inferenceSteps: 10, spacing: 'trailing-exact' }, onProgress: (p) => progress.push(p) }));
    expect(progress.at(-1)!.steps).toBe(deterministic ? 1 : 10);
  });
});

describe('broken manifests name the field and what to do', () => {
  const { copy, edit } = packCopies('variant');
  async function refused(dir: string): Promise<PackError> {
    const error = await ModelPack.open(dir).then(async (p) => {
      await p.close();
      return undefined;
    }, (e: unknown) => e);
    expect(error).toBeInstanceOf(PackError);
    return error as PackError;
  }

  it('an unknown architecture lists the known ones', async () => {
    const dir = copy(BASE_PACK);
    edit(dir, (m) => (m.lcm.architecture = 'quant-lcm'));
    const e = await refused(dir);
    expect(e.code).toBe('PACK_INVALID');
    expect(e.message).toMatch(/`lcm\.architecture` is "quant-lcm"; allowed: two-tower-diffusion, one-tower-diffusion, base-mse/);
  });

  it('a base-mse pack with diffusion sections is told to remove them', async () => {
    const dir = copy(BASE_PACK);
    const one = JSON.parse(readFileSync(join(ONE_TOWER_PACK, 'manifest.json'), 'utf8')) as { lcm: { schedule: unknown } };
    edit(dir, (m) => (m.lcm.schedule = one.lcm.schedule));
    expect((await refused(dir)).message).toMatch(/`lcm\.schedule` does not apply to a base-mse pack .*remove it/);
  });

  it('a one-tower pack whose two graphs disagree on the tower\'s shape, or that lacks its denoiser', async () => {
    const dir = copy(ONE_TOWER_PACK);
    edit(dir, (m) => (m.lcm.denoiser.layers = 3));
    expect((await refused(dir)).message).toMatch(/`lcm\.denoiser\.layers` \(3\) must equal `lcm\.contextualizer\.layers` \(2\): a one-tower pack's two graphs run the same transformer/);
    edit(dir, (m) => {
      m.lcm.denoiser.layers = 2;
      delete m.lcm.denoiser;
    });
    expect((await refused(dir)).message).toMatch(/`lcm\.denoiser\.file` is missing/);
  });

  it('a Two-Tower graph under a base-mse manifest fails the signature check, naming the file and the output', async () => {
    const dir = copy(BASE_PACK);
    cpSync(join(TINY_PACK, 'contextualizer.onnx'), join(dir, 'contextualizer.onnx'));
    const bytes = readFileSync(join(dir, 'contextualizer.onnx'));
    const { createHash } = await import('node:crypto');
    edit(dir, (m) => {
      const f = (m.files as { path: string; bytes: number; sha256: string }[]).find((x) => x.path === 'contextualizer.onnx')!;
      f.bytes = bytes.length;
      f.sha256 = createHash('sha256').update(bytes).digest('hex');
    });
    const pack = await ModelPack.open(dir);
    try {
      const error = await pack.graph('contextualizer').then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(PackError);
      expect((error as Error).message).toMatch(/contextualizer\.onnx.*output `prediction` is missing/);
    } finally {
      await pack.close();
    }
  });
});
