/**
 * Residual vector quantization codebooks of a Quant-LCM pack
 * (docs/variants.md; reference recipe/lcmref/rvq.py, bit-compatible):
 * `codebooks.bin` is float32 little-endian [levels, size, dim], normalized
 * space. Encode picks, level by level, the centroid nearest the residual
 * (float64 squared distance summed over the dimensions in order; ties to the
 * lower index); decode sums the chosen centroids in float32, level by level.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PackError } from '../errors.ts';
import type { ModelPack } from '../pack/loader.ts';
import type { CodebooksSpec } from '../pack/types.ts';

export class Codebooks {
  constructor(
    /** [levels · size · dim], row-major. */
    readonly data: Float32Array,
    readonly levels: number,
    readonly size: number,
    readonly dim: number,
  ) {
    if (data.length !== levels * size * dim) throw new RangeError(`codebooks hold ${data.length} floats; levels × size × dim = ${levels * size * dim}.`);
  }

  /** Reads the pack's codebooks file (its size and hash were checked when the pack was opened). */
  static async load(pack: ModelPack, spec: CodebooksSpec): Promise<Codebooks> {
    const dim = pack.manifest.embeddingDim;
    const want = spec.levels * spec.size * dim * 4;
    let bytes: Buffer;
    try {
      bytes = await readFile(join(pack.dir, spec.file));
    } catch (error) {
      throw new PackError('PACK_INVALID', pack.name, spec.file, `cannot read the codebooks: ${(error as Error).message}`, { cause: error });
    }
    if (bytes.length !== want) {
      throw new PackError('PACK_INVALID', pack.name, spec.file, `the codebooks file has ${bytes.length} bytes; lcm.codebooks says ${spec.levels} levels × ${spec.size} units × ${dim} dims × 4 bytes = ${want}. Rebuild the pack or fix lcm.codebooks.`);
    }
    const data = new Float32Array(spec.levels * spec.size * dim);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(4 * i, true);
    return new Codebooks(data, spec.levels, spec.size, dim);
  }

  /** Centroid `unit` of codebook `level` (a view, do not modify). */
  centroid(level: number, unit: number): Float32Array {
    if (!Number.isInteger(level) || level < 0 || level >= this.levels) throw new RangeError(`level must be an integer from 0 to ${this.levels - 1}, got ${String(level)}.`);
    if (!Number.isInteger(unit) || unit < 0 || unit >= this.size) throw new RangeError(`unit must be an integer from 0 to ${this.size - 1}, got ${String(unit)}.`);
    const start = (level * this.size + unit) * this.dim;
    return this.data.subarray(start, start + this.dim);
  }

  /** Float64 squared distances from `v` to every centroid of `level`, summed over the dimensions in order. */
  distances(v: Float32Array | Float64Array, level: number): Float64Array {
    const out = new Float64Array(this.size);
    for (let k = 0; k < this.size; k++) {
      const c = this.centroid(level, k);
      let acc = 0;
      for (let e = 0; e < this.dim; e++) {
        const d = v[e]! - c[e]!;
        acc += d * d;
      }
      out[k] = acc;
    }
    return out;
  }

  /** Greedy RVQ codes of a normalized vector (`levels` first levels; default all). */
  encode(v: Float32Array, levels = this.levels): number[] {
    if (v.length !== this.dim) throw new RangeError(`vector has ${v.length} dimensions; the codebooks have ${this.dim}.`);
    const residual = Float32Array.from(v);
    const codes: number[] = [];
    for (let l = 0; l < levels; l++) {
      const d = this.distances(residual, l);
      let best = 0;
      for (let k = 1; k < this.size; k++) if (d[k]! < d[best]!) best = k;
      codes.push(best);
      const c = this.centroid(l, best);
      for (let e = 0; e < this.dim; e++) residual[e] = residual[e]! - c[e]!;
    }
    return codes;
  }

  /** Sum of the centroids of `codes` (the first codes.length levels), float32, added in level order. */
  decode(codes: readonly number[]): Float32Array {
    if (codes.length > this.levels) throw new RangeError(`${codes.length} codes; the pack has ${this.levels} codebooks.`);
    const out = new Float32Array(this.dim);
    codes.forEach((unit, l) => addInto(out, this.centroid(l, unit)));
    return out;
  }
}

/** out += c, element by element in float32 (as torch's float32 add). */
export function addInto(out: Float32Array, c: Float32Array): void {
  for (let e = 0; e < out.length; e++) out[e] = out[e]! + c[e]!;
}
