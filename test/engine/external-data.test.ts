/**
 * Graphs with ONNX external data (the layout real SONAR-size packs need past
 * 2 GB) run through the same code: the tiny-external fixture holds the same
 * weights as tiny, exported with every tensor in `<graph>.onnx.data`.
 */
import { fileURLToPath } from 'node:url';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConceptEngine } from '../../src/inference/engine.ts';
import { PackError } from '../../src/inference/errors.ts';
import { ModelPack } from '../../src/inference/pack/loader.ts';
import { TINY_PACK } from '../helpers/fixtures.ts';

const EXTERNAL = fileURLToPath(new URL('../fixtures/packs/tiny-external', import.meta.url));

describe('packs with external data', () => {
  it('list their .onnx.data files and give the same results as the inline pack', async () => {
    const ext = await ConceptEngine.open(EXTERNAL);
    const inline = await ConceptEngine.open(TINY_PACK);
    try {
      expect(ext.pack.manifest.files.filter((f) => f.path.endsWith('.onnx.data')).length).toBe(5);
      const texts = ['The lighthouse stood on the cliff.', 'Les marins rentraient.'];
      const a = await ext.encode(texts, 'eng_Latn');
      const b = await inline.encode(texts, 'eng_Latn');
      a.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(b[i]!)));
      const doc = texts.map((text) => ({ text, lang: 'eng_Latn' }));
      const ga = [];
      for await (const c of ext.continue(doc, { seed: 7, count: 2 })) ga.push(c.text);
      const gb = [];
      for await (const c of inline.continue(doc, { seed: 7, count: 2 })) gb.push(c.text);
      expect(ga).toEqual(gb);
    } finally {
      await ext.close();
      await inline.close();
    }
  });

  it('a missing external data file is named', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cs-ext-')), 'tiny-external');
    cpSync(EXTERNAL, dir, { recursive: true });
    rmSync(join(dir, 'decoder.onnx.data'));
    try {
      const error = await ModelPack.open(dir).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(PackError);
      expect((error as PackError).file).toBe('decoder.onnx.data');
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });
});
