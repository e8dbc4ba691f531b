/**
 * Writes an EvalReport: `report.md` (tables, notes, examples, charts), one SVG chart per suite that ran, and
 * `report.json` (every figure of the Markdown, and more). Scales: chrF, BLEU and AutoBLEU 0–100; ROUGE, OVL-3,
 * REP-4 and cosines 0–1; word-count ratio as a ratio (docs/evaluation.md).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { barChart } from './svg.ts';
import { CONSENSUS_SAMPLES } from './nextSuite.ts';
import type { EvalReport, Example, ExpandResult, NextResult, RoundtripResult, SegmentersResult, Skipped, SuiteResults, SummarizeResult, TranslateResult } from './types.ts';

/** Chart files the report may write (stale ones are removed when their suite did not run). */
export const CHART_FILES = ['roundtrip-chrf.svg', 'translate-chrf.svg', 'next-cosine.svg', 'summarize-rouge.svg', 'expand-rouge.svg', 'segmenters-autobleu.svg'] as const;

const f1 = (x: number | null) => (x === null ? '–' : x.toFixed(1));
const f2 = (x: number | null) => (x === null ? '–' : x.toFixed(2));
const f3 = (x: number | null) => (x === null ? '–' : x.toFixed(3));
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const clip = (s: string, n = 240) => (Array.from(s).length > n ? `${Array.from(s).slice(0, n).join('')}…` : s);

