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
import { throwIfCancelled } from '../errors.ts';
import type { ModelPack } from '../pack/loader.ts';
import type { OneTowerLcmSpec } from '../pack/types.ts';
import { row, stack } from '../tensor.ts';
import { cacheFeeds, emptyCache, presentCache, type KvCache } from './kvCache.ts';
import type { ConceptContext, ConceptLcm, SampleRequest } from './model.ts';
import { sampleNext, type DiffusionOptions } from './sampler.ts';
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

/** Clean concepts of one document: their per-layer keys/values, appended as they come. */
export class OneTowerContext implements ConceptContext {
  private cache: KvCache;
  private vectors: Float32Array[] = [];

  constructor(private readonly lcm: OneTowerLcm) {
    this.cache = emptyCache(lcm.spec.contextualizer.layers);
  }

  get length(): number {
    return this.vectors.length;
  }

  get concepts(): Float32Array[] {
    return [...this.vectors];
  }

  async reset(): Promise<void> {
    this.vectors = [];
    this.cache = emptyCache(this.lcm.spec.contextualizer.layers);
  }

  async append(raw: readonly Float32Array[], signal?: AbortSignal): Promise<void> {
    if (raw.length === 0) return;
    const max = this.lcm.spec.contextualizer.maxContext;
    if (this.vectors.length + raw.length > max) {
      // Past the context window: keep the most recent `max` concepts and rebuild (rotary positions count from the window start).
      const keep = [...this.vectors, ...raw].slice(-max);
      await this.reset();
      return this.appendChunk(keep, signal);
    }
    return this.appendChunk(raw, signal);
  }

  private async appendChunk(raw: readonly Float32Array[], signal?: AbortSignal): Promise<void> {
    const c = this.lcm.spec.contextualizer;
    const E = this.lcm.pack.manifest.embeddingDim;
    const chunk = 256; // long prompts in chunks, so one run's attention matrix stays small
    for (let s = 0; s < raw.length; s += chunk) {
      throwIfCancelled(signal);
      const part = raw.slice(s, s + chunk);
      const normalized = this.lcm.pack.normalizer.normalize(stack(part, E), part.length);
      const feeds = cacheFeeds({ embeddings: f32(normalized, [1, part.length, E]) }, this.cache, 'past', c.layers, c.heads, c.modelDim / c.heads);
      const out = await (await this.lcm.pack.graph('contextualizer')).run(feeds);
      this.cache = presentCache(out, c.layers, this.cache, part.length);
      this.vectors.push(...part.map((v) => Float32Array.from(v)));
    }
  }

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
        // Conditional rows see every context row; unconditional rows none (they attend only to themselves).
        const mask = new Float32Array(rows * P);
        mask.fill(1, 0, n * P);
        const feeds: Record<string, TensorValue> = { noisy: f32(noisy, [rows, E]), timesteps: i64(new Array<number>(rows).fill(timestep), [rows]), context_mask: f32(mask, [rows, P]), ...context };
        const out = await graph.runFloat(feeds, 'x0');
        return withUnconditional ? { conditional: out.data.slice(0, n * E), unconditional: out.data.slice(n * E) } : { conditional: out.data };
      },
    });
    const raw = this.lcm.pack.normalizer.denormalize(x0, request.candidates);
    return Array.from({ length: request.candidates }, (_, i) => row(raw, E, i).slice());
  }
}
