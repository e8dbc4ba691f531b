/**
 * `npm run bench`: speed of the concept engine on this machine, for every pack
 * present (the bundled packs and the test fixture). Prints measured figures;
 * asserts nothing (targets are judged from these numbers, never in tests).
 *
 *   encoder   sentences/s at batch 1 and batch 64
 *   decoder   generated tokens/s, greedy and beam 5
 *   LCM       milliseconds per generated concept (contextualizer + diffusion), paper settings
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ConceptEngine } from '../src/inference/engine.ts';
import { generateVectors } from '../src/inference/lcm/generate.ts';
import { listPackDirs, packSearchDirs } from '../src/inference/pack/discover.ts';
import { createRng } from '../src/inference/rng.ts';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/packs/tiny', import.meta.url));
const CORPUS = fileURLToPath(new URL('../test/fixtures/tokenizer/corpus.txt', import.meta.url));

/** Runs `fn` until at least `minMs` have passed (after one warm-up call); returns calls per second and ms per call. */
async function time(fn: () => Promise<number | void>, minMs = 1500): Promise<{ perCall: number; units: number; seconds: number }> {
  await fn();
  let units = 0;
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < minMs || calls < 2) {
    units += (await fn()) ?? 1;
    calls++;
  }
  const seconds = (performance.now() - start) / 1000;
  return { perCall: (seconds * 1000) / calls, units, seconds };
}

async function benchPack(dir: string, sentences: string[]): Promise<Record<string, string>> {
  const engine = await ConceptEngine.open(dir);
  const lang = engine.pack.languageCodes.includes('eng_Latn') ? 'eng_Latn' : engine.pack.languageCodes[0]!;
  const out: Record<string, string> = { pack: `${engine.pack.name} (${engine.pack.manifest.embeddingDim}-d)` };
  try {
    const batch1 = await time(async () => {
      for (const s of sentences.slice(0, 16)) await engine.encoder.encode([s], [lang], { batchSize: 1 });
      return 16;
    });
    out['encoder b1 sent/s'] = (batch1.units / batch1.seconds).toFixed(0);
    const batch64 = await time(async () => {
      await engine.encoder.encode(sentences.slice(0, 256), sentences.slice(0, 256).map(() => lang), { batchSize: 64 });
      return 256;
    });
    out['encoder b64 sent/s'] = (batch64.units / batch64.seconds).toFixed(0);

    const vectors = await engine.encode(sentences.slice(0, 8), lang);
    for (const [name, strategy] of [['greedy', 'greedy'], ['beam5', 'beam']] as const) {
      const r = await time(async () => {
        const d = await engine.decoder.decode(vectors, vectors.map(() => lang), { strategy, maxLength: 32 });
        return d.reduce((a, x) => a + x.tokens.length + 1, 0);
      });
      out[`decoder ${name} tok/s`] = (r.units / r.seconds).toFixed(0);
    }

    const context = await engine.encode(sentences.slice(0, 10), lang);
    const r = await time(async () => {
      const ctx = await engine.lcm.newContext();
      await ctx.append(context);
      const gen = generateVectors(ctx, { maxConcepts: 3, minConcepts: 3, rng: createRng(1), sampling: engine.lcm.samplingOptions() });
      let n = 0;
      for (let next = await gen.next(); !next.done; next = await gen.next()) n++;
      return n;
    }, 3000);
    out['LCM ms/concept'] = ((r.seconds * 1000) / r.units).toFixed(1);
  } finally {
    await engine.close();
  }
  return out;
}

async function main(): Promise<void> {
  const sentences = readFileSync(CORPUS, 'utf8').split('\n').filter((l) => l.length > 20).slice(0, 256);
  console.log(`Concept Studio engine benchmark — ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, CPU execution provider`);
  console.log('LCM: paper settings (40 steps → 50 with the reference stride, guidance 3), 10-concept context, 3 concepts per run.\n');
  const dirs = [...new Set([...listPackDirs(packSearchDirs()), FIXTURE])];
  const rows: Record<string, string>[] = [];
  for (const dir of dirs) rows.push(await benchPack(dir, sentences));
  console.table(rows);
}

await main();
await (await import('./store.ts')).runStoreBench();
