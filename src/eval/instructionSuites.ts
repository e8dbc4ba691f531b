/**
 * The instruction suites, on the pack's fine-tuned formats (engine.summarize / engine.expand):
 *
 * - summarize: document → summary (up to the reference's sentence count + 2 concepts, stopping at end of text, as
 *   recipe/train/evaluate.py); ROUGE-L against the reference, with the lead-k baseline (the document's first k
 *   sentences, k = the reference's sentence count); OVL-3 against the document, REP-4, word-count ratio.
 * - expand: summary → document, exactly as many concepts as the reference document has (the engine's Expand takes
 *   the count from the writer); ROUGE-L against the document, with the summary itself as the baseline.
 *
 * ROUGE variants (docs/evaluation.md): `rougeL` on the sentences joined as the language writes them (the recipe's
 * figure) and `rougeLsum` with one sentence per line; rouge_score's tokenizer for English, the multilingual one for
 * every other language.
 */
import { joinSentences, type ConceptInput } from '../inference/engine.ts';
import { repetitionRate, sourceOverlap } from '../inference/metrics/ngrams.ts';
import { rougeL, rougeLsum } from '../inference/metrics/rougeL.ts';
import { rougeTokenizerFor } from '../inference/metrics/tokens.ts';
import { wordCount } from '../inference/metrics/wordCount.ts';
import { byLanguage, limitPerLanguage, loadSuite, supportedItems, type SummaryItem } from './suites.ts';
import type { Example, ExpandResult, ExpandRow, Skipped, SummarizeResult, SummarizeRow, SuiteContext, TextScores } from './types.ts';
import { collect, itemSeed, SeedStream, mean, secondsSince, tally } from './util.ts';

type Task = 'summarize' | 'expand';

/** The scores of hypothesis sentences against reference sentences. */
function textScores(hyp: readonly string[], ref: readonly string[], lang: string): TextScores {
  const tokenizer = rougeTokenizerFor(lang);
  const h = joinSentences(hyp, lang);
  const r = joinSentences(ref, lang);
  return {
    rougeL: rougeL(h, r, { tokenizer }).fmeasure,
    rougeLsum: rougeLsum(hyp.join('\n'), ref.join('\n'), { tokenizer }).fmeasure,
    rep4: repetitionRate(h, 4),
    // A reference always has words (suite validation); an empty generation scores 0.
    wordRatio: wordCount(h) / Math.max(1, wordCount(r)),
  };
}

function meanScores<T extends object>(rows: readonly T[]): T {
  const first = rows[0]!;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(first)) {
    out[key] = typeof value === 'number' ? mean(rows.map((r) => (r as Record<string, number>)[key]!)) : meanScores(rows.map((r) => (r as Record<string, object>)[key]!));
  }
  return out as T;
}

function prepare(ctx: SuiteContext, task: Task): { items: SummaryItem[]; notes: string[] } | Skipped {
  if (!ctx.engine.pack.manifest.lcm.instructions[task]) {
    return { status: 'skipped', reason: `the pack was not fine-tuned for ${task} (its manifest has no lcm.instructions.${task}).` };
  }
  const { items, note } = supportedItems(limitPerLanguage(loadSuite('summarize', ctx.suitesDir), ctx.limit), ctx.engine.pack.languageCodes);
  if (items.length === 0) return { status: 'skipped', reason: `the pack supports none of the suite's languages. ${note ?? ''}`.trim() };
  return { items, notes: note ? [note] : [] };
}

async function concepts(ctx: SuiteContext, lang: string, texts: readonly (readonly string[])[]): Promise<ConceptInput[][]> {
  const flat = await ctx.engine.encode(texts.flat(), lang, ctx.signal);
  let at = 0;
  return texts.map((t) => t.map((text) => ({ text, lang, embedding: flat[at++]! })));
}

/**
 * The loop both suites share: per language, encode every item's input sentences in one batch, run `each` per
 * item (with the item's seed index k, counted across languages), and average the rows per language and overall.
 * The first item of each language gives the example.
 */
