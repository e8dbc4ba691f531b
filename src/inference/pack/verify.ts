/**
 * Full verification of a pack folder: the manifest, every file's size and
 * SHA-256, the tokenizer and normalizer, and every ONNX graph opened and
 * checked against the signature of the pack format. What `lcm packs` and
 * `lcm packs add` run in-process and the app runs in its engine worker
 * (this module loads onnxruntime through the loader).
 */
import type { ProviderName } from '../backend/ort.ts';
import { ModelPack, type GraphReport } from './loader.ts';

export interface PackReport {
  dir: string;
  name: string;
  version: string;
  embeddingDim: number;
  /** The LCM design (manifest lcm.architecture; docs/variants.md). */
  architecture: string;
  /** int8 graphs, from provenance.quantization (docs/model-pack.md), else null. */
  quantized: string[] | null;
  languages: string[];
  graphs: GraphReport[];
}

export interface VerifyPackOptions {
  /** Check SHA-256 of every file (default true). */
  hashes?: boolean;
  provider?: ProviderName;
}

/** Opens the pack and all its graphs, then closes it; throws the loader's PackError naming the pack and the file. */
export async function verifyPack(dir: string, options: VerifyPackOptions = {}): Promise<PackReport> {
  const pack = await ModelPack.open(dir, { verifyHashes: options.hashes ?? true, ...(options.provider ? { provider: options.provider } : {}) });
  try {
    const graphs = await pack.openAll();
    const m = pack.manifest;
    const q = m.provenance?.quantization as { graphs?: Record<string, number> } | undefined;
    return { dir: pack.dir, name: m.name, version: m.version, embeddingDim: m.embeddingDim, architecture: m.lcm.architecture, quantized: q?.graphs ? Object.keys(q.graphs) : null, languages: pack.languageCodes, graphs };
  } finally {
    await pack.close();
  }
}
