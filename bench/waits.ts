/**
 * The "waits" section: the same engine work with onnxruntime's threads
 * waiting passively (the engine's default) and spinning (onnxruntime's own
 * default), alternated call by call so both see the same machine. It is the
 * measurement behind GraphOptions.spinWait's default (docs/benchmarks.md).
 */
import { ConceptEngine } from '../src/inference/engine.ts';
import { generateVectors } from '../src/inference/lcm/generate.ts';
import { createRng } from '../src/inference/rng.ts';
import { median, THREADS } from './measure.ts';

export interface WaitsFigures {
  pack: string;
  /** Median milliseconds per call, by workload and wait mode. */
  ms: Record<string, { passive: number; spinning: number }>;
  repeats: number;
}

const SENTENCES = [
  'The lighthouse keeper wrote that the storm had passed by midnight.',
  'Prices rose sharply in the spring of that year.',
  'She opened the window and listened to the rain on the harbour.',
  'The committee will publish its findings after the summer recess.',
];

export async function benchWaits(dir: string, repeats = 5): Promise<WaitsFigures> {
  const engines = {
    passive: await ConceptEngine.open(dir, { threads: THREADS, spinWait: false }),
    spinning: await ConceptEngine.open(dir, { threads: THREADS, spinWait: true }),
  };
  try {
    const lang = engines.passive.pack.languageCodes.includes('eng_Latn') ? 'eng_Latn' : engines.passive.pack.languageCodes[0]!;
    const batch = Array.from({ length: 64 }, (_, i) => `${SENTENCES[i % SENTENCES.length]!} (${i})`);
    const vectors = await engines.passive.encoder.encode(SENTENCES, SENTENCES.map(() => lang));
    const work: Record<string, (e: ConceptEngine) => Promise<unknown>> = {
      'encoder, batch 64': (e) => e.encoder.encode(batch, batch.map(() => lang), { batchSize: 64 }),
      'decoder greedy, 4 sentences × 32 tokens': async (e) => {
        for (const v of vectors) await e.decoder.decode([v], [lang], { strategy: 'greedy', maxLength: 32 });
      },
      'decoder beam 5, 4 sentences × 32 tokens': async (e) => {
        for (const v of vectors) await e.decoder.decode([v], [lang], { strategy: 'beam', beamSize: 5, maxLength: 32 });
      },
      'LCM, 1 concept after 4': async (e) => {
        const ctx = await e.lcm.newContext();
        await ctx.append(vectors);
        const gen = generateVectors(ctx, { maxConcepts: 1, minConcepts: 1, rng: createRng(1), sampling: e.lcm.samplingOptions() });
        for (let next = await gen.next(); !next.done; next = await gen.next());
      },
    };
    const ms: WaitsFigures['ms'] = {};
    for (const [name, fn] of Object.entries(work)) {
      const times = { passive: [] as number[], spinning: [] as number[] };
      for (const mode of ['passive', 'spinning'] as const) await fn(engines[mode]); // warm-up
      for (let i = 0; i < repeats; i++) {
        // Alternate the order so neither mode always runs second.
        for (const mode of i % 2 ? (['spinning', 'passive'] as const) : (['passive', 'spinning'] as const)) {
          const t = performance.now();
          await fn(engines[mode]);
          times[mode].push(performance.now() - t);
        }
      }
      ms[name] = { passive: median(times.passive), spinning: median(times.spinning) };
    }
    return { pack: engines.passive.pack.name, ms, repeats };
  } finally {
    await engines.passive.close();
    await engines.spinning.close();
  }
}
