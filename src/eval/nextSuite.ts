/**
 * The next-concept suite, as recipe/train/evaluate.py runs it on the PyTorch side:
 *
 * - next concept: for each held-out document and its position n, one LCM sample (the pack's sampling settings,
 *   seeded) from the concepts before n; its cosine to the true concept n, against two baselines that need no
 *   model: the previous concept (n − 1) and the mean of the context's concepts. Raw SONAR space throughout.
 *   Beside it (this suite only, not the PyTorch side), the cosine of the mean of CONSENSUS_SAMPLES further
 *   samples: a point estimate like the baselines, which tells sampling spread from a wrong direction.
 * - continuation: the first PROMPT_CONCEPTS concepts of a document as the prompt, up to CONTINUATION_CONCEPTS
 *   generated (the engine's Continue, stopping at end of text); local coherence (mean cos(n, n + 2) over all pairs)
 *   and REP-4 of the decoded text, with the same figures for the document's true continuation beside them.
 */
import { joinSentences } from '../inference/engine.ts';
import { coherenceCosines, cosine } from '../inference/metrics/coherence.ts';
import { repetitionRate } from '../inference/metrics/ngrams.ts';
import { createRng } from '../inference/rng.ts';
import { byLanguage, limitPerLanguage, loadSuite, supportedItems, type NextItem } from './suites.ts';
import type { CosineRow, Example, NextResult, Skipped, SuiteContext } from './types.ts';
import { collect, itemSeed, SeedStream, mean, meanOrNull, secondsSince, tally } from './util.ts';

/** recipe/train/evaluate.py EvaluateConfig: gen_prompt = 4, gen_concepts = 8. */
export const PROMPT_CONCEPTS = 4;
export const CONTINUATION_CONCEPTS = 8;
/** Documents per language that are continued (generation is the slow part: 8 diffusion runs and decodes each). */
export const CONTINUATION_DOCS_PER_LANGUAGE = 5;
/** Samples averaged for the consensus figure (one diffusion batch per position). */
export const CONSENSUS_SAMPLES = 8;

function contextMean(vectors: readonly (Float32Array | Float64Array)[]): Float64Array {
  const out = new Float64Array(vectors[0]!.length);
  for (const v of vectors) for (let i = 0; i < v.length; i++) out[i]! += v[i]!;
  for (let i = 0; i < out.length; i++) out[i]! /= vectors.length;
  return out;
}

async function encodeDocuments(ctx: SuiteContext, lang: string, docs: readonly NextItem[]): Promise<Float32Array[][]> {
  const flat = await ctx.engine.encode(docs.flatMap((d) => d.sentences), lang, ctx.signal);
  let at = 0;
  return docs.map((d) => flat.slice(at, (at += d.sentences.length)));
}

