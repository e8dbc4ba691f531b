/**
 * The One-Tower diffusion LCM on onnxruntime (docs/variants.md): one causal
 * transformer reads clean concepts and noisy ones; a noisy row attends to the
 * clean rows before it and to itself, never to another noisy row, and a clean
 * row never attends to a noisy one. So the clean rows' keys/values at every
 * layer depend on the clean rows only, and caching them is exact:
 * `contextualizer.onnx` appends clean rows to that cache, and each denoising
 * step runs the whole tower (`denoiser.onnx`) for the noisy rows against it.
 * Unconditional rows (classifier-free guidance) mask every context row.
 */
import { f32, i64, type TensorValue } from '../backend/ort.ts';
import type { ModelPack } from '../pack/loader.ts';
import type { OneTowerLcmSpec } from '../pack/types.ts';
import { CachedContext, sampleDiffusion } from './context.ts';
import { cacheFeeds } from './kvCache.ts';
import type { ConceptLcm, SampleRequest } from './model.ts';
import { diffusionOptions, type DiffusionOptions } from './sampler.ts';
import { makeSchedule, type Schedule } from './schedule.ts';

export class OneTowerLcm implements ConceptLcm {
  readonly architecture = 'one-tower-diffusion';
  readonly deterministic = false;
  readonly schedule: Schedule;
  readonly spec: OneTowerLcmSpec;

  constructor(readonly pack: ModelPack) {
    const spec = pack.manifest.lcm;
    if (spec.architecture !== 'one-tower-diffusion') throw new TypeError(`OneTowerLcm needs a one-tower-diffusion pack; ${pack.name} is ${spec.architecture} (open it with openLcm).`);
    this.spec = spec;
    this.schedule = makeSchedule(spec.schedule);
  }

  async newContext(): Promise<OneTowerContext> {
    return new OneTowerContext(this);
  }

  samplingOptions(overrides: Partial<DiffusionOptions> = {}): DiffusionOptions {
    return diffusionOptions(this.spec.sampling, overrides);
  }
}

/** Clean concepts of one document: their per-layer keys/values, appended as they come. */
export class OneTowerContext extends CachedContext {
  constructor(private readonly lcm: OneTowerLcm) {
    super(lcm.pack, lcm.spec.contextualizer);
  }

  /** Clean rows give only their keys/values (the base class keeps them); their outputs are never read. */
  protected onChunk(): void {}

  /**
   * `candidates` next concepts (one diffusion run; candidates and the
   * unconditional rows in one batch), raw space; the context is not changed.
   */
  async sample(request: SampleRequest): Promise<Float32Array[]> {
    const d = this.lcm.spec.denoiser;
    const E = this.lcm.pack.manifest.embeddingDim;
    const P = this.cache.length;
    const graph = await this.lcm.pack.graph('denoiser');
    const context = cacheFeeds({}, this.cache, 'context', d.layers, d.heads, d.modelDim / d.heads);
    return sampleDiffusion(this.lcm, request, async (noisy, rows, n, timestep) => {
      // Conditional rows see every context row; unconditional rows none (they attend only to themselves).
      const mask = new Float32Array(rows * P);
      mask.fill(1, 0, n * P);
      const feeds: Record<string, TensorValue> = { noisy: f32(noisy, [rows, E]), timesteps: i64(new Array<number>(rows).fill(timestep), [rows]), context_mask: f32(mask, [rows, P]), ...context };
      return (await graph.runFloat(feeds, 'x0')).data;
    });
  }
}
