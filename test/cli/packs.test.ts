/**
 * `lcm packs add | remove | default` and the listing, as a user runs them
 * (node bin/lcm.mjs), on copies of the tiny fixture pack in a temporary
 * folder, and the install module's guarantees that a shell cannot reach
 * (free disk space, a copy that fails verification, leftovers of a crash).
 * The user packs folder is always a temporary one (CONCEPT_STUDIO_USER_PACKS).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLED_PACKS_DIR, bundledPacksDir, findPacks, readRegistry, resolvePackDir, userPacksDir } from '../../src/inference/pack/discover.ts';
import { cleanLeftovers, inspectPack, installPack, modelCardSummary } from '../../src/inference/pack/install.ts';
import { verifyPack } from '../../src/inference/pack/verify.ts';
import { userDataDir } from '../../src/main/store/location.ts';
import { TINY_PACK } from '../helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/lcm.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'cs-packs-'));
const userDir = join(root, 'user-packs');
const noBundled = join(root, 'no-bundled');
// The spawned CLI sees neither the real user packs nor the packs this checkout ships in resources/models.
const env = { ...process.env, CONCEPT_STUDIO_USER_PACKS: userDir, CONCEPT_STUDIO_BUNDLED_PACKS: noBundled, CONCEPT_STUDIO_PACK: undefined, CONCEPT_STUDIO_PACKS: undefined };
const where = { env: { CONCEPT_STUDIO_USER_PACKS: userDir }, bundled: noBundled, userDir };

afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => rmSync(userDir, { recursive: true, force: true }));

function lcm(args: string[], input = ''): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000, env });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let copies = 0;
/** A copy of the tiny pack, changed by `change` (given the folder and its manifest object, which is written back). */
function tinyCopy(change?: (dir: string, manifest: Record<string, unknown> & { files: { path: string; bytes: number; sha256: string }[] }) => void): string {
  const dir = join(root, `src-${++copies}`, 'tiny');
  cpSync(TINY_PACK, dir, { recursive: true });
  if (change) {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    change(dir, manifest);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  }
  return dir;
}

/** The user packs folder holds nothing but these names (no half pack, no temporary folder). */
const userEntries = () => (existsSync(userDir) ? readdirSync(userDir).sort() : []);

