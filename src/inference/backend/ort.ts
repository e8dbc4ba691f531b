/**
 * The only module that imports onnxruntime-node (house rule 4). It opens
 * graphs with an execution provider and a CPU fallback, checks feeds against
 * each graph's declared inputs before running, and turns runtime failures into
 * errors that name the model, the input and the shape. Everything above it
 * sees plain typed arrays.
 */
import * as ort from 'onnxruntime-node';
import { EngineError } from '../errors.ts';

export type ProviderName = 'cpu' | 'cuda' | 'tensorrt' | 'dml' | 'coreml' | 'webgpu';
export const PROVIDER_NAMES: readonly ProviderName[] = ['cpu', 'cuda', 'tensorrt', 'dml', 'coreml', 'webgpu'];

export type TensorValue =
  | { readonly type: 'float32'; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly type: 'int64'; readonly data: BigInt64Array; readonly dims: readonly number[] };

export type Float32Value = Extract<TensorValue, { type: 'float32' }>;

export const f32 = (data: Float32Array, dims: readonly number[]): TensorValue => ({ type: 'float32', data, dims });
export const i64 = (values: ArrayLike<number>, dims: readonly number[]): TensorValue => ({
  type: 'int64',
  data: BigInt64Array.from(Array.from(values, (v) => BigInt(v))),
  dims,
});

/** A graph input or output as the model declares it; string dims are symbolic (dynamic). */
export interface TensorInfo {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

export interface GraphOptions {
  /** Provider to try first; CPU is always the fallback. */
  provider?: ProviderName;
  /** Intra-op threads; default: onnxruntime's choice (all cores). */
  threads?: number;
  /**
   * Let onnxruntime's worker threads spin while they wait for work (its own
   * default). The engine turns it off: between graph calls the JavaScript
   * side (search, sampling, tokenizer) needs a core, and on a few cores shared
   * with the renderer or another job spinning threads take it. Measured in
   * `npm run bench` (section "waits"; docs/benchmarks.md).
   */
  spinWait?: boolean;
}

/** Which providers this onnxruntime-node build knows about, and which ship inside the package. */
export function availableProviders(): { name: string; bundled: boolean }[] {
  return ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
}

/** One loaded ONNX graph. */
export class Graph {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** For messages: e.g. "tiny-fixture/decoder.onnx". */
    readonly label: string,
    /** The provider that actually runs this graph. */
    readonly provider: ProviderName,
    /** Why the requested provider is not the one running, if it is not. */
    readonly fallbackReason: string | undefined,
    readonly inputs: readonly TensorInfo[],
    readonly outputs: readonly TensorInfo[],
  ) {}

