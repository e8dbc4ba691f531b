/**
 * How the time per generated concept grows with the context (the question of
 * the LCM paper's Figure 13, measured here rather than estimated): contexts of
 * 10 to 2,000 concepts, four ways of generating the next concept on the same
 * pack, each in a process of its own so that its peak memory is its own.
 *
 *   engine             LcmContext: the contextualizer's key/value cache, and the denoiser's cross-attention
 *                      keys/values computed once per context row (src/inference/lcm/twoTower.ts)
 *   engine, no caches  the same graphs without those caches (emulated here): every concept re-runs the
 *                      contextualizer over the whole document, every denoiser call re-projects every context row
 *   PyTorch            lcmref's ConceptContext, the same algorithm as the engine (recipe/bench/torch_bench.py)
 *   PyTorch, Meta's    Meta's TwoTowerDiffusionLCMGenerator: contextualizer cached, but each denoiser call
 *                      projects the whole context again, for both halves of the guidance batch
 *
 * Run alone: `tsx bench/scaling.ts [PACK]` (default: the default-shape pack). `--child` is the per-variant worker.
 * Writes docs/bench/context-scaling.svg (…-spinning.svg with BENCH_ORT_SPINNING=1) and .bench/scaling.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { f32, i64, type TensorValue } from '../src/inference/backend/ort.ts';
import { ConceptEngine } from '../src/inference/engine.ts';
import { sampleNext } from '../src/inference/lcm/sampler.ts';
import { createRng } from '../src/inference/rng.ts';
import { stack } from '../src/inference/tensor.ts';
import { lineChartSvg } from '../src/eval/lineChart.ts';
import { ENGINE_OPTIONS, fmt, loadAverage, machineLine, median, SPIN_WAIT, table, THREADS, WAITS_SUFFIX } from './measure.ts';
import { ROOT, SHAPE_PACK, torchScaling, type ScalingPoint, type TorchStatus } from './torch.ts';
import { twoTowerSpec } from '../src/inference/pack/types.ts';

export const SIZES = [10, 50, 100, 250, 500, 1000, 2000];
/** Concepts timed per point (the median is reported): 5 where a concept is cheap, 1 where the cache-less variants take seconds each. */
const CONCEPTS: Record<Variant, number[]> = {
  cached: [5, 5, 5, 5, 5, 5, 5],
  uncached: [3, 3, 3, 1, 1, 1, 1],
  torch: [5, 5, 5, 5, 5, 5, 5],
  reference: [3, 3, 3, 1, 1, 1, 1],
};
const SEED = 5;

type Variant = 'cached' | 'uncached' | 'torch' | 'reference';
const LABELS: Record<Variant, string> = {
  cached: 'engine (KV cache + per-row cross keys)',
  uncached: 'engine without caches (emulated)',
  torch: 'PyTorch lcmref, same caches as the engine',
  reference: "PyTorch, Meta's generator (re-projects the context)",
};

export interface ScalingResult {
  variant: Variant;
  label: string;
  points: ScalingPoint[];
  error?: string;
}

/** Raw context vectors: N(0, 1) rows from createRng(seed), denormalized (recipe/bench/torch_bench.py draws the same). */
function contextVectors(engine: ConceptEngine, n: number): Float32Array[] {
  const E = engine.pack.manifest.embeddingDim;
  const raw = engine.pack.normalizer.denormalize(createRng(SEED).fillNormal(new Float32Array(n * E)), n);
  return Array.from({ length: n }, (_, i) => raw.slice(i * E, (i + 1) * E));
}

const maxRssKiB = () => process.resourceUsage().maxRSS;

async function cachedPoint(engine: ConceptEngine, size: number, concepts: number, warm: boolean): Promise<ScalingPoint> {
  const vectors = contextVectors(engine, size);
  const options = engine.lcm.samplingOptions();
  // Warm-up (first point only): opens the graphs, so that neither prefill nor the first concept pays for it.
  if (warm) await (await engine.lcm.newContext()).append(vectors.slice(0, 2));
  const t0 = performance.now();
  const ctx = await engine.lcm.newContext();
  await ctx.append(vectors);
  const prefillMs = performance.now() - t0;
  const rng = createRng(2);
  const times: number[] = [];
  for (let k = 0; k < (warm ? 1 : 0) + concepts; k++) {
    // What generateVectors does per concept (src/inference/lcm/generate.ts), without its stopping checks.
    const t = performance.now();
    const [v] = await ctx.sample({ candidates: 1, rng, options });
    await ctx.append([v!]);
    times.push(performance.now() - t);
  }
  return point(size, times.slice(warm ? 1 : 0), prefillMs);
}

