/**
 * What every LCM architecture's document context shares (docs/variants.md):
 * the raw concepts it holds, the causal contextualizer run over new concepts
 * only (its key/value cache keeps the rest), long prompts in chunks, and the
 * context window: past `maxContext` concepts the most recent ones are kept and
 * the cache is rebuilt, since rotary positions count from the window start.
 * Each architecture adds what it keeps per chunk (`onChunk`) and how it
 * proposes the next concept (`sample`).
 */
import { f32, type TensorValue } from '../backend/ort.ts';
import { throwIfCancelled } from '../errors.ts';
import type { ModelPack } from '../pack/loader.ts';
import type { ContextualizerSpec } from '../pack/types.ts';
import { concatSeq, row, stack } from '../tensor.ts';
import { cacheFeeds, emptyCache, presentCache, type KvCache } from './kvCache.ts';
import type { ConceptContext, SampleRequest } from './model.ts';
import { sampleNext, type DiffusionOptions } from './sampler.ts';
import type { Schedule } from './schedule.ts';

/** Concepts per contextualizer run, so one run's attention matrix stays small. */
const CHUNK = 256;

export abstract class CachedContext implements ConceptContext {
  /** The contextualizer's keys/values of every concept in the context. */
  protected cache: KvCache;
  /** Raw (denormalized) vectors in the context, oldest first. */
  private vectors: Float32Array[] = [];

  constructor(
    protected readonly pack: ModelPack,
    protected readonly tower: ContextualizerSpec,
  ) {
    this.cache = emptyCache(tower.layers);
  }

  get length(): number {
    return this.vectors.length;
  }

  /** The raw vectors in this context (a copy of the list). */
  get concepts(): Float32Array[] {
    return [...this.vectors];
  }

  async reset(): Promise<void> {
    this.vectors = [];
    this.cache = emptyCache(this.tower.layers);
    await this.onReset();
  }

  /** Appends raw concept vectors (as the SONAR encoder gives them). */
  async append(raw: readonly Float32Array[], signal?: AbortSignal): Promise<void> {
    if (raw.length === 0) return;
    const max = this.tower.maxContext;
    if (this.vectors.length + raw.length > max) {
      const keep = [...this.vectors, ...raw].slice(-max);
      await this.reset();
      return this.appendChunks(keep, signal);
    }
    return this.appendChunks(raw, signal);
  }

  abstract sample(request: SampleRequest): Promise<Float32Array[]>;

  /** After the cache was emptied (Two-Tower re-adds its zero key here). */
  protected async onReset(): Promise<void> {}

  /** The contextualizer's outputs for `rows` new concepts, after the cache took their keys/values. */
  protected abstract onChunk(out: Record<string, TensorValue>, rows: number): Promise<void> | void;

  private async appendChunks(raw: readonly Float32Array[], signal?: AbortSignal): Promise<void> {
    const c = this.tower;
    const E = this.pack.manifest.embeddingDim;
    for (let s = 0; s < raw.length; s += CHUNK) {
      throwIfCancelled(signal);
      const part = raw.slice(s, s + CHUNK);
      const normalized = this.pack.normalizer.normalize(stack(part, E), part.length);
      const feeds = cacheFeeds({ embeddings: f32(normalized, [1, part.length, E]) }, this.cache, 'past', c.layers, c.heads, c.modelDim / c.heads);
      const out = await (await this.pack.graph('contextualizer')).run(feeds);
      this.cache = presentCache(out, c.layers, this.cache, part.length);
      await this.onChunk(out, part.length);
      this.vectors.push(...part.map((v) => Float32Array.from(v)));
    }
  }
}

/**
 * The second tower's cross-attention keys/values of [zero row; context rows]
 * (Two-Tower denoiser, Quant-LCM head: the pack's `denoiserContext` graph),
 * each row projected once as it arrives. Key 0 is the reference's prepended
 * zero vector (its keys are the projection biases), added by `reset`, so an
 * empty context still has one key.
 */