export async function runNext(ctx: SuiteContext): Promise<NextResult | Skipped> {
  const start = performance.now();
  const { items, note } = supportedItems(limitPerLanguage(loadSuite('next', ctx.suitesDir), ctx.limit), ctx.engine.pack.languageCodes);
  if (items.length === 0) return { status: 'skipped', reason: `the pack supports none of the suite's languages. ${note ?? ''}`.trim() };
  const sampling = ctx.engine.sampleOptions({ sampling: ctx.sampling });
  const maxConcepts = Math.min(CONTINUATION_CONCEPTS, ctx.engine.pack.manifest.lcm.stopping.maxConcepts);
  const rows: CosineRow[] = [];
  const all = { lcm: [] as number[], lcmConsensus: [] as number[], previous: [] as number[], contextMean: [] as number[] };
  const coherence = { generated: [] as number[], reference: [] as number[] };
  const rep4 = { generated: [] as number[], reference: [] as number[] };
  const stops: string[] = [];
  const examples: Example[] = [];
  let k = 0;
  let continued = 0;
  let generated = 0;
  for (const [lang, docs] of byLanguage(items)) {
    const vectors = await encodeDocuments(ctx, lang, docs);
    const got = { lcm: [] as number[], lcmConsensus: [] as number[], previous: [] as number[], contextMean: [] as number[] };
    for (let d = 0; d < docs.length; d++) {
      ctx.progress(`next: ${lang} ${d + 1}/${docs.length}`);
      const n = docs[d]!.position;
      const v = vectors[d]!;
      const lcmCtx = await ctx.engine.lcm.newContext();
      await lcmCtx.append(v.slice(0, n), ctx.signal);
      const signal = ctx.signal ? { signal: ctx.signal } : {};
      const [sample] = await lcmCtx.sample({ candidates: 1, rng: createRng(itemSeed(ctx.seed, SeedStream.next, k)), ...sampling, ...signal });
      const more = await lcmCtx.sample({ candidates: CONSENSUS_SAMPLES, rng: createRng(itemSeed(ctx.seed, SeedStream.consensus, k++)), ...sampling, ...signal });
      got.lcm.push(cosine(sample!, v[n]!));
      got.lcmConsensus.push(cosine(contextMean(more), v[n]!));
      got.previous.push(cosine(v[n - 1]!, v[n]!));
      got.contextMean.push(cosine(contextMean(v.slice(0, n)), v[n]!));
    }
    rows.push({ lang, n: docs.length, lcm: mean(got.lcm), lcmConsensus: mean(got.lcmConsensus), previous: mean(got.previous), contextMean: mean(got.contextMean) });
    for (const key of ['lcm', 'lcmConsensus', 'previous', 'contextMean'] as const) all[key].push(...got[key]);

    const toContinue = docs.map((doc, i) => ({ doc, v: vectors[i]! })).filter(({ doc }) => doc.sentences.length > PROMPT_CONCEPTS).slice(0, CONTINUATION_DOCS_PER_LANGUAGE);
    for (const [i, { doc, v }] of toContinue.entries()) {
      ctx.progress(`next: continuing ${lang} ${i + 1}/${toContinue.length}`);
      const prompt = doc.sentences.slice(0, PROMPT_CONCEPTS).map((text, j) => ({ text, lang, embedding: v[j]! }));
      const { concepts, result } = await collect(
        ctx.engine.continue(prompt, { count: maxConcepts, seed: itemSeed(ctx.seed, SeedStream.continue, continued++), lang, decode: ctx.decode, sampling: ctx.sampling, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
      );
      stops.push(result.stop);
      generated += concepts.length;
      const text = joinSentences(concepts.map((c) => c.text), lang);
      const trueText = doc.sentences.slice(PROMPT_CONCEPTS, PROMPT_CONCEPTS + maxConcepts);
      coherence.generated.push(...coherenceCosines(concepts.map((c) => c.embedding)));
      coherence.reference.push(...coherenceCosines(v.slice(PROMPT_CONCEPTS, PROMPT_CONCEPTS + maxConcepts)));
      if (concepts.length > 0) rep4.generated.push(repetitionRate(text, 4));
      rep4.reference.push(repetitionRate(joinSentences(trueText, lang), 4));
      if (i === 0) examples.push({ lang, input: joinSentences(prompt.map((p) => p.text), lang), output: text, reference: joinSentences(trueText, lang) });
    }
  }
  return {
    status: 'ran',
    items: items.length,
    seconds: secondsSince(start),
    notes: [
      ...(note ? [note] : []),
      `Continuation: the first ${CONTINUATION_DOCS_PER_LANGUAGE} documents per language, ${PROMPT_CONCEPTS} prompt concepts, up to ${maxConcepts} generated (recipe/train/evaluate.py settings).`,
    ],
    languages: rows,
    overall: { n: all.lcm.length, lcm: mean(all.lcm), lcmConsensus: mean(all.lcmConsensus), previous: mean(all.previous), contextMean: mean(all.contextMean) },
    continuation: {
      documents: continued,
      promptConcepts: PROMPT_CONCEPTS,
      maxConcepts,
      generated,
      stops: tally(stops),
      coherence: { generated: meanOrNull(coherence.generated), reference: meanOrNull(coherence.reference) },
      rep4: { generated: meanOrNull(rep4.generated), reference: meanOrNull(rep4.reference) },
    },
    examples,
  };
}
