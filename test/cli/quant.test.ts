/** `lcm continue` on a Quant-LCM pack (--temperature/--top-k apply, diffusion flags are refused, and vice versa), and `lcm fragility`. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TINY_PACK } from '../helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/lcm.mjs', import.meta.url));
const QUANT = fileURLToPath(new URL('../fixtures/packs/tiny-quant-d', import.meta.url));
const lcm = (args: string[], input = 'My name is SONAR. I can embed the sentences.') => spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });

describe('lcm on a Quant-LCM pack', () => {
  it('continue runs; the same seed and temperature/top-k give the same text', () => {
    const args = ['continue', '--pack', QUANT, '--seed', '3', '--count', '2', '--temperature', '0.5', '--top-k', '4', '--json'];
    const a = lcm(args);
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/"done":true,"seed":3/);
    expect(lcm(args).stdout).toBe(a.stdout);
  });
  it('refuses diffusion flags on a quant pack and quant flags elsewhere, naming the flag', () => {
    const r = lcm(['continue', '--pack', QUANT, '--steps', '10']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/is a Quant-LCM \(quant-discrete; it samples codebook units: use --temperature and --top-k\).*--steps does not apply/);
    const t = lcm(['continue', '--pack', TINY_PACK, '--top-k', '3']);
    expect(t.stderr).toMatch(/two-tower-diffusion pack; --temperature and --top-k apply to Quant-LCM packs only.*--top-k does not apply/);
    expect(lcm(['continue', '--pack', QUANT, '--top-k', '99']).stderr).toMatch(/--top-k must be an integer from 0 to 16/);
  });
});

describe('lcm fragility', () => {
  it('scores each sentence, the same for the same seed; --count is checked', () => {
    const args = ['fragility', '--pack', TINY_PACK, '--lines', '--count', '1', '--json'];
    const a = lcm(args, 'The sea was calm.\nSailors trusted it.\n');
    expect(a.status).toBe(0);
    const rows = a.stdout.trim().split('\n').map((l) => JSON.parse(l) as { text: string; seed: number; levels: { noise: number }[]; fragility: number; score: number });
    expect(rows.map((r) => [r.text, r.seed, r.levels.map((l) => l.noise)])).toEqual([
      ['The sea was calm.', 0, [0.1, 0.3, 0.5, 0.7, 0.9]], ['Sailors trusted it.', 0, [0.1, 0.3, 0.5, 0.7, 0.9]],
    ]);
    rows.forEach((r) => expect(r.fragility).toBeCloseTo(100 - r.score, 10));
    expect(lcm(args, 'The sea was calm.\nSailors trusted it.\n').stdout).toBe(a.stdout);
    expect(lcm(['fragility', '--pack', TINY_PACK, '--count', '0'], 'x').stderr).toMatch(/--count must be an integer from 1 to 32/);
  });
});
