/**
 * ConceptEngine: the writer's operations over one model pack. Encode and
 * decode concepts, translate, measure round-trip fidelity, and generate with
 * the LCM (continue, regenerate, expand, summarize). Generation streams
 * concept by concept, takes an AbortSignal and a seed, reports progress, and a
 * given seed always gives the same output.
 */
import { getLanguage } from '../shared/languages.ts';
import type { ProviderName } from './backend/ort.ts';
import { InputError } from './errors.ts';
import { generateVectors, type StopReason } from './lcm/generate.ts';
import type { ConceptContext, ConceptLcm } from './lcm/model.ts';
import { openLcm } from './lcm/openLcm.ts';
import { QuantLcm, type QuantSamplingOptions } from './lcm/quantLcm.ts';
import type { DiffusionOptions } from './lcm/sampler.ts';
import { sentenceChrf } from './metrics/chrf.ts';
import { computeFragility, fragilityPlan, type FragilityOptions, type FragilityResult } from './metrics/fragility.ts';
import { ModelPack, type GraphReport } from './pack/loader.ts';
import { checkSeed, createRng, freshSeed } from './rng.ts';
import { SonarDecoder, type DecodeOptions, type DecodedText } from './sonar/decoder.ts';
import { SonarEncoder } from './sonar/encoder.ts';
import { segmentText, type Segment } from './text/segmenter.ts';

/** A concept given to the engine: text (encoded on the fly) or a vector already computed (e.g. from the store's cache). */
export type ConceptInput = { text: string; lang: string; embedding?: Float32Array } | { embedding: Float32Array; text?: string; lang?: string };

export interface GeneratedConcept {
  /** 0-based position among the concepts this call generated. */
  index: number;
  text: string;
  lang: string;
  embedding: Float32Array;
}

export interface Progress {
  operation: 'continue' | 'regenerate' | 'expand' | 'summarize';
  /** Concept being generated (0-based) and the most that will be generated. */
  concept: number;
  concepts: number;
  /** Denoising step within the concept. */
  step: number;
  steps: number;
}

export interface GenerationOptions {
  /** Integer in [0, 2^32 − 1]; omitted → drawn from the clock and reported in the result. */
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /** Language to write generated concepts in (default: the last input concept's, else the pack's first). */
  lang?: string;
  /** Diffusion overrides (steps, guidance…); the pack's defaults otherwise. Ignored by Base-LCM packs (nothing is sampled). */
  sampling?: Partial<DiffusionOptions>;
  /** Quant-LCM overrides (temperature, top-k per codebook); the pack's lcm.sampling otherwise. Ignored by the other packs. */
  quant?: Partial<QuantSamplingOptions>;
  /** Decoder settings for turning vectors into text (default: beam 5). */
  decode?: Omit<DecodeOptions, 'signal' | 'rng'>;
}

export interface StreamResult {
  seed: number;
  stop: StopReason;
}

export interface OpenEngineOptions {
  provider?: ProviderName;
  threads?: number;
  /** onnxruntime threads spin while waiting (default false: passive; see GraphOptions.spinWait). */
  spinWait?: boolean;
  verifyHashes?: boolean;
}

export interface RoundTrip {
  text: string;
  decoded: string;
  /** sentence chrF (sacrebleu definition), 0–100. */
  chrf: number;
}

export interface Translation {
  segments: { source: string; text: string; start: number; end: number }[];
  text: string;
}

/** Scripts written without spaces between sentences. */
const NO_SPACE_SCRIPTS = new Set(['Hans', 'Hant', 'Jpan', 'Thai', 'Khmr', 'Laoo', 'Mymr', 'Tibt']);

/** Joins sentences the way the target language writes them. */
export function joinSentences(texts: readonly string[], lang: string): string {
  const script = lang.split('_')[1] ?? '';
  return texts.join(NO_SPACE_SCRIPTS.has(script) ? '' : ' ');
}

export interface Regenerated {
  seed: number;
  candidates: GeneratedConcept[];
  /**
   * True for a deterministic LCM (Base-LCM): the same context always gives the
   * same concept, so exactly one candidate is returned whatever `count` asked
   * for, and the seed changes nothing.
   */
  deterministic: boolean;
}

export class ConceptEngine {
  readonly encoder: SonarEncoder;
  readonly decoder: SonarDecoder;
  /** The pack's LCM, whatever its architecture (docs/variants.md). */
  readonly lcm: ConceptLcm;
  private eotVector: Promise<Float32Array> | undefined;

  private constructor(readonly pack: ModelPack) {
    this.encoder = new SonarEncoder(pack);
    this.decoder = new SonarDecoder(pack);
    this.lcm = openLcm(pack);
  }

