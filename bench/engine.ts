/**
 * The engine side of the side-by-side: encoder, decoder and LCM figures of
 * one pack on the inputs the PyTorch side gets too, plus the time from an
 * Expand to its first concept. Every figure is the median over repeats after
 * one warm-up call (measure.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConceptEngine } from '../src/inference/engine.ts';
import { generateVectors } from '../src/inference/lcm/generate.ts';
import { createRng } from '../src/inference/rng.ts';
import { ENGINE_OPTIONS, median, THREADS, timed, type Sample } from './measure.ts';
import { ROOT, type CompareRequest } from './torch.ts';

/** Workload sizes (kept small: the machine is shared with a training job). */
export const WORK = {
  repeats: 5,
  batch1Sentences: 32,
  batch64Sentences: 256,
  parityCount: 16,
  decodeVectors: 4,
  decodeMaxLength: 32,
  beamSize: 5,
  lengthPenalty: 1,
  contextConcepts: 10,
  lcmConcepts: 3,
  seed: 1,
} as const;

/** Sentences for the encoder (the tokenizer fixture corpus, lines over 20 characters), in English as the default pack's first language. */
export function benchSentences(): string[] {
  return readFileSync(join(ROOT, 'test/fixtures/tokenizer/corpus.txt'), 'utf8').split('\n').filter((l) => l.length > 20).slice(0, WORK.batch64Sentences);
}

export interface EngineFigures {
  pack: string;
  dir: string;
  shape: string;
  lang: string;
  /** Median tokens per sentence of the bench sentences (tag and </s> included). */
  tokensPerSentence: number;
  encoderBatch1: Sample[];
  encoderBatch64: Sample[];
  decoderGreedy: Sample[];
  decoderBeam: Sample[];
  lcm: Sample[];
  /** For the parity check with PyTorch. */
  encoderVectors: Float32Array[];
  greedyTokens: number[][];
  beamTokens: number[][];
  lcmVectors: Float32Array[];
  /** The request the PyTorch side gets: the same inputs. */
  request: CompareRequest;
}

function shapeOf(e: ConceptEngine): string {
  const m = e.pack.manifest;
  const s = m.sonar;
  const l = m.lcm;
  return `SONAR d ${s.encoder.modelDim} ${s.encoder.layers}+${s.decoder.layers}, vocab ${m.tokenizer.vocabSize}; LCM ${l.architecture} D ${l.contextualizer.modelDim} ${l.contextualizer.layers}${l.denoiser ? `+${l.denoiser.layers}` : ''}`;
}

/** Generates `count` concepts after `context` (no stopping rule), each appended as the engine's loop does. */
async function generate(engine: ConceptEngine, context: readonly Float32Array[], count: number, seed: number): Promise<Float32Array[]> {
  const ctx = await engine.lcm.newContext();
  await ctx.append(context);
  const gen = generateVectors(ctx, { maxConcepts: count, minConcepts: count, rng: createRng(seed), sampling: engine.lcm.samplingOptions() });
  const out: Float32Array[] = [];
  for (let next = await gen.next(); !next.done; next = await gen.next()) out.push(next.value);
  return out;
}

