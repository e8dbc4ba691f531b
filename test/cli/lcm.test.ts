/**
 * The `lcm` command as a user runs it (node bin/lcm.mjs): output, exit codes
 * and messages, on the fixture pack.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TINY_PACK } from '../helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/lcm.mjs', import.meta.url));

function lcm(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input: input ?? '', encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const DOC = 'The old lighthouse stood at the edge of the cliff. Every night its lamp swept across the dark water.\n';

describe('lcm', () => {
  it('continue --seed 7 prints the same concepts every time, and the seed on stderr', () => {
    const a = lcm(['continue', '--pack', TINY_PACK, '--seed', '7', '--count', '2'], DOC);
    const b = lcm(['continue', '--pack', TINY_PACK, '--seed', '7', '--count', '2'], DOC);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout.trimEnd().split('\n').length).toBe(2);
    expect(b.stdout).toBe(a.stdout);
    expect(a.stderr).toMatch(/seed 7, stopped: max-concepts/);
    const c = lcm(['continue', '--pack', TINY_PACK, '--seed', '8', '--count', '2'], DOC);
    expect(c.stdout).not.toBe(a.stdout);
  });

  it('--json streams one object per concept, then the result', () => {
    const r = lcm(['expand', '--pack', TINY_PACK, '--seed', '1', '--count', '3', '--json'], DOC);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.length).toBe(4);
    expect(rows.slice(0, 3).map((x) => x.index)).toEqual([0, 1, 2]);
    expect((rows[0]!.embedding as number[]).length).toBe(32);
    expect(rows[3]).toEqual({ done: true, seed: 1, stop: 'max-concepts' });
  });

  it('--lines keeps one output line per input line, blank lines included', () => {
    const r = lcm(['translate', '--pack', TINY_PACK, '--lang', 'en', '--target-lang', 'fr', '--lines', '--greedy'], 'First line.\n\nThird line. With two sentences.\n');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.length).toBe(4); // three lines and the final newline
    expect(lines[1]).toBe('');
    expect(lines[0]!.length).toBeGreaterThan(0);
  });

  it('encode | decode equals roundtrip', () => {
    const enc = lcm(['encode', '--pack', TINY_PACK, '--lang', 'eng_Latn'], 'A cat. A dog.');
    expect(enc.code, enc.stderr).toBe(0);
    expect(enc.stdout.trimEnd().split('\n').length).toBe(2);
    const dec = lcm(['decode', '--pack', TINY_PACK, '--target-lang', 'eng_Latn'], enc.stdout);
    const rt = lcm(['roundtrip', '--pack', TINY_PACK, '--lang', 'eng_Latn', '--json'], 'A cat. A dog.');
    expect(dec.code, dec.stderr).toBe(0);
    const decoded = rt.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { decoded: string }).decoded);
    expect(dec.stdout.trimEnd().split('\n')).toEqual(decoded);
  });

  it('schedule prints the reference timesteps: 40 of 100 runs 50 steps, 99 down to 1', () => {
    const r = lcm(['schedule', '--kind', 'cosine', '--train-steps', '100', '--inference-steps', '40']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { stepsRun: number; timesteps: number[]; alphasCumprod: number[] };
    expect(s.stepsRun).toBe(50);
    expect(s.timesteps[0]).toBe(99);
    expect(s.timesteps.at(-1)).toBe(1);
    expect(s.alphasCumprod.length).toBe(100);
    expect(s.alphasCumprod.at(-1)).toBe(0);
    const exact = JSON.parse(lcm(['schedule', '--inference-steps', '40', '--spacing', 'trailing-exact']).stdout) as { stepsRun: number };
    expect(exact.stepsRun).toBe(40);
  });

  it('segment splits into sentences', () => {
    const r = lcm(['segment', '--lang', 'en'], 'Dr. Smith arrived. He sat down.');
    expect(r.stdout).toBe('Dr. Smith arrived.\nHe sat down.\n');
  });

  it('packs validates a pack and lists its graphs', () => {
    const r = lcm(['packs', '--pack', TINY_PACK]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith(`  ok  tiny  tiny-fixture 1.0.0  path: ${TINY_PACK}\n`)).toBe(true);
    expect(r.stdout).toMatch(/graphs on cpu/);
    expect(r.stdout).toMatch(/32-d, two-tower-diffusion, 8 languages/);
    const int8 = lcm(['packs', '--pack', TINY_PACK.replace(/tiny$/, 'tiny-int8')]);
    expect(int8.code, int8.stderr).toBe(0);
    expect(int8.stdout).toMatch(/32-d, two-tower-diffusion, int8 decoder\+encoder, 8 languages/);
  });

  it('wrong usage exits 2 with a hint; bad input exits 1 with the reason', () => {
    const unknown = lcm(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown command "frobnicate"/);
    const seed = lcm(['continue', '--pack', TINY_PACK, '--seed', 'abc'], DOC);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toMatch(/--seed must be an integer/);
    const lang = lcm(['encode', '--pack', TINY_PACK, '--lang', 'xx_Yyyy'], 'Hi.');
    expect(lang.code).toBe(1);
    expect(lang.stderr).toMatch(/xx_Yyyy/);
    const pack = lcm(['encode', '--pack', '/nonexistent/pack'], 'Hi.');
    expect(pack.code).toBe(1);
    expect(pack.stderr).toMatch(/Model pack `pack`: no pack folder at \/nonexistent\/pack/);
    const target = lcm(['translate', '--pack', TINY_PACK], 'Hi.');
    expect(target.code).toBe(2);
    expect(target.stderr).toMatch(/needs --target-lang/);
    expect(lcm(['--help']).stdout).toMatch(/Usage: lcm <command>/);
  });
});
