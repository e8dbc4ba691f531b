/**
 * The engine worker: runs ConceptEngine in a worker thread so that encoding,
 * decoding and diffusion never block the thread that serves the window (or
 * the web host's sockets). It holds at most one open pack. Every call gets an
 * AbortController; a `cancel` message aborts it and the engine stops at its
 * next check (before each model run). Errors go back as WireErrors with the
 * engine's codes. Started by host.ts; see protocol.ts for the messages.
 */
import { parentPort } from 'node:worker_threads';
import type { WireError } from '../../shared/contract.ts';
import { availableProviders } from '../../inference/backend/ort.ts';
import { ConceptEngine, type ConceptInput, type GeneratedConcept, type GenerationOptions, type StreamResult } from '../../inference/engine.ts';
import { CancelledError, EngineError, InputError, throwIfCancelled } from '../../inference/errors.ts';
import { verifyPack } from '../../inference/pack/verify.ts';
import { packKey } from '../store/embeddings.ts';
import { isDiffusionLcm, isQuantLcm } from '../../inference/pack/types.ts';
import { detach, type EngineOps, type HostMessage, type OpName, type PackSummary, type WireConcept, type WorkerMessage } from './protocol.ts';

const port = parentPort;
if (!port) throw new Error('src/main/engine/worker.ts runs as a worker thread (started by EngineHost), not on its own.');

let engine: ConceptEngine | undefined;
let provider: string | null = null;
const running = new Map<number, AbortController>();

function post(message: WorkerMessage): void {
  const { value, transfer } = detach(message);
  port!.postMessage(value, transfer);
}

function toWire(error: unknown): WireError {
  if (error instanceof EngineError) return { name: error.name, message: error.message, code: error.code };
  if (error instanceof Error && error.name === 'AbortError') return { name: 'CancelledError', message: 'The operation was cancelled.', code: 'CANCELLED' };
  if (error instanceof RangeError || error instanceof TypeError) return { name: error.name, message: error.message, code: 'BAD_INPUT' };
  const message = error instanceof Error ? error.message : String(error);
  return { name: 'EngineError', message: `The engine failed: ${message}`, code: 'INFERENCE_FAILED' };
}

function requireEngine(): ConceptEngine {
  if (!engine) throw new EngineError('PACK_NOT_FOUND', 'No model pack is loaded in the engine.');
  return engine;
}

const inputs = (context: readonly WireConcept[]): ConceptInput[] => context as ConceptInput[];

interface CallContext {
  signal: AbortSignal;
  id: number;
}

function generationOptions(args: Pick<EngineOps['continue']['args'], 'seed' | 'lang' | 'sampling' | 'quant'>, ctx: CallContext): GenerationOptions {
  return {
    seed: args.seed,
    signal: ctx.signal,
    onProgress: (progress) => post({ type: 'progress', id: ctx.id, progress }),
    ...(args.lang ? { lang: args.lang } : {}),
    ...(args.sampling ? { sampling: args.sampling } : {}),
    // The engine applies `quant` to Quant-LCM packs only (ConceptEngine.sampleOptions), as `sampling` to diffusion packs only.
    ...(args.quant ? { quant: args.quant } : {}),
  };
}

/** Runs a generation stream, sending each concept as it comes. */
async function drain(stream: AsyncGenerator<GeneratedConcept, StreamResult>, ctx: CallContext): Promise<StreamResult> {
  for (;;) {
    const next = await stream.next();
    if (next.done) return next.value;
    post({ type: 'concept', id: ctx.id, concept: next.value });
  }
}

