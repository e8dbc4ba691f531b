/**
 * The segmenter suite: the LCM paper's segmentation study (arXiv 2412.08821 §2.2, Figure 2) on the held-out
 * paragraphs. Each paragraph is cut by three segmenters, every segment goes text → concept → text in its language,
 * and AutoBLEU (metrics/autoBleu.ts) says how much of a segment the embedding keeps:
 *
 * - `engine-200`: the engine's segmenter with its 200-character cap (the paper's best, "SaT Capped");
 * - `engine-uncapped`: the same sentence rules, no cap;
 * - `naive`: a cut after every run of `.`, `!` or `?` (abbreviations and decimals cut too; no cut in scripts that
 *   end sentences otherwise, e.g. 。).
 */
import { bleuFromStatistics, bleuStatistics, sentenceBleu } from '../inference/metrics/bleu.ts';
import { bleuTokenizerFor } from '../inference/metrics/bleuTokenizers.ts';
import { byLanguage, limitPerLanguage, loadSuite, supportedItems } from './suites.ts';
import { SEGMENTER_NAMES, type Example, type SegmenterName, type SegmenterRow, type SegmentersResult, type Skipped, type SuiteContext } from './types.ts';
import { encodeDecode, mean, meanOrNull, secondsSince } from './util.ts';

/** Segment-length buckets in characters (UTF-16 units, as the cap counts them), after the paper's Figure 2. */
export const LENGTH_BUCKETS: readonly [number, number][] = [[1, 50], [51, 100], [101, 150], [151, 200], [201, 300], [301, Infinity]];

const bucketName = ([a, b]: [number, number]) => (b === Infinity ? `>${a - 1}` : `${a}–${b}`);

/** The naive segmenter: cut after every run of ".", "!" or "?"; pieces trimmed, empty ones dropped. */
export function naiveSegments(text: string): string[] {
  return text.split(/(?<=[.!?])(?![.!?])/).map((s) => s.trim()).filter((s) => s.length > 0);
}

interface Scored {
  text: string;
  decoded: string;
  lang: string;
  bleu: number;
}

export async function runSegmenters(ctx: SuiteContext): Promise<SegmentersResult | Skipped> {
  const start = performance.now();
  const { items, note } = supportedItems(limitPerLanguage(loadSuite('segmenters', ctx.suitesDir), ctx.limit), ctx.engine.pack.languageCodes);
  if (items.length === 0) return { status: 'skipped', reason: `the pack supports none of the suite's languages. ${note ?? ''}`.trim() };
  const cut: Record<SegmenterName, (text: string, lang: string) => string[]> = {
    'engine-200': (text, lang) => ctx.engine.segment(text, lang).map((s) => s.text),
    'engine-uncapped': (text, lang) => ctx.engine.segment(text, lang, Infinity).map((s) => s.text),
    naive: (text) => naiveSegments(text),
  };
  const scored: Record<SegmenterName, Scored[]> = { 'engine-200': [], 'engine-uncapped': [], naive: [] };
  const languages: SegmentersResult['languages'] = [];
  for (const [lang, group] of byLanguage(items)) {
    ctx.progress(`segmenters: ${lang} (${group.length} paragraphs)`);
    const segments = Object.fromEntries(SEGMENTER_NAMES.map((name) => [name, group.flatMap((g) => cut[name](g.text, lang))])) as Record<SegmenterName, string[]>;
    // Most segments are shared by the segmenters: each distinct one makes the round trip once.
    const unique = [...new Set(SEGMENTER_NAMES.flatMap((name) => segments[name]))];
    const decoded = new Map<string, string>();
    (await encodeDecode(ctx.engine, unique, lang, lang, ctx.decode, ctx.signal)).forEach((d, i) => decoded.set(unique[i]!, d));
    const tokenize = bleuTokenizerFor(lang);
    const perLang = {} as Record<SegmenterName, number>;
    for (const name of SEGMENTER_NAMES) {
      const rows = segments[name].map((text) => ({ text, lang, decoded: decoded.get(text)!, bleu: sentenceBleu(decoded.get(text)!, text, { tokenize }).score }));
      scored[name].push(...rows);
      perLang[name] = mean(rows.map((r) => r.bleu));
    }
    languages.push({ lang, paragraphs: group.length, autoBleu: perLang });
  }
  const segmenters: SegmenterRow[] = SEGMENTER_NAMES.map((name) => {
    const rows = scored[name];
    // Corpus BLEU over languages: each segment tokenized for its language, statistics summed.
    const stats = rows.map((r) => bleuStatistics(r.decoded, r.text, { tokenize: bleuTokenizerFor(r.lang) })).reduce((a, b) => a.map((x, i) => x + b[i]!));
    return {
      segmenter: name,
      segments: rows.length,
      meanChars: mean(rows.map((r) => r.text.length)),
      over200: rows.filter((r) => r.text.length > 200).length / rows.length,
      autoBleu: mean(rows.map((r) => r.bleu)),
      corpusBleu: bleuFromStatistics(stats).score,
      byLength: LENGTH_BUCKETS.map((b) => {
        const inBucket = rows.filter((r) => r.text.length >= b[0] && r.text.length <= b[1]);
        return { bucket: bucketName(b), n: inBucket.length, autoBleu: meanOrNull(inBucket.map((r) => r.bleu)) };
      }),
    };
  });
  const longest = [...scored['engine-uncapped']].sort((a, b) => b.text.length - a.text.length)[0]!;
  const examples: Example[] = [{ lang: longest.lang, input: longest.text, output: longest.decoded }];
  return {
    status: 'ran',
    items: items.length,
    seconds: secondsSince(start),
    notes: [
      ...(note ? [note] : []),
      'Paragraphs are consecutive sentences of held-out documents joined again; the data stage had cut them with the engine\'s segmenter, so engine-200 tends to restore its original sentences.',
    ],
    segmenters,
    languages,
    examples,
  };
}