function table(head: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const a = align ?? head.map((_, i) => (i === 0 ? 'l' : 'r'));
  return [`| ${head.join(' | ')} |`, `|${a.map((x) => (x === 'r' ? '---:' : '---')).join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

function examples(list: readonly Example[], max = 3): string {
  if (list.length === 0) return '';
  const rows = list.slice(0, max).map((e) => {
    const lines = [`- **${e.lang}** input: ${clip(e.input)}`, `  - output: ${clip(e.output) || '(empty)'}`];
    if (e.reference !== undefined) lines.push(`  - reference: ${clip(e.reference)}`);
    return lines.join('\n');
  });
  return `<details><summary>Examples</summary>\n\n${rows.join('\n')}\n\n</details>\n`;
}

function notes(list: readonly string[]): string {
  return list.length ? `${list.map((n) => `- ${n}`).join('\n')}\n` : '';
}

function ran<T extends { status: 'ran' }>(x: T | Skipped | undefined): T | undefined {
  return x && x.status === 'ran' ? (x as T) : undefined;
}

type Charts = Partial<Record<(typeof CHART_FILES)[number], string>>;

function roundtripSection(r: RoundtripResult, charts: Charts): string {
  charts['roundtrip-chrf.svg'] = barChart({
    title: 'Round trip (encode → decode): corpus chrF2 and BLEU per language',
    categories: r.languages.map((l) => l.lang),
    series: [{ name: 'chrF', values: r.languages.map((l) => l.chrf) }, { name: 'BLEU', values: r.languages.map((l) => l.bleu) }],
    yLabel: '0–100',
    yMax: 100,
  });
  return [
    '## Round trip\n',
    'Each sentence (5–25 words) is encoded and decoded in its own language: what a concept keeps of its text.\n',
    '![Round-trip chrF per language](roundtrip-chrf.svg)\n',
    table(['language', 'sentences', 'chrF', 'BLEU', 'BLEU tokenizer'], [
      ...r.languages.map((l) => [l.lang, String(l.n), f1(l.chrf), f1(l.bleu), l.bleuTokenizer]),
      ['**mean**', String(r.items), `**${f1(r.mean.chrf)}**`, `**${f1(r.mean.bleu)}**`, ''],
    ]),
    '',
    notes(r.notes),
    examples(r.examples),
  ].join('\n');
}

function translateSection(r: TranslateResult, charts: Charts): string {
  const langs = [...new Set(r.directions.map((d) => (d.source === 'eng_Latn' ? d.target : d.source)))];
  const get = (src: string, tgt: string) => r.directions.find((d) => d.source === src && d.target === tgt) ?? null;
  charts['translate-chrf.svg'] = barChart({
    title: 'Translation through the concept space: corpus chrF2 per direction',
    categories: langs,
    series: [
      { name: 'eng_Latn → language', values: langs.map((l) => get('eng_Latn', l)?.chrf ?? null) },
      { name: 'language → eng_Latn', values: langs.map((l) => get(l, 'eng_Latn')?.chrf ?? null) },
    ],
    yLabel: 'chrF',
    yMax: 100,
  });
  return [
    '## Translation\n',
    'Encoded in one language, decoded in the other; both directions of every English pair.\n',
    '![Translation chrF per direction](translate-chrf.svg)\n',
    table(['direction', 'pairs', 'chrF', 'BLEU', 'BLEU tokenizer'], r.directions.map((d) => [`${d.source} → ${d.target}`, String(d.n), f1(d.chrf), f1(d.bleu), d.bleuTokenizer])),
    '',
    table(['mean over languages', 'chrF', 'BLEU'], [
      ['eng_Latn → language', f1(r.mean.fromEnglish?.chrf ?? null), f1(r.mean.fromEnglish?.bleu ?? null)],
      ['language → eng_Latn', f1(r.mean.intoEnglish?.chrf ?? null), f1(r.mean.intoEnglish?.bleu ?? null)],
    ]),
    '',
    notes(r.notes),
    examples(r.examples),
  ].join('\n');
}

function nextSection(r: NextResult, charts: Charts): string {
  const rows = [...r.languages, { lang: 'all', ...r.overall }];
  charts['next-cosine.svg'] = barChart({
    title: 'Next concept: mean cosine to the true next concept',
    categories: rows.map((x) => x.lang),
    series: [
      { name: 'LCM sample', values: rows.map((x) => x.lcm) },
      { name: `mean of ${CONSENSUS_SAMPLES} LCM samples`, values: rows.map((x) => x.lcmConsensus) },
      { name: 'previous concept', values: rows.map((x) => x.previous) },
      { name: 'mean of context', values: rows.map((x) => x.contextMean) },
    ],
    yLabel: 'cosine',
    yMax: 1,
  });
  const c = r.continuation;
  return [
    '## Next concept\n',
    `One LCM sample for a held-out position of each document, from the concepts before it; cosine to the true concept (raw SONAR space), against two baselines without a model. Beside it, the mean of ${CONSENSUS_SAMPLES} further samples: a point estimate, as the baselines are (a diagnostic; the sample is the figure).\n`,
    '![Next-concept cosine](next-cosine.svg)\n',
    table(['language', 'positions', 'LCM sample', `mean of ${CONSENSUS_SAMPLES} samples`, 'previous concept', 'mean of context'], rows.map((x) => [x.lang === 'all' ? '**all**' : x.lang, String(x.n), f3(x.lcm), f3(x.lcmConsensus), f3(x.previous), f3(x.contextMean)])),
    '',
    `### Continuation\n\n${c.documents} documents, ${c.promptConcepts} prompt concepts, up to ${c.maxConcepts} generated (${c.generated} in all; stops: ${Object.entries(c.stops).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}).\n`,
    table(['figure', 'generated', 'true continuation'], [
      ['local coherence, mean cos(n, n+2)', f3(c.coherence.generated), f3(c.coherence.reference)],
      ['REP-4 (share of repeated 4-grams)', f3(c.rep4.generated), f3(c.rep4.reference)],
    ]),
    '',
    notes(r.notes),
    examples(r.examples),
  ].join('\n');
}

function summarizeSection(r: SummarizeResult, charts: Charts): string {
  const rows = [...r.languages, { lang: 'all', ...r.overall }];
  charts['summarize-rouge.svg'] = barChart({
    title: 'Summarization: ROUGE-L F1 against the reference summary',
    categories: rows.map((x) => x.lang),
    series: [{ name: 'LCM summary', values: rows.map((x) => x.model.rougeL) }, { name: 'lead-k baseline', values: rows.map((x) => x.lead.rougeL) }],
    yLabel: 'ROUGE-L F1',
    yMax: 1,
  });
  return [
    '## Summarization\n',
    'Document → summary in the pack\'s instruction format. ROUGE-L F1 (`rougeL` on the joined text, `rougeLsum` one sentence per line), OVL-3 against the document, REP-4, words / reference words.\n',
    '![Summarization ROUGE-L](summarize-rouge.svg)\n',
    table(['language', 'items', 'ROUGE-L', 'lead-k ROUGE-L', 'ROUGE-Lsum', 'lead-k ROUGE-Lsum', 'OVL-3', 'reference OVL-3', 'REP-4', 'word ratio'], rows.map((x) => [
      x.lang === 'all' ? '**all**' : x.lang, String(x.n), f3(x.model.rougeL), f3(x.lead.rougeL), f3(x.model.rougeLsum), f3(x.lead.rougeLsum), f3(x.model.ovl3), f3(x.referenceOvl3), f3(x.model.rep4), f2(x.model.wordRatio),
    ])),
    '',
    `Stops: ${Object.entries(r.stops).map(([k, v]) => `${k} ${v}`).join(', ')}.\n`,
    notes(r.notes),
    examples(r.examples),
  ].join('\n');
}