  static async open(packDir: string, options: OpenEngineOptions = {}): Promise<ConceptEngine> {
    return new ConceptEngine(await ModelPack.open(packDir, options));
  }

  /** Throws an InputError unless the pack supports `lang`, listing what it does support. */
  checkLanguage(lang: string): string {
    if (this.pack.languageCodes.includes(lang)) return lang;
    const known = getLanguage(lang);
    const supported = this.pack.languageCodes.join(', ');
    throw new InputError(
      known
        ? `Pack ${this.pack.name} does not support ${known.name} (${lang}); it supports: ${supported}.`
        : `Unknown language code "${lang}": use a FLORES-200 code such as eng_Latn; pack ${this.pack.name} supports: ${supported}.`,
      'UNSUPPORTED_LANGUAGE',
    );
  }

  segment(text: string, lang: string, maxChars?: number): Segment[] {
    return segmentText(text, { lang, ...(maxChars ? { maxChars } : {}) });
  }

  async encode(texts: readonly string[], lang: string | readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const langs = typeof lang === 'string' ? texts.map(() => lang) : lang;
    langs.forEach((l) => this.checkLanguage(l));
    texts.forEach((t, i) => {
      if (!t.trim()) throw new InputError(`Text ${i + 1} is empty: a concept needs at least one visible character.`);
    });
    return this.encoder.encode(texts, langs, signal ? { signal } : {});
  }

  async decode(vectors: readonly Float32Array[], lang: string, options: DecodeOptions = {}): Promise<DecodedText[]> {
    this.checkLanguage(lang);
    return this.decoder.decode(vectors, vectors.map(() => lang), options);
  }

  /** Segments `text` into sentences and decodes each one's vector in `targetLang`. */
  async translate(text: string, sourceLang: string, targetLang: string, options: { lines?: boolean; signal?: AbortSignal; decode?: DecodeOptions } = {}): Promise<Translation> {
    this.checkLanguage(sourceLang);
    this.checkLanguage(targetLang);
    const segments = options.lines ? lineSegments(text) : this.segment(text, sourceLang);
    if (segments.length === 0) return { segments: [], text: '' };
    const vectors = await this.encode(segments.map((s) => s.text), sourceLang, options.signal);
    const decoded = await this.decode(vectors, targetLang, { ...options.decode, ...(options.signal ? { signal: options.signal } : {}) });
    const out = segments.map((s, i) => ({ source: s.text, text: decoded[i]!.text, start: s.start, end: s.end }));
    return { segments: out, text: joinSentences(out.map((s) => s.text), targetLang) };
  }

  /** Encode → decode in the same language, scored with chrF: what the embedding holds of each sentence. */
  async roundTrip(texts: readonly string[], lang: string, options: { signal?: AbortSignal; decode?: DecodeOptions } = {}): Promise<RoundTrip[]> {
    const vectors = await this.encode(texts, lang, options.signal);
    const decoded = await this.decode(vectors, lang, { ...options.decode, ...(options.signal ? { signal: options.signal } : {}) });
    return texts.map((text, i) => ({ text, decoded: decoded[i]!.text, chrf: sentenceChrf(decoded[i]!.text, text) }));
  }

  /** Vectors for the inputs, encoding (batched per language) those that have no vector yet. */
  async vectorsOf(concepts: readonly ConceptInput[], signal?: AbortSignal): Promise<Float32Array[]> {
    const dim = this.pack.manifest.embeddingDim;
    const out: (Float32Array | undefined)[] = concepts.map((c) => c.embedding);
    const byLang = new Map<string, number[]>();
    concepts.forEach((c, i) => {
      if (c.embedding) {
        if (c.embedding.length !== dim) throw new InputError(`Concept ${i + 1} has a ${c.embedding.length}-d vector; pack ${this.pack.name} uses ${dim}-d.`);
        return;
      }
      const list = byLang.get(c.lang!) ?? [];
      list.push(i);
      byLang.set(c.lang!, list);
    });
    for (const [lang, idx] of byLang) {
      const vecs = await this.encode(idx.map((i) => concepts[i]!.text!), lang, signal);
      idx.forEach((i, k) => (out[i] = vecs[k]));
    }
    return out as Float32Array[];
  }

  /** Language generated text is written in: the option, else the last input concept's, else the pack's first. */
  private outputLang(concepts: readonly ConceptInput[], lang: string | undefined): string {
    return this.checkLanguage(lang ?? [...concepts].reverse().find((c) => c.lang)?.lang ?? this.pack.languageCodes[0]!);
  }

  private async context(vectors: readonly Float32Array[], signal?: AbortSignal): Promise<ConceptContext> {
    const ctx = await this.lcm.newContext();
    await ctx.append(vectors, signal);
    return ctx;
  }