  static async open(path: string, label: string, options: GraphOptions = {}): Promise<Graph> {
    // onnxruntime's own logger prints provider-loading failures that we report as fallbackReason;
    // keep it to fatal errors so the CLI's output stays readable. (Set here, not at import time.)
    ort.env.logLevel = 'fatal';
    const requested = options.provider ?? 'cpu';
    const base: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
      // Session config entries (onnxruntime_session_options_config_keys.h): passive waits unless asked.
      extra: { session: { intra_op: { allow_spinning: options.spinWait ? '1' : '0' }, inter_op: { allow_spinning: options.spinWait ? '1' : '0' } } },
    };
    let fallbackReason: string | undefined;
    if (requested !== 'cpu') {
      const known = availableProviders().find((b) => b.name === requested);
      if (!known) {
        fallbackReason = `execution provider "${requested}" is not built into this onnxruntime-node (it has: ${availableProviders().map((b) => b.name).join(', ')})`;
      } else {
        try {
          const session = await ort.InferenceSession.create(path, { ...base, executionProviders: [requested, 'cpu'] });
          return Graph.wrap(session, label, requested, undefined);
        } catch (error) {
          fallbackReason = `execution provider "${requested}" failed to start (${firstLine(error)}); see docs/engine.md for installing its libraries`;
        }
      }
    }
    try {
      const session = await ort.InferenceSession.create(path, { ...base, executionProviders: ['cpu'] });
      return Graph.wrap(session, label, 'cpu', fallbackReason);
    } catch (error) {
      throw new EngineError('PACK_INVALID', `Could not load ONNX graph ${label}: ${firstLine(error)}`, { cause: error });
    }
  }

  private static wrap(session: ort.InferenceSession, label: string, provider: ProviderName, fallbackReason: string | undefined): Graph {
    const info = (m: ort.InferenceSession.ValueMetadata): TensorInfo =>
      m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] };
    return new Graph(session, label, provider, fallbackReason, session.inputMetadata.map(info), session.outputMetadata.map(info));
  }

  /**
   * Runs the graph. Feeds are checked against the declared inputs first
   * (missing or unknown names, element type, rank, fixed dimensions), so a
   * mistake surfaces as "decoder.onnx: input `past_key.0` has shape [1,4,3]
   * but the graph expects rank 4" instead of an opaque runtime error.
   */
  async run(feeds: Record<string, TensorValue>, outputNames?: readonly string[]): Promise<Record<string, TensorValue>> {
    this.checkFeeds(feeds);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, value] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(value.type, value.data, value.dims);
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = outputNames ? await this.session.run(ortFeeds, [...outputNames]) : await this.session.run(ortFeeds);
    } catch (error) {
      const shapes = Object.entries(feeds).map(([n, v]) => `${n} ${v.type}[${v.dims.join(',')}]`).join('; ');
      throw new EngineError('INFERENCE_FAILED', `Running ${this.label} failed: ${firstLine(error)} (inputs: ${shapes})`, { cause: error });
    }
    const out: Record<string, TensorValue> = {};
    for (const [name, tensor] of Object.entries(result)) {
      const t = tensor as ort.Tensor;
      if (t.type === 'float32') out[name] = { type: 'float32', data: t.data as Float32Array, dims: [...t.dims] };
      else if (t.type === 'int64') out[name] = { type: 'int64', data: t.data as BigInt64Array, dims: [...t.dims] };
      else throw new EngineError('INFERENCE_FAILED', `${this.label} returned output \`${name}\` of unsupported type ${t.type}.`);
    }
    return out;
  }

  /** Runs and returns one float32 output, checked. */
  async runFloat(feeds: Record<string, TensorValue>, output: string): Promise<Float32Value> {
    const value = (await this.run(feeds, [output]))[output];
    if (!value || value.type !== 'float32') throw new EngineError('INFERENCE_FAILED', `${this.label} did not return float32 output \`${output}\`.`);
    return value;
  }

  private checkFeeds(feeds: Record<string, TensorValue>): void {
    const problems: string[] = [];
    for (const input of this.inputs) {
      const feed = feeds[input.name];
      if (!feed) {
        problems.push(`missing input \`${input.name}\``);
        continue;
      }
      if (feed.type !== input.type) problems.push(`input \`${input.name}\` is ${feed.type} but the graph expects ${input.type}`);
      if (input.shape.length && feed.dims.length !== input.shape.length) {
        problems.push(`input \`${input.name}\` has shape [${feed.dims.join(',')}] but the graph expects rank ${input.shape.length} [${input.shape.join(',')}]`);
      } else {
        input.shape.forEach((d, k) => {
          if (typeof d === 'number' && d >= 0 && feed.dims[k] !== d) problems.push(`input \`${input.name}\` dimension ${k} is ${feed.dims[k]} but the graph fixes it to ${d}`);
        });
      }
      const expected = feed.dims.reduce((a, b) => a * b, 1);
      if (feed.data.length !== expected) problems.push(`input \`${input.name}\` has ${feed.data.length} values for shape [${feed.dims.join(',')}] (${expected})`);
    }
    for (const name of Object.keys(feeds)) if (!this.inputs.some((i) => i.name === name)) problems.push(`unknown input \`${name}\` (the graph takes ${this.inputs.map((i) => i.name).join(', ')})`);
    if (problems.length) throw new EngineError('INFERENCE_FAILED', `${this.label}: ${problems.join('; ')}.`);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