function expandSection(r: ExpandResult, charts: Charts): string {
  const rows = [...r.languages, { lang: 'all', ...r.overall }];
  charts['expand-rouge.svg'] = barChart({
    title: 'Expansion: ROUGE-L F1 against the reference document',
    categories: rows.map((x) => x.lang),
    series: [{ name: 'LCM expansion', values: rows.map((x) => x.model.rougeL) }, { name: 'the summary itself', values: rows.map((x) => x.summary.rougeL) }],
    yLabel: 'ROUGE-L F1',
    yMax: 1,
  });
  return [
    '## Expansion\n',
    'Summary → document in the pack\'s instruction format, against the baseline of the summary itself.\n',
    '![Expansion ROUGE-L](expand-rouge.svg)\n',
    table(['language', 'items', 'ROUGE-L', 'summary ROUGE-L', 'ROUGE-Lsum', 'summary ROUGE-Lsum', 'REP-4', 'word ratio'], rows.map((x) => [
      x.lang === 'all' ? '**all**' : x.lang, String(x.n), f3(x.model.rougeL), f3(x.summary.rougeL), f3(x.model.rougeLsum), f3(x.summary.rougeLsum), f3(x.model.rep4), f2(x.model.wordRatio),
    ])),
    '',
    notes(r.notes),
    examples(r.examples),
  ].join('\n');
}

function segmentersSection(r: SegmentersResult, charts: Charts): string {
  const buckets = r.segmenters[0]!.byLength.map((b) => b.bucket);
  charts['segmenters-autobleu.svg'] = barChart({
    title: 'Segmenters: AutoBLEU by segment length (characters)',
    categories: buckets,
    series: r.segmenters.map((s) => ({ name: s.segmenter, values: s.byLength.map((b) => b.autoBleu) })),
    yLabel: 'AutoBLEU',
    yMax: 100,
  });
  return [
    '## Segmenters\n',
    'Held-out paragraphs cut by three segmenters; every segment goes text → concept → text. AutoBLEU: mean sentence BLEU of the round trip against the segment (LCM paper §2.2).\n',
    '![AutoBLEU by segment length](segmenters-autobleu.svg)\n',
    table(['segmenter', 'segments', 'mean chars', 'over 200 chars', 'AutoBLEU', 'corpus BLEU'], r.segmenters.map((s) => [s.segmenter, String(s.segments), f1(s.meanChars), `${f1(100 * s.over200)} %`, f1(s.autoBleu), f1(s.corpusBleu)])),
    '',
    table(['segments by length', ...r.segmenters.map((s) => s.segmenter)], buckets.map((b, i) => [b, ...r.segmenters.map((s) => `${f1(s.byLength[i]!.autoBleu)} (${s.byLength[i]!.n})`)])),
    '',
    table(['language', 'paragraphs', ...r.segmenters.map((s) => `AutoBLEU ${s.segmenter}`)], r.languages.map((l) => [l.lang, String(l.paragraphs), ...r.segmenters.map((s) => f1(l.autoBleu[s.segmenter]))])),
    '',
    notes(r.notes),
    examples(r.examples, 1),
  ].join('\n');
}

