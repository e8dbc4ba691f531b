/**
 * Model pack manifest, format version 1. The authoritative description with
 * examples is docs/model-pack.md; keep the two in step. Every size the engine
 * uses comes from here, so the same code runs a tiny fixture pack and a pack
 * of real SONAR size.
 */

export const PACK_FORMAT = 'concept-studio-pack';
export const PACK_FORMAT_VERSION = 1;

/** A language the pack really supports (FLORES-200 code, e.g. `eng_Latn`). */
export interface PackLanguage {
  code: string;
  name: string;
}

/**
 * How SentencePiece ids map to model ids. SONAR/fairseq2: pad 0, unk 1,
 * bos 2, eos 3, every other piece shifted by +1 (pieceOffset), language tags
 * after the pieces. The Hugging Face port orders the specials differently,
 * which is why the map lives in the pack and not in code.
 */
export interface TokenizerIds {
  pad: number;
  unk: number;
  bos: number;
  eos: number;
  /** Model id = SentencePiece id + pieceOffset, for every piece that is not one of the SentencePiece specials below. */
  pieceOffset: number;
  /** SentencePiece's own ids of its control pieces (mapped to unk/bos/eos above). */
  spmUnk: number;
  spmBos: number;
  spmEos: number;
}

export interface TokenizerSpec {
  kind: 'sentencepiece';
  /** File name inside the pack. */
  file: string;
  ids: TokenizerIds;
  /** Rows of the embedding / output projection (pieces + specials + language tags + padding rows). */
  vocabSize: number;
  /** Model id of each language tag `__xxx_Xxxx__`, by FLORES-200 code. */
  languageTokens: Record<string, number>;
}

export interface TransformerShape {
  modelDim: number;
  layers: number;
  heads: number;
  ffnDim: number;
}

export interface SonarEncoderSpec extends TransformerShape {
  file: string;
  /** Learned-free sinusoidal table size; positions start at 2 (fairseq), so at most maxPositions - 2 tokens. */
  maxPositions: number;
  pooling: 'mean';
}

export interface SonarDecoderSpec extends TransformerShape {
  file: string;
  maxPositions: number;
  /** Longest output the decoder is allowed to produce, in tokens (reference: 256). */
  maxLength: number;
}

export type ScheduleKind = 'cosine' | 'linear' | 'quadratic' | 'sigmoid';

export interface ScheduleSpec {
  kind: ScheduleKind;
  /** T, the number of training timesteps (the released configs use 100). */
  trainSteps: number;
  /** linear / quadratic only. */
  betaStart: number;
  betaEnd: number;
  /** sigmoid only: ᾱ(t) = sigmoid(δ − γ·logit(t)). */
  sigmoidGamma: number;
  sigmoidDelta: number;
  zeroTerminalSnr: boolean;
  /** What the denoiser predicts. Only "sample" (x0) is used by the Two-Tower LCM. */
  predictionType: 'sample';
}

/** Defaults for generation; every one can be overridden per request. */
export interface SamplingDefaults {
  inferenceSteps: number;
  /** "trailing" reproduces the reference's integer stride floor(T/S); "trailing-exact" runs exactly S steps. */
  spacing: 'trailing' | 'trailing-exact';
  guidanceScale: number;
  guidanceRescale: number;
  initialNoiseScale: number;
  epsilonScaling: number | null;
  clipNoise: number;
}

export interface InstructionSpec {
  /** The marker concept placed between the source concepts and the target (e.g. "[MODEL]:"). */
  marker: string;
  lang: string;
}

/**
 * The LCM designs a pack can hold (docs/variants.md): the paper's Two-Tower
 * diffusion LCM (the app's default), the One-Tower diffusion LCM and the
 * Base-LCM (next-vector regression with MSE), and the Quant-LCM's two
 * variants (residual vector quantization; units predicted level by level).
 */
export const LCM_ARCHITECTURES = ['two-tower-diffusion', 'one-tower-diffusion', 'base-mse', 'quant-discrete', 'quant-continuous'] as const;
export type LcmArchitecture = (typeof LCM_ARCHITECTURES)[number];

/** The causal tower over the context concepts (every architecture has one; it runs with a key/value cache). */
export interface ContextualizerSpec extends TransformerShape {
  file: string;
  maxContext: number;
  ropeTheta: number;
}

export interface TwoTowerDenoiserSpec extends TransformerShape {
  file: string;
  /** denoiser_context.onnx: cross-attention keys/values of context rows. */
  contextFile: string;
  timestepDim: number;
}

/**
 * One-Tower: the same transformer as `lcm.contextualizer` (equal shape, shared
 * weights), exported a second time as the graph that runs noisy rows.
 */
export interface OneTowerDenoiserSpec extends TransformerShape {
  file: string;
  /** One-Tower packs have no denoiser_context graph: the context keys/values come from contextualizer.onnx. */
  contextFile?: undefined;
  timestepDim: number;
}

