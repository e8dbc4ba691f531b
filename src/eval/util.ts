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

/** The suites' seed streams: each kind of draw has its own, so no two draws of a run share a seed however many items a suite has. */
export const SeedStream = { next: 0, continue: 1, consensus: 2, summarize: 3, expand: 4 } as const;
export type SeedStream = (typeof SeedStream)[keyof typeof SeedStream];

const STREAM_SPAN = 2 ** 28;

/**
 * The seed of item `k` of a stream: base + stream · 2^28 + k, wrapped into the engine's seed range [0, 2^32 − 1].
 * The streams are 2^28 apart, so different streams never coincide (before, fixed offsets of 1,000 let a suite of
 * more than 1,000 positions reuse another stream's seeds).
 */
export function itemSeed(base: number, stream: SeedStream, k: number): number {
  if (!Number.isInteger(k) || k < 0 || k >= STREAM_SPAN) throw new RangeError(`item index ${k} is outside 0…2^28 − 1`);
  return (base + stream * STREAM_SPAN + k) % 2 ** 32;
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
