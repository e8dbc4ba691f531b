/**
 * The loader refuses broken packs with errors that name the pack, the file and
 * the problem. Each case copies the fixture pack to a temporary folder and
 * breaks one thing.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PackError } from '../../src/inference/errors.ts';
import { ModelPack } from '../../src/inference/pack/loader.ts';
import { resolvePackDir } from '../../src/inference/pack/discover.ts';
import type { PackManifest } from '../../src/inference/pack/types.ts';
import { TINY_PACK } from '../helpers/fixtures.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function copyPack(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'cs-pack-')), 'tiny');
  cpSync(TINY_PACK, dir, { recursive: true });
  dirs.push(dir);
  return dir;
}

const readManifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as PackManifest;
const writeManifest = (dir: string, m: unknown) => writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 1));

/** Rewrites a listed file and fixes its size and hash in the manifest (so only the deeper check can catch it). */
function replaceFile(dir: string, file: string, bytes: Buffer): void {
  writeFileSync(join(dir, file), bytes);
  const m = readManifest(dir);
  const entry = m.files.find((f) => f.path === file)!;
  entry.bytes = bytes.length;
  entry.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeManifest(dir, m);
}

async function failure(dir: string, open: (p: ModelPack) => Promise<unknown> = async () => undefined): Promise<PackError> {
  try {
    const pack = await ModelPack.open(dir);
    try {
      await open(pack);
    } finally {
      await pack.close();
    }
  } catch (error) {
    expect(error).toBeInstanceOf(PackError);
    return error as PackError;
  }
  throw new Error('expected the pack to be refused');
}

