/**
 * The engine host's message protocol: what the main side (host.ts) and the
 * engine worker (worker.ts) say to each other over a worker_threads
 * MessagePort. One request per call id; a call streams `progress` and
 * `concept` messages, then ends with exactly one `result` or `error`.
 * Vectors travel as Float32Arrays whose buffers are transferred, not copied.
 */
import type { QuantSamplingSettings, SamplingSettings, WireError } from '../../shared/contract.ts';
import type { ProviderName } from '../../inference/backend/ort.ts';
import type { LcmArchitecture } from '../../inference/pack/types.ts';
import type { GeneratedConcept, Progress, RoundTrip, StreamResult } from '../../inference/engine.ts';
import type { FragilityResult } from '../../inference/metrics/fragility.ts';
import type { PackReport } from '../../inference/pack/verify.ts';

/** What the host knows about the loaded pack. */
export interface PackSummary {
  /** "<name>@<version>": the store's embedding-cache key. */
  key: string;
  name: string;
  version: string;
  languages: string[];
  embeddingDim: number;
  /** The LCM design (manifest lcm.architecture; docs/variants.md). */
  architecture: LcmArchitecture;
  /** Diffusion sampling defaults; null for a pack without diffusion (Base-LCM: nothing is sampled; Quant-LCM: see quantSampling). */
  sampling: SamplingSettings | null;
  /** T, the diffusion training steps (manifest lcm.schedule.trainSteps): the most inference steps; null for Base-LCM. */
  trainSteps: number | null;
  /** Quant-LCM sampling defaults (manifest lcm.sampling: temperature, topK); null for the other designs. */
  quantSampling: QuantSamplingSettings | null;
  /** Units per codebook of a Quant-LCM pack (manifest lcm.codebooks.size): the most top-k; null for the other designs. */
  codebookSize: number | null;
  /** The most concepts one generation may ask for (manifest lcm.stopping.maxConcepts). */
  maxConcepts: number;
  /** Context concepts the LCM attends to (manifest lcm.contextualizer.maxContext); older ones are dropped. */
  maxContext: number;
  /** Whether the pack was fine-tuned for the instruction tasks. */
  instructions: { summarize: boolean; expand: boolean };
  folder: string;
}

/** A context concept: its cached vector, or its text to encode in the worker. */
export type WireConcept = { text: string; lang: string; embedding?: Float32Array } | { embedding: Float32Array; text?: string; lang?: string };

interface GenerateArgs {
  context: WireConcept[];
  seed: number;
  lang?: string;
  sampling?: Partial<SamplingSettings>;
  /** Quant-LCM temperature/top-k overrides (GenerationOptions.quant); packs of the other designs ignore them. */
  quant?: Partial<QuantSamplingSettings>;
}

/** Every operation: its arguments and its result. */
export interface EngineOps {
  open: { args: { packDir: string; provider: ProviderName; verifyHashes: boolean; threads?: number }; result: PackSummary };
  providers: { args: Record<string, never>; result: { available: string[]; running: string | null } };
  encode: { args: { texts: string[]; lang: string }; result: Float32Array[] };
  decode: { args: { vectors: Float32Array[]; lang: string }; result: string[] };
  roundTrip: { args: { texts: string[]; lang: string }; result: RoundTrip[] };
  /** The fragility of one sentence (src/inference/metrics/fragility.ts). */
  fragility: { args: { text: string; lang: string; seed: number; noiseLevels?: number[]; samples?: number }; result: FragilityResult };
  continue: { args: GenerateArgs & { count: number }; result: StreamResult };
  expand: { args: GenerateArgs & { index: number; count: number }; result: StreamResult };
  summarize: { args: GenerateArgs & { maxConcepts: number }; result: StreamResult };
  regenerate: { args: GenerateArgs & { index: number; count: number }; result: { seed: number; candidates: GeneratedConcept[] } };
  /** Full verification of a pack folder (hashes, every graph's signature) without loading it (src/inference/pack/verify.ts). */
  verify: { args: { packDir: string; hashes: boolean }; result: PackReport };
  /** Test hook: waits `ms` while honouring cancellation (no model runs). */
  sleep: { args: { ms: number }; result: null };
}

export type OpName = keyof EngineOps;

export type CallMessage = { [K in OpName]: { type: 'call'; id: number; op: K; args: EngineOps[K]['args'] } }[OpName];

export type HostMessage = CallMessage | { type: 'cancel'; id: number };

export type WorkerMessage =
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'concept'; id: number; concept: GeneratedConcept };

/**
 * A copy of every Float32Array in `value` (arrays and plain objects are
 * walked, 4 levels deep), and the copies' buffers: the payload and transfer
 * list of a postMessage. Copying first means a sender never loses a vector
 * it still holds (the LCM keeps its last vector for the stopping rule; the
 * service may reuse context vectors); a 1024-d vector copies in microseconds,
 * and transferring then moves it across threads without a second copy.
 */
export function detach<T>(value: T): { value: T; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const walk = (v: unknown, depth: number): unknown => {
    if (v instanceof Float32Array) {
      const copy = new Float32Array(v);
      transfer.push(copy.buffer);
      return copy;
    }
    if (depth > 4 || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (Object.getPrototypeOf(v) !== Object.prototype) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, depth + 1)]));
  };
  return { value: walk(value, 0) as T, transfer };
}
