/**
 * What `lcm eval` measures and writes: the options of a run, the context every suite runs in, and the results (the
 * report's JSON; report.ts renders the same object as Markdown and SVG). Every figure is a finite number or null
 * (null: nothing to measure, e.g. no item long enough).
 */
import type { ConceptEngine } from '../inference/engine.ts';
import type { DiffusionOptions } from '../inference/lcm/sampler.ts';
import type { DecodeOptions } from '../inference/sonar/decoder.ts';
import type { SuiteName } from './suites.ts';

export interface EvalOptions {
  /** Suites to run, in SUITE_NAMES order (default: all). */
  suites?: readonly SuiteName[];
  /** Items per language (per language and direction for translate); default: every item of the suite files. */
  limit?: number;
  /** Base seed of every LCM sample (item k of a suite uses a seed derived from it). Default 0. */
  seed?: number;
  /** Decoder settings (default greedy, as recipe/train/evaluate.py). */
  decode?: Omit<DecodeOptions, 'signal' | 'rng'>;
  /** Diffusion overrides (default: the pack's sampling settings). */
  sampling?: Partial<DiffusionOptions>;
  /** Folder holding the suite files (default resources/eval). */
  suitesDir?: string;
  signal?: AbortSignal;
  /** A line of progress ("next: 12/40"), for a terminal. */
  onProgress?: (message: string) => void;
}

/** What a suite runner gets. */
export interface SuiteContext {
  engine: ConceptEngine;
  seed: number;
  limit: number | undefined;
  decode: Omit<DecodeOptions, 'signal' | 'rng'>;
  sampling: Partial<DiffusionOptions>;
  suitesDir: string;
  signal: AbortSignal | undefined;
  progress: (message: string) => void;
}

export interface Skipped {
  status: 'skipped';
  reason: string;
}

export interface Ran {
  status: 'ran';
  /** Items scored. */
  items: number;
  seconds: number;
  /** What was left out and why, and the settings that matter for reading the figures. */
  notes: string[];
}

/** One decoded example, shown in the report. */
export interface Example {
  lang: string;
  input: string;
  output: string;
  reference?: string;
}

export interface RoundtripResult extends Ran {
  languages: { lang: string; n: number; chrf: number; bleu: number; bleuTokenizer: string }[];
  /** Unweighted mean over languages. */
  mean: { chrf: number; bleu: number };
  examples: Example[];
}

export interface TranslateResult extends Ran {
  directions: { source: string; target: string; n: number; chrf: number; bleu: number; bleuTokenizer: string }[];
  /** Unweighted means over languages, per direction kind. */
  mean: { fromEnglish: { chrf: number; bleu: number } | null; intoEnglish: { chrf: number; bleu: number } | null };
  examples: Example[];
}

export interface CosineRow {
  lang: string;
  n: number;
  /** Mean cosine of the LCM's sample to the true next concept. */
  lcm: number;
  /**
   * Mean cosine of the mean of CONSENSUS_SAMPLES samples (the LCM's point estimate of the next concept): a
   * diagnostic beside the single sample, comparable with the two baselines, which are point estimates too. A
   * large gap to `lcm` says the samples spread around the right direction rather than miss it.
   */
  lcmConsensus: number;
  /** Baseline: the previous concept. */
  previous: number;
  /** Baseline: the mean of the context's concepts. */
  contextMean: number;
}

export interface NextResult extends Ran {
  languages: CosineRow[];
  /** Over all positions (each position weighs the same). */
  overall: Omit<CosineRow, 'lang'>;
  continuation: {
    documents: number;
    promptConcepts: number;
    maxConcepts: number;
    generated: number;
    stops: Record<string, number>;
    /** Mean cos(n, n + 2) over all pairs: generated, and the documents' true continuations. */
    coherence: { generated: number | null; reference: number | null };
    /** Mean REP-4 per document: generated text, true continuation. */
    rep4: { generated: number | null; reference: number | null };
  };
  examples: Example[];
}

/** Mean scores of a set of (hypothesis, reference) texts; ROUGE in [0, 1]. */
export interface TextScores {
  rougeL: number;
  rougeLsum: number;
  rep4: number;
  wordRatio: number;
}

export interface SummarizeRow {
  lang: string;
  n: number;
  model: TextScores & { ovl3: number };
  /** Baseline: the document's first k sentences, k = sentences in the reference summary. */
  lead: TextScores & { ovl3: number };
  /** OVL-3 of the reference summary against its document: how extractive the references are. */
  referenceOvl3: number;
}

export interface SummarizeResult extends Ran {
  languages: SummarizeRow[];
  overall: Omit<SummarizeRow, 'lang'>;
  stops: Record<string, number>;
  examples: Example[];
}

export interface ExpandRow {
  lang: string;
  n: number;
  model: TextScores;
  /** Baseline: the summary itself as the expansion. */
  summary: TextScores;
}

export interface ExpandResult extends Ran {
  languages: ExpandRow[];
  overall: Omit<ExpandRow, 'lang'>;
  examples: Example[];
}

export const SEGMENTER_NAMES = ['engine-200', 'engine-uncapped', 'naive'] as const;
export type SegmenterName = (typeof SEGMENTER_NAMES)[number];

export interface SegmenterRow {
  segmenter: SegmenterName;
  segments: number;
  meanChars: number;
  /** Share of segments over 200 characters (the paper's cap). */
  over200: number;
  /** Mean sentence BLEU of decode(encode(segment)) vs the segment (the paper's AutoBLEU), 0–100. */
  autoBleu: number;
  corpusBleu: number;
  /** AutoBLEU by segment length in characters (the paper's Figure 2); null where no segment falls in the bucket. */
  byLength: { bucket: string; n: number; autoBleu: number | null }[];
}

export interface SegmentersResult extends Ran {
  segmenters: SegmenterRow[];
  languages: { lang: string; paragraphs: number; autoBleu: Record<SegmenterName, number> }[];
  examples: Example[];
}

export interface SuiteResults {
  roundtrip: RoundtripResult;
  translate: TranslateResult;
  next: NextResult;
  summarize: SummarizeResult;
  expand: ExpandResult;
  segmenters: SegmentersResult;
}

export interface EvalReport {
  format: 'concept-studio-eval';
  formatVersion: 1;
  createdAt: string;
  /** The command line that made it (filled in by the CLI). */
  command: string;
  pack: {
    name: string;
    version: string;
    description: string;
    languages: string[];
    instructions: string[];
    /** provenance.weights of the manifest when present (e.g. "random, seed 1234"). */
    weights: string | null;
    randomWeights: boolean;
  };
  settings: {
    seed: number;
    limit: number | null;
    decode: string;
    sampling: Record<string, number | string | null>;
    suiteFiles: Record<string, { items: number; sha256: string }>;
  };
  suites: { [K in keyof SuiteResults]?: SuiteResults[K] | Skipped };
  seconds: number;
}