describe('model pack validation', () => {
  it('opens the fixture pack and every graph with its signature', async () => {
    const pack = await ModelPack.open(TINY_PACK);
    const graphs = await pack.openAll();
    expect(graphs.map((g) => g.role)).toEqual(['encoder', 'decoder', 'contextualizer', 'denoiserContext', 'denoiser']);
    expect(graphs.every((g) => g.provider === 'cpu')).toBe(true);
    expect(pack.languageCodes).toContain('eng_Latn');
    await pack.close();
  });

  it('a missing folder or manifest: PACK_NOT_FOUND with the path', async () => {
    const err = await failure('/nonexistent/pack');
    expect(err.code).toBe('PACK_NOT_FOUND');
    expect(err.message).toContain('/nonexistent/pack');
    const dir = copyPack();
    rmSync(join(dir, 'manifest.json'));
    expect((await failure(dir)).message).toMatch(/manifest\.json/);
  });

  it('a manifest that is not JSON', async () => {
    const dir = copyPack();
    writeFileSync(join(dir, 'manifest.json'), '{"format": ');
    const err = await failure(dir);
    expect(err.message).toMatch(/Model pack `tiny`, file `manifest\.json`: not valid JSON/);
  });

  it('a newer format version asks to update the app', async () => {
    const dir = copyPack();
    writeManifest(dir, { ...readManifest(dir), formatVersion: 2 });
    const err = await failure(dir);
    expect(err.code).toBe('PACK_UNSUPPORTED_VERSION');
    expect(err.message).toMatch(/newer Concept Studio.*update the app/);
  });

  it('lists every structural problem at once', async () => {
    const dir = copyPack();
    const m = readManifest(dir) as unknown as Record<string, unknown> & PackManifest;
    m.embeddingDim = 0;
    m.languages.push({ code: 'xxx_Latn', name: 'Nothing' });
    m.sonar.encoder.heads = 5;
    (m.lcm.sampling as unknown as Record<string, unknown>).guidanceScale = 0.5;
    m.files[0]!.path = '../escape.onnx';
    writeManifest(dir, m);
    const msg = (await failure(dir)).message;
    expect(msg).toMatch(/`embeddingDim` must be an integer/);
    expect(msg).toMatch(/"xxx_Latn" is not one of the 202 SONAR language codes/);
    expect(msg).toMatch(/`sonar\.encoder\.modelDim` \(32\) is not divisible by `sonar\.encoder\.heads` \(5\)/);
    expect(msg).toMatch(/`lcm\.sampling\.guidanceScale` must be a number from 1/);
    expect(msg).toMatch(/must be a path inside the pack folder/);
  });

  it('a missing file names it and where it was expected', async () => {
    const dir = copyPack();
    rmSync(join(dir, 'decoder.onnx'));
    const err = await failure(dir);
    expect(err.file).toBe('decoder.onnx');
    expect(err.message).toMatch(/file `decoder\.onnx`: missing \(expected at .*decoder\.onnx\)/);
  });

  it('a truncated file (size) and a modified file (hash)', async () => {
    const dir = copyPack();
    const bytes = readFileSync(join(dir, 'encoder.onnx'));
    writeFileSync(join(dir, 'encoder.onnx'), bytes.subarray(0, 1000));
    expect((await failure(dir)).message).toMatch(/`encoder\.onnx`: is 1000 bytes but the manifest says/);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 10] = flipped[flipped.length - 10]! ^ 0xff;
    writeFileSync(join(dir, 'encoder.onnx'), flipped);
    expect((await failure(dir)).message).toMatch(/`encoder\.onnx`: SHA-256 mismatch/);
  });

  it('a corrupt ONNX file whose hash was updated fails when the graph is opened, naming it', async () => {
    const dir = copyPack();
    replaceFile(dir, 'denoiser.onnx', Buffer.from('not an onnx model'));
    const err = await failure(dir, (p) => p.graph('denoiser'));
    expect(err.file).toBe('denoiser.onnx');
    expect(err.message).toMatch(/Could not load ONNX graph/);
  });

  it('a graph with the wrong inputs (encoder where the decoder belongs) is refused by its signature', async () => {
    const dir = copyPack();
    replaceFile(dir, 'decoder.onnx', readFileSync(join(dir, 'encoder.onnx')));
    const err = await failure(dir, (p) => p.graph('decoder'));
    expect(err.message).toMatch(/file `decoder\.onnx`: the graph does not match the decoder signature/);
    expect(err.message).toMatch(/input `past_key\.0` is missing/);
  });

  it('a graph built for another size (embedding dimension) is refused by its signature', async () => {
    const dir = copyPack();
    const m = readManifest(dir);
    m.embeddingDim = 64;
    m.sonar.decoder.modelDim = 64;
    writeManifest(dir, m);
    replaceFile(dir, 'normalizer.json', Buffer.from(JSON.stringify({ center: new Array(64).fill(0), scale: new Array(64).fill(1) })));
    const err = await failure(dir, (p) => p.graph('encoder'));
    expect(err.message).toMatch(/file `encoder\.onnx`: .*output `sentence_embedding` dimension 1 is 32, expected 64/);
  });

  it('a tokenizer model that is not SentencePiece', async () => {
    const dir = copyPack();
    replaceFile(dir, 'tokenizer.model', Buffer.from('hello'));
    const err = await failure(dir);
    expect(err.file).toBe('tokenizer.model');
    expect(err.message).toMatch(/not a SentencePiece model/);
  });

  it('finds packs by path or by name, and says what to do when none is installed', () => {
    expect(resolvePackDir(TINY_PACK)).toBe(TINY_PACK);
    const empty = mkdtempSync(join(tmpdir(), 'cs-empty-'));
    dirs.push(empty);
    expect(() => resolvePackDir(undefined, {}, empty)).toThrow(/no model pack is installed.*--pack/);
    const parent = join(TINY_PACK, '..');
    expect(resolvePackDir('tiny', { CONCEPT_STUDIO_PACKS: parent }, empty)).toBe(TINY_PACK);
    expect(() => resolvePackDir('nope', {}, empty)).toThrow(/no pack folder named "nope"/);
  });
});
