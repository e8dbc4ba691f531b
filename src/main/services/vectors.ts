/**
 * Vectors of texts through the store's embedding cache: what the cache has
 * for the pack is read, the rest is encoded on the engine host (batched per
 * language) and cached, so a text is encoded once per pack.
 */
import type { EngineHost } from '../engine/host.ts';
import type { PackSummary } from '../engine/protocol.ts';
import type { ConceptStore } from '../store/store.ts';

/** Texts per encode call: small enough that cancellation and job progress stay responsive. */
export const ENCODE_BATCH = 32;

export interface TextItem {
  language: string;
  text: string;
}

/**
 * The vector of every item (cached, or encoded and then cached). Items must
 * have visible text and a language the pack supports.
 */
export async function vectorsFor(
  store: ConceptStore,
  engine: EngineHost,
  pack: PackSummary,
  items: readonly TextItem[],
  options: { signal?: AbortSignal; onEncoded?: (done: number, total: number) => void } = {},
): Promise<Float32Array[]> {
  const out = store.getEmbeddings(pack.key, items);
  const keyOf = (i: TextItem) => `${i.language}\u0000${i.text}`;
  const todo = new Map<string, TextItem>();
  items.forEach((item, i) => {
    if (!out[i]) todo.set(keyOf(item), item);
  });
  if (todo.size > 0) {
    const computed = new Map<string, Float32Array>();
    const byLanguage = new Map<string, TextItem[]>();
    for (const item of todo.values()) byLanguage.set(item.language, [...(byLanguage.get(item.language) ?? []), item]);
    let done = 0;
    for (const [language, list] of byLanguage) {
      for (let start = 0; start < list.length; start += ENCODE_BATCH) {
        const batch = list.slice(start, start + ENCODE_BATCH);
        const vectors = await engine.call('encode', { texts: batch.map((b) => b.text), lang: language }, options.signal ? { signal: options.signal } : {});
        store.putEmbeddings(pack.key, pack.embeddingDim, batch.map((b, i) => ({ language, text: b.text, vector: vectors[i]! })));
        batch.forEach((b, i) => computed.set(keyOf(b), vectors[i]!));
        done += batch.length;
        options.onEncoded?.(done, todo.size);
      }
    }
    items.forEach((item, i) => {
      out[i] ??= computed.get(keyOf(item));
    });
  }
  return out as Float32Array[];
}
