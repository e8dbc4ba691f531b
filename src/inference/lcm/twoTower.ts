/**
 * The Two-Tower diffusion LCM on onnxruntime: a document context that grows
 * concept by concept (contextualizer with a key/value cache; the denoiser's
 * cross-attention keys/values cached per context row) and one-concept
 * diffusion sampling over it.
 */
import { f32, i64, type TensorValue } from '../backend/ort.ts';
import type { ModelPack } from '../pack/loader.ts';
import type { TwoTowerLcmSpec } from '../pack/types.ts';
import { concatSeq, row } from '../tensor.ts';
import { CachedContext } from './context.ts';
import { emptyCache, type KvCache } from './kvCache.ts';
import type { ConceptLcm, SampleRequest } from './model.ts';
import { diffusionOptions, sampleNext, type DiffusionOptions } from './sampler.ts';
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
    return diffusionOptions(this.spec.sampling, overrides);
  }
}

/**
 * The concepts of one document as the LCM sees them. `append` runs only the
 * new concepts through the contextualizer (its cache holds the rest); the
 * cross-attention keys/values of each context row are computed once, row 0
 * being the reference's prepended zero vector.
 */
export class LcmContext extends CachedContext {
  private crossCache: KvCache;

  constructor(private readonly lcm: TwoTowerLcm) {
    super(lcm.pack, lcm.spec.contextualizer);
    this.crossCache = emptyCache(lcm.spec.denoiser.layers);
  }

  /** The zero key's cross keys/values are recomputed (cheap: one row). */
  protected override async onReset(): Promise<void> {
    const d = this.lcm.spec.denoiser;
    this.crossCache = emptyCache(d.layers);
    await this.appendCross(new Float32Array(d.modelDim), 1);
  }

  protected onChunk(out: Record<string, TensorValue>, rows: number): Promise<void> {
    return this.appendCross(out.hidden!.data as Float32Array, rows);
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
