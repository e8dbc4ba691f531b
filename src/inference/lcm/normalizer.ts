/**
 * The embedding normalizer of the LCM (the pack's normalizer.json): the model
 * works on (x − center)/scale per dimension, fitted with a robust scaler
 * (median; scale ≈ σ). Arithmetic is float32 as the reference's
 * SonarNormalizer (Meta's lcm/models/sonar_normalizer/builder.py):
 * normalize = (x − center)/scale, denormalize = y·scale + center, one rounding
 * per operation; checked against test/fixtures/diffusion/normalizer.json.
 */

const f = Math.fround;

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return value === null ? 'null' : typeof value;
}

function readVector(obj: Record<string, unknown>, key: 'center' | 'scale', dim: number): Float32Array {
  const raw = obj[key];
  if (!Array.isArray(raw)) {
    throw new TypeError(`normalizer.json: \`${key}\` must be an array of ${dim} numbers, got ${describe(raw)}.`);
  }
  if (raw.length !== dim) {
    throw new RangeError(`normalizer.json: \`${key}\` has ${raw.length} values; the pack's embedding dimension is ${dim}.`);
  }
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const v: unknown = raw[i];
    if (typeof v !== 'number') throw new TypeError(`normalizer.json: \`${key}[${i}]\` must be a number, got ${describe(v)}.`);
    out[i] = v;
    // Checked after rounding to float32, the precision the reference stores these buffers in.
    if (!Number.isFinite(out[i]!)) throw new RangeError(`normalizer.json: \`${key}[${i}]\` = ${v} is not a finite float32.`);
    if (key === 'scale' && !(out[i]! > 0)) {
      throw new RangeError(`normalizer.json: \`scale[${i}]\` = ${v} must be > 0 as a float32 (a zero scale would divide by zero); refit the normalizer.`);
    }
  }
  return out;
}

/** Per-dimension affine map between raw embedding space and the LCM's normalized space. */
export class Normalizer {
  readonly dim: number;
  readonly center: Float32Array;
  readonly scale: Float32Array;

  /** Use {@link Normalizer.fromJson} for untrusted input; this only checks the lengths. */
  constructor(center: Float32Array, scale: Float32Array) {
    if (center.length === 0 || center.length !== scale.length) {
      throw new RangeError(`Normalizer center and scale must have the same non-zero length, got ${center.length} and ${scale.length}.`);
    }
    this.dim = center.length;
    this.center = center;
    this.scale = scale;
  }

  /**
   * Parses the content of normalizer.json (`{"center": [dim numbers], "scale": [dim numbers]}`),
   * checking that both arrays have `dim` finite values and every scale is > 0.
   */
  static fromJson(obj: unknown, dim: number): Normalizer {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`Normalizer dimension must be a positive integer, got ${String(dim)}.`);
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new TypeError(`normalizer.json must be an object {"center": [...], "scale": [...]}, got ${describe(obj)}.`);
    }
    const record = obj as Record<string, unknown>;
    return new Normalizer(readVector(record, 'center', dim), readVector(record, 'scale', dim));
  }

  private rowsOf(x: Float32Array, rows: number | undefined, what: string): number {
    const n = rows ?? x.length / this.dim;
    if (!Number.isInteger(n) || n < 0 || x.length !== n * this.dim) {
      throw new RangeError(`${what}: got ${x.length} values${rows === undefined ? '' : ` for ${rows} rows`}; expected rows × ${this.dim}.`);
    }
    return n;
  }

  /** (x − center)/scale for each row of [rows × dim] raw vectors; returns a new array. */
  normalize(x: Float32Array, rows?: number): Float32Array {
    const n = this.rowsOf(x, rows, 'normalize');
    const out = new Float32Array(x.length);
    for (let r = 0; r < n; r++) {
      const o = r * this.dim;
      for (let j = 0; j < this.dim; j++) out[o + j] = f(x[o + j]! - this.center[j]!) / this.scale[j]!;
    }
    return out;
  }

  /** y·scale + center for each row of [rows × dim] normalized vectors; returns a new array. */
  denormalize(y: Float32Array, rows?: number): Float32Array {
    const n = this.rowsOf(y, rows, 'denormalize');
    const out = new Float32Array(y.length);
    for (let r = 0; r < n; r++) {
      const o = r * this.dim;
      for (let j = 0; j < this.dim; j++) out[o + j] = f(y[o + j]! * this.scale[j]!) + this.center[j]!;
    }
    return out;
  }
}
