/**
 * The Base-LCM on onnxruntime (docs/variants.md): PreNet, a causal
 * transformer and PostNet in one graph with a key/value cache; the output at
 * the last context row is the next concept (normalized space, MSE
 * regression). Deterministic: no noise, no schedule, nothing drawn from the
 * RNG. Appending a concept runs one row through the graph and keeps its
 * prediction, so `sample` costs no model run at all.
 */
import type { TensorValue } from '../backend/ort.ts';
import { InputError, throwIfCancelled } from '../errors.ts';
import type { ModelPack } from '../pack/loader.ts';
import type { BaseMseLcmSpec } from '../pack/types.ts';
import { row } from '../tensor.ts';
import { CachedContext } from './context.ts';
import type { ConceptLcm, SampleRequest } from './model.ts';
import type { DiffusionOptions } from './sampler.ts';
import type { Schedule } from './schedule.ts';

export class BaseLcm implements ConceptLcm {
  readonly architecture = 'base-mse';
  readonly deterministic = true;
  readonly spec: BaseMseLcmSpec;

  constructor(readonly pack: ModelPack) {
    const spec = pack.manifest.lcm;
    if (spec.architecture !== 'base-mse') throw new TypeError(`BaseLcm needs a base-mse pack; ${pack.name} is ${spec.architecture} (open it with openLcm).`);
    this.spec = spec;
  }

  async newContext(): Promise<BaseLcmContext> {
    return new BaseLcmContext(this);
  }

  /** The Base-LCM has no noise schedule: it regresses the next vector. */
  get schedule(): Schedule {
    throw this.noDiffusion('noise schedule');
  }

  samplingOptions(): DiffusionOptions {
    throw this.noDiffusion('diffusion sampling options');
  }

  private noDiffusion(what: string): InputError {
    return new InputError(`Pack ${this.pack.name} is a Base-LCM (base-mse): it predicts the next concept directly and has no ${what}. Diffusion steps and guidance apply only to diffusion packs.`);
  }
}

/** Key/value cache of the context rows and the prediction made after the last one (normalized). */
export class BaseLcmContext extends CachedContext {
  private prediction: Float32Array | null = null;

  constructor(private readonly lcm: BaseLcm) {
    super(lcm.pack, lcm.spec.contextualizer);
  }

  protected override onReset(): Promise<void> {
    this.prediction = null;
    return Promise.resolve();
  }

  protected onChunk(out: Record<string, TensorValue>, rows: number): void {
    const E = this.lcm.pack.manifest.embeddingDim;
    this.prediction = row(out.prediction!.data as Float32Array, E, rows - 1).slice();
  }

  /**
   * The next concept, `candidates` times (identical rows: the Base-LCM is
   * deterministic). Nothing is drawn from `request.rng`; `request.options`
   * does not apply. Needs at least one concept in the context: the model
   * predicts the concept after the last one it has read.
   */
  async sample(request: SampleRequest): Promise<Float32Array[]> {
    throwIfCancelled(request.signal);
    if (!Number.isInteger(request.candidates) || request.candidates < 1) throw new RangeError(`candidates must be a positive integer, got ${String(request.candidates)}.`);
    if (!this.prediction) {
      throw new InputError(`Pack ${this.lcm.pack.name} is a Base-LCM: it predicts the concept after the last one it has read, so it needs at least one concept before the position to generate (give a context, or use a diffusion pack to start from nothing).`);
    }
    const raw = this.lcm.pack.normalizer.denormalize(this.prediction, 1);
    request.onStep?.(1, 1);
    return Array.from({ length: request.candidates }, () => raw.slice());
  }
}
