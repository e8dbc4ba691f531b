/**
 * The packs methods of the bridge on a real StudioService: listing with each
 * pack's state, addPack (full verification in a worker of its own, progress
 * events, the copy), refusals that name the pack and the file, the default
 * and the engine following it, verifyPack on a pack damaged after install,
 * removal, and the folder dialog that only Electron has.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PackEvent } from '../../src/shared/contract.ts';
import { dispatch } from '../../src/main/ipc/dispatch.ts';
import { TINY_PACK } from '../helpers/fixtures.ts';
import { testStudio, type TestStudio } from './helpers.ts';

let studio: TestStudio | undefined;
afterEach(async () => {
  await studio?.close();
  studio = undefined;
});

const userDir = (s: TestStudio) => join(s.dir, 'user-packs');

describe('the packs methods', () => {
  it('list the loaded pack with its facts; add a copy with progress events, verified; a new default does not override CONCEPT_STUDIO_PACK', async () => {
    studio = testStudio();
    const { service } = studio;
    await service.appInfo();
    const before = await service.listPacks();
    expect(before).toMatchObject({ userFolder: userDir(studio), folderDialog: false, pinned: false, problem: null, defaultPack: null });
    expect(before.packs).toEqual([{
      name: 'tiny', source: 'path', folder: TINY_PACK, packName: 'tiny-fixture', version: '1.0.0', description: 'Random weights for tests.',
      bytes: expect.any(Number), languages: ['eng_Latn', 'fra_Latn', 'deu_Latn', 'rus_Cyrl', 'zho_Hans', 'jpn_Jpan', 'arb_Arab', 'hin_Deva'],
      architecture: 'two-tower-diffusion', shape: 'SONAR 32-d, 2+2 layers; LCM 48-d, 2+2 layers',
      provenance: expect.objectContaining({ createdBy: expect.any(String), torch: expect.any(String) }),
      modelCard: expect.stringMatching(/^This pack exists so that the engine tests can run every ONNX graph/),
      validation: { state: 'checked' }, isDefault: false, loaded: true, shadowed: false, removable: false,
    }]);

    const events: PackEvent[] = [];
    service.onPackEvent((e) => events.push(e));
    const source = join(studio.dir, 'incoming', 'tiny');
    cpSync(TINY_PACK, source, { recursive: true });
    const added = await service.addPack({ path: source, name: 'mine', makeDefault: true });
    expect(added.added).toBe('mine');
    const phases = events.map((e) => e.phase);
    expect([...new Set(phases)]).toEqual(['checking', 'copying', 'verifying', 'done']);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ type: 'packProgress', path: source, phase: 'done', bytesDone: last.bytesTotal });
    expect(readdirSync(userDir(studio)).sort()).toEqual(['mine', 'packs.json']);
    const mine = added.packs.find((p) => p.name === 'mine')!;
    expect(mine).toMatchObject({ source: 'user', folder: join(userDir(studio), 'mine'), isDefault: true, removable: true, validation: { state: 'verified', at: expect.any(Number) } });
    expect(added.defaultPack).toBe('mine');
    // CONCEPT_STUDIO_PACK still comes first (the documented order), so the engine keeps the fixture path.
    expect((await service.appInfo()).pack).toMatchObject({ name: 'tiny-fixture' });
    expect((await service.listPacks()).packs.find((p) => p.loaded)?.name).toBe('tiny');
  }, 120_000);

  it('without CONCEPT_STUDIO_PACK: adding a default loads it, removing it leaves no pack and says why', async () => {
    studio = testStudio({ pack: false });
    const { service } = studio;
    expect((await service.appInfo()).pack).toEqual({ error: expect.stringMatching(/no model pack is installed .*lcm packs add FOLDER/) });
    await service.updateSettings({ pack: '/somewhere/else' });
    const list = await service.addPack({ path: TINY_PACK, makeDefault: true });
    expect(list.added).toBe('tiny-fixture');
    expect((await service.getSettings()).pack).toBeNull(); // the app follows the default now
    const info = await service.appInfo();
    expect(info.pack).toMatchObject({ name: 'tiny-fixture', languages: expect.arrayContaining(['eng_Latn']) });
    expect((await service.listPacks()).packs).toMatchObject([{ name: 'tiny-fixture', loaded: true, isDefault: true }]);
    const [v] = await service.engine.call('encode', { texts: ['Hello.'], lang: 'eng_Latn' });
    expect(v).toHaveLength(32);

    const after = await service.removePack({ name: 'tiny-fixture' });
    expect(after.packs).toEqual([]);
    expect(existsSync(join(userDir(studio), 'tiny-fixture'))).toBe(false);
    expect((await service.appInfo()).pack).toEqual({ error: expect.stringMatching(/no model pack is installed/) });
  }, 120_000);

  it('refuses broken packs with the pack, the file and what to do, sending no copy progress and leaving nothing', async () => {
    studio = testStudio({ pack: false });
    const { service } = studio;
    const events: PackEvent[] = [];
    service.onPackEvent((e) => events.push(e));
    const broken = join(studio.dir, 'broken', 'tiny');
    cpSync(TINY_PACK, broken, { recursive: true });
    rmSync(join(broken, 'denoiser.onnx'));
    await expect(service.addPack({ path: broken })).rejects.toMatchObject({
      code: 'PACK_INVALID', message: `Model pack \`tiny-fixture\`, file \`denoiser.onnx\`: missing (expected at ${join(broken, 'denoiser.onnx')}); reinstall or re-export the pack`,
    });
    expect(events.map((e) => e.phase)).toEqual(['checking']);
    await expect(service.addPack({ path: join(broken, 'manifest.json') })).rejects.toMatchObject({ code: 'PACK_NOT_FOUND', message: expect.stringContaining('is a file, not a folder') });
    expect(existsSync(userDir(studio)) ? readdirSync(userDir(studio)) : []).toEqual([]);
    // Through the bridge: a relative path never reaches the service.
    const reply = await dispatch(service, 'addPack', { path: 'packs/tiny' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('addPack: req.path must be the full path of the pack folder') } });
    await expect(service.choosePackFolder()).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('type the full path of the pack folder') });
    await expect(service.removePack({ name: 'nope' })).rejects.toMatchObject({ code: 'PACK_NOT_FOUND' });
  }, 120_000);

  it('verifyPack finds a pack damaged after install; the folder dialog is Electron\'s', async () => {
    studio = testStudio({ pack: false, service: { chooseFolder: async () => '/chosen/folder' } });
    const { service } = studio;
    await service.addPack({ path: TINY_PACK, name: 'damaged' });
    const file = join(userDir(studio), 'damaged', 'decoder.onnx');
    const bytes = readFileSync(file);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(file, bytes);
    const listed = (await service.listPacks()).packs[0]!;
    expect(listed.validation).toEqual({ state: 'checked' }); // same size: only a full check can tell
    const after = await service.verifyPack({ name: 'damaged' });
    expect(after.packs[0]!.validation).toEqual({ state: 'invalid', code: 'PACK_INVALID', message: expect.stringMatching(/^Model pack `tiny-fixture`, file `decoder\.onnx`: SHA-256 mismatch/) });
    await expect(service.setDefaultPack({ name: 'nope' })).rejects.toMatchObject({ code: 'PACK_NOT_FOUND' });
    expect(await service.choosePackFolder()).toEqual({ path: '/chosen/folder' });
    expect((await service.listPacks()).folderDialog).toBe(true);
  }, 120_000);
});
