/**
 * `lcm curves RUN_DIR [--out DIR]`: the training curves of a recipe run
 * (recipe/train/loop.py writes `loss.tsv` and `eval.tsv` into every
 * `$CS_WORK/runs/<stage>/`) as SVG charts and a Markdown page, so a run's
 * progress and convergence can be read, and put in the docs, without a
 * plotting library.
 *
 * Charts, each against the training step:
 * - loss.tsv: the loss and its parts (one chart; rates, lr and wall time left out);
 * - eval.tsv, grouped: round-trip chrF per language (`rt_<lang>`, mean dashed),
 *   round trip through the quantizer (`qrt_<lang>`), translation chrF (the
 *   mean over directions into English, out of English, and all: `tr_<src>><tgt>`),
 *   the cosines to the true next concept (`*_cos`: the LCM's sample and its
 *   baselines), and every other column on its own (e.g. `valid_mse`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { lineChartSvg, type Series } from '../eval/lineChart.ts';
import type { CommandContext } from './commands.ts';
import { UsageError } from './io.ts';

/** Columns of loss.tsv that are not the loss. */
const NOT_LOSS = new Set(['step', 'lr', 'steps_per_s', 'tokens_per_s', 'concepts_per_s', 'wall_s']);
const HUB = 'eng_Latn';

export interface Table {
  columns: string[];
  /** Rows of numbers (NaN where a cell is not a number). */
  rows: number[][];
}

/** A TSV with a header line; throws with the file and line when a row has the wrong number of cells. */
export function readTsv(path: string): Table {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new RangeError(`${path} is empty: expected a header line and rows.`);
  const columns = lines[0]!.split('\t');
  if (!columns.includes('step')) throw new RangeError(`${path} has no "step" column (header: ${columns.join(', ')}): not a recipe run's TSV.`);
  const rows = lines.slice(1).map((line, i) => {
    const cells = line.split('\t');
    if (cells.length !== columns.length) throw new RangeError(`${path} line ${i + 2} has ${cells.length} cells, the header ${columns.length}.`);
    return cells.map((c) => (c.trim() === '' ? Number.NaN : Number(c)));
  });
  return { columns, rows };
}

export interface Chart {
  file: string;
  title: string;
  yLabel: string;
  series: Series[];
}

function seriesOf(t: Table, column: string, name = column, dashed = false): Series {
  const xi = t.columns.indexOf('step');
  const yi = t.columns.indexOf(column);
  return { name, points: t.rows.map((r) => [r[xi]!, r[yi]!] as const), ...(dashed ? { dashed } : {}) };
}

/** The mean of several columns per row (NaN cells left out). */
function meanSeries(t: Table, columns: string[], name: string): Series {
  const xi = t.columns.indexOf('step');
  const idx = columns.map((c) => t.columns.indexOf(c));
  return {
    name,
    points: t.rows.map((r) => {
      const v = idx.map((i) => r[i]!).filter(Number.isFinite);
      return [r[xi]!, v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN] as const;
    }),
  };
}

