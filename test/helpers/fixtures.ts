/** Shared test helpers: fixture paths, JSON loading, numeric comparison with a stated tolerance. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { f32, i64 } from '../../src/inference/backend/ort.ts';
import type { ModelPack } from '../../src/inference/pack/loader.ts';

export const TINY_PACK = fileURLToPath(new URL('../fixtures/packs/tiny', import.meta.url));

export function fixture<T>(relative: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${relative}`, import.meta.url), 'utf8')) as T;
}

export const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);

/** Largest absolute difference; fails with the index of the worst element if it exceeds `tol`. */
export function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol: number, what = 'values'): number {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  expect(worst, `${what}: max |diff| at index ${at} (${actual[at]} vs ${expected[at]})`).toBeLessThanOrEqual(tol);
  return worst;
}

/**
 * Feeds `ids` to a pack's decoder.onnx one token at a time through its key/value
 * cache, as the engine decodes, and returns the logits after each token.
 */
export async function decodeStepwise(pack: ModelPack, ids: readonly number[], embedding: readonly number[]): Promise<Float32Array[]> {
  const graph = await pack.graph('decoder');
  const d = pack.manifest.sonar.decoder;
  const dh = d.modelDim / d.heads;
  let past: Float32Array[] = Array.from({ length: 2 * d.layers }, () => new Float32Array(0));
  const out: Float32Array[] = [];
  for (let t = 0; t < ids.length; t++) {
    const feeds: Record<string, ReturnType<typeof f32>> = { input_ids: i64([ids[t]!], [1, 1]), sentence_embedding: f32(Float32Array.from(embedding), [1, pack.manifest.embeddingDim]) };
    for (let l = 0; l < d.layers; l++) {
      feeds[`past_key.${l}`] = f32(past[2 * l]!, [1, d.heads, t, dh]);
      feeds[`past_value.${l}`] = f32(past[2 * l + 1]!, [1, d.heads, t, dh]);
    }
    const result = await graph.run(feeds);
    past = Array.from({ length: 2 * d.layers }, (_, k) => result[`${k % 2 ? 'present_value' : 'present_key'}.${k >> 1}`]!.data as Float32Array);
    out.push(result.logits!.data as Float32Array);
  }
  return out;
}
