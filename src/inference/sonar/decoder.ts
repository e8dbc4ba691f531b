/**
 * SONAR text decoder: sentence vectors → text in a chosen language, with
 * incremental decoding over a key/value cache (decoder.onnx takes the cache of
 * the previous step and returns it grown by one position). The search
 * algorithms (greedy, beam, sampling) live in search.ts and drive the
 * DecoderSession implemented here.
 */
import { f32, i64, type Graph, type TensorValue } from '../backend/ort.ts';
import { InputError } from '../errors.ts';
import type { ModelPack } from '../pack/loader.ts';
import type { Rng } from '../rng.ts';
import { gatherRows, isIdentity, stack } from '../tensor.ts';
import { beamSearch, greedySearch, sampleSearch, type DecoderSession, type Hypothesis, type SearchOptions, type SearchStart } from './search.ts';

export type DecodeStrategy = 'beam' | 'greedy' | 'sample';

export interface DecodeOptions {
  /** Default "beam", the reference setting (beam 5, length penalty 1). */
  strategy?: DecodeStrategy;
  beamSize?: number;
  lengthPenalty?: number;
  /** New tokens at most, </s> included (default: the pack's decoder.maxLength, also bounded by its positions). */
  maxLength?: number;
  minLength?: number;
  /** Sampling only. */
  temperature?: number;
  topK?: number;
  topP?: number;
  rng?: Rng;
  /**
   * Ids never generated. Default: pad, <s>, every language tag and the unused
   * rows that round the vocabulary up (none of them can appear inside text).
   */
  bannedTokens?: readonly number[];
  /** Sentences per graph batch (default 16). */
  batchSize?: number;
  signal?: AbortSignal;
}

export interface DecodedText {
  text: string;
  tokens: number[];
  /** Mean log-probability per generated token, a rough confidence. */
  meanLogProb: number;
  /** False when the decoder hit maxLength before producing </s>. */
  finished: boolean;
}

/** The ONNX decoder as a DecoderSession over `rows` hypotheses. */
class OnnxDecoderSession implements DecoderSession {
  readonly vocabSize: number;
  private cache: Float32Array[] = [];
  private cacheLength = 0;

  constructor(
    private readonly graph: Graph,
    private memory: Float32Array,
    private rows: number,
    private readonly layers: number,
    private readonly heads: number,
    private readonly headDim: number,
    private readonly dim: number,
    vocabSize: number,
  ) {
    this.vocabSize = vocabSize;
    this.cache = Array.from({ length: 2 * layers }, () => new Float32Array(0));
  }

  /**
   * Feeds `tokens` ([rows, T], same T for all rows) and returns the logits of the last position,
   * plus, when T > 1, the log-probability of each row's prompt tokens after the first (fairseq2
   * counts it in beam scores).
   */
  async feed(tokens: readonly number[], width: number): Promise<{ last: Float32Array; promptLogProbs: Float64Array }> {
    const feeds: Record<string, TensorValue> = {
      input_ids: i64(tokens, [this.rows, width]),
      sentence_embedding: f32(this.memory, [this.rows, this.dim]),
    };
    for (let i = 0; i < this.layers; i++) {
      feeds[`past_key.${i}`] = f32(this.cache[2 * i]!, [this.rows, this.heads, this.cacheLength, this.headDim]);
      feeds[`past_value.${i}`] = f32(this.cache[2 * i + 1]!, [this.rows, this.heads, this.cacheLength, this.headDim]);
    }
    const out = await this.graph.run(feeds);
    for (let i = 0; i < this.layers; i++) {
      this.cache[2 * i] = out[`present_key.${i}`]!.data as Float32Array;
      this.cache[2 * i + 1] = out[`present_value.${i}`]!.data as Float32Array;
    }
    this.cacheLength += width;
    const logits = out.logits!.data as Float32Array;
    const v = this.vocabSize;
    const promptLogProbs = new Float64Array(this.rows);
    if (width === 1) return { last: logits, promptLogProbs };
    const last = new Float32Array(this.rows * v);
    for (let r = 0; r < this.rows; r++) {
      last.set(logits.subarray((r * width + width - 1) * v, (r * width + width) * v), r * v);
      for (let t = 1; t < width; t++) promptLogProbs[r]! += logSoftmaxAt(logits.subarray((r * width + t - 1) * v, (r * width + t) * v), tokens[r * width + t]!);
    }
    return { last, promptLogProbs };
  }

