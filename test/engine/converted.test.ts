/**
 * Packs converted from miniature checkpoints in each published format (recipe/convert, made by
 * `/usr/bin/python3 -m recipe.convert.selftest --write-fixtures`), loaded through the engine and
 * compared with reference outputs computed from the SOURCE checkpoints' own key names
 * (recipe/convert/reference.py), not from the converted modules: a wrong key mapping, special-token
 * order or final LayerNorm makes these fail.
 *
 * - fairseq2-fp32: Meta's SONAR fairseq2 layout + the LCM trainer's Two-Tower checkpoint;
 * - hf-fp32: the transformers M2M100 ports (Hugging Face token ids) + LCM with a separate normalizer;
 * - fairseq2-fp16: the float16 variant of the first, within the bounds the self-test measured.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { measurePack, type ConvertedReference } from '../../recipe/convert/packCheck.ts';
import { ModelPack } from '../../src/inference/pack/loader.ts';
import { fixture } from '../helpers/fixtures.ts';

const TOL = 1e-5; // per graph, float32 torch vs onnxruntime (as test/engine/graphs.test.ts)
// float16 graphs vs the float32 reference (miniature sizes; measured: encoder 4.2e-3, logits 1.0e-3,
// contextualizer 3.5e-3, x0 2.1e-3). The same bounds as FP16_BOUNDS in recipe/convert/selftest.py.
const FP16 = { encoderMaxAbs: 1e-2, encoderMinCosine: 0.9999, decoderLogitsMaxAbs: 5e-2, contextualizerMaxAbs: 2e-2, x0MaxAbs: 2e-2 };
const dir = (name: string): string => fileURLToPath(new URL(`../fixtures/converted/${name}`, import.meta.url));

describe.each(['fairseq2-fp32', 'hf-fp32'])('converted pack %s', (name) => {
  const ref = fixture<ConvertedReference>(`converted/${name}.reference.json`);

  it('matches the source checkpoints: tokens, encoder, decoder (cached), greedy ids, contextualizer, denoiser', async () => {
    const m = await measurePack(dir(name), ref);
    expect(m.tokensEqual, 'encoder input ids').toBe(true);
    expect(m.encoderMaxAbs).toBeLessThanOrEqual(TOL);
    expect(m.decoderLogitsMaxAbs).toBeLessThanOrEqual(TOL);
    expect(m.argmaxAgreement).toBe(1);
    expect(m.greedyEqual, 'greedy token ids').toBe(true);
    expect(m.contextualizerMaxAbs).toBeLessThanOrEqual(TOL);
    expect(m.x0MaxAbs).toBeLessThanOrEqual(TOL);
  });
});

describe('converted pack manifests', () => {
  it('keep each format\'s token ids: fairseq2 pad 0 / unk 1 / bos 2 / eos 3, Hugging Face bos 0 / pad 1 / eos 2 / unk 3', async () => {
    const fs2 = await ModelPack.open(dir('fairseq2-fp32'));
    const hf = await ModelPack.open(dir('hf-fp32'));
    try {
      expect(fs2.manifest.tokenizer.ids).toMatchObject({ pad: 0, unk: 1, bos: 2, eos: 3, pieceOffset: 1 });
      expect(hf.manifest.tokenizer.ids).toMatchObject({ pad: 1, unk: 3, bos: 0, eos: 2, pieceOffset: 1 });
      // 2500 pieces + pad → tags from 2501 in NLLB order (eng_Latn is tag 46, as 256047 is in the real vocabulary).
      expect(fs2.manifest.tokenizer.languageTokens.eng_Latn).toBe(2547);
      expect(hf.manifest.tokenizer.languageTokens.eng_Latn).toBe(2547);
      expect(fs2.languageCodes).toHaveLength(202);
      expect(fs2.manifest.provenance.precision).toBe('fp32');
    } finally {
      await fs2.close();
      await hf.close();
    }
  });
});

describe('converted pack fairseq2-fp16', () => {
  const ref = fixture<ConvertedReference>('converted/fairseq2-fp16.reference.json');

  it('has float32 inputs/outputs and stays within the measured float16 bounds of the float32 reference', async () => {
    const pack = await ModelPack.open(dir('fairseq2-fp16'));
    try {
      expect(pack.manifest.provenance.precision).toBe('fp16');
      await pack.openAll(); // every graph passes the format's float32 signature check
    } finally {
      await pack.close();
    }
    const m = await measurePack(dir('fairseq2-fp16'), ref);
    expect(m.tokensEqual).toBe(true);
    expect(m.encoderMaxAbs).toBeLessThanOrEqual(FP16.encoderMaxAbs);
    expect(m.encoderMinCosine).toBeGreaterThanOrEqual(FP16.encoderMinCosine);
    expect(m.decoderLogitsMaxAbs).toBeLessThanOrEqual(FP16.decoderLogitsMaxAbs);
    expect(m.contextualizerMaxAbs).toBeLessThanOrEqual(FP16.contextualizerMaxAbs);
    expect(m.x0MaxAbs).toBeLessThanOrEqual(FP16.x0MaxAbs);
    expect(m.x0MaxAbs).toBeGreaterThan(0); // really float16 inside: not bit-equal to float32
  });
});