describe('lcm packs add', () => {
  it('verifies and copies a pack, makes it the default, and the listing marks it and says where it lives', () => {
    const add = lcm(['packs', 'add', TINY_PACK, '--default']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/^Pack tiny-fixture 1\.0\.0 \(2\.0 MB, 8 languages\) verified and installed in .*user-packs\/tiny-fixture\.\nIt is now the default pack\.\n$/);
    expect(userEntries()).toEqual(['packs.json', 'tiny-fixture']);
    // Exactly the manifest and the files it lists, byte for byte.
    const manifest = JSON.parse(readFileSync(join(TINY_PACK, 'manifest.json'), 'utf8')) as { files: { path: string }[] };
    expect(readdirSync(join(userDir, 'tiny-fixture')).sort()).toEqual(['manifest.json', ...manifest.files.map((f) => f.path)].sort());
    for (const f of ['manifest.json', ...manifest.files.map((x) => x.path)]) {
      expect(readFileSync(join(userDir, 'tiny-fixture', f)).equals(readFileSync(join(TINY_PACK, f))), f).toBe(true);
    }
    expect(statSync(join(userDir, 'tiny-fixture')).mode & 0o777).toBe(0o755);
    expect(readRegistry(userDir).registry).toEqual({ format: 'concept-studio-packs', formatVersion: 1, default: 'tiny-fixture', links: {} });

    const list = lcm(['packs']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(`* ok  tiny-fixture  tiny-fixture 1.0.0  installed: ${join(userDir, 'tiny-fixture')}`);
    expect(list.stdout).toMatch(/32-d, two-tower-diffusion, 8 languages \(eng_Latn .*\), graphs on cpu/);
    expect(list.stdout).toContain(`* = the default pack (tiny-fixture); user packs folder: ${userDir}`);
    const json = lcm(['packs', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ name: 'tiny-fixture', source: 'user', default: true, ok: true, embeddingDim: 32 });
    // The default is what the engine commands open without --pack.
    const enc = lcm(['encode', '--lines'], 'Hello.\n');
    expect(enc.code, enc.stderr).toBe(0);
    expect((JSON.parse(enc.stdout) as { embedding: number[] }).embedding).toHaveLength(32);
    expect(resolvePackDir(undefined, where.env, noBundled, userDir)).toBe(join(userDir, 'tiny-fixture'));
  });

  it('refuses a name clash unless --force, and --force replaces the pack in one step', () => {
    expect(lcm(['packs', 'add', TINY_PACK]).code).toBe(0);
    const clash = lcm(['packs', 'add', tinyCopy()]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toBe(`lcm: A pack named "tiny-fixture" is installed in ${join(userDir, 'tiny-fixture')} already; pass --force to replace it, or --name NAME to install this one beside it.\n`);
    const renamed = lcm(['packs', 'add', tinyCopy(), '--name', 'tiny-2']);
    expect(renamed.code, renamed.stderr).toBe(0);
    const forced = lcm(['packs', 'add', tinyCopy(), '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('replacing the pack of that name');
    expect(userEntries()).toEqual(['packs.json', 'tiny-2', 'tiny-fixture']);
    const bad = lcm(['packs', 'add', TINY_PACK, '--name', '../evil']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/"\.\.\/evil" cannot be a pack name: use 1 to 64 letters/);
  });

  it('names the pack, the file and what to do for a missing file, a hash mismatch, a bad manifest, a wrong graph; nothing is installed', () => {
    const missing = tinyCopy((dir) => rmSync(join(dir, 'decoder.onnx')));
    const r1 = lcm(['packs', 'add', missing]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toBe(`lcm: Model pack \`tiny-fixture\`, file \`decoder.onnx\`: missing (expected at ${join(missing, 'decoder.onnx')}); reinstall or re-export the pack\n`);

    const flipped = tinyCopy((dir) => {
      const b = readFileSync(join(dir, 'encoder.onnx'));
      b[b.length - 10] = b[b.length - 10]! ^ 0xff; // same size, different bytes
      writeFileSync(join(dir, 'encoder.onnx'), b);
    });
    const r2 = lcm(['packs', 'add', flipped]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/^lcm: Model pack `tiny-fixture`, file `encoder\.onnx`: SHA-256 mismatch \(file [0-9a-f]{12}…, manifest [0-9a-f]{12}…\); the file is corrupt or was modified\n$/);

    const badJson = tinyCopy();
    writeFileSync(join(badJson, 'manifest.json'), '{"format": "concept-studio-pack",');
    const r3 = lcm(['packs', 'add', badJson]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/^lcm: Model pack `tiny`, file `manifest\.json`: not valid JSON/);

    const noLanguages = tinyCopy((_dir, m) => { m.languages = []; m.embeddingDim = 'big'; });
    const r4 = lcm(['packs', 'add', noLanguages]);
    expect(r4.code).toBe(1);
    expect(r4.stderr).toContain('Model pack `tiny`, file `manifest.json`: `embeddingDim` must be an integer from 1, got "big"; `languages` must be a non-empty list of {code, name}');

    // encoder.onnx replaced by the decoder graph, with a manifest that matches the new bytes: only opening the graph can tell.
    const swapped = tinyCopy((dir, m) => {
      cpSync(join(dir, 'decoder.onnx'), join(dir, 'encoder.onnx'));
      const dec = m.files.find((f) => f.path === 'decoder.onnx')!;
      Object.assign(m.files.find((f) => f.path === 'encoder.onnx')!, { bytes: dec.bytes, sha256: dec.sha256 });
    });
    const r5 = lcm(['packs', 'add', swapped]);
    expect(r5.code).toBe(1);
    expect(r5.stderr).toMatch(/^lcm: Model pack `tiny-fixture`, file `encoder\.onnx`: the graph does not match the encoder signature of pack format 1 \(docs\/model-pack\.md\): .*sentence_embedding/);

    expect(userEntries().filter((e) => e !== 'packs.json')).toEqual([]);
  });

  it('says what to do for a path that is not a folder, and for usage mistakes', () => {
    const file = join(root, 'a-file.txt');
    writeFileSync(file, 'not a pack');
    const r1 = lcm(['packs', 'add', file]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toBe(`lcm: Model pack \`a-file.txt\`: ${file} is a file, not a folder; give the pack folder (the one that holds manifest.json)\n`);
    const r2 = lcm(['packs', 'add', join(root, 'nowhere')]);
    expect(r2.stderr).toBe(`lcm: Model pack \`nowhere\`: there is no folder at ${join(root, 'nowhere')}; give the pack folder (the one that holds manifest.json)\n`);
    const empty = join(root, 'empty-folder');
    mkdirSync(empty, { recursive: true });
    expect(lcm(['packs', 'add', empty]).stderr).toMatch(/^lcm: Model pack `empty-folder`, file `manifest\.json`: cannot read .*manifest\.json .*a pack folder must hold manifest\.json\n$/);
    const r3 = lcm(['packs', 'add']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('lcm packs add takes one FOLDER');
    expect(lcm(['packs', 'install', TINY_PACK]).stderr).toContain('Unknown `lcm packs` command "install": use add, remove or default');
    expect(lcm(['packs', 'remove', 'x', '--link']).stderr).toContain('--link is an option of `lcm packs add`, not of `lcm packs remove`');
    expect(userEntries()).toEqual([]);
  });

  it('--link records the folder instead of copying; remove unlinks and keeps the folder; default and remove refuse unknown names', () => {
    const folder = tinyCopy();
    const add = lcm(['packs', 'add', folder, '--link', '--name', 'big-one']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain(`verified and linked (used where it is, ${folder})`);
    expect(userEntries()).toEqual(['packs.json']);
    expect(readRegistry(userDir).registry.links).toEqual({ 'big-one': folder });
    expect(findPacks(where)).toEqual([{ name: 'big-one', dir: folder, source: 'linked' }]);

    expect(lcm(['packs', 'default', 'big-one']).code).toBe(0);
    expect(lcm(['packs', 'default']).stdout).toBe('The default pack is big-one.\n');
    expect(lcm(['packs', 'default', 'nope']).stderr).toBe('lcm: Model pack `nope`: no installed pack has this name; `lcm packs` lists them (big-one)\n');
    const rm = lcm(['packs', 'remove', 'big-one']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toBe(`Unlinked pack big-one; its folder ${folder} was left as it is.\nIt was the default pack; the default is now not set (\`lcm packs default NAME\` sets it).\n`);
    expect(existsSync(join(folder, 'manifest.json'))).toBe(true);
    expect(readRegistry(userDir).registry).toMatchObject({ default: null, links: {} });
    expect(lcm(['packs', 'remove', 'big-one']).stderr).toMatch(/Model pack `big-one`: no installed pack has this name/);
  });

  it('the listing reports a pack broken after install (exit 1) and a linked pack whose folder is gone', () => {
    expect(lcm(['packs', 'add', TINY_PACK]).code).toBe(0);
    const gone = tinyCopy();
    expect(lcm(['packs', 'add', gone, '--link', '--name', 'gone']).code).toBe(0);
    rmSync(gone, { recursive: true });
    writeFileSync(join(userDir, 'tiny-fixture', 'normalizer.json'), '{}');
    const list = lcm(['packs']);
    expect(list.code).toBe(1);
    expect(list.stdout).toContain('  BAD tiny-fixture  installed:');
    expect(list.stdout).toMatch(/file `normalizer\.json`: is 2 bytes but the manifest says \d+; the file is truncated or was replaced/);
    expect(list.stdout).toContain(`  BAD gone  linked: ${gone}\n        Model pack \`tiny\`: no pack folder at ${gone}`);
  });
});

describe('the install module', () => {
  const verify = async (dir: string) => { await verifyPack(dir); };

  it('checks free disk space before copying, with a clear error', async () => {
    await expect(installPack({ ...where, source: TINY_PACK, verify, freeBytes: async () => 10_000_000 }))
      .rejects.toThrow(/^Not enough free disk space to install pack "tiny-fixture": it needs 2\.0 MB \(plus 64\.0 MB to spare\) and .*user-packs has 9\.5 MB free\. Free some space, or use --link to use the pack where it is\.$/);
    expect(userEntries()).toEqual([]);
  });

  it('verifies the copy again before it is renamed into place; a failing copy leaves nothing behind', async () => {
    const seen: string[] = [];
    const progress: string[] = [];
    const failing = async (dir: string) => {
      seen.push(dir);
      if (seen.length === 2) {
        // The copy is complete and in the temporary folder, invisible to discovery, when it is verified.
        expect(dir).toMatch(/user-packs\/\.installing-tiny-fixture-\d+-/);
        expect(findPacks(where)).toEqual([]);
        writeFileSync(join(dir, 'MODEL_CARD.md'), 'changed');
      }
      await verifyPack(dir);
    };
    await expect(installPack({ ...where, source: TINY_PACK, verify: failing, onProgress: (p) => progress.push(p.phase) }))
      .rejects.toThrow(/file `MODEL_CARD\.md`: is 7 bytes but the manifest says 1222; .*\(in the copy; the source changed while it was copied, or the disk is failing: nothing was installed\)/);
    expect(seen[0]).toBe(TINY_PACK);
    expect(userEntries()).toEqual([]);
    expect([...new Set(progress)]).toEqual(['checking', 'copying', 'verifying']);
  });

  it('reports copy progress up to the pack\'s size and cleans folders left by a crashed install', async () => {
    mkdirSync(join(userDir, '.installing-x-999999999-abc'), { recursive: true });
    writeFileSync(join(userDir, '.installing-x-999999999-abc', 'manifest.json'), '{}');
    const mine = join(userDir, `.installing-y-${process.pid}-abc`);
    mkdirSync(mine);
    expect(findPacks(where)).toEqual([]); // dot folders are never packs
    expect(await cleanLeftovers(userDir)).toEqual([`.installing-x-999999999-abc`, `.installing-y-${process.pid}-abc`]);
    let last = { bytesDone: 0, bytesTotal: 0 };
    const result = await installPack({ ...where, source: TINY_PACK, verify, onProgress: (p) => { if (p.phase === 'copying') last = p; } });
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(result).toMatchObject({ name: 'tiny-fixture', source: 'user', replaced: false, isDefault: false, bytes: last.bytesTotal });
    const m = JSON.parse(readFileSync(join(TINY_PACK, 'manifest.json'), 'utf8')) as { files: { bytes: number }[] };
    expect(result.bytes).toBe(statSync(join(TINY_PACK, 'manifest.json')).size + m.files.reduce((a, f) => a + f.bytes, 0));
  });

  it('inspects a pack for listings without opening graphs: size, model card summary, problem', async () => {
    const i = await inspectPack({ name: 'tiny', dir: TINY_PACK, source: 'extra' });
    expect(i.problem).toBeNull();
    expect(i.manifest?.name).toBe('tiny-fixture');
    expect(i.modelCard).toMatch(/^This pack exists so that the engine tests can run every ONNX graph/);
    expect(modelCardSummary('# Title\n\n## Sub\n\nFirst **bold** `code`\nline two.\n\nSecond.')).toBe('First bold code line two.');
    const broken = tinyCopy((dir) => rmSync(join(dir, 'tokenizer.model')));
    const b = await inspectPack({ name: 'b', dir: broken, source: 'extra' });
    expect(b.problem).toEqual({ code: 'PACK_INVALID', message: expect.stringContaining('file `tokenizer.model`: missing') });
  });

  it('the user packs folder is <userData>/packs as the library location computes it, and the env overrides it', () => {
    for (const [platform, e, home] of [
      ['linux', {}, '/home/ana'], ['linux', { XDG_CONFIG_HOME: '/x/cfg' }, '/home/ana'],
      ['darwin', {}, '/Users/ana'], ['win32', { APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, 'C:\\Users\\ana'],
    ] as const) {
      const sep = platform === 'win32' ? '\\' : '/';
      expect(userPacksDir(e, platform, home)).toBe(`${userDataDir(e, platform, home)}${sep}packs`);
    }
    expect(userPacksDir({ CONCEPT_STUDIO_USER_PACKS: '/tmp/p' }, 'linux', '/home/ana')).toBe('/tmp/p');
  });

  it('resolves in the documented order: request, CONCEPT_STUDIO_PACK, the user default, the bundled default, the only pack', async () => {
    const bundled = join(root, 'bundled');
    cpSync(TINY_PACK, join(bundled, 'shipped'), { recursive: true });
    const w = { ...where, bundled };
    expect(resolvePackDir(undefined, where.env, bundled, userDir)).toBe(join(bundled, 'shipped')); // the only pack
    await installPack({ ...w, source: TINY_PACK, name: 'mine', verify });
    expect(() => resolvePackDir(undefined, where.env, bundled, userDir)).toThrow(/several packs are installed and none is the default \(shipped, mine\); choose one with `lcm packs default NAME`/);
    writeFileSync(join(bundled, 'default.json'), '{"pack": "shipped"}');
    expect(resolvePackDir(undefined, where.env, bundled, userDir)).toBe(join(bundled, 'shipped'));
    await installPack({ ...w, source: TINY_PACK, name: 'mine', force: true, makeDefault: true, verify });
    expect(resolvePackDir(undefined, where.env, bundled, userDir)).toBe(join(userDir, 'mine'));
    expect(resolvePackDir(undefined, { ...where.env, CONCEPT_STUDIO_PACK: 'shipped' }, bundled, userDir)).toBe(join(bundled, 'shipped'));
    expect(resolvePackDir('shipped', { ...where.env, CONCEPT_STUDIO_PACK: 'mine' }, bundled, userDir)).toBe(join(bundled, 'shipped'));
    await expect(installPack({ ...w, source: TINY_PACK, name: 'shipped', force: true, verify })).rejects.toThrow(`A pack named "shipped" ships with the app (${join(bundled, 'shipped')}) and cannot be replaced; install this one under another name (--name NAME).`);
    rmSync(bundled, { recursive: true });
  });

  it('CONCEPT_STUDIO_BUNDLED_PACKS replaces resources/models, for the library and the CLI', () => {
    expect(bundledPacksDir({})).toBe(BUNDLED_PACKS_DIR);
    expect(bundledPacksDir({ CONCEPT_STUDIO_BUNDLED_PACKS: '/tmp/shipped-here' })).toBe('/tmp/shipped-here');
    const bundled = join(root, 'bundled-env');
    cpSync(TINY_PACK, join(bundled, 'shipped'), { recursive: true });
    writeFileSync(join(bundled, 'default.json'), '{"pack": "shipped"}');
    try {
      const e = { ...env, CONCEPT_STUDIO_BUNDLED_PACKS: bundled };
      expect(findPacks({ env: e, userDir })).toEqual([{ name: 'shipped', dir: join(bundled, 'shipped'), source: 'bundled' }]);
      expect(resolvePackDir(undefined, e, undefined, userDir)).toBe(join(bundled, 'shipped'));
      const r = spawnSync(process.execPath, [BIN, 'packs', '--json'], { encoding: 'utf8', timeout: 60_000, env: e });
      expect(r.status, r.stderr).toBe(0);
      const listed = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; source: string; default: boolean });
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ name: 'shipped', source: 'bundled', default: true });
    } finally {
      rmSync(bundled, { recursive: true });
    }
  });
});
