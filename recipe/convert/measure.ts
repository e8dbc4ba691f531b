/**
 * Encoder throughput and LCM latency of a pack with a chosen execution provider.
 *
 *   npx tsx recipe/convert/measure.ts <packDir> [--provider cpu|cuda|tensorrt|dml|coreml] [--sentences 512]
 *                                               [--concepts 4] [--steps 40] [--threads N]
 *
 * Prints the provider each graph really ran on (a CUDA request falls back to CPU, with the reason,
 * when onnxruntime-node has no CUDA), then: sentences/s and tokens/s of the encoder over
 * `--sentences` lines of test/fixtures/tokenizer/corpus.txt (after one warm-up batch), and per
 * generated concept the diffusion time (first to last denoising step) and the whole step
 * (contextualizer + diffusion + greedy decode). JSON on the last line.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PROVIDER_NAMES, type ProviderName } from '../../src/inference/backend/ort.ts';
import { ConceptEngine } from '../../src/inference/engine.ts';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const packDir = process.argv[2];
if (!packDir || packDir.startsWith('--')) {
  console.error('usage: npx tsx recipe/convert/measure.ts <packDir> [--provider cuda] [--sentences 512] [--concepts 4] [--steps 40]');
  process.exit(2);
}
const provider = option('provider', 'cpu') as ProviderName;
if (!PROVIDER_NAMES.includes(provider)) {
  console.error(`--provider must be one of ${PROVIDER_NAMES.join(', ')}`);
  process.exit(2);
}
const sentences = Number(option('sentences', '512'));
const concepts = Number(option('concepts', '4'));
const steps = Number(option('steps', '40'));
const threads = option('threads', '');

const corpus = readFileSync(fileURLToPath(new URL('../../test/fixtures/tokenizer/corpus.txt', import.meta.url)), 'utf8')
  .split('\n').map((l) => l.trim()).filter((l) => l.length > 20 && l.length < 200);
const texts = Array.from({ length: sentences }, (_, i) => corpus[i % corpus.length]!);

const engine = await ConceptEngine.open(packDir, { provider, verifyHashes: false, ...(threads ? { threads: Number(threads) } : {}) });
try {
  await engine.encode(texts.slice(0, 32), 'eng_Latn'); // warm-up: session creation, kernel selection
  const tokens = texts.reduce((n, t) => n + engine.pack.tokenizer.encode(t, 'eng_Latn').length, 0);
  let t0 = performance.now();
  const vectors = await engine.encode(texts, 'eng_Latn');
  const encodeSeconds = (performance.now() - t0) / 1000;

  const context = texts.slice(0, 8).map((text, i) => ({ text, lang: 'eng_Latn', embedding: vectors[i]! }));
  const diffusion: number[] = [];
  const perConcept: number[] = [];
  let stepStart = 0;
  const onProgress = (p: { step: number; steps: number }): void => {
    if (p.step === 1) stepStart = performance.now();
    if (p.step === p.steps) diffusion.push(performance.now() - stepStart);
  };
  t0 = performance.now();
  for await (const _ of engine.continue(context, { seed: 1, count: concepts, sampling: { inferenceSteps: steps }, decode: { strategy: 'greedy' }, onProgress })) {
    perConcept.push(performance.now() - t0);
    t0 = performance.now();
  }
  const graphs = await engine.pack.openedGraphs();
  for (const g of graphs) console.log(`${g.role}: ${g.provider}${g.fallbackReason ? ` (fallback: ${g.fallbackReason})` : ''}`);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const result = {
    pack: engine.pack.name, provider, providers: Object.fromEntries(graphs.map((g) => [g.role, g.provider])),
    encoder: { sentences, tokens, seconds: encodeSeconds, sentencesPerSecond: sentences / encodeSeconds, tokensPerSecond: tokens / encodeSeconds },
    lcm: { concepts: perConcept.length, requestedSteps: steps, diffusionMsPerConcept: mean(diffusion), msPerConcept: mean(perConcept) },
  };
  console.log(`encoder: ${result.encoder.sentencesPerSecond.toFixed(1)} sentences/s (${result.encoder.tokensPerSecond.toFixed(0)} tokens/s)`);
  console.log(`LCM: ${result.lcm.diffusionMsPerConcept.toFixed(1)} ms diffusion, ${result.lcm.msPerConcept.toFixed(1)} ms per concept with decoding`);
  console.log(JSON.stringify(result));
} finally {
  await engine.close();
}