  /** The end-of-text vector the stopping rule compares with (encoded once). */
  private endOfText(): Promise<Float32Array> {
    const eot = this.pack.manifest.lcm.stopping.endOfText;
    this.eotVector ??= this.encoder.encode([eot.text], [eot.lang]).then((v) => v[0]!);
    return this.eotVector;
  }

  private async markerVector(task: 'summarize' | 'expand'): Promise<Float32Array> {
    const spec = this.pack.manifest.lcm.instructions[task];
    if (!spec) throw new InputError(`Pack ${this.pack.name} was not fine-tuned for ${task} (its manifest has no lcm.instructions.${task}); use a pack that was, or Continue instead.`);
    return (await this.encoder.encode([spec.marker], [spec.lang]))[0]!;
  }

  /**
   * Generates from `contextVectors`, decoding each new concept as it comes.
   * Shared by continue, expand and summarize.
   */
  private async *stream(
    operation: Progress['operation'],
    contextVectors: readonly Float32Array[],
    lang: string,
    limits: { max: number; min: number },
    options: GenerationOptions,
  ): AsyncGenerator<GeneratedConcept, StreamResult> {
    const seed = options.seed === undefined ? freshSeed() : checkSeed(options.seed);
    const rng = createRng(seed);
    const stopping = this.pack.manifest.lcm.stopping;
    const ctx = await this.context(contextVectors, options.signal);
    const gen = generateVectors(ctx, {
      maxConcepts: limits.max,
      minConcepts: limits.min,
      endOfText: { vector: await this.endOfText(), threshold: stopping.endOfText.threshold },
      repetitionThreshold: stopping.repetitionThreshold,
      rng,
      ...this.sampling(options),
      ...(options.signal ? { signal: options.signal } : {}),
      onStep: (concept, step, steps) => options.onProgress?.({ operation, concept, concepts: limits.max, step, steps }),
    });
    let index = 0;
    for (;;) {
      const next = await gen.next();
      if (next.done) return { seed, stop: next.value };
      const [decoded] = await this.decode([next.value], lang, { ...options.decode, ...(options.signal ? { signal: options.signal } : {}) });
      yield { index: index++, text: decoded!.text, lang, embedding: next.value };
    }
  }

  /** `{ sampling }` for diffusion LCMs, `{ quant }` for Quant-LCMs; nothing for the Base-LCM (deterministic: no options apply). */
  private sampling(options: GenerationOptions): { sampling?: DiffusionOptions; quant?: QuantSamplingOptions } {
    const o = this.sampleOptions(options);
    return { ...(o.options ? { sampling: o.options } : {}), ...(o.quant ? { quant: o.quant } : {}) };
  }

  /**
   * The options a context's `sample` takes for this pack's LCM, from the pack's
   * defaults and `overrides`: diffusion options, Quant-LCM options, or none
   * (the Base-LCM samples nothing).
   */
  sampleOptions(overrides: Pick<GenerationOptions, 'sampling' | 'quant'> = {}): { options?: DiffusionOptions; quant?: QuantSamplingOptions } {
    if (this.lcm instanceof QuantLcm) return { quant: this.lcm.quantOptions(overrides.quant) };
    return this.lcm.deterministic ? {} : { options: this.lcm.samplingOptions(overrides.sampling) };
  }

  /**
   * The fragility of a sentence (metrics/fragility.ts, docs/variants.md), the
   * paper's form: encode, mix the normalized vector with Gaussian noise at each
   * level α (√(1 − α)·z + √α·ε, `samples` draws per level, seeded), denormalize,
   * decode, score each decode against the sentence (BLEU, chrF, cosine of its
   * re-encoding). Costs 1 + levels × samples decodes and one encode, batched.
   */
  async fragility(text: string, lang: string, options: Omit<FragilityOptions, 'seed'> & { seed?: number; decode?: Omit<DecodeOptions, 'signal' | 'rng'> } = {}): Promise<FragilityResult> {
    this.checkLanguage(lang);
    if (!text.trim()) throw new InputError('The sentence is empty: fragility needs a sentence with at least one visible character.');
    const seed = options.seed === undefined ? freshSeed() : checkSeed(options.seed);
    try {
      fragilityPlan({ ...options, seed });
    } catch (error) {
      throw new InputError((error as Error).message);
    }
    return computeFragility({
      encode: (texts, l, signal) => this.encode(texts, l, signal),
      decode: (vectors, l, o) => this.decode(vectors, l, { ...options.decode, ...(o?.signal ? { signal: o.signal } : {}) }),
      normalize: (x) => this.pack.normalizer.normalize(x, 1),
      denormalize: (y) => this.pack.normalizer.denormalize(y, 1),
    }, text, lang, { ...options, seed });
  }