function summary(report: EvalReport): string {
  const s = report.suites;
  const rows: string[][] = [];
  const rt = ran(s.roundtrip);
  if (rt) rows.push(['round trip', 'chrF, mean over languages', f1(rt.mean.chrf), '']);
  const tr = ran(s.translate);
  if (tr) rows.push(['translation', 'chrF eng_Latn → language / language → eng_Latn', `${f1(tr.mean.fromEnglish?.chrf ?? null)} / ${f1(tr.mean.intoEnglish?.chrf ?? null)}`, '']);
  const nx = ran(s.next);
  if (nx) {
    rows.push(['next concept', 'cosine of the LCM sample to the true next concept', f3(nx.overall.lcm), `previous ${f3(nx.overall.previous)}, mean of context ${f3(nx.overall.contextMean)}`]);
    rows.push(['continuation', 'local coherence / REP-4', `${f3(nx.continuation.coherence.generated)} / ${f3(nx.continuation.rep4.generated)}`, `true text ${f3(nx.continuation.coherence.reference)} / ${f3(nx.continuation.rep4.reference)}`]);
  }
  const su = ran(s.summarize);
  if (su) rows.push(['summarization', 'ROUGE-L F1', f3(su.overall.model.rougeL), `lead-k ${f3(su.overall.lead.rougeL)}`]);
  const ex = ran(s.expand);
  if (ex) rows.push(['expansion', 'ROUGE-L F1', f3(ex.overall.model.rougeL), `the summary itself ${f3(ex.overall.summary.rougeL)}`]);
  const sg = ran(s.segmenters);
  if (sg) rows.push(['segmenters', `AutoBLEU ${sg.segmenters.map((x) => x.segmenter).join(' / ')}`, sg.segmenters.map((x) => f1(x.autoBleu)).join(' / '), '']);
  const skipped = Object.entries(s).filter(([, v]) => v?.status === 'skipped') as [string, Skipped][];
  for (const [name, v] of skipped) rows.push([name, 'skipped', '–', v.reason]);
  return table(['suite', 'figure', 'value', 'baseline / note'], rows, ['l', 'l', 'r', 'l']);
}

/** The report as Markdown, and the SVG charts it links to (file name → SVG text). */
export function renderReport(report: EvalReport): { markdown: string; charts: Charts } {
  const charts: Charts = {};
  const p = report.pack;
  const st = report.settings;
  const sampling = st.sampling;
  const head = [
    `# Evaluation: ${p.name} ${p.version}\n`,
    p.randomWeights
      ? `> **Random weights.** This pack (${p.description}${p.weights ? `; weights: ${p.weights}` : ''}) is a test fixture: the figures below show that every suite runs end to end and what the report looks like. They say nothing about quality.\n`
      : `${p.description}\n`,
    `Command: \`${report.command || '(not recorded)'}\`\n`,
    `Run ${report.createdAt}, ${f1(report.seconds)} s · seed ${st.seed} · ${st.limit === null ? 'every item of the suites' : `at most ${st.limit} items per language${report.suites.translate ? ' (and direction)' : ''}`} · decoding ${st.decode} · diffusion ${sampling.inferenceSteps} steps (${sampling.spacing}), guidance ${sampling.guidanceScale} · pack languages: ${p.languages.join(', ')} · instruction formats: ${p.instructions.join(', ') || 'none'}\n`,
    `Held-out suites (resources/eval, TEST split): ${Object.entries(st.suiteFiles).map(([f, d]) => `${f} (${d.items} items, sha256 ${d.sha256.slice(0, 12)}…)`).join(', ')}. Metric definitions and sources: [docs/evaluation.md](../../evaluation.md).\n`,
    '## Summary\n',
    summary(report),
    '',
  ];
  const sections: string[] = [];
  const s = report.suites;
  const build: { [K in keyof SuiteResults]: (r: SuiteResults[K], c: Charts) => string } = {
    roundtrip: roundtripSection,
    translate: translateSection,
    next: nextSection,
    summarize: summarizeSection,
    expand: expandSection,
    segmenters: segmentersSection,
  };
  for (const key of Object.keys(build) as (keyof SuiteResults)[]) {
    const r = ran(s[key]);
    // Each key's builder takes that key's result type.
    if (r) sections.push((build[key] as (x: typeof r, c: Charts) => string)(r, charts));
  }
  return { markdown: `${[...head, ...sections].join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`, charts };
}

/** Writes report.md, report.json and the charts into `dir` (created if missing); returns the paths written. */
export function writeReport(report: EvalReport, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const { markdown, charts } = renderReport(report);
  const written: string[] = [];
  const put = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    written.push(join(dir, name));
  };
  put('report.md', markdown);
  put('report.json', `${JSON.stringify(report, null, 1)}\n`);
  for (const name of CHART_FILES) {
    const svg = charts[name];
    if (svg) put(name, svg);
    else if (existsSync(join(dir, name))) rmSync(join(dir, name));
  }
  return written;
}
