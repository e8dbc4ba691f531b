/** Small helpers shared by the suite runners. */
import type { ConceptEngine, GeneratedConcept, StreamResult } from '../inference/engine.ts';

/** Mean of `xs`, or null when empty. */
export function meanOrNull(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Mean of a non-empty list (callers guarantee it). */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('mean of an empty list');
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** The seed of item `k` of a suite: base + offset + k, wrapped into the engine's seed range [0, 2^32 − 1]. */
export function itemSeed(base: number, offset: number, k: number): number {
  return (base + offset + k) % 2 ** 32;
}

/** Seconds since `start` (performance.now()), one decimal. */
export function secondsSince(start: number): number {
  return Math.round((performance.now() - start) / 100) / 10;
}

/** Drains a generation stream. */
export async function collect(stream: AsyncGenerator<GeneratedConcept, StreamResult>): Promise<{ concepts: GeneratedConcept[]; result: StreamResult }> {
  const concepts: GeneratedConcept[] = [];
  for (;;) {
    const next = await stream.next();
    if (next.done) return { concepts, result: next.value };
    concepts.push(next.value);
  }
}

/** encode → decode of `texts` from `source` into `target` (the engine's round trip and translation, batched). */
export async function encodeDecode(
  engine: ConceptEngine,
  texts: readonly string[],
  source: string,
  target: string,
  decode: Parameters<ConceptEngine['decode']>[2],
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const vectors = await engine.encode(texts, source, signal);
  const decoded = await engine.decode(vectors, target, { ...decode, ...(signal ? { signal } : {}) });
  return decoded.map((d) => d.text);
}

/** Counts of each value. */
export function tally(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
