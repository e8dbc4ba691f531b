/**
 * `lcm curves RUN`: a recipe run's loss.tsv and eval.tsv (the columns
 * recipe/train/loop.py writes) become SVG charts and curves.md. Checked on
 * a synthetic run: which charts, which series, that the points are the
 * TSV's (and the translation means are the means), the last-evaluation
 * table, and clear errors for a folder that is not a run or a broken TSV.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { curveCharts, readTsv } from '../../src/cli/curvesCommand.ts';

const BIN = fileURLToPath(new URL('../../bin/lcm.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'cs-curves-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function lcm(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function run(name: string, loss: string[] | null, evals: string[] | null): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  if (loss) writeFileSync(join(dir, 'loss.tsv'), `${loss.join('\n')}\n`);
  if (evals) writeFileSync(join(dir, 'eval.tsv'), `${evals.join('\n')}\n`);
  return dir;
}

const SONAR_LOSS = ['step\tloss\tce\tlr\tsteps_per_s\ttokens_per_s\twall_s', '50\t9.1\t9.1\t1e-4\t0.4\t2200\t120', '100\t7.5\t7.5\t2e-4\t0.4\t2200\t240'];
const SONAR_EVAL = [
  'step\trt_eng_Latn\trt_fra_Latn\trt_mean\tscore\ttr_eng_Latn>fra_Latn\ttr_fra_Latn>eng_Latn\ttr_deu_Latn>eng_Latn\ttr_mean',
  '1000\t16\t18\t17\t17\t10\t12\t14\t12',
  '2000\t25\t29\t27\t27\t20\t22\t24\t22',
];

describe('lcm curves', () => {
  it('charts a SONAR run: loss parts, round trip per language with the mean, translation means into and out of English', () => {
    const dir = run('sonar', SONAR_LOSS, SONAR_EVAL);
    const r = lcm(['curves', dir]);
    expect(r.code, r.stderr).toBe(0);
    const out = join(dir, 'curves');
    expect(readdirSync(out).sort()).toEqual(['curves.md', 'loss.svg', 'roundtrip.svg', 'translation.svg']);
    const charts = curveCharts(readTsv(join(dir, 'loss.tsv')), readTsv(join(dir, 'eval.tsv')));
    expect(charts.map((c) => [c.file, c.series.map((s) => s.name)])).toEqual([
      ['loss.svg', ['loss', 'ce']],
      ['roundtrip.svg', ['mean', 'eng_Latn', 'fra_Latn']],
      ['translation.svg', ['all 3 directions', 'into English (2)', 'out of English (1)']],
    ]);
    const tr = charts[2]!.series;
    expect(tr[0]!.points).toEqual([[1000, 12], [2000, 22]]);
    expect(tr[1]!.points).toEqual([[1000, 13], [2000, 23]]);
    expect(tr[2]!.points).toEqual([[1000, 10], [2000, 20]]);
    expect(charts[1]!.series[1]!.points).toEqual([[1000, 16], [2000, 25]]);
    const svg = readFileSync(join(out, 'roundtrip.svg'), 'utf8');
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    expect(svg).toContain('sonar: Round-trip chrF by language (held-out)');
    const md = readFileSync(join(out, 'curves.md'), 'utf8');
    expect(md).toContain('![Round-trip chrF by language (held-out)](roundtrip.svg)');
    expect(md).toContain('| rt_eng_Latn | 2000 | 25 |');
    expect(md).toContain('| tr_deu_Latn>eng_Latn | 2000 | 24 |');
  });

  it('charts an LCM run: valid MSE on its own, the next-concept cosines together; --out elsewhere', () => {
    const dir = run('lcm', ['step\tloss\tlr\tconcepts_per_s\twall_s', '20\t2.0\t1e-5\t2100\t17'],
      ['step\tvalid_mse\tnext_cos\tprev_cos\tmean_cos\tscore', '1000\t0.8\t0.41\t0.35\t0.47\t-0.8', '2000\t0.7\t0.45\t0.35\t0.47\t-0.7']);
    const out = join(root, 'lcm-out');
    const r = lcm(['curves', dir, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['curves.md', 'loss.svg', 'next-cosine.svg', 'valid_mse.svg']);
    const charts = curveCharts(null, readTsv(join(dir, 'eval.tsv')));
    expect(charts.map((c) => [c.file, c.series.map((s) => s.name)])).toEqual([
      ['next-cosine.svg', ['next_cos', 'prev_cos', 'mean_cos']],
      ['valid_mse.svg', ['valid_mse']],
    ]);
  });

  it('says what to give when the folder is not a run, and where a TSV is broken', () => {
    const empty = run('empty', null, null);
    const r = lcm(['curves', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${empty} has neither loss.tsv nor eval.tsv: give a recipe run folder`);
    expect(lcm(['curves']).code).toBe(2);
    const broken = run('broken', ['step\tloss', '1\t2\t3'], null);
    const b = lcm(['curves', broken]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain(`${join(broken, 'loss.tsv')} line 2 has 3 cells, the header 2.`);
    const noStep = run('nostep', ['epoch\tloss', '1\t2'], null);
    expect(lcm(['curves', noStep]).stderr).toContain('has no "step" column (header: epoch, loss)');
  });
});