interface LcmCommonSpec {
  contextualizer: ContextualizerSpec;
  normalizer: { file: string; kind: 'robust-scaler' };
  stopping: {
    endOfText: { text: string; lang: string; threshold: number };
    repetitionThreshold: number | null;
    maxConcepts: number;
  };
  instructions: Partial<Record<'summarize' | 'expand', InstructionSpec>>;
}

export interface TwoTowerLcmSpec extends LcmCommonSpec {
  architecture: 'two-tower-diffusion';
  denoiser: TwoTowerDenoiserSpec;
  schedule: ScheduleSpec;
  sampling: SamplingDefaults;
}

export interface OneTowerLcmSpec extends LcmCommonSpec {
  architecture: 'one-tower-diffusion';
  denoiser: OneTowerDenoiserSpec;
  schedule: ScheduleSpec;
  sampling: SamplingDefaults;
}

/**
 * Base-LCM: `lcm.contextualizer` is the whole model (PreNet, causal layers,
 * PostNet) and predicts the next vector. It has no denoiser, no noise
 * schedule and no sampling options; the manifest has none of those keys.
 * They are typed as absent, so the compiler makes every reader narrow on
 * `architecture` (or use `isDiffusionLcm`) first.
 */
export interface BaseMseLcmSpec extends LcmCommonSpec {
  architecture: 'base-mse';
  denoiser?: undefined;
  schedule?: undefined;
  sampling?: undefined;
}

/**
 * Quant-LCM head (docs/variants.md): the Two-Tower's denoiser tower with the
 * codebook level in place of the diffusion timestep, in two graphs as the
 * Two-Tower's: `contextFile` (denoiser_context.onnx: each context row's cross
 * keys/values, computed once per row) and `file` (denoiser.onnx: partial,
 * level, cross keys/values → logits or residual, once per level).
 */
export interface QuantHeadSpec extends TransformerShape {
  file: string;
  /** denoiser_context.onnx: cross-attention keys/values of context rows. */
  contextFile: string;
  /** Width of the level's sinusoid embedding (the DiT timestep encoder's). */
  timestepDim: number;
}

/** The RVQ codebooks: `file` holds float32 little-endian [levels, size, embeddingDim], no header. */
export interface CodebooksSpec {
  file: string;
  levels: number;
  size: number;
  /** The space the centroids live in: the LCM's normalized space (the engine denormalizes the sum). */
  space: 'normalized';
}

/** Quant-LCM sampling defaults, applied at every codebook level; each can be overridden per request. */
export interface QuantSamplingDefaults {
  /** Softmax temperature of the unit scores; 0 = greedy (argmax, nothing drawn). */
  temperature: number;
  /** Keep the k best units before sampling; 0 = all. */
  topK: number;
}

export interface QuantLcmSpec extends LcmCommonSpec {
  architecture: 'quant-discrete' | 'quant-continuous';
  denoiser: QuantHeadSpec;
  codebooks: CodebooksSpec;
  sampling: QuantSamplingDefaults;
  schedule?: undefined;
}

export type LcmSpec = TwoTowerLcmSpec | OneTowerLcmSpec | BaseMseLcmSpec | QuantLcmSpec;
export type DiffusionLcmSpec = TwoTowerLcmSpec | OneTowerLcmSpec;

/** True for the diffusion architectures (they have a denoiser, a schedule and sampling defaults). */
export function isDiffusionLcm(spec: LcmSpec): spec is DiffusionLcmSpec {
  return spec.architecture === 'two-tower-diffusion' || spec.architecture === 'one-tower-diffusion';
}

/** True for the Quant-LCM variants (RVQ codebooks, temperature/top-k sampling). */
export function isQuantLcm(spec: LcmSpec): spec is QuantLcmSpec {
  return spec.architecture === 'quant-discrete' || spec.architecture === 'quant-continuous';
}

/** The manifest's LCM section when the pack is a Two-Tower one; throws, naming the pack and its design, otherwise. */
export function twoTowerSpec(m: PackManifest): TwoTowerLcmSpec {
  if (m.lcm.architecture !== 'two-tower-diffusion') throw new TypeError(`Pack ${m.name} is a ${m.lcm.architecture} pack; this needs a two-tower-diffusion one (docs/variants.md).`);
  return m.lcm;
}

export interface PackFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface PackManifest {
  format: typeof PACK_FORMAT;
  formatVersion: number;
  name: string;
  version: string;
  description: string;
  /** Dimension of the sentence-embedding (concept) space. */
  embeddingDim: number;
  languages: PackLanguage[];
  tokenizer: TokenizerSpec;
  sonar: { encoder: SonarEncoderSpec; decoder: SonarDecoderSpec };
  lcm: LcmSpec;
  files: PackFile[];
  provenance: Record<string, string | number | boolean>;
  modelCard: string;
}
