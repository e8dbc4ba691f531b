/**
 * Small, dependency-free SVG bar charts for the evaluation report: grouped bars (one group per category, one bar per
 * series), a y axis with round ticks, a legend, value labels. Output is deterministic text (coordinates rounded to
 * 0.1), so a report diff shows what changed.
 */

export interface BarSeries {
  name: string;
  /** One value per category; null draws no bar (nothing measured). */
  values: readonly (number | null)[];
}

export interface BarChartSpec {
  title: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  yLabel: string;
  /** Top of the y axis (default: the largest value rounded up to 1, 2 or 5 × 10^k). */
  yMax?: number;
}

/** Colour-blind-safe palette (Okabe & Ito 2008). */
const COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00'];

const r1 = (x: number) => (Math.round(x * 10) / 10).toString();

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** The smallest 1, 2 or 5 × 10^k at or above x (1 for x ≤ 0). */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x - 1e-12 * p) return m * p;
  return 10 * p;
}

function formatValue(v: number, top: number): string {
  return top >= 10 ? v.toFixed(1) : top >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** A grouped bar chart as a standalone SVG document. */
export function barChart(spec: BarChartSpec): string {
  const { categories, series } = spec;
  if (categories.length === 0 || series.length === 0) throw new RangeError(`Chart "${spec.title}": nothing to draw (no categories or no series).`);
  for (const s of series) {
    if (s.values.length !== categories.length) throw new RangeError(`Chart "${spec.title}": series "${s.name}" has ${s.values.length} values for ${categories.length} categories.`);
  }
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const top = spec.yMax ?? niceCeil(Math.max(0, ...values));
  const bar = series.length === 1 ? 24 : series.length === 2 ? 18 : 14;
  // Value labels only where they fit above a bar (the tables carry every number anyway).
  const labels = bar >= 18 && categories.length * series.length <= 30;
  const gap = 14;
  const group = series.length * bar + gap;
  const rotate = categories.some((c) => c.length > 6) || categories.length > 10;
  const left = 58;
  const right = 16;
  // Rough text widths (sans-serif: ~0.6 em per character) to keep the title and legend inside the picture.
  const legendWidths = series.map((s) => 24 + Math.ceil(s.name.length * 6.6));
  const legendWidth = legendWidths.reduce((a, b) => a + b, 0);
  const width = Math.ceil(Math.max(360, left + right + categories.length * group, left + spec.title.length * 7.8 + 10, left + legendWidth + right));
  const topPad = 62;
  const plotH = 200;
  const bottom = rotate ? 86 : 40;
  const height = topPad + plotH + bottom;
  const y = (v: number) => topPad + plotH - (Math.min(Math.max(v, 0), top) / top) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<title>${escapeXml(spec.title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="18" font-size="13" font-weight="bold">${escapeXml(spec.title)}</text>`);
  let lx = left;
  series.forEach((s, i) => {
    out.push(`<rect x="${lx}" y="30" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${lx + 14}" y="39">${escapeXml(s.name)}</text>`);
    lx += legendWidths[i]!;
  });
  for (let t = 0; t <= 5; t++) {
    const v = (top * t) / 5;
    const ty = r1(y(v));
    out.push(`<line x1="${left}" x2="${width - right}" y1="${ty}" y2="${ty}" stroke="${t === 0 ? '#333' : '#ddd'}"/>`);
    out.push(`<text x="${left - 6}" y="${r1(y(v) + 4)}" text-anchor="end">${formatValue(v, top)}</text>`);
  }
  out.push(`<text transform="translate(14 ${r1(topPad + plotH / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  categories.forEach((c, ci) => {
    const gx = left + gap / 2 + ci * group;
    series.forEach((s, si) => {
      const v = s.values[ci];
      const x = gx + si * bar;
      if (v === null || v === undefined || !Number.isFinite(v)) {
        out.push(`<text x="${r1(x + bar / 2)}" y="${r1(y(0) - 3)}" text-anchor="middle" font-size="8" fill="#999">–</text>`);
        return;
      }
      const by = y(v);
      out.push(`<rect x="${r1(x)}" y="${r1(by)}" width="${bar - 1}" height="${r1(y(0) - by)}" fill="${COLORS[si % COLORS.length]}"><title>${escapeXml(`${s.name}, ${c}: ${formatValue(v, top)}`)}</title></rect>`);
      if (labels) out.push(`<text x="${r1(x + bar / 2)}" y="${r1(by - 3)}" text-anchor="middle" font-size="9">${formatValue(v, top)}</text>`);
    });
    const cx = gx + (series.length * bar) / 2;
    const cy = topPad + plotH + 14;
    out.push(rotate
      ? `<text transform="translate(${r1(cx)} ${cy}) rotate(-40)" text-anchor="end">${escapeXml(c)}</text>`
      : `<text x="${r1(cx)}" y="${cy}" text-anchor="middle">${escapeXml(c)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
