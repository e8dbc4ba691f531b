/**
 * Small helpers on flat row-major Float32Arrays, the engine's only tensor
 * representation above the ONNX backend.
 */

/** Rows `parents[j]` of a [rows, ...rowShape] tensor, as a new [parents.length, ...rowShape] tensor. */
export function gatherRows(data: Float32Array, rowSize: number, parents: ArrayLike<number>): Float32Array {
  const out = new Float32Array(parents.length * rowSize);
  for (let j = 0; j < parents.length; j++) {
    const p = parents[j]!;
    out.set(data.subarray(p * rowSize, (p + 1) * rowSize), j * rowSize);
  }
  return out;
}

/** True when parents = [0, 1, …, rows-1]. */
export function isIdentity(parents: ArrayLike<number>, rows: number): boolean {
  if (parents.length !== rows) return false;
  for (let i = 0; i < rows; i++) if (parents[i] !== i) return false;
  return true;
}

/**
 * Concatenates two [B, H, La, Dh] and [B, H, Lb, Dh] tensors along the
 * sequence axis (axis 2).
 */
export function concatSeq(a: Float32Array, la: number, b: Float32Array, lb: number, batchHeads: number, headDim: number): Float32Array {
  const out = new Float32Array(batchHeads * (la + lb) * headDim);
  const sa = la * headDim;
  const sb = lb * headDim;
  for (let i = 0; i < batchHeads; i++) {
    out.set(a.subarray(i * sa, (i + 1) * sa), i * (sa + sb));
    out.set(b.subarray(i * sb, (i + 1) * sb), i * (sa + sb) + sa);
  }
  return out;
}

/** Row `i` of a [rows, dim] tensor (a view, not a copy). */
export const row = (data: Float32Array, dim: number, i: number): Float32Array => data.subarray(i * dim, (i + 1) * dim);

/** Stacks equal-length vectors into one [n, dim] tensor. */
export function stack(vectors: readonly Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => {
    if (v.length !== dim) throw new RangeError(`Vector ${i} has ${v.length} values; the pack's embedding dimension is ${dim}.`);
    out.set(v, i * dim);
  });
  return out;
}

/** Cosine similarity in float64; 0 when either vector is zero. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Mean of vectors (float64 accumulation). */
export function meanVector(vectors: readonly Float32Array[], dim: number): Float32Array {
  const acc = new Float64Array(dim);
  for (const v of vectors) for (let i = 0; i < dim; i++) acc[i]! += v[i]!;
  return Float32Array.from(acc, (x) => x / Math.max(1, vectors.length));
}