  private limit(count: number | undefined, fallback: number, what: string): number {
    const max = this.pack.manifest.lcm.stopping.maxConcepts;
    const n = count ?? fallback;
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InputError(`${what} must be an integer from 1 to ${max} for pack ${this.pack.name}, got ${String(count)}.`);
    return n;
  }

  /** Continues a document: up to `count` new concepts after `concepts`, stopping early at end of text. */
  async *continue(concepts: readonly ConceptInput[], options: GenerationOptions & { count?: number } = {}): AsyncGenerator<GeneratedConcept, StreamResult> {
    const lang = this.outputLang(concepts, options.lang);
    const vectors = await this.vectorsOf(concepts, options.signal);
    return yield* this.stream('continue', vectors, lang, { max: this.limit(options.count, 1, 'count'), min: 1 }, options);
  }

  /**
   * Alternatives for the concept at `index`: `count` samples for that position
   * given the concepts before it, drawn in one diffusion batch. A
   * deterministic LCM (Base-LCM) has exactly one answer: it returns that one
   * candidate with `deterministic: true`, not `count` copies of it.
   */
  async regenerate(concepts: readonly ConceptInput[], index: number, options: GenerationOptions & { count?: number } = {}): Promise<Regenerated> {
    if (!Number.isInteger(index) || index < 0 || index > concepts.length) throw new InputError(`index must be from 0 to ${concepts.length}, got ${String(index)}.`);
    const requested = this.limit(options.count, 3, 'count');
    const count = this.lcm.deterministic ? 1 : requested;
    const seed = options.seed === undefined ? freshSeed() : checkSeed(options.seed);
    const before = concepts.slice(0, index);
    const lang = this.outputLang(index < concepts.length ? [concepts[index]!] : before, options.lang);
    const ctx = await this.context(await this.vectorsOf(before, options.signal), options.signal);
    const vectors = await ctx.sample({
      candidates: count,
      rng: createRng(seed),
      ...this.sampleOptions(options),
      ...(options.signal ? { signal: options.signal } : {}),
      onStep: (step, steps) => options.onProgress?.({ operation: 'regenerate', concept: 0, concepts: 1, step, steps }),
    });
    const decoded = await this.decode(vectors, lang, { ...options.decode, ...(options.signal ? { signal: options.signal } : {}) });
    return { seed, candidates: vectors.map((embedding, i) => ({ index: i, text: decoded[i]!.text, lang, embedding })), deterministic: this.lcm.deterministic };
  }

  /**
   * Develops the concept at `index` into `count` concepts (outline → draft),
   * in the pack's summary-expansion instruction format: [concept, marker] →
   * exactly `count` concepts. With `withContext`, the concepts before it are
   * given first.
   */
  async *expand(concepts: readonly ConceptInput[], index: number, options: GenerationOptions & { count?: number; withContext?: boolean } = {}): AsyncGenerator<GeneratedConcept, StreamResult> {
    if (!Number.isInteger(index) || index < 0 || index >= concepts.length) throw new InputError(`index must be from 0 to ${concepts.length - 1}, got ${String(index)}.`);
    const count = this.limit(options.count, 3, 'count');
    const source = options.withContext ? concepts.slice(0, index + 1) : [concepts[index]!];
    const lang = this.outputLang([concepts[index]!], options.lang);
    const vectors = [...(await this.vectorsOf(source, options.signal)), await this.markerVector('expand')];
    return yield* this.stream('expand', vectors, lang, { max: count, min: count }, options);
  }

  /** Condenses `concepts` into at most `maxConcepts` concepts (instruction format, stops at end of text). */
  async *summarize(concepts: readonly ConceptInput[], options: GenerationOptions & { maxConcepts?: number } = {}): AsyncGenerator<GeneratedConcept, StreamResult> {
    if (concepts.length === 0) throw new InputError('Nothing to summarize: the document has no concepts.');
    const max = this.limit(options.maxConcepts, Math.max(1, Math.min(5, Math.ceil(concepts.length / 4))), 'maxConcepts');
    const lang = this.outputLang(concepts, options.lang);
    const vectors = [...(await this.vectorsOf(concepts, options.signal)), await this.markerVector('summarize')];
    return yield* this.stream('summarize', vectors, lang, { max, min: 1 }, options);
  }

  /** Providers of the graphs opened so far. */
  providers(): Promise<GraphReport[]> {
    return this.pack.openedGraphs();
  }

  async close(): Promise<void> {
    await this.pack.close();
  }
}

/** One segment per non-empty input line (the CLI's --lines mode: no sentence splitting). */
export function lineSegments(text: string): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed) {
      const start = pos + line.indexOf(trimmed);
      out.push({ text: trimmed, start, end: start + trimmed.length });
    }
    pos += line.length + 1;
  }
  return out;
}