function summary(e: ConceptEngine, folder: string): PackSummary {
  const m = e.pack.manifest;
  return {
    key: packKey(m),
    name: m.name,
    version: m.version,
    languages: [...e.pack.languageCodes],
    embeddingDim: m.embeddingDim,
    architecture: m.lcm.architecture,
    sampling: isDiffusionLcm(m.lcm) ? { inferenceSteps: m.lcm.sampling.inferenceSteps, guidanceScale: m.lcm.sampling.guidanceScale, spacing: m.lcm.sampling.spacing } : null,
    trainSteps: isDiffusionLcm(m.lcm) ? m.lcm.schedule.trainSteps : null,
    quantSampling: isQuantLcm(m.lcm) ? { temperature: m.lcm.sampling.temperature, topK: m.lcm.sampling.topK } : null,
    codebookSize: isQuantLcm(m.lcm) ? m.lcm.codebooks.size : null,
    maxConcepts: m.lcm.stopping.maxConcepts,
    maxContext: m.lcm.contextualizer.maxContext,
    instructions: { summarize: Boolean(m.lcm.instructions.summarize), expand: Boolean(m.lcm.instructions.expand) },
    folder,
  };
}

const handlers: { [K in OpName]: (args: EngineOps[K]['args'], ctx: CallContext) => Promise<EngineOps[K]['result']> } = {
  async open(args) {
    const old = engine;
    engine = undefined;
    provider = null;
    await old?.close();
    const opened = await ConceptEngine.open(args.packDir, { provider: args.provider, verifyHashes: args.verifyHashes, ...(args.threads ? { threads: args.threads } : {}) });
    engine = opened;
    provider = args.provider;
    return summary(opened, args.packDir);
  },
  async providers() {
    const graphs = engine ? await engine.providers() : [];
    return { available: availableProviders().map((p) => p.name), running: graphs[0]?.provider ?? provider };
  },
  encode: (args, ctx) => requireEngine().encode(args.texts, args.lang, ctx.signal),
  async decode(args, ctx) {
    const decoded = await requireEngine().decode(args.vectors, args.lang, { signal: ctx.signal });
    return decoded.map((d) => d.text);
  },
  roundTrip: (args, ctx) => requireEngine().roundTrip(args.texts, args.lang, { signal: ctx.signal }),
  fragility: (args, ctx) => requireEngine().fragility(args.text, args.lang, {
    seed: args.seed, signal: ctx.signal, ...(args.noiseLevels ? { noiseLevels: args.noiseLevels } : {}), ...(args.samples ? { samples: args.samples } : {}),
  }),
  continue: (args, ctx) => drain(requireEngine().continue(inputs(args.context), { ...generationOptions(args, ctx), count: args.count }), ctx),
  expand: (args, ctx) => drain(requireEngine().expand(inputs(args.context), args.index, { ...generationOptions(args, ctx), count: args.count }), ctx),
  summarize: (args, ctx) => drain(requireEngine().summarize(inputs(args.context), { ...generationOptions(args, ctx), maxConcepts: args.maxConcepts }), ctx),
  regenerate: (args, ctx) => requireEngine().regenerate(inputs(args.context), args.index, { ...generationOptions(args, ctx), count: args.count }),
  verify: (args) => verifyPack(args.packDir, { hashes: args.hashes }),
  async sleep(args, ctx) {
    if (!(args.ms >= 0 && args.ms <= 60_000)) throw new InputError(`sleep: ms must be from 0 to 60000, got ${String(args.ms)}.`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, args.ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    throwIfCancelled(ctx.signal);
    return null;
  },
};

async function run(message: Extract<HostMessage, { type: 'call' }>): Promise<void> {
  const controller = new AbortController();
  running.set(message.id, controller);
  const ctx: CallContext = { signal: controller.signal, id: message.id };
  try {
    const handler = handlers[message.op] as (args: unknown, ctx: CallContext) => Promise<unknown>;
    if (typeof handler !== 'function') throw new InputError(`Unknown engine operation "${String(message.op)}".`);
    const value = await handler(message.args, ctx);
    post({ type: 'result', id: message.id, value });
  } catch (error) {
    post({ type: 'error', id: message.id, error: toWire(error) });
  } finally {
    running.delete(message.id);
  }
}

port.on('message', (message: HostMessage) => {
  if (message.type === 'cancel') running.get(message.id)?.abort(new CancelledError());
  else void run(message);
});
