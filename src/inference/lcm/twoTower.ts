/**
 * The Two-Tower diffusion LCM on onnxruntime: a document context that grows
 * concept by concept (contextualizer with a key/value cache; the denoiser's
 * cross-attention keys/values cached per context row) and one-concept
 * diffusion sampling over it.
 */
import { f32, i64, type TensorValue } from '../backend/ort.ts';
import type { ModelPack } from '../pack/loader.ts';
import type { TwoTowerLcmSpec } from '../pack/types.ts';
import { CrossAttendedContext, sampleDiffusion } from './context.ts';
import type { ConceptLcm, SampleRequest } from './model.ts';
import { diffusionOptions, type DiffusionOptions } from './sampler.ts';
import { makeSchedule, type Schedule } from './schedule.ts';

export type { SampleRequest } from './model.ts';

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
export class LcmContext extends CrossAttendedContext {
  constructor(private readonly lcm: TwoTowerLcm) {
    super(lcm.pack, lcm.spec.contextualizer, lcm.spec.denoiser);
  }

  /**
   * Samples `candidates` next concepts after this context (one diffusion run,
   * all candidates and the unconditional branch in one batch). Returns raw
   * (denormalized) vectors; the context is not changed.
   */
  async sample(request: SampleRequest): Promise<Float32Array[]> {
    const E = this.lcm.pack.manifest.embeddingDim;
    const M = this.crossCache.length;
    const graph = await this.lcm.pack.graph('denoiser');
    const cross = this.crossCache.feeds();
    return sampleDiffusion(this.lcm, request, async (noisy, rows, n, timestep) => {
      // Conditional rows attend to every key; unconditional rows only to key 0 (the zero vector), as the
      // reference's empty-context branch of classifier-free guidance.
      const mask = new Float32Array(rows * M);
      for (let r = 0; r < rows; r++) {
        if (r < n) mask.fill(1, r * M, (r + 1) * M);
        else mask[r * M] = 1;
      }
      const feeds: Record<string, TensorValue> = { noisy: f32(noisy, [rows, E]), timesteps: i64(new Array<number>(rows).fill(timestep), [rows]), cross_mask: f32(mask, [rows, M]), ...cross };
      return (await graph.runFloat(feeds, 'x0')).data;
    });
  }
}
