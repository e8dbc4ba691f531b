/**
 * The engine host (src/main/engine): ConceptEngine in a worker thread behind
 * a typed message protocol. Results equal the engine run in this thread for
 * the same inputs and seed; concepts and progress stream before the result;
 * vectors cross without detaching the caller's arrays; cancellation stops a
 * generation and leaves the worker usable; a pack that cannot load is a
 * clear state and error, not a crash; a worker that dies fails its calls
 * and is restarted by the next one. Tiny fixture pack (random weights).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { ConceptEngine, type GeneratedConcept, type Progress } from '../../src/inference/engine.ts';
import { EngineError, isCancellation } from '../../src/inference/errors.ts';
import { EngineHost, EngineUnavailableError } from '../../src/main/engine/host.ts';
import { detach } from '../../src/main/engine/protocol.ts';
import { TINY_PACK } from '../helpers/fixtures.ts';

const doc = [
  { text: 'The old lighthouse stood at the edge of the cliff.', lang: 'eng_Latn' },
  { text: 'Every night its lamp swept across the dark water.', lang: 'eng_Latn' },
];
/** Few denoising steps: the tests check plumbing, not quality. */
const sampling = { inferenceSteps: 4 };

let host: EngineHost;
let local: ConceptEngine;
beforeAll(async () => {
  host = new EngineHost();
  local = await ConceptEngine.open(TINY_PACK);
});
afterAll(async () => {
  await host.close();
  await local.close();
});

describe('loading', () => {
  it('opens the pack in the worker and reports its summary and state', async () => {
    const pack = await host.load({ packDir: TINY_PACK, provider: 'cpu' });
    expect(pack).toMatchObject({ key: 'tiny-fixture@1.0.0', name: 'tiny-fixture', embeddingDim: 32, maxConcepts: 64, maxContext: 4096, instructions: { summarize: true, expand: true } });
    expect(pack.languages).toContain('arb_Arab');
    expect(pack.sampling).toEqual({ inferenceSteps: 40, guidanceScale: 3, spacing: 'trailing' });
    expect(host.state).toEqual({ state: 'ready', pack });
    const providers = await host.providers();
    expect(providers.available).toContain('cpu');
    expect(providers.running).toBe('cpu');
  });
});

describe('operations across the thread boundary', () => {
  it('encode equals the engine in this thread (same onnxruntime, same graphs)', async () => {
    const texts = doc.map((d) => d.text);
    const remote = await host.call('encode', { texts, lang: 'eng_Latn' });
    const mine = await local.encode(texts, 'eng_Latn');
    expect(remote).toHaveLength(2);
    remote.forEach((v, i) => {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(32);
      // Same kernels on the same inputs; allow float rounding from a different thread pool split (1e-5 absolute).
      v.forEach((x, j) => expect(Math.abs(x - mine[i]![j]!)).toBeLessThan(1e-5));
    });
  });

  it('continue streams concepts and progress, then returns the seed; same seed = the engine here', async () => {
    const concepts: GeneratedConcept[] = [];
    const progress: Progress[] = [];
    const result = await host.call('continue', { context: doc, seed: 11, count: 2, sampling }, { onConcept: (c) => concepts.push(c), onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ seed: 11, stop: 'max-concepts' });
    expect(concepts.map((c) => c.index)).toEqual([0, 1]);
    expect(concepts.every((c) => c.embedding instanceof Float32Array && c.embedding.length === 32 && c.lang === 'eng_Latn')).toBe(true);
    expect(progress.length).toBeGreaterThanOrEqual(2 * sampling.inferenceSteps);
    expect(progress.at(-1)).toMatchObject({ operation: 'continue', concept: 1, concepts: 2 });

    const mine: string[] = [];
    const stream = local.continue(doc, { seed: 11, count: 2, sampling });
    for (let next = await stream.next(); !next.done; next = await stream.next()) mine.push(next.value.text);
    expect(concepts.map((c) => c.text)).toEqual(mine);
  });

  it('regenerate, decode and roundTrip answer in their shapes', async () => {
    const regen = await host.call('regenerate', { context: doc, index: 2, count: 3, seed: 5, sampling });
    expect(regen.seed).toBe(5);
    expect(regen.candidates.map((c) => c.index)).toEqual([0, 1, 2]);
    const [vector] = await host.call('encode', { texts: ['A calm sea.'], lang: 'eng_Latn' });
    const decoded = await host.call('decode', { vectors: [vector!], lang: 'fra_Latn' });
    expect(decoded).toHaveLength(1);
    expect(typeof decoded[0]).toBe('string');
    const [rt] = await host.call('roundTrip', { texts: ['A calm sea.'], lang: 'eng_Latn' });
    expect(rt!.text).toBe('A calm sea.');
    expect(rt!.chrf).toBeGreaterThanOrEqual(0);
    expect(rt!.chrf).toBeLessThanOrEqual(100);
  });

  it('copies vectors before transferring them: the caller keeps its arrays', async () => {
    const [v] = await host.call('encode', { texts: [doc[0]!.text], lang: 'eng_Latn' });
    const before = Array.from(v!);
    await host.call('continue', { context: [{ embedding: v! }], seed: 1, count: 1, sampling });
    expect(v!.length).toBe(32);
    expect(Array.from(v!)).toEqual(before);
    const { value, transfer } = detach({ a: [v!], b: 'x' });
    expect(transfer).toHaveLength(1);
    expect(value.a[0]).not.toBe(v);
    expect(Array.from(value.a[0]!)).toEqual(before);
  });

  it('engine errors keep their codes (unsupported language, bad input)', async () => {
    const error = await host.call('encode', { texts: ['x'], lang: 'kor_Hang' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_LANGUAGE', message: expect.stringMatching(/does not support Korean \(kor_Hang\)/) });
    await expect(host.call('encode', { texts: ['  '], lang: 'eng_Latn' })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/Text 1 is empty/) });
  });
});