async function perLanguage<Row extends object>(
  ctx: SuiteContext, task: Task, items: readonly SummaryItem[], inputOf: (item: SummaryItem) => readonly string[],
  each: (item: SummaryItem, input: ConceptInput[], lang: string, k: number) => Promise<{ row: Row; example: Example }>,
): Promise<{ perItem: Row[]; languages: (Row & { lang: string; n: number })[]; examples: Example[] }> {
  const perItem: Row[] = [];
  const languages: (Row & { lang: string; n: number })[] = [];
  const examples: Example[] = [];
  let k = 0;
  for (const [lang, group] of byLanguage(items)) {
    const inputs = await concepts(ctx, lang, group.map(inputOf));
    const rows: Row[] = [];
    for (const [i, item] of group.entries()) {
      ctx.progress(`${task}: ${lang} ${i + 1}/${group.length}`);
      const { row, example } = await each(item, inputs[i]!, lang, k++);
      rows.push(row);
      if (i === 0) examples.push(example);
    }
    languages.push({ ...meanScores(rows), lang, n: rows.length });
    perItem.push(...rows);
  }
  return { perItem, languages, examples };
}

export async function runSummarize(ctx: SuiteContext): Promise<SummarizeResult | Skipped> {
  const start = performance.now();
  const prep = prepare(ctx, 'summarize');
  if ('status' in prep) return prep;
  const maxConcepts = ctx.engine.pack.manifest.lcm.stopping.maxConcepts;
  const stops: string[] = [];
  const { perItem, languages, examples } = await perLanguage<Omit<SummarizeRow, 'lang'>>(ctx, 'summarize', prep.items, (g) => g.document, async (item, input, lang, k) => {
    const limit = Math.min(item.summary.length + 2, maxConcepts);
    const { concepts: out, result } = await collect(
      ctx.engine.summarize(input, { maxConcepts: limit, seed: itemSeed(ctx.seed, SeedStream.summarize, k), lang, decode: ctx.decode, sampling: ctx.sampling, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
    );
    stops.push(result.stop);
    const hyp = out.map((c) => c.text);
    const lead = item.document.slice(0, item.summary.length);
    const doc = joinSentences(item.document, lang);
    return {
      row: {
        n: 1,
        model: { ...textScores(hyp, item.summary, lang), ovl3: sourceOverlap(joinSentences(hyp, lang), doc, 3) },
        lead: { ...textScores(lead, item.summary, lang), ovl3: sourceOverlap(joinSentences(lead, lang), doc, 3) },
        referenceOvl3: sourceOverlap(joinSentences(item.summary, lang), doc, 3),
      },
      example: { lang, input: doc, output: joinSentences(hyp, lang), reference: joinSentences(item.summary, lang) },
    };
  });
  return {
    status: 'ran',
    items: perItem.length,
    seconds: secondsSince(start),
    notes: [...prep.notes, 'Generation: up to the reference summary\'s sentence count + 2 concepts, stopping at end of text; lead-k: the first k document sentences, k = the reference\'s sentence count.'],
    languages,
    overall: { ...meanScores(perItem), n: perItem.length },
    stops: tally(stops),
    examples,
  };
}

export async function runExpand(ctx: SuiteContext): Promise<ExpandResult | Skipped> {
  const start = performance.now();
  const prep = prepare(ctx, 'expand');
  if ('status' in prep) return prep;
  const maxConcepts = ctx.engine.pack.manifest.lcm.stopping.maxConcepts;
  const { perItem, languages, examples } = await perLanguage<Omit<ExpandRow, 'lang'>>(ctx, 'expand', prep.items, (g) => g.summary, async (item, summary, lang, k) => {
    const count = Math.min(item.document.length, maxConcepts);
    const { concepts: out } = await collect(
      ctx.engine.expand(summary, summary.length - 1, { count, withContext: true, seed: itemSeed(ctx.seed, SeedStream.expand, k), lang, decode: ctx.decode, sampling: ctx.sampling, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
    );
    const hyp = out.map((c) => c.text);
    return {
      row: { n: 1, model: textScores(hyp, item.document, lang), summary: textScores(item.summary, item.document, lang) },
      example: { lang, input: joinSentences(item.summary, lang), output: joinSentences(hyp, lang), reference: joinSentences(item.document, lang) },
    };
  });
  return {
    status: 'ran',
    items: perItem.length,
    seconds: secondsSince(start),
    notes: [...prep.notes, 'Generation: exactly as many concepts as the reference document has (Expand takes the count from the writer), all summary sentences as context.'],
    languages,
    overall: { ...meanScores(perItem), n: perItem.length },
    examples,
  };
}
