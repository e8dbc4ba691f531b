/**
 * Runs a converted pack through the engine's own code (ModelPack, SonarEncoder, SonarDecoder,
 * the LCM graphs) and measures it against a reference.json written by
 * `python3 -m recipe.convert.selftest` from forward passes on the source checkpoints.
 * Used by test/engine/converted.test.ts and, as a command, by the self-test:
 *
 *   npx tsx recipe/convert/packCheck.ts <packDir> <reference.json>   → JSON measures on stdout
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { f32, i64, type TensorValue } from '../../src/inference/backend/ort.ts';
import { ModelPack } from '../../src/inference/pack/loader.ts';
import { SonarDecoder } from '../../src/inference/sonar/decoder.ts';
import { SonarEncoder } from '../../src/inference/sonar/encoder.ts';
import { twoTowerSpec } from '../../src/inference/pack/types.ts';

export interface ConvertedReference {
  pack: string;
  precision: 'fp32' | 'fp16';
  tokens: { text: string; lang: string; ids: number[] }[];
  encoder: { texts: string[]; langs: string[]; sentenceEmbedding: number[][] };
  decoder: {
    sentenceEmbedding: number[][]; inputIds: number[][]; logitColumns: number[]; logits: number[][][]; argmax: number[][];
    greedy: { maxNewTokens: number; bannedIds: number[]; langs: string[]; tokens: number[][] };
  };
  contextualizer: { embeddings: number[][]; hidden: number[][] };
  denoiser: { context: number[][]; noisy: number[][]; timesteps: number[]; crossMask: number[][]; x0: number[][] };
}

export interface PackMeasures {
  tokensEqual: boolean;
  encoderMaxAbs: number;
  encoderMinCosine: number;
  decoderLogitsMaxAbs: number;
  argmaxAgreement: number;
  greedyEqual: boolean;
  greedyTokenAgreement: number;
  contextualizerMaxAbs: number;
  x0MaxAbs: number;
}

const maxAbs = (a: ArrayLike<number>, b: readonly number[]): number => {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs reference ${b.length}`);
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const cosine = (a: ArrayLike<number>, b: readonly number[]): number => {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < b.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
};

export async function measurePack(packDir: string, ref: ConvertedReference): Promise<PackMeasures> {
  const pack = await ModelPack.open(packDir);
  try {
    const m = pack.manifest;
    const tokensEqual = ref.tokens.every((t) => JSON.stringify(pack.tokenizer.encode(t.text, t.lang)) === JSON.stringify(t.ids));

    const vectors = await new SonarEncoder(pack).encode(ref.encoder.texts, ref.encoder.langs);
    let encoderMaxAbs = 0;
    let encoderMinCosine = 1;
    vectors.forEach((v, i) => {
      encoderMaxAbs = Math.max(encoderMaxAbs, maxAbs(v, ref.encoder.sentenceEmbedding[i]!));
      encoderMinCosine = Math.min(encoderMinCosine, cosine(v, ref.encoder.sentenceEmbedding[i]!));
    });

    // Decoder: one token at a time through the key/value cache, logits at every position.
    const graph = await pack.graph('decoder');
    const d = m.sonar.decoder;
    const V = m.tokenizer.vocabSize;
    const dh = d.modelDim / d.heads;
    let decoderLogitsMaxAbs = 0;
    let agree = 0;
    let positions = 0;
    for (let s = 0; s < ref.decoder.inputIds.length; s++) {
      const ids = ref.decoder.inputIds[s]!;
      let past: Float32Array[] = Array.from({ length: 2 * d.layers }, () => new Float32Array(0));
      for (let t = 0; t < ids.length; t++) {
        const feeds: Record<string, TensorValue> = { input_ids: i64([ids[t]!], [1, 1]), sentence_embedding: f32(Float32Array.from(ref.decoder.sentenceEmbedding[s]!), [1, m.embeddingDim]) };
        for (let l = 0; l < d.layers; l++) {
          feeds[`past_key.${l}`] = f32(past[2 * l]!, [1, d.heads, t, dh]);
          feeds[`past_value.${l}`] = f32(past[2 * l + 1]!, [1, d.heads, t, dh]);
        }
        const out = await graph.run(feeds);
        past = Array.from({ length: 2 * d.layers }, (_, k) => out[`${k % 2 ? 'present_value' : 'present_key'}.${k >> 1}`]!.data as Float32Array);
        const logits = out.logits!.data as Float32Array;
        decoderLogitsMaxAbs = Math.max(decoderLogitsMaxAbs, maxAbs(ref.decoder.logitColumns.map((c) => logits[c]!), ref.decoder.logits[s]![t]!));
        let arg = 0;
        for (let v = 1; v < V; v++) if (logits[v]! > logits[arg]!) arg = v;
        agree += arg === ref.decoder.argmax[s]![t] ? 1 : 0;
        positions++;
      }
    }
    const g = ref.decoder.greedy;
    // The engine's maxLength counts the closing </s>, which it forces at the last position: hence + 1.
    const decoded = await new SonarDecoder(pack).decode(g.tokens.map((_, i) => Float32Array.from(ref.decoder.sentenceEmbedding[i]!)), g.langs,
      { strategy: 'greedy', maxLength: g.maxNewTokens + 1, bannedTokens: g.bannedIds });
    let same = 0;
    let total = 0;
    decoded.forEach((o, i) => {
      const want = g.tokens[i]!;
      for (let k = 0; k < want.length; k++) {
        total++;
        if (o.tokens[k] === want[k]) same++;
        else break; // after the first difference the continuations are not comparable
      }
    });
    const greedyEqual = decoded.every((o, i) => JSON.stringify(o.tokens.slice(0, g.tokens[i]!.length)) === JSON.stringify(g.tokens[i]));

    // Contextualizer over the whole context at once (P = 0).
    const c = m.lcm.contextualizer;
    const cdh = c.modelDim / c.heads;
    const T = ref.contextualizer.embeddings.length;
    const cfeeds: Record<string, TensorValue> = { embeddings: f32(Float32Array.from(ref.contextualizer.embeddings.flat()), [1, T, m.embeddingDim]) };
    for (let l = 0; l < c.layers; l++) {
      cfeeds[`past_key.${l}`] = f32(new Float32Array(0), [1, c.heads, 0, cdh]);
      cfeeds[`past_value.${l}`] = f32(new Float32Array(0), [1, c.heads, 0, cdh]);
    }
    const hidden = (await (await pack.graph('contextualizer')).run(cfeeds)).hidden!.data as Float32Array;
    const contextualizerMaxAbs = maxAbs(hidden, ref.contextualizer.hidden.flat());

    // Denoiser: cross keys from denoiser_context, one guided batch with shared keys.
    const dn = twoTowerSpec(m).denoiser;
    const ddh = dn.modelDim / dn.heads;
    const M = ref.denoiser.context.length;
    const kv = await (await pack.graph('denoiserContext')).run({ context: f32(Float32Array.from(ref.denoiser.context.flat()), [1, M, dn.modelDim]) });
    const feeds: Record<string, TensorValue> = {
      noisy: f32(Float32Array.from(ref.denoiser.noisy.flat()), [ref.denoiser.noisy.length, m.embeddingDim]),
      timesteps: i64(ref.denoiser.timesteps, [ref.denoiser.timesteps.length]),
      cross_mask: f32(Float32Array.from(ref.denoiser.crossMask.flat()), [ref.denoiser.crossMask.length, M]),
    };
    for (let l = 0; l < dn.layers; l++) {
      feeds[`cross_key.${l}`] = f32(kv[`cross_key.${l}`]!.data as Float32Array, [1, dn.heads, M, ddh]);
      feeds[`cross_value.${l}`] = f32(kv[`cross_value.${l}`]!.data as Float32Array, [1, dn.heads, M, ddh]);
    }
    const x0 = await (await pack.graph('denoiser')).runFloat(feeds, 'x0');
    const x0MaxAbs = maxAbs(x0.data, ref.denoiser.x0.flat());

    return { tokensEqual, encoderMaxAbs, encoderMinCosine, decoderLogitsMaxAbs, argmaxAgreement: agree / positions, greedyEqual,
      greedyTokenAgreement: same / total, contextualizerMaxAbs, x0MaxAbs };
  } finally {
    await pack.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [packDir, refPath] = process.argv.slice(2);
  if (!packDir || !refPath) {
    console.error('usage: npx tsx recipe/convert/packCheck.ts <packDir> <reference.json>');
    process.exit(2);
  }
  const ref = JSON.parse(readFileSync(refPath, 'utf8')) as ConvertedReference;
  console.log(JSON.stringify(await measurePack(packDir, ref)));
}
