/**
 * EngineHost: the concept engine in a worker thread, seen from the main side.
 *
 * Why a worker_threads Worker and not Electron's utilityProcess: the worker
 * runs the same way in the Electron main process, in the web host and in
 * plain Node tests (utilityProcess exists only inside Electron, so the web
 * host and the tests would need a second path), vectors cross as transferred
 * ArrayBuffers instead of being serialized through a pipe, and onnxruntime
 * runs its own native thread pool either way, so a separate process would
 * buy isolation from native crashes at the price of a second code path. A
 * crash of the worker (an uncaught error, a native abort that only ends the
 * thread) is caught here: pending calls fail with a clear error, and the next
 * call starts a fresh worker with the same pack.
 *
 * One pack per worker: loading another pack (Settings) ends the old worker,
 * failing its running calls as cancelled, and starts a new one. When the pack
 * cannot load, the host keeps the reason (`state`), and every call says why
 * generation cannot run; the rest of the app does not need the engine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WireError } from '../../shared/contract.ts';
import type { ProviderName } from '../../inference/backend/ort.ts';
import type { GeneratedConcept, Progress } from '../../inference/engine.ts';
import { CancelledError, EngineError, type EngineErrorCode } from '../../inference/errors.ts';
import { detach, type EngineOps, type HostMessage, type OpName, type PackSummary, type WorkerMessage } from './protocol.ts';

export interface LoadSpec {
  packDir: string;
  provider: ProviderName;
  /** Check every file's SHA-256 (slow for big packs: seconds per GB); sizes are always checked. */
  verifyHashes?: boolean;
  threads?: number;
}

export type EngineState =
  | { state: 'unloaded' }
  | { state: 'loading'; packDir: string }
  | { state: 'ready'; pack: PackSummary }
  | { state: 'failed'; error: WireError };

export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  onConcept?: (concept: GeneratedConcept) => void;
}

export interface EngineHostOptions {
  /**
   * The worker module. Default: worker.ts beside this file, through tsx,
   * when running from the sources (tests, `lcm serve`); the Electron build
   * passes its bundled engineWorker.js.
   */
  workerUrl?: URL;
}

/** The engine cannot run (no pack, a pack that failed to load, a crashed worker). */
export class EngineUnavailableError extends Error {
  readonly code = 'ENGINE_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  options: CallOptions;
  cleanup: () => void;
}

/** The module that runs a .ts worker through tsx's ESM API (tsx/esm/api, import condition). */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import?: { default?: string } } | string> };
  const entry = pkg.exports['./esm/api'];
  const file = typeof entry === 'object' ? entry.import?.default : undefined;
  if (!file) throw new Error(`tsx ${pkgPath} has no ./esm/api import entry: cannot run the engine worker from TypeScript sources.`);
  return pathToFileURL(join(dirname(pkgPath), file)).href;
}

function spawn(url: URL): Worker {
  if (url.pathname.endsWith('.ts')) {
    // Node runs no TypeScript by itself: register tsx inside the worker, then import the module through it.
    const code = `import(${JSON.stringify(tsxApiUrl())}).then((api) => api.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}))`;
    return new Worker(code, { eval: true, name: 'concept-engine' });
  }
  return new Worker(url, { name: 'concept-engine' });
}

/** Not a literal in `new URL(…)`: bundlers would treat that as an asset to copy. */
const WORKER_SOURCE = './worker.ts';
export const DEFAULT_WORKER_URL = new URL(WORKER_SOURCE, import.meta.url);

function remoteError(wire: WireError): Error {
  if (wire.code === 'CANCELLED') return new CancelledError(wire.message);
  const error = new EngineError(wire.code as EngineErrorCode, wire.message);
  error.name = wire.name;
  return error;
}

export class EngineHost {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private current: EngineState = { state: 'unloaded' };
  private loading: Promise<PackSummary> | undefined;
  private lastSpec: LoadSpec | undefined;
  /** Set when the worker died on its own: the next call restarts it with lastSpec. */
  private crashed = false;
  private readonly workerUrl: URL;
  private closed = false;

  constructor(options: EngineHostOptions = {}) {
    this.workerUrl = options.workerUrl ?? DEFAULT_WORKER_URL;
    if (this.workerUrl.protocol === 'file:' && !existsSync(fileURLToPath(this.workerUrl))) {
      throw new Error(`The engine worker module ${fileURLToPath(this.workerUrl)} does not exist; build the app (npx electron-vite build) or run from the sources.`);
    }
  }

  get state(): EngineState {
    return this.current;
  }