/** The charts of a run's loss.tsv and eval.tsv (either may be missing). */
export function curveCharts(loss: Table | null, evals: Table | null): Chart[] {
  const charts: Chart[] = [];
  if (loss) {
    const cols = loss.columns.filter((c) => !NOT_LOSS.has(c));
    if (cols.length) charts.push({ file: 'loss.svg', title: 'Training loss', yLabel: 'loss', series: cols.map((c) => seriesOf(loss, c)) });
  }
  if (!evals) return charts;
  const used = new Set(['step', 'score']);
  const perLanguage = (prefix: string, file: string, title: string) => {
    const langs = evals.columns.filter((c) => c.startsWith(prefix) && c !== `${prefix}mean` && !c.includes('>'));
    if (!langs.length) return;
    langs.forEach((c) => used.add(c));
    const series = langs.map((c) => seriesOf(evals, c, c.slice(prefix.length)));
    if (evals.columns.includes(`${prefix}mean`)) {
      used.add(`${prefix}mean`);
      series.unshift({ ...seriesOf(evals, `${prefix}mean`, 'mean', true), color: '#000000' });
    }
    charts.push({ file, title, yLabel: 'chrF', series });
  };
  perLanguage('rt_', 'roundtrip.svg', 'Round-trip chrF by language (held-out)');
  perLanguage('qrt_', 'roundtrip-quantized.svg', 'Round-trip chrF through the quantizer, by language');
  const directions = evals.columns.filter((c) => /^tr_.+>.+$/.test(c));
  if (directions.length) {
    directions.forEach((c) => used.add(c));
    const into = directions.filter((c) => c.endsWith(`>${HUB}`));
    const out = directions.filter((c) => c.startsWith(`tr_${HUB}>`));
    const series = [meanSeries(evals, directions, `all ${directions.length} directions`)];
    if (into.length) series.push(meanSeries(evals, into, `into English (${into.length})`));
    if (out.length) series.push(meanSeries(evals, out, `out of English (${out.length})`));
    if (evals.columns.includes('tr_mean')) used.add('tr_mean');
    charts.push({ file: 'translation.svg', title: 'Translation chrF (held-out pairs), mean over directions', yLabel: 'chrF', series });
  }
  const cosines = evals.columns.filter((c) => c.endsWith('_cos'));
  if (cosines.length) {
    cosines.forEach((c) => used.add(c));
    charts.push({ file: 'next-cosine.svg', title: 'Cosine to the true next concept (valid)', yLabel: 'cosine', series: cosines.map((c) => seriesOf(evals, c)) });
  }
  for (const c of evals.columns.filter((col) => !used.has(col))) {
    charts.push({ file: `${c.replace(/[^\w.-]+/g, '_')}.svg`, title: c, yLabel: c, series: [seriesOf(evals, c)] });
  }
  return charts;
}

/** The last finite value of a column, and its step. */
function last(t: Table, column: string): { step: number; value: number } | null {
  const xi = t.columns.indexOf('step');
  const yi = t.columns.indexOf(column);
  for (let i = t.rows.length - 1; i >= 0; i--) if (Number.isFinite(t.rows[i]![yi])) return { step: t.rows[i]![xi]!, value: t.rows[i]![yi]! };
  return null;
}

export async function curvesCommand(ctx: CommandContext): Promise<void> {
  const { flags, file, out } = ctx;
  if (!file) throw new UsageError('curves needs a run folder: lcm curves ~/.cache/concept-studio/runs/sonar [--out DIR]');
  const run = resolve(file);
  const lossPath = join(run, 'loss.tsv');
  const evalPath = join(run, 'eval.tsv');
  if (!existsSync(lossPath) && !existsSync(evalPath)) {
    throw new RangeError(`${run} has neither loss.tsv nor eval.tsv: give a recipe run folder ($CS_WORK/runs/<stage>, e.g. ~/.cache/concept-studio/runs/sonar).`);
  }
  const loss = existsSync(lossPath) ? readTsv(lossPath) : null;
  const evals = existsSync(evalPath) ? readTsv(evalPath) : null;
  const charts = curveCharts(loss, evals);
  const outDir = resolve(flags.out ?? join(run, 'curves'));
  mkdirSync(outDir, { recursive: true });
  const name = basename(run);
  const md = [`# Training curves: ${name}`, '', `\`lcm curves ${file}${flags.out ? ` --out ${flags.out}` : ''}\`; from ${[loss && 'loss.tsv', evals && 'eval.tsv'].filter(Boolean).join(' and ')} (${(loss?.rows.length ?? 0) + (evals?.rows.length ?? 0)} rows).`, ''];
  for (const c of charts) {
    const drawn = c.series.filter((s) => s.points.some(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
    if (!drawn.length) continue;
    writeFileSync(join(outDir, c.file), lineChartSvg({ title: `${name}: ${c.title}`, xLabel: 'step', yLabel: c.yLabel, series: c.series, height: Math.max(440, 120 + 18 * c.series.length) }));
    md.push(`![${c.title}](${c.file})`, '');
    out.line(`${join(outDir, c.file)}: ${c.title}`);
  }
  if (evals) {
    md.push('Last evaluation:', '', '| column | step | value |', '|---|---|---|');
    for (const col of evals.columns.filter((c) => c !== 'step')) {
      const l = last(evals, col);
      if (l) md.push(`| ${col} | ${l.step} | ${Number(l.value.toPrecision(6))} |`);
    }
    md.push('');
  }
  writeFileSync(join(outDir, 'curves.md'), `${md.join('\n')}\n`);
  out.line(`${join(outDir, 'curves.md')}: the page`);
}
