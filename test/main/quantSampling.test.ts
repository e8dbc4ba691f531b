/**
 * The writer's Quant-LCM temperature and top-k (Settings.quantSampling, job
 * option quantSampling; docs/variants.md "Quant-LCM", docs/app.md): the engine
 * host reports the pack's defaults and passes `quant` to the engine in the
 * worker, which then equals the PyTorch reference runs
 * (recipe/lcmref/quant_lcm.py: greedy and temperature 5); jobs take the
 * settings and the request's overrides, field by field, record them, and get
 * the engine's error for a top-k over the codebook size; settings persist
 * (and files written before the field load as the pack's defaults); the web
 * host serves it all through the same dispatch. Fixture: tiny-quant-d (RVQ
 * 4 × 16, random weights: texts are gibberish, so vectors are compared with
 * the reference and texts only with each other).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ConceptEdit, JobEvent, JobOptions, JobRequest } from '../../src/shared/contract.ts';
import { ConceptEngine } from '../../src/inference/engine.ts';
import { EngineError } from '../../src/inference/errors.ts';
import { EngineHost } from '../../src/main/engine/host.ts';
import { SettingsFile } from '../../src/main/services/settings.ts';
import { startWebHost } from '../../src/web/server.ts';
import { createWebClient, type SocketLike } from '../../src/renderer/bridge/webClient.ts';
import { expectClose, fixture, TINY_PACK } from '../helpers/fixtures.ts';
import { testStudio, type TestStudio } from './helpers.ts';

const QUANT_PACK = fileURLToPath(new URL('../fixtures/packs/tiny-quant-d', import.meta.url));
/** Seeded runs through the engine vs the reference: 1e-5 (test/engine/quant.test.ts, docs/testing.md). */
const RUN_TOL = 1e-5;

interface Run { name: string; seed: number; temperature: number; topK: number; promptRows: number; vectors: number[][]; codes: number[][][] }
interface SamplerRef { promptTexts: string[]; prompt: number[][]; runs: Run[] }
const ref = fixture<SamplerRef>('reference/tiny-quant-d/sampler.json');
const run = (name: string) => ref.runs.find((r) => r.name === name)!;
/** The reference's prompt (raw encoder vectors of its three sentences) as context concepts. */
const prompt = () => ref.prompt.map((v) => ({ embedding: Float32Array.from(v) }));

