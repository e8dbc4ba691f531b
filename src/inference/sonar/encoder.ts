/**
 * SONAR text encoder: sentences → sentence vectors. Batched and
 * length-bucketed: sentences are sorted by token count and cut into batches
 * bounded by a sentence count and a padded-token budget, so one long sentence
 * does not pad a whole batch; results come back in input order.
 */
import { i64 } from '../backend/ort.ts';
import { throwIfCancelled } from '../errors.ts';
import type { ModelPack } from '../pack/loader.ts';

export interface EncodeOptions {
  /** Most sentences in one graph run (default 64). */
  batchSize?: number;
  /** Most padded tokens (batch × longest) in one run (default 8192). */
  tokenBudget?: number;
  signal?: AbortSignal;
}

export class SonarEncoder {
  constructor(private readonly pack: ModelPack) {}

  /** Longest encoder input in tokens, tag and </s> included: positions start at 2 in a table of maxPositions. */
  get maxTokens(): number {
    return this.pack.manifest.sonar.encoder.maxPositions - 2;
  }

  /** Token ids for each sentence: `[lang] pieces… </s>`, cut to maxTokens. */
  tokenize(texts: readonly string[], langs: readonly string[]): number[][] {
    return texts.map((t, i) => this.pack.tokenizer.encode(t, langs[i]!, { maxTokens: this.maxTokens }));
  }

  /** Encodes `texts` (one language per text) into vectors of the pack's embedding dimension. */
  async encode(texts: readonly string[], langs: readonly string[], options: EncodeOptions = {}): Promise<Float32Array[]> {
    if (langs.length !== texts.length) throw new RangeError(`encode: ${texts.length} texts but ${langs.length} languages.`);
    const ids = this.tokenize(texts, langs);
    const order = ids.map((_, i) => i).sort((a, b) => ids[a]!.length - ids[b]!.length || a - b);
    const batchSize = options.batchSize ?? 64;
    const budget = options.tokenBudget ?? 8192;
    const dim = this.pack.manifest.embeddingDim;
    const out: Float32Array[] = new Array(texts.length);
    const graph = await this.pack.graph('encoder');
    let start = 0;
    while (start < order.length) {
      let end = start + 1;
      // Sorted ascending, so the last sentence taken is the longest in the batch.
      while (end < order.length && end - start < batchSize && (end - start + 1) * ids[order[end]!]!.length <= budget) end++;
      throwIfCancelled(options.signal);
      const batch = order.slice(start, end);
      const width = ids[batch[batch.length - 1]!]!.length;
      const flat = new Array<number>(batch.length * width).fill(this.pack.tokenizer.pad);
      const mask = new Array<number>(batch.length * width).fill(0);
      batch.forEach((src, r) => {
        ids[src]!.forEach((id, c) => {
          flat[r * width + c] = id;
          mask[r * width + c] = 1;
        });
      });
      const result = await graph.runFloat({ input_ids: i64(flat, [batch.length, width]), attention_mask: i64(mask, [batch.length, width]) }, 'sentence_embedding');
      batch.forEach((src, r) => {
        out[src] = result.data.slice(r * dim, (r + 1) * dim);
      });
      start = end;
    }
    return out;
  }
}
