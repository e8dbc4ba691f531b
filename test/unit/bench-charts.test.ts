/**
 * The SVG line-chart writer (src/eval/lineChart.ts: the benchmark's and `lcm curves`' charts) and its median/verdict
 * helpers (bench/measure.ts): axis ticks, where points land, what is left
 * out, escaping, and how a figure is judged against its target.
 */
import { describe, expect, it } from 'vitest';
import { lineChartSvg, ticks } from '../../src/eval/lineChart.ts';
import { median, medianMsPerUnit, medianRate, verdict, verdictLabel } from '../../bench/measure.ts';

describe('ticks', () => {
  it('puts 1-2-5 steps in every decade of a log axis', () => {
    expect(ticks(10, 10000, true)).toEqual([10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]);
    expect(ticks(1, 10, true)).toEqual([1, 2, 5, 10]);
  });
  it('puts about six round steps on a linear axis', () => {
    expect(ticks(0, 10, false)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(ticks(0, 1000, false)).toEqual([0, 200, 400, 600, 800, 1000]);
  });
});

/** The "x,y" pairs of the n-th polyline. */
function polyline(svg: string, n = 0): [number, number][] {
  const all = [...svg.matchAll(/<polyline points="([^"]+)"/g)];
  return all[n]![1]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
}

describe('lineChartSvg', () => {
  // Default size 720 × 440, margins left 70, right 20, top 40, bottom 70: plot area x 70…700, y 40…370.
  it('maps data to the plot area on linear axes (y grows upwards, axes start at 0)', () => {
    const svg = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[0, 0], [5, 5], [10, 10]] }] });
    expect(polyline(svg)).toEqual([[70, 370], [385, 205], [700, 40]]);
  });

  it('maps decades to equal distances on log axes, extending the range to whole decades', () => {
    const svg = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', logX: true, logY: true, series: [{ name: 's', points: [[10, 1], [100, 10], [1000, 100]] }] });
    expect(polyline(svg)).toEqual([[70, 370], [385, 205], [700, 40]]);
  });

  it('leaves out points a log axis cannot show, and non-finite ones', () => {
    const svg = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's', points: [[1, 0], [2, Number.NaN], [3, 10], [4, 100]] }] });
    expect(polyline(svg)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(2);
  });

  it('draws one line per series with its legend entry, dashed when asked', () => {
    const svg = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [[1, 1], [2, 2]] }, { name: 'b', points: [[1, 2], [2, 3]], dashed: true }] });
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('>a</text>');
    expect(svg).toContain('>b</text>');
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2); // b's line and b's legend sample
  });

  it('escapes text', () => {
    const svg = lineChartSvg({ title: 'A < B & "C"', xLabel: 'x', yLabel: 'y', series: [{ name: "Meta's <gen>", points: [[1, 1]] }] });
    expect(svg).toContain('A &lt; B &amp; &quot;C&quot;');
    expect(svg).toContain("Meta's &lt;gen&gt;");
    expect(svg).not.toContain('<gen>');
  });

  it('refuses a chart with nothing to plot', () => {
    expect(() => lineChartSvg({ title: 'empty', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's', points: [[1, 0]] }] })).toThrow(RangeError);
  });
});

describe('median and verdicts', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('rates each call before taking the median (not total units over total time)', () => {
    const samples = [{ seconds: 1, units: 10 }, { seconds: 2, units: 10 }, { seconds: 0.5, units: 10 }];
    expect(medianRate(samples)).toBe(10); // 10, 5, 20 per second
    expect(medianMsPerUnit(samples)).toBe(100); // 100, 200, 50 ms
  });

  it('judges at the limit inclusively, and says n/a when nothing was measured', () => {
    expect(verdictLabel(verdict('enc', 500, 'sentences/s', '>=', 500))).toBe('PASS');
    expect(verdictLabel(verdict('enc', 499.9, 'sentences/s', '>=', 500))).toBe('MISS');
    expect(verdictLabel(verdict('first', 300, 'ms', '<=', 300))).toBe('PASS');
    expect(verdictLabel(verdict('first', 301, 'ms', '<=', 300))).toBe('MISS');
    expect(verdictLabel(verdict('ratio', Number.NaN, '×', '>=', 1.5))).toBe('n/a');
  });
});