  /** Starts a fresh worker and opens the pack in it; running calls of the old worker fail as cancelled. */
  load(spec: LoadSpec): Promise<PackSummary> {
    if (this.closed) return Promise.reject(new EngineUnavailableError('The engine host was closed.'));
    this.stopWorker(new CancelledError('Cancelled: the model pack was changed.'));
    this.lastSpec = spec;
    this.crashed = false;
    this.current = { state: 'loading', packDir: spec.packDir };
    const attempt = this.send('open', { packDir: spec.packDir, provider: spec.provider, verifyHashes: spec.verifyHashes ?? false, ...(spec.threads ? { threads: spec.threads } : {}) }, {});
    const loading = attempt.then(
      (pack) => {
        if (this.loading === loading) this.current = { state: 'ready', pack };
        return pack;
      },
      (error: unknown) => {
        if (this.loading === loading) this.current = { state: 'failed', error: wireOf(error) };
        throw error;
      },
    );
    this.loading = loading;
    loading.catch(() => undefined); // the state keeps the reason; callers that await ready() see it
    return loading;
  }

  /** Records why no pack is loaded (e.g. none is installed), ending any worker. */
  fail(error: WireError): void {
    this.stopWorker(new CancelledError('Cancelled: the model pack was changed.'));
    this.lastSpec = undefined;
    this.loading = undefined;
    this.current = { state: 'failed', error };
  }

  /** The loaded pack, waiting for a load in progress; throws EngineUnavailableError saying why there is none. */
  async ready(): Promise<PackSummary> {
    if (this.crashed && this.lastSpec) void this.load(this.lastSpec);
    if (this.current.state === 'loading' && this.loading) await this.loading.catch(() => undefined);
    const s = this.current;
    if (s.state === 'ready') return s.pack;
    if (s.state === 'failed') throw new EngineUnavailableError(`No model pack is loaded: ${s.error.message}`);
    throw new EngineUnavailableError('No model pack is loaded. Choose one in Settings (Pack).');
  }

  /** Runs an operation on the loaded pack. */
  async call<K extends Exclude<OpName, 'open'>>(op: K, args: EngineOps[K]['args'], options: CallOptions = {}): Promise<EngineOps[K]['result']> {
    await this.ready();
    return this.send(op, args, options);
  }

  /** Execution providers this onnxruntime build knows, and the one the pack runs on (works without a pack). */
  providers(): Promise<EngineOps['providers']['result']> {
    if (this.closed) return Promise.reject(new EngineUnavailableError('The engine host was closed.'));
    return this.send('providers', {}, {});
  }

  /**
   * Verifies a pack folder fully (every hash, every graph) in the worker,
   * without loading it; works with or without a loaded pack. The Models page
   * uses a host of its own for this, so the writer's engine is not disturbed.
   */
  verify(packDir: string, options: CallOptions = {}): Promise<EngineOps['verify']['result']> {
    if (this.closed) return Promise.reject(new EngineUnavailableError('The engine host was closed.'));
    return this.send('verify', { packDir, hashes: true }, options);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = spawn(this.workerUrl);
    worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    worker.on('error', (error) => this.onExit(worker, `it threw ${error.message}`));
    worker.on('exit', (code) => this.onExit(worker, `exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private send<K extends OpName>(op: K, args: EngineOps[K]['args'], options: CallOptions): Promise<EngineOps[K]['result']> {
    if (options.signal?.aborted) return Promise.reject(new CancelledError());
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<EngineOps[K]['result']>((resolve, reject) => {
      const onAbort = () => worker.postMessage({ type: 'cancel', id } satisfies HostMessage);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => options.signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, options, cleanup });
      const { value, transfer } = detach({ type: 'call', id, op, args } as HostMessage);
      worker.postMessage(value, transfer);
    });
  }

  private onMessage(message: WorkerMessage): void {
    const p = this.pending.get(message.id);
    if (!p) return;
    switch (message.type) {
      case 'progress':
        p.options.onProgress?.(message.progress);
        return;
      case 'concept':
        p.options.onConcept?.(message.concept);
        return;
      case 'result':
        this.pending.delete(message.id);
        p.cleanup();
        p.resolve(message.value);
        return;
      case 'error':
        this.pending.delete(message.id);
        p.cleanup();
        p.reject(remoteError(message.error));
    }
  }

  private failPending(error: Error): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.cleanup();
      p.reject(error);
    }
  }

  private onExit(worker: Worker, why: string): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    const error = new EngineError('INFERENCE_FAILED', `The engine stopped unexpectedly (${why}); the next request restarts it.`);
    this.failPending(error);
    if (this.closed) return;
    this.crashed = this.lastSpec !== undefined;
    this.loading = undefined;
    this.current = { state: 'failed', error: wireOf(error) };
  }

  private stopWorker(reason: Error): void {
    const worker = this.worker;
    this.worker = undefined;
    this.failPending(reason);
    if (worker) void worker.terminate();
  }

  /** Ends the worker; pending calls fail as cancelled. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failPending(new CancelledError('Cancelled: the app is closing.'));
    this.current = { state: 'unloaded' };
    if (worker) await worker.terminate();
  }
}

/** `{ name, message, code }` of any error (code INTERNAL when it has none). */
export function wireOf(error: unknown): WireError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, code: typeof code === 'string' ? code : 'INTERNAL' };
  }
  return { name: 'Error', message: String(error), code: 'INTERNAL' };
}
