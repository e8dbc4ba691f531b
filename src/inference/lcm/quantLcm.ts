/**
 * The Quant-LCM on onnxruntime (docs/variants.md; reference
 * recipe/lcmref/quant_lcm.py, bit-compatible for a seed): a causal
 * contextualizer over the normalized context concepts (key/value cache, as
 * the Two-Tower's) and a head that, level by level, scores the units of
 * codebook l given the partial sum of the centroids chosen so far:
 *
 * - quant-discrete (Quant-LCM-d): the head's logits;
 * - quant-continuous (Quant-LCM-c): −‖r̂ − c_{l,k}‖² for the predicted residual r̂.
 *
 * Each level: scores / temperature, top-k, softmax, one uniform draw per
 * candidate (levels outer, candidates inner); temperature 0 is greedy and
 * draws nothing. The concept is the sum of its L centroids, denormalized.
 * Cost per concept: L head runs (batch = candidates) against the cross
 * keys/values of the P context rows, which are projected once per row as the
 * context grows (denoiser_context.onnx, the Two-Tower's CrossKvCache).
 */
import { f32, i64 } from '../backend/ort.ts';
import { InputError, throwIfCancelled } from '../errors.ts';
import type { ModelPack } from '../pack/loader.ts';
import type { QuantLcmSpec } from '../pack/types.ts';
import type { Rng } from '../rng.ts';
import { row, stack } from '../tensor.ts';
import { CrossAttendedContext } from './context.ts';
import type { ConceptLcm, SampleRequest } from './model.ts';
import { addInto, Codebooks } from './rvq.ts';
import type { DiffusionOptions } from './sampler.ts';
import type { Schedule } from './schedule.ts';

/** Per-level sampling of a Quant-LCM (the same at every codebook level). */
export interface QuantSamplingOptions {
  /** Softmax temperature of the unit scores; 0 = greedy (argmax, nothing drawn from the RNG). */
  temperature: number;
  /** Keep the k best units of each codebook before sampling; 0 = all. */
  topK: number;
}

/**
 * One unit from K scores (reference `sample_unit`): order by score, ties to
 * the lower index; temperature 0 → the first; otherwise keep the top k (0 or
 * ≥ K: all), weights exp((s − s_max)/T) in float64, one `rng.uniform()` u,
 * the first unit whose running sum exceeds u·Σ (the last if rounding leaves none).
 */
export function sampleUnit(scores: ArrayLike<number>, temperature: number, topK: number, rng: Rng): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  if (temperature === 0) return order[0]!;
  const keep = topK > 0 && topK < order.length ? order.slice(0, topK) : order;
  const top = scores[keep[0]!]!;
  const weights = keep.map((i) => Math.exp((scores[i]! - top) / temperature));
  let total = 0;
  for (const w of weights) total += w;
  const u = rng.uniform() * total;
  let acc = 0;
  for (let j = 0; j < keep.length; j++) {
    acc += weights[j]!;
    if (u < acc) return keep[j]!;
  }
  return keep[keep.length - 1]!;
}

export class QuantLcm implements ConceptLcm {
  readonly architecture: 'quant-discrete' | 'quant-continuous';
  /** Sampled unit by unit: seeds matter (a temperature-0 request is greedy, but the pack's default need not be). */
  readonly deterministic = false;
  readonly spec: QuantLcmSpec;
  private codebooksPending: Promise<Codebooks> | undefined;

  constructor(readonly pack: ModelPack) {
    const spec = pack.manifest.lcm;
    if (spec.architecture !== 'quant-discrete' && spec.architecture !== 'quant-continuous') {
      throw new TypeError(`QuantLcm needs a quant-discrete or quant-continuous pack; ${pack.name} is ${spec.architecture} (open it with openLcm).`);
    }
    this.spec = spec;
    this.architecture = spec.architecture;
  }

  /** The pack's RVQ codebooks, read on first use. */
  codebooks(): Promise<Codebooks> {
    if (!this.codebooksPending) {
      this.codebooksPending = Codebooks.load(this.pack, this.spec.codebooks);
      this.codebooksPending.catch(() => (this.codebooksPending = undefined));
    }
    return this.codebooksPending;
  }