export async function benchEngine(dir: string, sentences: readonly string[]): Promise<EngineFigures> {
  const engine = await ConceptEngine.open(dir, ENGINE_OPTIONS);
  try {
    const lang = engine.pack.languageCodes.includes('eng_Latn') ? 'eng_Latn' : engine.pack.languageCodes[0]!;
    const b1 = sentences.slice(0, WORK.batch1Sentences);
    const b64 = sentences.slice(0, WORK.batch64Sentences);
    const langs = (n: number) => new Array<string>(n).fill(lang);
    const encoderBatch1 = await timed(async () => {
      for (const s of b1) await engine.encoder.encode([s], [lang], { batchSize: 1 });
      return b1.length;
    }, WORK.repeats);
    const encoderBatch64 = await timed(async () => (await engine.encoder.encode(b64, langs(b64.length), { batchSize: 64 })).length, WORK.repeats);
    const encoderVectors = await engine.encoder.encode(sentences.slice(0, WORK.parityCount), langs(WORK.parityCount), { batchSize: 64 });

    const vectors = encoderVectors.slice(0, WORK.decodeVectors);
    const decodeAll = async (strategy: 'greedy' | 'beam'): Promise<number[][]> => {
      const out: number[][] = [];
      // One sentence per call: the interactive case (a concept decoded as it is generated).
      for (const v of vectors) out.push((await engine.decoder.decode([v], [lang], { strategy, maxLength: WORK.decodeMaxLength, beamSize: WORK.beamSize, lengthPenalty: WORK.lengthPenalty }))[0]!.tokens);
      return out;
    };
    const tokens = (t: number[][]) => t.reduce((a, x) => a + x.length + 1, 0);
    const decoderGreedy = await timed(async () => tokens(await decodeAll('greedy')), WORK.repeats);
    const greedyTokens = await decodeAll('greedy');
    const decoderBeam = await timed(async () => tokens(await decodeAll('beam')), Math.max(1, WORK.repeats - 2));
    const beamTokens = await decodeAll('beam');

    const context = encoderVectors.slice(0, WORK.contextConcepts);
    let lcmVectors: Float32Array[] = [];
    const lcm = await timed(async () => {
      lcmVectors = await generate(engine, context, WORK.lcmConcepts, WORK.seed);
      return WORK.lcmConcepts;
    }, WORK.repeats);

    const tok = engine.pack.tokenizer;
    const request: CompareRequest = {
      pack: dir,
      threads: THREADS,
      repeats: WORK.repeats,
      encoder: { texts: [...b64], lang, batch1Sentences: WORK.batch1Sentences, batch64Sentences: WORK.batch64Sentences, parityCount: WORK.parityCount },
      decoder: {
        vectors: vectors.map((v) => Array.from(v)),
        prompt: tok.decoderPrompt(lang),
        eos: tok.eos,
        maxLength: WORK.decodeMaxLength,
        banned: tok.bannedInText(),
        beamSize: WORK.beamSize,
        lengthPenalty: WORK.lengthPenalty,
      },
      lcm: { context: context.map((v) => Array.from(v)), concepts: WORK.lcmConcepts, seed: WORK.seed },
    };
    return {
      pack: engine.pack.name,
      dir,
      shape: shapeOf(engine),
      lang,
      tokensPerSentence: median(engine.encoder.tokenize(b64, langs(b64.length)).map((ids) => ids.length)),
      encoderBatch1,
      encoderBatch64,
      decoderGreedy,
      decoderBeam,
      lcm,
      encoderVectors,
      greedyTokens,
      beamTokens,
      lcmVectors,
      request,
    };
  } finally {
    await engine.close();
  }
}

/** Where the time of an Expand goes, in ms (medians), and the total to the first concept. */
export interface ExpandFigures {
  pack: string;
  /** Tokens the first concept's text was decoded to (random weights never stop: the decode is capped there). */
  decodeTokens: number;
  /** First Expand after opening the pack (graphs load lazily). */
  coldMs: number;
  /** Later Expands: Expand → first concept (median). */
  firstMs: number;
  encodeMs: number;
  diffusionMs: number;
  decodeMs: number;
}

/**
 * Expand → first concept through `ConceptEngine.expand`, as the app's engine worker runs it: the concept and the
 * pack's [EXPAND]: marker are encoded, the LCM samples one concept (40 → 50 steps, guidance 3), and it is decoded
 * (beam 5). A trained pack ends a sentence at </s>; these random weights never do, so the decode is capped at
 * `decodeTokens` (the median sentence length of the bench sentences) instead of the pack's 128.
 */
export async function benchExpand(dir: string, text: string, decodeTokens: number): Promise<ExpandFigures> {
  const engine = await ConceptEngine.open(dir, ENGINE_OPTIONS);
  try {
    const lang = engine.pack.languageCodes.includes('eng_Latn') ? 'eng_Latn' : engine.pack.languageCodes[0]!;
    const first = async (): Promise<number> => {
      const t = performance.now();
      const gen = engine.expand([{ text, lang }], 0, { count: 3, seed: WORK.seed, decode: { maxLength: decodeTokens } });
      await gen.next();
      const ms = performance.now() - t;
      await gen.return({ seed: WORK.seed, stop: 'max-concepts' });
      return ms;
    };
    const coldMs = await first();
    const runs: number[] = [];
    for (let i = 0; i < WORK.repeats; i++) runs.push(await first());
    // The parts, timed alone.
    const part = async (fn: () => Promise<unknown>): Promise<number> => {
      const ms: number[] = [];
      for (let i = 0; i < WORK.repeats; i++) {
        const t = performance.now();
        await fn();
        ms.push(performance.now() - t);
      }
      return median(ms);
    };
    const marker = engine.pack.manifest.lcm.instructions.expand!;
    const encodeMs = await part(() => engine.encoder.encode([text, marker.marker], [lang, marker.lang]));
    const [v, m] = await engine.encoder.encode([text, marker.marker], [lang, marker.lang]);
    const diffusionMs = await part(() => generate(engine, [v!, m!], 1, WORK.seed));
    const [x] = await generate(engine, [v!, m!], 1, WORK.seed);
    const decodeMs = await part(() => engine.decode([x!], lang, { maxLength: decodeTokens }));
    return { pack: engine.pack.name, decodeTokens, coldMs, firstMs: median(runs), encodeMs, diffusionMs, decodeMs };
  } finally {
    await engine.close();
  }
}