export class CrossKvCache {
  private cache: KvCache;

  constructor(private readonly pack: ModelPack, private readonly tower: { layers: number; heads: number; modelDim: number }) {
    this.cache = emptyCache(tower.layers);
  }

  /** Keys per layer (1 + context rows after `reset`). */
  get length(): number {
    return this.cache.length;
  }

  /** Empties the cache and adds the zero row's keys/values (cheap: one row). */
  async reset(): Promise<void> {
    this.cache = emptyCache(this.tower.layers);
    await this.append(new Float32Array(this.tower.modelDim), 1);
  }

  /** Projects `rows` contextualizer outputs [rows, D] to cross keys/values and appends them. */
  async append(hidden: Float32Array, rows: number): Promise<void> {
    const t = this.tower;
    const dh = t.modelDim / t.heads;
    const out = await (await this.pack.graph('denoiserContext')).run({ context: f32(hidden, [1, rows, t.modelDim]) });
    const tensors: Float32Array[] = [];
    for (let i = 0; i < t.layers; i++) {
      for (const kind of ['key', 'value'] as const) {
        const prev = this.cache.tensors[tensors.length]!;
        tensors.push(concatSeq(prev, this.cache.length, out[`cross_${kind}.${i}`]!.data as Float32Array, rows, t.heads, dh));
      }
    }
    this.cache = { tensors, length: this.cache.length + rows };
  }

  /** The `cross_key.i` / `cross_value.i` feeds, [1, H, length, Dh]. */
  feeds(): Record<string, TensorValue> {
    const t = this.tower;
    return cacheFeeds({}, this.cache, 'cross', t.layers, t.heads, t.modelDim / t.heads);
  }
}

/**
 * A context whose second tower cross-attends to the contextualizer's outputs
 * (Two-Tower denoiser, Quant-LCM head): CachedContext plus the cross keys/values
 * of each output row (CrossKvCache), rebuilt with the zero row on reset.
 */
export abstract class CrossAttendedContext extends CachedContext {
  protected readonly crossCache: CrossKvCache;

  constructor(pack: ModelPack, tower: ContextualizerSpec, second: { layers: number; heads: number; modelDim: number }) {
    super(pack, tower);
    this.crossCache = new CrossKvCache(pack, second);
  }

  /** The zero key's cross keys/values are recomputed (cheap: one row). */
  protected override async onReset(): Promise<void> {
    await this.crossCache.reset();
  }

  protected onChunk(out: Record<string, TensorValue>, rows: number): Promise<void> {
    return this.crossCache.append(out.hidden!.data as Float32Array, rows);
  }
}

/**
 * One diffusion run of a diffusion LCM (Two-Tower, One-Tower): all candidates
 * in one batch and, with guidance, the same latents again as unconditional
 * rows after them. `runX0(noisy, rows, n, timestep)` gets the [rows, E] batch
 * (rows = n, or 2n with the unconditional half) and returns x̂0 for it, with
 * the architecture's own mask and feeds. Returns the candidates as raw
 * (denormalized) vectors.
 */
export async function sampleDiffusion(
  lcm: { readonly pack: ModelPack; readonly schedule: Schedule; samplingOptions(): DiffusionOptions },
  request: SampleRequest,
  runX0: (noisy: Float32Array, rows: number, n: number, timestep: number) => Promise<Float32Array>,
): Promise<Float32Array[]> {
  const E = lcm.pack.manifest.embeddingDim;
  const x0 = await sampleNext({
    schedule: lcm.schedule,
    options: request.options ?? lcm.samplingOptions(),
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
      const out = await runX0(noisy, rows, n, timestep);
      return withUnconditional ? { conditional: out.slice(0, n * E), unconditional: out.slice(n * E) } : { conditional: out };
    },
  });
  const raw = lcm.pack.normalizer.denormalize(x0, request.candidates);
  return Array.from({ length: request.candidates }, (_, i) => row(raw, E, i).slice());
}
