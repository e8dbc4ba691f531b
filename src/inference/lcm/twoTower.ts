/**
 * The Two-Tower diffusion LCM on onnxruntime: a document context that grows
 * concept by concept (contextualizer with a key/value cache; the denoiser's
 * cross-attention keys/values cached per context row) and one-concept
 * diffusion sampling over it.
 */
import { f32, i64, type TensorValue } from '../backend/ort.ts';
import { throwIfCancelled } from '../errors.ts';
import type { ModelPack } from '../pack/loader.ts';
import type { TwoTowerLcmSpec } from '../pack/types.ts';
import { concatSeq, row, stack } from '../tensor.ts';
import { emptyCache, type KvCache } from './kvCache.ts';
import type { ConceptContext, ConceptLcm, SampleRequest } from './model.ts';
import { sampleNext, type DiffusionOptions } from './sampler.ts';
import { makeSchedule } from './schedule.ts';

export type { SampleRequest } from './model.ts';

type Schedule = ReturnType<typeof makeSchedule>;

export class TwoTowerLcm implements ConceptLcm {
  readonly architecture = 'two-tower-diffusion';
  readonly deterministic = false;
  readonly schedule: Schedule;
  /** The pack's LCM section (checked to be Two-Tower). */
  readonly spec: TwoTowerLcmSpec;

  constructor(readonly pack: ModelPack) {
    const spec = pack.manifest.lcm;
    if (spec.architecture !== 'two-tower-diffusion') throw new TypeError(`TwoTowerLcm needs a two-tower-diffusion pack; ${pack.name} is ${spec.architecture} (open it with openLcm).`);
    this.spec = spec;
    this.schedule = makeSchedule(spec.schedule);
  }

  /** A fresh, empty document context. */
  async newContext(): Promise<LcmContext> {
    const ctx = new LcmContext(this);
    await ctx.reset();
    return ctx;
  }

  /** Diffusion options from the pack's defaults, overridden by `overrides`. */
  samplingOptions(overrides: Partial<DiffusionOptions> = {}): DiffusionOptions {
    const s = this.spec.sampling;
    return {
      inferenceSteps: s.inferenceSteps,
      spacing: s.spacing,
      guidanceScale: s.guidanceScale,
      guidanceRescale: s.guidanceRescale,
      initialNoiseScale: s.initialNoiseScale,
      epsilonScaling: s.epsilonScaling,
      clipNoise: s.clipNoise,
      ...overrides,
    };
  }
}

/**
 * The concepts of one document as the LCM sees them. `append` runs only the
 * new concepts through the contextualizer (its cache holds the rest); the
 * cross-attention keys/values of each context row are computed once, row 0
 * being the reference's prepended zero vector.
 */
export class LcmContext implements ConceptContext {
  private ctxCache: KvCache;
  private crossCache: KvCache;
  /** Raw (denormalized) vectors in the context, oldest first. */
  private vectors: Float32Array[] = [];

  constructor(private readonly lcm: TwoTowerLcm) {
    this.ctxCache = emptyCache(lcm.spec.contextualizer.layers);
    this.crossCache = emptyCache(lcm.spec.denoiser.layers);
  }

  get length(): number {
    return this.vectors.length;
  }

  /** The raw vectors in this context (a copy of the list). */
  get concepts(): Float32Array[] {
    return [...this.vectors];
  }

  /** Empties the context; the zero key's cross keys/values are recomputed (cheap: one row). */
  async reset(): Promise<void> {
    const m = this.lcm.spec;
    this.vectors = [];
    this.ctxCache = emptyCache(m.contextualizer.layers);
    this.crossCache = emptyCache(m.denoiser.layers);
    await this.appendCross(new Float32Array(m.denoiser.modelDim), 1);
  }

  /** Appends raw concept vectors (as the SONAR encoder gives them). */
  async append(raw: readonly Float32Array[], signal?: AbortSignal): Promise<void> {
    if (raw.length === 0) return;
    const m = this.lcm.pack.manifest;
    const max = m.lcm.contextualizer.maxContext;
    if (this.vectors.length + raw.length > max) {
      // Past the model's context window: keep the most recent `max` concepts and
      // rebuild, since rotary positions are absolute from the window start.
      const keep = [...this.vectors, ...raw].slice(-max);
      await this.reset();
      return this.appendChunk(keep, signal);
    }
    return this.appendChunk(raw, signal);
  }

