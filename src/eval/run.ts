/**
 * `lcm eval`'s engine side: runs the chosen held-out suites on one pack and returns every figure as an EvalReport
 * (report.ts writes it as Markdown, SVG charts and JSON). Suites the pack cannot run (languages it lacks,
 * instruction formats it was not fine-tuned for) are skipped with the reason, never failed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConceptEngine } from '../inference/engine.ts';
import { checkSeed } from '../inference/rng.ts';
import { runExpand, runSummarize } from './instructionSuites.ts';
import { runNext } from './nextSuite.ts';
import { runSegmenters } from './segmentersSuite.ts';
import { runRoundtrip, runTranslate } from './sonarSuites.ts';
import { EVAL_SUITES_DIR, SUITE_NAMES, suiteFile, type SuiteName } from './suites.ts';
import type { EvalOptions, EvalReport, Skipped, SuiteContext, SuiteResults } from './types.ts';

const RUNNERS: { [K in SuiteName]: (ctx: SuiteContext) => Promise<SuiteResults[K] | Skipped> } = {
  roundtrip: runRoundtrip,
  translate: runTranslate,
  next: runNext,
  summarize: runSummarize,
  expand: runExpand,
  segmenters: runSegmenters,
};

/** Parses "roundtrip,next" into suite names (all when empty); RangeError naming the valid ones otherwise. */
export function parseSuites(list: string | undefined): SuiteName[] {
  if (list === undefined || list.trim() === '') return [...SUITE_NAMES];
  const asked = list.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = asked.filter((s) => !(SUITE_NAMES as readonly string[]).includes(s));
  if (bad.length) throw new RangeError(`Unknown suite${bad.length > 1 ? 's' : ''} ${bad.join(', ')}; choose from ${SUITE_NAMES.join(', ')}.`);
  return SUITE_NAMES.filter((s) => asked.includes(s));
}

function describeDecode(decode: EvalOptions['decode']): string {
  const strategy = decode?.strategy ?? 'greedy';
  return strategy === 'beam' ? `beam ${decode?.beamSize ?? 5}` : strategy;
}

function fileDigest(dir: string, name: string): { items: number; sha256: string } {
  const path = join(dir, `${name}.jsonl`);
  if (!existsSync(path)) return { items: 0, sha256: '' };
  const bytes = readFileSync(path);
  return { items: bytes.toString('utf8').split('\n').filter((l) => l.trim()).length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Runs `options.suites` (default all) on `engine`'s pack. The report's `command` is left empty for the caller. */
export async function runEvaluation(engine: ConceptEngine, options: EvalOptions = {}): Promise<EvalReport> {
  const start = performance.now();
  const seed = checkSeed(options.seed ?? 0);
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) throw new RangeError(`limit must be a positive integer, got ${String(options.limit)}.`);
  const suites = options.suites ?? SUITE_NAMES;
  const suitesDir = options.suitesDir ?? EVAL_SUITES_DIR;
  const decode = options.decode ?? { strategy: 'greedy' as const };
  const ctx: SuiteContext = {
    engine,
    seed,
    limit: options.limit,
    decode,
    sampling: options.sampling ?? {},
    suitesDir,
    signal: options.signal,
    progress: options.onProgress ?? (() => {}),
  };
  const m = engine.pack.manifest;
  const weights = typeof m.provenance?.weights === 'string' ? m.provenance.weights : null;
  // Diffusion or Quant-LCM settings; a Base-LCM samples nothing (deterministic) and the report says so.
  const chosen = engine.sampleOptions({ sampling: ctx.sampling });
  const sampling = chosen.options ?? chosen.quant ?? null;
  const report: EvalReport = {
    format: 'concept-studio-eval',
    formatVersion: 1,
    createdAt: new Date().toISOString(),
    command: '',
    pack: {
      name: m.name,
      version: m.version,
      description: m.description,
      languages: engine.pack.languageCodes,
      instructions: Object.keys(m.lcm.instructions ?? {}),
      weights,
      randomWeights: /random/i.test(weights ?? '') || /random weights/i.test(m.description),
    },
    settings: {
      seed,
      limit: options.limit ?? null,
      decode: describeDecode(decode),
      sampling: sampling ? { ...sampling } : { architecture: `${engine.lcm.architecture} (deterministic: no sampling)` },
      suiteFiles: Object.fromEntries([...new Set(suites.map(suiteFile))].map((f) => [`${f}.jsonl`, fileDigest(suitesDir, f)])),
    },
    suites: {},
    seconds: 0,
  };
  for (const name of suites) {
    ctx.progress(`${name}…`);
    // Each runner returns its own result type; the record is keyed by the same name.
    (report.suites as Record<SuiteName, unknown>)[name] = await RUNNERS[name](ctx);
  }
  report.seconds = Math.round((performance.now() - start) / 100) / 10;
  return report;
}
