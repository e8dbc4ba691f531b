/**
 * A small SVG line-chart writer (the benchmark's figures, `lcm curves`; no dependency):
 * linear or logarithmic axes, one polyline with point markers per series, a
 * legend. Deterministic output (fixed number formatting), so a chart only
 * changes in git when its data does.
 */

export interface Series {
  name: string;
  /** [x, y] points; points with a non-finite or (on a log axis) non-positive coordinate are left out. */
  points: readonly (readonly [number, number])[];
  /** CSS colour; defaults to a palette entry. */
  color?: string;
  /** Dashed line (for "emulated" or contrast series). */
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
  /** A line of small text under the chart (machine, load). */
  caption?: string;
}

// Six for the benchmark's charts, then more for per-language curves (16 distinct colours before one repeats).
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
  '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd'];
const MARGIN = { left: 70, right: 20, top: 40, bottom: 70 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number): string => (Math.round(x * 10) / 10).toString();

/** Tick values for [lo, hi]: 1-2-5 steps per decade on a log axis, about 6 round steps on a linear one. */
export function ticks(lo: number, hi: number, log: boolean): number[] {
  if (!(hi >= lo)) return [];
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(Number(v.toPrecision(6)));
      }
    }
    return out;
  }
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  if (Math.abs(v) >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 0 });
  return Number(v.toPrecision(3)).toString();
}

/** The chart as an SVG document. Throws a RangeError when no series has a plottable point. */
export function lineChartSvg(o: ChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 440;
  const ok = (x: number, log: boolean | undefined) => Number.isFinite(x) && (!log || x > 0);
  const series = o.series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length]!, points: s.points.filter(([x, y]) => ok(x, o.logX) && ok(y, o.logY)) }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) throw new RangeError(`Chart "${o.title}": no series has a point to plot.`);
  const range = (vals: number[], log: boolean | undefined): [number, number] => {
    let lo = Math.min(...vals);
    let hi = Math.max(...vals);
    if (log) {
      lo = 10 ** Math.floor(Math.log10(lo) + 1e-9);
      hi = 10 ** Math.ceil(Math.log10(hi) - 1e-9);
      if (lo === hi) hi = lo * 10;
    } else {
      lo = Math.min(0, lo);
      if (lo === hi) hi = lo + 1;
    }
    return [lo, hi];
  };
  const [x0, x1] = range(all.map((p) => p[0]), o.logX);
  const [y0, y1] = range(all.map((p) => p[1]), o.logY);
  const pw = width - MARGIN.left - MARGIN.right;
  const ph = height - MARGIN.top - MARGIN.bottom;
  const tx = (v: number, lo: number, hi: number, log: boolean | undefined) => (log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo));
  const sx = (x: number) => MARGIN.left + tx(x, x0, x1, o.logX) * pw;
  const sy = (y: number) => MARGIN.top + ph - tx(y, y0, y1, o.logY) * ph;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  for (const v of ticks(x0, x1, o.logX ?? false)) {
    const x = num(sx(v));
    parts.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + ph}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${x}" y="${MARGIN.top + ph + 16}" text-anchor="middle">${esc(label(v))}</text>`);
  }
  for (const v of ticks(y0, y1, o.logY ?? false)) {
    const y = num(sy(v));
    parts.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(label(v))}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${pw}" height="${ph}" fill="none" stroke="#333333"/>`);
  parts.push(`<text x="${MARGIN.left + pw / 2}" y="${MARGIN.top + ph + 36}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(18 ${MARGIN.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  for (const s of series) {
    if (s.points.length === 0) continue;
    const pts = s.points.map(([x, y]) => `${num(sx(x))},${num(sy(y))}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${esc(s.color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const [x, y] of s.points) parts.push(`<circle cx="${num(sx(x))}" cy="${num(sy(y))}" r="3" fill="${esc(s.color)}"/>`);
  }
  // Legend, top left inside the plot, on a white panel so lines under it do not cross the names.
  const longest = Math.max(...series.map((s) => s.name.length));
  parts.push(`<rect x="${MARGIN.left + 4}" y="${MARGIN.top + 4}" width="${num(42 + 7 * longest)}" height="${series.length * 18 + 2}" fill="#ffffff" fill-opacity="0.85"/>`);
  series.forEach((s, i) => {
    const y = MARGIN.top + 14 + i * 18;
    parts.push(`<line x1="${MARGIN.left + 10}" y1="${y}" x2="${MARGIN.left + 34}" y2="${y}" stroke="${esc(s.color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${MARGIN.left + 40}" y="${y}" dominant-baseline="middle">${esc(s.name)}</text>`);
  });
  if (o.caption) parts.push(`<text x="${MARGIN.left}" y="${height - 10}" font-size="10" fill="#555555">${esc(o.caption)}</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
