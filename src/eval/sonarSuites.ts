/**
 * The SONAR suites: what the embedding space keeps of a sentence (round trip: encode → decode in the same language)
 * and across languages (translation: encode in one language, decode in another), scored with corpus chrF2 and
 * corpus BLEU (sacreBLEU definitions), as recipe/train/evaluate.py scores them.
 */
import { corpusBleu } from '../inference/metrics/bleu.ts';
import { bleuTokenizerFor } from '../inference/metrics/bleuTokenizers.ts';
import { corpusChrf } from '../inference/metrics/chrf.ts';
import { byLanguage, limitPerLanguage, loadSuite, supportedItems } from './suites.ts';
import type { Example, RoundtripResult, Skipped, SuiteContext, TranslateResult } from './types.ts';
import { encodeDecode, mean, secondsSince } from './util.ts';

const ENGLISH = 'eng_Latn';

function scores(hypotheses: string[], references: string[], lang: string): { chrf: number; bleu: number; bleuTokenizer: string } {
  const bleuTokenizer = bleuTokenizerFor(lang);
  return { chrf: corpusChrf(hypotheses, references), bleu: corpusBleu(hypotheses, references, { tokenize: bleuTokenizer }).score, bleuTokenizer };
}

export async function runRoundtrip(ctx: SuiteContext): Promise<RoundtripResult | Skipped> {
  const start = performance.now();
  const { items, note } = supportedItems(limitPerLanguage(loadSuite('roundtrip', ctx.suitesDir), ctx.limit), ctx.engine.pack.languageCodes);
  if (items.length === 0) return { status: 'skipped', reason: `the pack supports none of the suite's languages. ${note ?? ''}`.trim() };
  const languages: RoundtripResult['languages'] = [];
  const examples: Example[] = [];
  for (const [lang, group] of byLanguage(items)) {
    ctx.progress(`roundtrip: ${lang} (${group.length} sentences)`);
    const texts = group.map((g) => g.text);
    const decoded = await encodeDecode(ctx.engine, texts, lang, lang, ctx.decode, ctx.signal);
    languages.push({ lang, n: texts.length, ...scores(decoded, texts, lang) });
    examples.push({ lang, input: texts[0]!, output: decoded[0]! });
  }
  return {
    status: 'ran',
    items: items.length,
    seconds: secondsSince(start),
    notes: note ? [note] : [],
    languages,
    mean: { chrf: mean(languages.map((l) => l.chrf)), bleu: mean(languages.map((l) => l.bleu)) },
    examples,
  };
}

export async function runTranslate(ctx: SuiteContext): Promise<TranslateResult | Skipped> {
  const start = performance.now();
  if (!ctx.engine.pack.languageCodes.includes(ENGLISH)) return { status: 'skipped', reason: 'every pair has English on one side and the pack has no eng_Latn.' };
  const { items, note } = supportedItems(limitPerLanguage(loadSuite('translate', ctx.suitesDir), ctx.limit), ctx.engine.pack.languageCodes);
  if (items.length === 0) return { status: 'skipped', reason: `the pack supports none of the suite's languages. ${note ?? ''}`.trim() };
  const directions: TranslateResult['directions'] = [];
  const examples: Example[] = [];
  for (const [lang, group] of byLanguage(items)) {
    ctx.progress(`translate: ${ENGLISH} ↔ ${lang} (${group.length} pairs)`);
    const english = group.map((g) => g.english);
    const other = group.map((g) => g.text);
    const out = await encodeDecode(ctx.engine, english, ENGLISH, lang, ctx.decode, ctx.signal);
    const back = await encodeDecode(ctx.engine, other, lang, ENGLISH, ctx.decode, ctx.signal);
    directions.push({ source: ENGLISH, target: lang, n: group.length, ...scores(out, other, lang) });
    directions.push({ source: lang, target: ENGLISH, n: group.length, ...scores(back, english, ENGLISH) });
    examples.push({ lang, input: english[0]!, output: out[0]!, reference: other[0]! });
  }
  const kind = (fromEnglish: boolean) => {
    const rows = directions.filter((d) => (d.source === ENGLISH) === fromEnglish);
    return rows.length ? { chrf: mean(rows.map((r) => r.chrf)), bleu: mean(rows.map((r) => r.bleu)) } : null;
  };
  return {
    status: 'ran',
    items: items.length,
    seconds: secondsSince(start),
    notes: note ? [note] : [],
    directions,
    mean: { fromEnglish: kind(true), intoEnglish: kind(false) },
    examples,
  };
}
