/**
 * `lcm import | export | docs | search | embed` as a user runs them
 * (node bin/lcm.mjs), on a library in a temp folder and the fixture pack.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TINY_PACK } from '../helpers/fixtures.ts';
import { tempDir } from './helpers/tmp.ts';

const BIN = fileURLToPath(new URL('../../bin/lcm.mjs', import.meta.url));
const dir = tempDir('cli-');
const env = { ...process.env, CONCEPT_STUDIO_PACK: undefined, CONCEPT_STUDIO_DB: undefined };

function lcm(args: string[], extraEnv: Record<string, string | undefined> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 90_000, env: { ...env, ...extraEnv } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const MD = '# Harbour\n\nThe boats came in at dawn. Gulls followed them.\n\n- Nets were mended.\n- Fish were sold.\n';

describe('lcm library commands', () => {
  const db = join(dir, 'lib.sqlite');
  const file = join(dir, 'harbour.md');
  writeFileSync(file, MD);

  it('import computes embeddings with --pack; docs lists; export gives Markdown, text and JSON back', () => {
    const imp = lcm(['import', file, '--db', db, '--pack', TINY_PACK]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/^[0-9a-f-]{36}\tharbour\t5 concepts, 5 new embeddings from tiny-fixture@1\.0\.0\n$/);
    const docs = lcm(['docs', '--db', db, '--json']);
    expect(docs.code, docs.stderr).toBe(0);
    expect(JSON.parse(docs.stdout)).toMatchObject({ title: 'harbour', language: 'eng_Latn', conceptCount: 5 });
    expect(lcm(['export', 'harbour', '--db', db]).stdout).toBe(MD);
    expect(lcm(['export', 'harbour', '--db', db, '--format', 'text']).stdout).toBe('Harbour\n\nThe boats came in at dawn. Gulls followed them.\n\nNets were mended.\nFish were sold.\n');
    const json = JSON.parse(lcm(['export', 'harbour', '--db', db, '--format', 'json', '--embeddings', 'array']).stdout) as { concepts: { embeddings: { pack: string; vector: number[] }[] }[] };
    expect(json.concepts.length).toBe(5);
    expect(json.concepts[1]!.embeddings[0]!.pack).toBe('tiny-fixture@1.0.0');
    expect(json.concepts[1]!.embeddings[0]!.vector.length).toBe(32);
  }, 120_000);

  it('search: full text, and --semantic with the pack (the query encoded, nearest first)', () => {
    const text = lcm(['search', 'gulls', '--db', db]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe('harbour\tGulls followed them.\n');
    const sem = lcm(['search', 'Gulls followed them.', '--semantic', '--db', db, '--pack', TINY_PACK, '--limit', '2', '--json']);
    expect(sem.code, sem.stderr).toBe(0);
    const hits = sem.stdout.trim().split('\n').map((l) => JSON.parse(l) as { distance: number; text: string });
    expect(hits.length).toBe(2);
    // The query is one of the concepts: same text, same pack → the same vector, distance 0.
    expect(hits[0]!.text).toBe('Gulls followed them.');
    expect(hits[0]!.distance).toBeLessThan(1e-5);
    expect(hits[1]!.distance).toBeGreaterThan(hits[0]!.distance);
  }, 120_000);

  it('JSON export → import into another library → the same JSON', () => {
    const out = join(dir, 'harbour.json');
    writeFileSync(out, lcm(['export', 'harbour', '--db', db, '--format', 'json']).stdout);
    const other = join(dir, 'other.sqlite');
    const imp = lcm(['import', out, '--db', other, '--pack', TINY_PACK]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(lcm(['export', 'harbour', '--db', other, '--format', 'json']).stdout).toBe(lcm(['export', 'harbour', '--db', db, '--format', 'json']).stdout);
  }, 120_000);

  it('an explicit --pack that cannot load imports nothing (exit 1); usage and missing documents are clear', () => {
    const bad = lcm(['import', file, '--db', db, '--pack', join(dir, 'no-pack'), '--title', 'Second']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no-pack/);
    expect(lcm(['docs', '--db', db]).stdout).not.toMatch(/Second/);
    const missing = lcm(['export', 'Nope', '--db', db]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No document "Nope"/);
    expect(lcm(['search', '--db', db]).code).toBe(2);
    const nolib = lcm(['docs', '--db', join(dir, 'none.sqlite')]);
    expect(nolib.code).toBe(1);
    expect(nolib.stderr).toMatch(/There is no library at/);
  }, 120_000);

  it('without any pack, import keeps the text, says how to add embeddings, exits 0; embed adds them; the default library is under XDG_CONFIG_HOME', () => {
    const home = join(dir, 'config');
    // No pack anywhere: an empty bundled folder stands in for resources/models (which ships the default pack).
    const noPacks = join(dir, 'no-bundled-packs');
    mkdirSync(noPacks);
    const imp = lcm(['import', file, '--title', 'No pack'], { XDG_CONFIG_HOME: home, HOME: dir, CONCEPT_STUDIO_BUNDLED_PACKS: noPacks, CONCEPT_STUDIO_USER_PACKS: join(dir, 'no-user-packs'), CONCEPT_STUDIO_PACKS: undefined });
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stderr).toMatch(/embeddings were not computed: .*no model pack is installed/);
    expect(imp.stderr).toMatch(/To add embeddings: lcm embed [0-9a-f-]{36} --pack PATH/);
    const lib = join(home, 'Concept Studio', 'library.sqlite');
    expect(existsSync(lib)).toBe(true);
    const emb = lcm(['embed', 'No pack', '--db', lib, '--pack', TINY_PACK]);
    expect(emb.code, emb.stderr).toBe(0);
    expect(emb.stdout).toBe('5 new embeddings from tiny-fixture@1.0.0 for 1 document\n');
  }, 120_000);
});