/** A point from the per-concept times: their median (the machine is shared; one slow concept should not move it). */
function point(size: number, times: number[], prefillMs: number): ScalingPoint {
  return { size, concepts: times.length, msPerConcept: median(times), timesMs: times, prefillMs, maxRssKiB: maxRssKiB() };
}

/** One concept with no caches: the whole context through the contextualizer, then every denoiser call re-projects every row. */
async function uncachedConcept(engine: ConceptEngine, vectors: readonly Float32Array[], seed: number): Promise<Float32Array> {
  const m = engine.pack.manifest;
  const c = m.lcm.contextualizer;
  const d = twoTowerSpec(m).denoiser; // the uncached emulation replays the Two-Tower graphs
  const E = m.embeddingDim;
  const [ctxGraph, crossGraph, denoiser] = await Promise.all([engine.pack.graph('contextualizer'), engine.pack.graph('denoiserContext'), engine.pack.graph('denoiser')]);
  // Contextualizer over the whole document, in the engine's 256-row chunks (a cache lives within this pass only).
  const hidden = new Float32Array((vectors.length + 1) * d.modelDim); // row 0: the reference's zero key
  let past: Float32Array[] = Array.from({ length: 2 * c.layers }, () => new Float32Array(0));
  for (let s = 0, p = 0; s < vectors.length; s += 256) {
    const part = vectors.slice(s, s + 256);
    const feeds: Record<string, TensorValue> = { embeddings: f32(engine.pack.normalizer.normalize(stack(part, E), part.length), [1, part.length, E]) };
    for (let i = 0; i < c.layers; i++) {
      feeds[`past_key.${i}`] = f32(past[2 * i]!, [1, c.heads, p, c.modelDim / c.heads]);
      feeds[`past_value.${i}`] = f32(past[2 * i + 1]!, [1, c.heads, p, c.modelDim / c.heads]);
    }
    const out = await ctxGraph.run(feeds);
    past = Array.from({ length: 2 * c.layers }, (_, k) => out[`${k % 2 ? 'present_value' : 'present_key'}.${k >> 1}`]!.data as Float32Array);
    hidden.set(out.hidden!.data as Float32Array, (1 + s) * d.modelDim);
    p += part.length;
  }
  const M = vectors.length + 1;
  const x0 = await sampleNext({
    schedule: engine.lcm.schedule,
    options: engine.lcm.samplingOptions(),
    dim: E,
    candidates: 1,
    rng: createRng(seed),
    denoise: async (latents, timestep, withUnconditional) => {
      const cross = await crossGraph.run({ context: f32(hidden, [1, M, d.modelDim]) });
      const feeds: Record<string, TensorValue> = {};
      for (const [name, value] of Object.entries(cross)) feeds[name] = value;
      const rows = withUnconditional ? 2 : 1;
      const noisy = new Float32Array(rows * E);
      noisy.set(latents);
      if (withUnconditional) noisy.set(latents, E);
      const mask = new Float32Array(rows * M);
      mask.fill(1, 0, M);
      if (withUnconditional) mask[M] = 1;
      const out = await denoiser.runFloat({ ...feeds, noisy: f32(noisy, [rows, E]), timesteps: i64(new Array<number>(rows).fill(timestep), [rows]), cross_mask: f32(mask, [rows, M]) }, 'x0');
      return withUnconditional ? { conditional: out.data.slice(0, E), unconditional: out.data.slice(E) } : { conditional: out.data };
    },
  });
  return engine.pack.normalizer.denormalize(x0, 1);
}

async function uncachedPoint(engine: ConceptEngine, size: number, concepts: number, warm: boolean): Promise<ScalingPoint> {
  const vectors = contextVectors(engine, size);
  if (warm) await uncachedConcept(engine, vectors, 1);
  const times: number[] = [];
  for (let k = 0; k < concepts; k++) {
    const t = performance.now();
    vectors.push(await uncachedConcept(engine, vectors, 2 + k));
    times.push(performance.now() - t);
  }
  return point(size, times, Number.NaN);
}