  async step(parents: Int32Array, tokens: Int32Array): Promise<Float32Array> {
    if (!isIdentity(parents, this.rows)) {
      const rowSize = this.heads * this.cacheLength * this.headDim;
      this.cache = this.cache.map((c) => gatherRows(c, rowSize, parents));
      this.memory = gatherRows(this.memory, this.dim, parents);
      this.rows = parents.length;
    }
    return (await this.feed(Array.from(tokens), 1)).last;
  }
}

/** log softmax(logits)[token], in float64. */
function logSoftmaxAt(logits: Float32Array, token: number): number {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - max);
  return logits[token]! - max - Math.log(sum);
}

export class SonarDecoder {
  constructor(private readonly pack: ModelPack) {}

  /** Longest output the pack allows: its decoder.maxLength, and positions 2… must fit with the 2-token prompt. */
  get maxLength(): number {
    const d = this.pack.manifest.sonar.decoder;
    return Math.min(d.maxLength, d.maxPositions - 2 - 2);
  }

  /** Decodes each vector into text in `langs[i]`. */
  async decode(vectors: readonly Float32Array[], langs: readonly string[], options: DecodeOptions = {}): Promise<DecodedText[]> {
    if (langs.length !== vectors.length) throw new RangeError(`decode: ${vectors.length} vectors but ${langs.length} languages.`);
    const batchSize = options.batchSize ?? 16;
    const out: DecodedText[] = [];
    for (let s = 0; s < vectors.length; s += batchSize) {
      out.push(...(await this.decodeBatch(vectors.slice(s, s + batchSize), langs.slice(s, s + batchSize), options)));
    }
    return out;
  }

  private async decodeBatch(vectors: readonly Float32Array[], langs: readonly string[], options: DecodeOptions): Promise<DecodedText[]> {
    const m = this.pack.manifest;
    const tok = this.pack.tokenizer;
    const d = m.sonar.decoder;
    const maxLength = options.maxLength ?? this.maxLength;
    if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > this.maxLength) {
      throw new InputError(`maxLength must be an integer from 1 to ${this.maxLength} for pack ${m.name}, got ${String(options.maxLength)}.`);
    }
    const prompts = langs.map((l) => tok.decoderPrompt(l));
    const graph = await this.pack.graph('decoder');
    const session = new OnnxDecoderSession(graph, stack(vectors, m.embeddingDim), vectors.length, d.layers, d.heads, d.modelDim / d.heads, m.embeddingDim, m.tokenizer.vocabSize);
    const prompt = await session.feed(prompts.flat(), prompts[0]!.length);
    // Scores rank as fairseq2's (SONAR's) generator: the prompt's length and log-probability count.
    const start: SearchStart = { session, logits: prompt.last, sentences: vectors.length, promptLength: prompts[0]!.length, promptLogProbs: prompt.promptLogProbs };
    const search: SearchOptions = {
      eos: tok.eos,
      maxLength,
      minLength: options.minLength ?? 1,
      // unk stays allowed, as in the reference generator.
      bannedTokens: options.bannedTokens ?? tok.bannedInText(),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    let best: Hypothesis[];
    switch (options.strategy ?? 'beam') {
      case 'greedy':
        best = await greedySearch(start, search);
        break;
      case 'sample':
        if (!options.rng) throw new InputError('Sampling needs a seeded rng (pass a seed).');
        best = await sampleSearch(start, { ...search, rng: options.rng, temperature: options.temperature ?? 1, ...(options.topK ? { topK: options.topK } : {}), ...(options.topP ? { topP: options.topP } : {}) });
        break;
      case 'beam':
        best = (await beamSearch(start, { ...search, beamSize: options.beamSize ?? 5, lengthPenalty: options.lengthPenalty ?? 1 })).map((h) => h[0]!);
        break;
    }
    return best.map((h) => ({
      text: tok.decode(h.tokens),
      tokens: h.tokens,
      // logProb always includes the closing </s>, forced or not.
      meanLogProb: h.logProb / (h.tokens.length + 1),
      finished: h.finished,
    }));
  }
}