  async newContext(): Promise<QuantLcmContext> {
    const ctx = new QuantLcmContext(this, await this.codebooks());
    await ctx.reset();
    return ctx;
  }

  /** The pack's sampling defaults (lcm.sampling), overridden by `overrides`; checked, with errors that name the option. */
  quantOptions(overrides: Partial<QuantSamplingOptions> = {}): QuantSamplingOptions {
    const o = { ...this.spec.sampling, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) } as QuantSamplingOptions;
    if (typeof o.temperature !== 'number' || !Number.isFinite(o.temperature) || o.temperature < 0 || o.temperature > 100) {
      throw new InputError(`temperature must be a number from 0 (greedy) to 100, got ${String(o.temperature)}.`);
    }
    if (!Number.isInteger(o.topK) || o.topK < 0 || o.topK > this.spec.codebooks.size) {
      throw new InputError(`top-k must be an integer from 0 (all units) to ${this.spec.codebooks.size} (the codebook size), got ${String(o.topK)}.`);
    }
    return { temperature: o.temperature, topK: o.topK };
  }

  get schedule(): Schedule {
    throw this.noDiffusion('noise schedule');
  }

  samplingOptions(): DiffusionOptions {
    throw this.noDiffusion('diffusion sampling options');
  }

  private noDiffusion(what: string): InputError {
    return new InputError(`Pack ${this.pack.name} is a Quant-LCM (${this.architecture}): it samples codebook units with temperature and top-k and has no ${what}. Diffusion steps and guidance apply only to diffusion packs.`);
  }
}

/** The contextualizer's cache and the head's cross keys/values of its output rows (CrossAttendedContext). */
export class QuantLcmContext extends CrossAttendedContext {
  /** Codes of the last `sample` call: [candidate][level]. */
  lastCodes: number[][] = [];

  constructor(private readonly lcm: QuantLcm, readonly codebooks: Codebooks) {
    super(lcm.pack, lcm.spec.contextualizer, lcm.spec.denoiser);
  }

  /**
   * `candidates` raw vectors for the next concept, sampled level by level
   * (request.quant, default the pack's lcm.sampling); `lastCodes` keeps their
   * units. Progress: one step per codebook level.
   */
  async sample(request: SampleRequest): Promise<Float32Array[]> {
    throwIfCancelled(request.signal);
    const C = request.candidates;
    if (!Number.isInteger(C) || C < 1) throw new RangeError(`candidates must be a positive integer, got ${String(C)}.`);
    const opts = this.lcm.quantOptions(request.quant);
    const E = this.lcm.pack.manifest.embeddingDim;
    const books = this.codebooks;
    const discrete = this.lcm.architecture === 'quant-discrete';
    const cross = this.crossCache.feeds();
    const partial = Array.from({ length: C }, () => new Float32Array(E));
    const codes = Array.from({ length: C }, () => [] as number[]);
    const head = await this.lcm.pack.graph('denoiser');
    for (let level = 0; level < books.levels; level++) {
      throwIfCancelled(request.signal);
      const out = await head.run({ partial: f32(stack(partial, E), [C, E]), level: i64(new Array(C).fill(level), [C]), ...cross });
      const data = (discrete ? out.logits! : out.residual!).data as Float32Array;
      for (let b = 0; b < C; b++) {
        const scores = discrete ? row(data, books.size, b) : negate(books.distances(row(data, E, b), level));
        const unit = sampleUnit(scores, opts.temperature, opts.topK, request.rng);
        codes[b]!.push(unit);
        addInto(partial[b]!, books.centroid(level, unit));
      }
      request.onStep?.(level + 1, books.levels);
    }
    this.lastCodes = codes;
    return partial.map((z) => this.lcm.pack.normalizer.denormalize(z, 1));
  }
}

function negate(d: Float64Array): Float64Array {
  for (let k = 0; k < d.length; k++) d[k] = -d[k]!;
  return d;
}
