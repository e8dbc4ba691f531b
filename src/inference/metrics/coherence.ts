/**
 * Local coherence of a concept sequence (LCM paper, arXiv 2412.08821, the metric listed in
 * /work/shared/design/LCM-SPEC.md "Metrics used"): the mean cosine similarity of concept vectors n and n + 2,
 * computed on the raw (denormalized) SONAR-space vectors as recipe/train/evaluate.py does. High values mean the text
 * stays on topic; values near 1 also flag a text that repeats itself.
 */

/** Cosine similarity as recipe/train/lcm.py `cos`: a·b / (|a||b| + 1e-12), so a zero vector gives 0, not NaN. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`cosine: vectors of different sizes (${a.length} and ${b.length}).`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / (Math.sqrt(na) * Math.sqrt(nb) + 1e-12);
}

/** cos(v[n], v[n + gap]) for every n (gap 2 by default); empty when the sequence is too short. */
export function coherenceCosines(vectors: readonly ArrayLike<number>[], gap = 2): number[] {
  if (!Number.isInteger(gap) || gap < 1) throw new RangeError(`coherence gap must be an integer ≥ 1, got ${String(gap)}.`);
  const out: number[] = [];
  for (let n = 0; n + gap < vectors.length; n++) out.push(cosine(vectors[n]!, vectors[n + gap]!));
  return out;
}

/** Mean of {@link coherenceCosines}; RangeError for fewer than gap + 1 vectors (no pair to compare). */
export function localCoherence(vectors: readonly ArrayLike<number>[], gap = 2): number {
  const c = coherenceCosines(vectors, gap);
  if (c.length === 0) throw new RangeError(`Local coherence needs at least ${gap + 1} concepts, got ${vectors.length}.`);
  return c.reduce((s, x) => s + x, 0) / c.length;
}