/** The per-variant worker: prints one JSON line of points. */
async function child(variant: 'cached' | 'uncached', pack: string): Promise<void> {
  const engine = await ConceptEngine.open(pack, ENGINE_OPTIONS);
  const points: ScalingPoint[] = [];
  for (const [i, size] of SIZES.entries()) {
    const point = await (variant === 'cached' ? cachedPoint : uncachedPoint)(engine, size, CONCEPTS[variant][i]!, i === 0);
    process.stderr.write(`[engine ${variant}] ${size}: ${point.msPerConcept.toFixed(0)} ms/concept\n`);
    points.push(point);
  }
  await engine.close();
  process.stdout.write(`${JSON.stringify({ points, maxRssKiB: maxRssKiB() })}\n`);
}

function runChild(variant: 'cached' | 'uncached', pack: string): Promise<ScalingPoint[]> {
  return new Promise((ok, fail) => {
    const proc = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), fileURLToPath(import.meta.url), '--child', variant, pack], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('close', (code) => (code === 0 ? ok((JSON.parse(out) as { points: ScalingPoint[] }).points) : fail(new Error(`scaling worker (${variant}) exited with status ${code}`))));
  });
}

/** Runs every variant on `pack`, prints the table, writes the chart to docs/bench/context-scaling.svg and the figures to .bench/scaling.json. */
export async function runScaling(pack: string, torch: TorchStatus): Promise<ScalingResult[]> {
  console.log(`\n## Time per generated concept vs context (${SIZES.join(', ')} concepts), pack ${pack}`);
  console.log(`load average at start: ${loadAverage()}`);
  const results: ScalingResult[] = [];
  const attempt = async (variant: Variant, fn: () => Promise<ScalingPoint[]>) => {
    try {
      results.push({ variant, label: LABELS[variant], points: await fn() });
    } catch (error) {
      results.push({ variant, label: LABELS[variant], points: [], error: (error as Error).message });
      console.log(`${LABELS[variant]}: FAILED: ${(error as Error).message}`);
    }
  };
  await attempt('cached', () => runChild('cached', pack));
  await attempt('uncached', () => runChild('uncached', pack));
  if (torch.ok) {
    await attempt('torch', async () => (await torchScaling({ pack, threads: THREADS, variant: 'cached', sizes: SIZES, concepts: CONCEPTS.torch, seed: SEED })).points);
    await attempt('reference', async () => (await torchScaling({ pack, threads: THREADS, variant: 'reference', sizes: SIZES, concepts: CONCEPTS.reference, seed: SEED })).points);
  } else {
    console.log(`PyTorch curves skipped: ${torch.reason}`);
  }
  const by = (r: ScalingResult, size: number) => r.points.find((p) => p.size === size);
  console.log(table([
    ['context', ...results.map((r) => `${r.variant} ms/concept`), 'engine prefill ms', ...results.map((r) => `${r.variant} peak MiB`)],
    ...SIZES.map((size) => [
      String(size),
      ...results.map((r) => fmt(by(r, size)?.msPerConcept, 1)),
      fmt(by(results[0]!, size)?.prefillMs, 0),
      ...results.map((r) => fmt((by(r, size)?.maxRssKiB ?? Number.NaN) / 1024, 0)),
    ]),
  ]));
  const plotted = results.filter((r) => r.points.length > 0);
  if (plotted.length > 0) {
    const svg = lineChartSvg({
      title: 'Time per generated concept as the context grows',
      xLabel: 'context (concepts before the new one)',
      yLabel: 'ms per generated concept (40 → 50 steps, guidance 3)',
      logX: true,
      logY: true,
      series: plotted.map((r) => ({ name: r.label, points: r.points.map((p) => [p.size, p.msPerConcept] as const), dashed: r.variant === 'uncached' || r.variant === 'reference' })),
      caption: `${pack.split('/').slice(-1)[0]}; ${machineLine()}; onnxruntime waits ${SPIN_WAIT ? 'spinning' : 'passive'}; load ${loadAverage()}`,
    });
    mkdirSync(join(ROOT, 'docs/bench'), { recursive: true });
    const chart = `docs/bench/context-scaling${WAITS_SUFFIX}.svg`;
    writeFileSync(join(ROOT, chart), svg);
    console.log(`chart: ${chart}`);
  }
  mkdirSync(join(ROOT, '.bench'), { recursive: true });
  writeFileSync(join(ROOT, `.bench/scaling${WAITS_SUFFIX}.json`), `${JSON.stringify({ pack, machine: machineLine(), load: loadAverage(), results }, null, 2)}\n`);
  return results;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args[0] === '--child') await child(args[1] as 'cached' | 'uncached', args[2]!);
  else {
    const { probeTorch } = await import('./torch.ts');
    await runScaling(resolve(args[0] ?? SHAPE_PACK), await probeTorch());
  }
}