  private async appendChunk(raw: readonly Float32Array[], signal?: AbortSignal): Promise<void> {
    const m = this.lcm.pack.manifest;
    const c = m.lcm.contextualizer;
    const E = m.embeddingDim;
    const H = c.heads;
    const dh = c.modelDim / c.heads;
    // Long prompts go through in chunks so one run's attention matrix stays small.
    const chunk = 256;
    for (let s = 0; s < raw.length; s += chunk) {
      throwIfCancelled(signal);
      const part = raw.slice(s, s + chunk);
      const normalized = this.lcm.pack.normalizer.normalize(stack(part, E), part.length);
      const feeds: Record<string, TensorValue> = { embeddings: f32(normalized, [1, part.length, E]) };
      for (let i = 0; i < c.layers; i++) {
        feeds[`past_key.${i}`] = f32(this.ctxCache.tensors[2 * i]!, [1, H, this.ctxCache.length, dh]);
        feeds[`past_value.${i}`] = f32(this.ctxCache.tensors[2 * i + 1]!, [1, H, this.ctxCache.length, dh]);
      }
      const out = await (await this.lcm.pack.graph('contextualizer')).run(feeds);
      this.ctxCache = {
        tensors: Array.from({ length: 2 * c.layers }, (_, k) => out[`${k % 2 ? 'present_value' : 'present_key'}.${k >> 1}`]!.data as Float32Array),
        length: this.ctxCache.length + part.length,
      };
      await this.appendCross(out.hidden!.data as Float32Array, part.length);
      this.vectors.push(...part.map((v) => Float32Array.from(v)));
    }
  }

  /** Projects `rows` contextualizer outputs to the denoiser's cross keys/values and appends them. */
  private async appendCross(hidden: Float32Array, rows: number): Promise<void> {
    const d = this.lcm.spec.denoiser;
    const dh = d.modelDim / d.heads;
    const out = await (await this.lcm.pack.graph('denoiserContext')).run({ context: f32(hidden, [1, rows, d.modelDim]) });
    const tensors: Float32Array[] = [];
    for (let i = 0; i < d.layers; i++) {
      for (const kind of ['key', 'value'] as const) {
        const prev = this.crossCache.tensors[tensors.length]!;
        tensors.push(concatSeq(prev, this.crossCache.length, out[`cross_${kind}.${i}`]!.data as Float32Array, rows, d.heads, dh));
      }
    }
    this.crossCache = { tensors, length: this.crossCache.length + rows };
  }

  /**
   * Samples `candidates` next concepts after this context (one diffusion run,
   * all candidates and the unconditional branch in one batch). Returns raw
   * (denormalized) vectors; the context is not changed.
   */
  async sample(request: SampleRequest): Promise<Float32Array[]> {
    const m = this.lcm.pack.manifest;
    const d = this.lcm.spec.denoiser;
    const E = m.embeddingDim;
    const dh = d.modelDim / d.heads;
    const M = this.crossCache.length;
    const graph = await this.lcm.pack.graph('denoiser');
    const cross: Record<string, TensorValue> = {};
    for (let i = 0; i < d.layers; i++) {
      cross[`cross_key.${i}`] = f32(this.crossCache.tensors[2 * i]!, [1, d.heads, M, dh]);
      cross[`cross_value.${i}`] = f32(this.crossCache.tensors[2 * i + 1]!, [1, d.heads, M, dh]);
    }
    const x0 = await sampleNext({
      schedule: this.lcm.schedule,
      options: request.options ?? this.lcm.samplingOptions(),
      dim: E,
      candidates: request.candidates,
      rng: request.rng,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.onStep ? { onStep: request.onStep } : {}),
      denoise: async (latents, timestep, withUnconditional) => {
        const n = latents.length / E;
        const rows = withUnconditional ? 2 * n : n;
        const noisy = new Float32Array(rows * E);
        noisy.set(latents);
        if (withUnconditional) noisy.set(latents, n * E);
        // Conditional rows attend to every key; unconditional rows only to key 0 (the zero vector), as the
        // reference's empty-context branch of classifier-free guidance.
        const mask = new Float32Array(rows * M);
        for (let r = 0; r < rows; r++) {
          if (r < n) mask.fill(1, r * M, (r + 1) * M);
          else mask[r * M] = 1;
        }
        const out = await graph.runFloat({ noisy: f32(noisy, [rows, E]), timesteps: i64(new Array<number>(rows).fill(timestep), [rows]), cross_mask: f32(mask, [rows, M]), ...cross }, 'x0');
        return withUnconditional ? { conditional: out.data.slice(0, n * E), unconditional: out.data.slice(n * E) } : { conditional: out.data };
      },
    });
    const raw = this.lcm.pack.normalizer.denormalize(x0, request.candidates);
    return Array.from({ length: request.candidates }, (_, i) => row(raw, E, i).slice());
  }
}
