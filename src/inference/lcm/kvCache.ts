/**
 * Key/value caches of a causal tower as flat Float32Arrays (one per layer and
 * kind, [1, H, length, Dh]), and the feeds/outputs of graphs that take
 * `past_key.i`/`past_value.i` and return `present_key.i`/`present_value.i`.
 */
import { f32, type TensorValue } from '../backend/ort.ts';

export interface KvCache {
  /** key.0, value.0, key.1, value.1, … */
  tensors: Float32Array[];
  length: number;
}

export const emptyCache = (layers: number): KvCache => ({ tensors: Array.from({ length: 2 * layers }, () => new Float32Array(0)), length: 0 });

/** Adds `${prefix}_key.i` / `${prefix}_value.i` feeds of shape [1, heads, length, headDim]. */
export function cacheFeeds(feeds: Record<string, TensorValue>, cache: KvCache, prefix: string, layers: number, heads: number, headDim: number): Record<string, TensorValue> {
  for (let i = 0; i < layers; i++) {
    feeds[`${prefix}_key.${i}`] = f32(cache.tensors[2 * i]!, [1, heads, cache.length, headDim]);
    feeds[`${prefix}_value.${i}`] = f32(cache.tensors[2 * i + 1]!, [1, heads, cache.length, headDim]);
  }
  return feeds;
}

/** The `present_*` outputs of a run that appended `added` rows to `before`. */
export function presentCache(out: Record<string, { data: unknown }>, layers: number, before: KvCache, added: number): KvCache {
  return {
    tensors: Array.from({ length: 2 * layers }, (_, k) => out[`${k % 2 ? 'present_value' : 'present_key'}.${k >> 1}`]!.data as Float32Array),
    length: before.length + added,
  };
}