describe('the engine host on a Quant-LCM pack', () => {
  let host: EngineHost;
  beforeAll(() => {
    host = new EngineHost();
  });
  afterAll(() => host.close());

  it('reports the pack\'s temperature/top-k defaults and codebook size (and no diffusion settings)', async () => {
    const pack = await host.load({ packDir: QUANT_PACK, provider: 'cpu' });
    expect(pack).toMatchObject({ architecture: 'quant-discrete', quantSampling: { temperature: 0.8, topK: 6 }, codebookSize: 16, sampling: null, trainSteps: null });
    const manifest = JSON.parse(readFileSync(join(QUANT_PACK, 'manifest.json'), 'utf8')) as { lcm: { sampling: unknown; codebooks: { size: number } } };
    expect(pack.quantSampling).toEqual(manifest.lcm.sampling);
    expect(pack.codebookSize).toBe(manifest.lcm.codebooks.size);
  });

  it('regenerate with `quant` in the worker = the PyTorch reference: temperature 0 is greedy, 5 draws other units; none = the pack\'s defaults', async () => {
    // One candidate for the position after the prompt draws what the reference run drew for its first concept.
    const regenerate = async (seed: number, quant?: { temperature?: number; topK?: number }) => {
      const r = await host.call('regenerate', { context: prompt(), index: ref.prompt.length, count: 1, seed, lang: 'eng_Latn', ...(quant ? { quant } : {}) });
      expect(r.candidates).toHaveLength(1);
      return r.candidates[0]!.embedding;
    };
    for (const name of ['greedy', 'hot', 'defaults']) expect(run(name).promptRows).toBe(ref.prompt.length);
    const greedy = await regenerate(7, { temperature: 0 });
    expectClose(greedy, run('greedy').vectors[0]!, RUN_TOL, 'temperature 0');
    expectClose(await regenerate(12345, { temperature: 0 }), run('greedy').vectors[0]!, RUN_TOL, 'temperature 0, another seed');
    // top-k 1 is the argmax at any temperature (the reference's topK1 run has the greedy codes).
    expectClose(await regenerate(9, { temperature: 1, topK: 1 }), run('topK1').vectors[0]!, RUN_TOL, 'top-k 1');

    const hot = await regenerate(7, { temperature: 5, topK: 0 });
    expectClose(hot, run('hot').vectors[0]!, RUN_TOL, 'temperature 5, all units');
    expect(run('hot').codes[0]).not.toEqual(run('greedy').codes[0]);
    expect(Array.from(hot)).not.toEqual(Array.from(greedy));

    // Without overrides the pack's defaults (0.8, top 6) apply: the reference's "defaults" run.
    expectClose(await regenerate(7), run('defaults').vectors[0]!, RUN_TOL, 'pack defaults');
    // One field overrides, the other stays the pack's: temperature 5 with the pack's top-k 6 is not the all-units run.
    const hotTop6 = await regenerate(7, { temperature: 5 });
    expect(Array.from(hotTop6)).not.toEqual(Array.from(hot));
  });

  it('continue passes `quant` too: temperature 0 gives the same concepts for any seed, as the engine in this thread', async () => {
    const context = ref.promptTexts.map((text) => ({ text, lang: 'eng_Latn' }));
    const texts = async (seed: number, quant: { temperature?: number; topK?: number }) => {
      const got: string[] = [];
      await host.call('continue', { context, seed, count: 2, quant }, { onConcept: (c) => got.push(c.text) });
      return got;
    };
    const a = await texts(1, { temperature: 0 });
    expect(a.length).toBeGreaterThan(0);
    expect(await texts(2, { temperature: 0 })).toEqual(a);
    const local = await ConceptEngine.open(QUANT_PACK);
    try {
      const mine: string[] = [];
      const stream = local.continue(context, { seed: 3, count: 2, quant: { temperature: 0 } });
      for (let next = await stream.next(); !next.done; next = await stream.next()) mine.push(next.value.text);
      expect(mine).toEqual(a);
    } finally {
      await local.close();
    }
  });

  it('a top-k over the codebook size is the engine\'s BAD_INPUT, naming the size', async () => {
    const error = await host.call('regenerate', { context: prompt(), index: 3, count: 1, seed: 1, quant: { topK: 17 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'BAD_INPUT', message: 'top-k must be an integer from 0 (all units) to 16 (the codebook size), got 17.' });
  });

  it('a diffusion pack ignores `quant` (and a Quant-LCM pack ignores `sampling`)', async () => {
    const sampling = { inferenceSteps: 4 };
    const diffusion = new EngineHost();
    try {
      await diffusion.load({ packDir: TINY_PACK, provider: 'cpu' });
      const context = ref.promptTexts.map((text) => ({ text, lang: 'eng_Latn' }));
      const plain = await diffusion.call('regenerate', { context, index: 3, count: 2, seed: 5, sampling });
      const withQuant = await diffusion.call('regenerate', { context, index: 3, count: 2, seed: 5, sampling, quant: { temperature: 0, topK: 999 } });
      expect(withQuant.candidates).toHaveLength(2);
      expect(withQuant.candidates.map((c) => Array.from(c.embedding))).toEqual(plain.candidates.map((c) => Array.from(c.embedding)));
    } finally {
      await diffusion.close();
    }
    const quant = await host.call('regenerate', { context: prompt(), index: 3, count: 1, seed: 7, quant: { temperature: 0 }, sampling: { inferenceSteps: 4, guidanceScale: 2 } });
    expectClose(quant.candidates[0]!.embedding, run('greedy').vectors[0]!, RUN_TOL, 'greedy with diffusion settings given');
  });
});

const insert = (id: string, text: string, after: string | null): ConceptEdit => ({ op: 'insert', concept: { id, text }, after });

describe('jobs and settings on a Quant-LCM pack', () => {
  let q: TestStudio;
  let documentId: string;
  beforeAll(async () => {
    q = testStudio({ service: { env: { CONCEPT_STUDIO_PACK: QUANT_PACK } } });
    const doc = await q.service.createDocument({ title: 'Quant', language: 'eng_Latn' });
    documentId = doc.id;
    const [a, b, c] = ref.promptTexts;
    await q.service.saveEdits({ documentId, edits: [insert('q-1', a!, null), insert('q-2', b!, 'q-1'), insert('q-3', c!, 'q-2')] });
  });
  afterAll(() => q.close());

  /** Regenerate's candidate texts for the third concept, or the job's error. */
  async function regenerate(options: JobOptions, count = 3): Promise<{ texts: string[]; events: JobEvent[] }> {
    const request: JobRequest & JobOptions = { kind: 'regenerate', documentId, conceptId: 'q-3', count, ...options };
    const { jobId } = await q.service.startJob(request);
    const events = await q.finished(jobId);
    const candidates = events.find((e): e is Extract<JobEvent, { type: 'candidates' }> => e.type === 'candidates');
    return { texts: candidates?.candidates.map((c) => c.text) ?? [], events };
  }

  it('appInfo shows the pack\'s temperature/top-k defaults and codebook size to the renderer', async () => {
    const info = await q.service.appInfo();
    expect(info.pack).toMatchObject({ name: 'tiny-quant-d', architecture: 'quant-discrete', quantSampling: { temperature: 0.8, topK: 6 }, codebookSize: 16, sampling: null });
  });

  it('settings temperature 0 makes Regenerate greedy (= the engine\'s greedy sampling, for any seed); a job\'s temperature 5 differs with the same seed', async () => {
    await q.service.updateSettings({ quantSampling: { temperature: 0 } });
    const greedy = await regenerate({ seed: 5 });
    expect(greedy.events.at(-1)!.type).toBe('done');
    expect(greedy.texts).toHaveLength(3);
    expect(new Set(greedy.texts).size).toBe(1); // greedy: every candidate is the argmax
    expect((await regenerate({ seed: 6 })).texts).toEqual(greedy.texts);

    const local = await ConceptEngine.open(QUANT_PACK);
    try {
      const context = ref.promptTexts.slice(0, 2).map((text) => ({ text, lang: 'eng_Latn' }));
      const mine = async (quant: { temperature?: number; topK?: number }) =>
        (await local.regenerate(context, 2, { seed: 5, count: 3, lang: 'eng_Latn', quant })).candidates.map((c) => c.text);
      expect(greedy.texts).toEqual(await mine({ temperature: 0 }));

      // The request's temperature overrides the settings' (field by field: top-k stays the pack's 6).
      const hot = await regenerate({ seed: 5, quantSampling: { temperature: 5 } });
      expect(hot.texts).toEqual(await mine({ temperature: 5 }));
      expect(hot.texts).not.toEqual(greedy.texts);
      expect(new Set(hot.texts).size).toBeGreaterThan(1);
      const hotAll = await regenerate({ seed: 5, quantSampling: { temperature: 5, topK: 0 } });
      expect(hotAll.texts).toEqual(await mine({ temperature: 5, topK: 0 }));

      // Settings back to the pack's defaults: the engine's defaults, not greedy.
      await q.service.updateSettings({ quantSampling: null });
      const defaults = await regenerate({ seed: 5 });
      expect(defaults.texts).toEqual(await mine({}));
      expect(defaults.texts).not.toEqual(greedy.texts);
    } finally {
      await local.close();
    }
  }, 120_000);

  it('the job record keeps the overrides it ran with (settings merged with the request)', async () => {
    await q.service.updateSettings({ quantSampling: { temperature: 0.3 } });
    try {
      const { events } = await regenerate({ seed: 8, quantSampling: { topK: 2 } }, 2);
      const started = events.find((e): e is Extract<JobEvent, { type: 'started' }> => e.type === 'started')!;
      expect(started.job.params).toMatchObject({ quantSampling: { temperature: 0.3, topK: 2 } });
      expect(started.job.params).not.toHaveProperty('sampling');
      // Each candidate (and each generated concept) records them too: the inspector's Parameters.
      const candidates = q.store.candidates('q-3').filter((c) => c.jobId === started.job.id);
      expect(candidates.map((c) => c.params)).toEqual([
        { kind: 'regenerate', index: 0, quantSampling: { temperature: 0.3, topK: 2 } }, { kind: 'regenerate', index: 1, quantSampling: { temperature: 0.3, topK: 2 } },
      ]);
      const { jobId } = await q.service.startJob({ kind: 'continue', documentId, afterConceptId: 'q-3', count: 1, seed: 8 });
      const made = (await q.finished(jobId)).filter((e): e is Extract<JobEvent, { type: 'concept' }> => e.type === 'concept');
      expect(made.map((e) => e.concept.params)).toEqual([{ kind: 'continue', index: 0, quantSampling: { temperature: 0.3 } }]);
    } finally {
      await q.service.updateSettings({ quantSampling: null });
    }
  });

  it('a top-k over the pack\'s codebook size is refused before a job is made, naming where it came from; the engine refuses it too', async () => {
    const jobsBefore = q.store.jobs.list({ documentId }).length;
    await expect(q.service.startJob({ kind: 'regenerate', documentId, conceptId: 'q-3', count: 3, seed: 1, quantSampling: { topK: 17 } })).rejects.toMatchObject({
      code: 'BAD_INPUT', message: 'Pack tiny-quant-d samples from codebooks of 16 units, but this job asks for top-k 17; use 0 (all units) to 16, or leave it empty for the pack\'s default.',
    });
    await q.service.updateSettings({ quantSampling: { topK: 64 } });
    try {
      await expect(q.service.startJob({ kind: 'continue', documentId, afterConceptId: 'q-3', count: 1, seed: 1 })).rejects.toMatchObject({
        code: 'BAD_INPUT', message: expect.stringMatching(/^Pack tiny-quant-d samples from codebooks of 16 units, but Settings \(Sampling, Top-k\) ask for top-k 64; /),
      });
      // The job's own value wins over the settings' (field by field): a valid one runs.
      const ok = await regenerate({ seed: 1, quantSampling: { topK: 16 } });
      expect(ok.events.at(-1)!.type).toBe('done');
    } finally {
      await q.service.updateSettings({ quantSampling: null });
    }
    expect(q.store.jobs.list({ documentId })).toHaveLength(jobsBefore + 1);
    // Past the service (a pack swapped under a queued job, say), the engine refuses it with its own message.
    const engineError = await q.service.engine.call('regenerate', { context: prompt(), index: 3, count: 1, seed: 1, quant: { topK: 17 } }).catch((e: unknown) => e);
    expect(engineError).toMatchObject({ code: 'BAD_INPUT', message: 'top-k must be an integer from 0 (all units) to 16 (the codebook size), got 17.' });
  });

  it('settings persist the temperature/top-k; a file written before them loads them as null (the pack\'s); a bad value falls back alone', async () => {
    const path = join(q.dir, 'settings.json');
    const saved = await q.service.updateSettings({ quantSampling: { temperature: 1.5, topK: 4 } });
    expect(saved.quantSampling).toEqual({ temperature: 1.5, topK: 4 });
    expect((JSON.parse(readFileSync(path, 'utf8')) as { settings: unknown }).settings).toEqual(saved);
    expect(new SettingsFile(path).settings).toEqual(saved);
    await q.service.updateSettings({ quantSampling: null });
    expect(new SettingsFile(path).settings.quantSampling).toBeNull();

    const old = join(q.dir, 'old-settings.json');
    const before = { pack: null, provider: 'cpu', sampling: { inferenceSteps: 8 }, seed: 3, theme: 'dark', defaultLanguage: 'fra_Latn' };
    writeFileSync(old, JSON.stringify({ format: 'concept-studio-settings', formatVersion: 1, settings: before, recentDocuments: [] }));
    const loaded = new SettingsFile(old);
    expect(loaded.problem).toBeUndefined();
    expect(loaded.settings).toEqual({ ...before, quantSampling: null });
    expect(loaded.update({ quantSampling: { topK: 2 } }).quantSampling).toEqual({ topK: 2 });
    expect(new SettingsFile(old).settings).toEqual({ ...before, quantSampling: { topK: 2 } });

    writeFileSync(old, JSON.stringify({ format: 'concept-studio-settings', formatVersion: 1, settings: { ...before, quantSampling: { temperature: -1, topK: 2 } } }));
    const bad = new SettingsFile(old);
    expect(bad.settings).toEqual({ ...before, quantSampling: null });
    expect(bad.problem).toMatch(/settings\.quantSampling\.temperature must be a number from 0 to 100, got -1\..*The defaults are used for that setting/);
  });

  it('the web host takes the settings and a job\'s overrides through the same dispatch (validated), and its events say the same', async () => {
    const web = await startWebHost({ api: q.service, rendererDir: null });
    const base = `http://127.0.0.1:${web.port}`;
    try {
      const socket = (url: string) => new WebSocket(url, { headers: { origin: base } }) as unknown as SocketLike;
      const client = createWebClient({ baseUrl: base, token: web.token, fetch: (url, init) => fetch(url, init), socket });
      expect((await client.appInfo()).pack).toMatchObject({ quantSampling: { temperature: 0.8, topK: 6 }, codebookSize: 16 });
      expect((await client.updateSettings({ quantSampling: { temperature: 0 } })).quantSampling).toEqual({ temperature: 0 });
      await expect(client.updateSettings({ quantSampling: { topK: -1 } })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/^updateSettings: req\.quantSampling\.topK must be an integer from 0 to 65536, got -1\. 0 keeps all units/) });
      expect((await client.getSettings()).quantSampling).toEqual({ temperature: 0 });

      const seen: JobEvent[] = [];
      const off = client.onJobEvent((e) => seen.push(e));
      await new Promise((r) => setTimeout(r, 200)); // the socket opens
      const job = async (options: JobOptions) => {
        const { jobId } = await client.startJob({ kind: 'regenerate', documentId, conceptId: 'q-3', count: 2, seed: 5, ...options });
        await expect.poll(() => seen.some((e) => e.jobId === jobId && (e.type === 'done' || e.type === 'error')), { timeout: 30_000 }).toBe(true);
        return seen.filter((e) => e.jobId === jobId);
      };
      const texts = (events: JobEvent[]) => events.flatMap((e) => (e.type === 'candidates' ? e.candidates.map((c) => c.text) : []));
      const greedy = texts(await job({}));
      expect(greedy).toHaveLength(2);
      expect(greedy[1]).toBe(greedy[0]);
      await expect(client.startJob({ kind: 'regenerate', documentId, conceptId: 'q-3', count: 2, seed: 5, quantSampling: { topK: 17 } }))
        .rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/codebooks of 16 units, but this job asks for top-k 17/) });
      off();
    } finally {
      await q.service.updateSettings({ quantSampling: null });
      await web.close();
    }
  }, 60_000);
});