describe('cancellation', () => {
  it('an abort stops a generation at its next model run; the worker stays usable', async () => {
    const controller = new AbortController();
    const concepts: GeneratedConcept[] = [];
    const run = host.call('continue', { context: doc, seed: 3, count: 30, sampling: { inferenceSteps: 20 } }, {
      signal: controller.signal,
      onConcept: (c) => {
        concepts.push(c);
        controller.abort();
      },
    });
    const error = await run.catch((e: unknown) => e);
    expect(isCancellation(error)).toBe(true);
    expect(concepts.length).toBeGreaterThanOrEqual(1);
    expect(concepts.length).toBeLessThan(30);
    await expect(host.call('encode', { texts: ['Still here.'], lang: 'eng_Latn' })).resolves.toHaveLength(1);
  });

  it('a call whose signal is already aborted never reaches the worker; the test op is cancelled mid-wait', async () => {
    await expect(host.call('encode', { texts: ['x'], lang: 'eng_Latn' }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CANCELLED' });
    const controller = new AbortController();
    const started = Date.now();
    const sleeping = host.call('sleep', { ms: 20_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(sleeping).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('failures', () => {
  it('a pack that cannot load is a failed state with the reason; calls say why the engine cannot run', async () => {
    const broken = new EngineHost();
    try {
      const error = await broken.load({ packDir: '/nonexistent/pack', provider: 'cpu' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'PACK_NOT_FOUND', message: expect.stringMatching(/no pack folder at \/nonexistent\/pack/) });
      expect(broken.state).toMatchObject({ state: 'failed', error: { code: 'PACK_NOT_FOUND' } });
      const call = await broken.call('encode', { texts: ['x'], lang: 'eng_Latn' }).catch((e: unknown) => e);
      expect(call).toBeInstanceOf(EngineUnavailableError);
      expect(call).toMatchObject({ code: 'ENGINE_UNAVAILABLE', message: expect.stringMatching(/^No model pack is loaded: Model pack `pack`: no pack folder/) });
      // The worker is alive without a pack: it still lists providers.
      expect((await broken.providers()).available).toContain('cpu');
    } finally {
      await broken.close();
    }
  });

  it('a worker that dies fails its pending calls with a clear error; the next call restarts it with the same pack', async () => {
    const pending = host.call('sleep', { ms: 20_000 });
    await new Promise((r) => setTimeout(r, 50));
    const worker = Reflect.get(host, 'worker') as Worker;
    await worker.terminate();
    await expect(pending).rejects.toMatchObject({ code: 'INFERENCE_FAILED', message: expect.stringMatching(/The engine stopped unexpectedly \(exit code 1\); the next request restarts it/) });
    expect(host.state.state).toBe('failed');
    await expect(host.call('encode', { texts: ['Back again.'], lang: 'eng_Latn' })).resolves.toHaveLength(1);
    expect(host.state.state).toBe('ready');
  });

  it('a closed host refuses work', async () => {
    const h = new EngineHost();
    await h.close();
    await expect(h.load({ packDir: TINY_PACK, provider: 'cpu' })).rejects.toThrow(/closed/);
  });
});
