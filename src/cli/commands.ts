/** The `lcm` commands, over the same ConceptEngine the app uses. */
import { resolveLanguage } from '../shared/languages.ts';
import { PROVIDER_NAMES, type ProviderName } from '../inference/backend/ort.ts';
import { ConceptEngine, type ConceptInput, type GenerationOptions, type GeneratedConcept, type StreamResult } from '../inference/engine.ts';
import { InputError } from '../inference/errors.ts';
import { inferencePlan, makeSchedule } from '../inference/lcm/schedule.ts';
import { resolvePackDir } from '../inference/pack/discover.ts';
import { isDiffusionLcm, isQuantLcm, type ScheduleKind } from '../inference/pack/types.ts';
import type { DecodeOptions } from '../inference/sonar/decoder.ts';
import { segmentText } from '../inference/text/segmenter.ts';
import { intFlag, numFlag, type Flags } from './args.ts';
import { inputLines, readInput, UsageError, type Output } from './io.ts';

export interface CommandContext {
  flags: Flags;
  file: string | undefined;
  /** Every positional after the command (`lcm packs add FOLDER`: ["add", "FOLDER"]); FILE is the first. */
  args?: string[];
  out: Output;
  signal: AbortSignal;
}

const lang = (value: string | undefined, fallback: string): string => {
  try {
    return resolveLanguage(value ?? fallback).code;
  } catch (error) {
    throw new InputError((error as Error).message, 'UNSUPPORTED_LANGUAGE');
  }
};

function provider(flags: Flags): ProviderName | undefined {
  const p = flags.provider;
  if (p === undefined) return undefined;
  if (!(PROVIDER_NAMES as readonly string[]).includes(p)) throw new UsageError(`--provider must be one of ${PROVIDER_NAMES.join(', ')}, got "${p}".`);
  return p as ProviderName;
}

async function openEngine(ctx: CommandContext): Promise<ConceptEngine> {
  const engine = await ConceptEngine.open(resolvePackDir(ctx.flags.pack), {
    ...(provider(ctx.flags) ? { provider: provider(ctx.flags)! } : {}),
    ...(ctx.flags.threads ? { threads: intFlag(ctx.flags, 'threads', 1, 256)! } : {}),
    verifyHashes: !ctx.flags['no-verify'],
  });
  const fallback = (await engine.pack.openAll().catch(() => [])).find((g) => g.fallbackReason);
  if (fallback) process.stderr.write(`lcm: running on CPU: ${fallback.fallbackReason}\n`);
  return engine;
}

function decodeOptions(flags: Flags): DecodeOptions {
  if (flags.greedy) return { strategy: 'greedy' };
  const beam = intFlag(flags, 'beam', 1, 64);
  return beam ? { strategy: 'beam', beamSize: beam } : {};
}

/** Sentences of the input: one per line with --lines, else segmented. Blank lines are kept with --lines for alignment. */
function sentences(text: string, flags: Flags, language: string): { text: string; blank: boolean }[] {
  if (flags.lines) return inputLines(text).map((l) => ({ text: l.trim(), blank: l.trim() === '' }));
  return segmentText(text, { lang: language, ...(flags['max-chars'] ? { maxChars: intFlag(flags, 'max-chars', 20, 10_000)! } : {}) }).map((s) => ({ text: s.text, blank: false }));
}

export async function segmentCommand(ctx: CommandContext): Promise<void> {
  const text = await readInput(ctx.file);
  const language = lang(ctx.flags.lang, 'eng_Latn');
  const maxChars = intFlag(ctx.flags, 'max-chars', 20, 10_000);
  for (const s of segmentText(text, { lang: language, ...(maxChars ? { maxChars } : {}) })) {
    if (ctx.flags.json) ctx.out.json(s);
    else ctx.out.line(s.text);
  }
}

export async function encodeCommand(ctx: CommandContext): Promise<void> {
  const language = lang(ctx.flags.lang, 'eng_Latn');
  const items = sentences(await readInput(ctx.file), ctx.flags, language).filter((s) => !s.blank);
  const engine = await openEngine(ctx);
  try {
    const vectors = await engine.encode(items.map((s) => s.text), language, ctx.signal);
    items.forEach((s, i) => ctx.out.json({ text: s.text, lang: language, embedding: vectors[i] }));
  } finally {
    await engine.close();
  }
}

export async function decodeCommand(ctx: CommandContext): Promise<void> {
  const text = await readInput(ctx.file);
  const rows = inputLines(text).filter((l) => l.trim()).map((l, i) => {
    let value: unknown;
    try {
      value = JSON.parse(l);
    } catch {
      throw new UsageError(`Line ${i + 1} is not JSON: decode reads the JSON lines that \`lcm encode\` writes ({"embedding": [...]}, or a plain array).`);
    }
    const emb = Array.isArray(value) ? value : (value as { embedding?: unknown }).embedding;
    if (!Array.isArray(emb) || !emb.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new UsageError(`Line ${i + 1} has no numeric "embedding" array.`);
    return Float32Array.from(emb as number[]);
  });
  const engine = await openEngine(ctx);
  try {
    const target = engine.checkLanguage(lang(ctx.flags['target-lang'] ?? ctx.flags.lang, 'eng_Latn'));
    const decoded = await engine.decode(rows, target, { ...decodeOptions(ctx.flags), signal: ctx.signal });
    for (const d of decoded) {
      if (ctx.flags.json) ctx.out.json({ text: d.text, lang: target, finished: d.finished, meanLogProb: d.meanLogProb });
      else ctx.out.line(d.text);
    }
  } finally {
    await engine.close();
  }
}

export async function translateCommand(ctx: CommandContext): Promise<void> {
  const source = lang(ctx.flags.lang, 'eng_Latn');
  if (!ctx.flags['target-lang']) throw new UsageError('translate needs --target-lang (a FLORES-200 code such as fra_Latn, or an ISO 639-1 code such as fr).');
  const target = lang(ctx.flags['target-lang'], 'eng_Latn');
  const text = await readInput(ctx.file);
  const engine = await openEngine(ctx);
  try {
    if (ctx.flags.lines) {
      const items = sentences(text, ctx.flags, source);
      const result = await engine.translate(items.filter((s) => !s.blank).map((s) => s.text).join('\n'), source, target, { lines: true, signal: ctx.signal, decode: decodeOptions(ctx.flags) });
      let k = 0;
      for (const s of items) {
        const t = s.blank ? '' : result.segments[k++]!.text;
        if (ctx.flags.json) ctx.out.json({ source: s.text, text: t });
        else ctx.out.line(t);
      }
      return;
    }
    const result = await engine.translate(text, source, target, { signal: ctx.signal, decode: decodeOptions(ctx.flags) });
    if (ctx.flags.json) ctx.out.json({ lang: target, ...result });
    else ctx.out.line(result.text);
  } finally {
    await engine.close();
  }
}

export async function roundtripCommand(ctx: CommandContext): Promise<void> {
  const language = lang(ctx.flags.lang, 'eng_Latn');
  const items = sentences(await readInput(ctx.file), ctx.flags, language);
  const engine = await openEngine(ctx);
  try {
    const results = await engine.roundTrip(items.filter((s) => !s.blank).map((s) => s.text), language, { signal: ctx.signal, decode: decodeOptions(ctx.flags) });
    let k = 0;
    for (const s of items) {
      const r = s.blank ? { text: '', decoded: '', chrf: 0 } : results[k++]!;
      if (ctx.flags.json) ctx.out.json(r);
      else ctx.out.line(s.blank ? '' : `${r.chrf.toFixed(1)}\t${r.decoded}`);
    }
    if (!ctx.flags.json && results.length > 1) {
      ctx.out.line(`# mean chrF ${(results.reduce((a, r) => a + r.chrf, 0) / results.length).toFixed(1)} over ${results.length} sentences`);
    }
  } finally {
    await engine.close();
  }
}

/**
 * Fragility of each sentence (docs/variants.md, "Fragility"; the paper's form):
 * the mean BLEU of its round trips through √(1 − α)·z + √α·ε for α = 0.1 … 0.9;
 * a line is `BLEU  chrF  cosine  α:BLEU …  sentence`; --seed (default 0),
 * --count N samples per noise level.
 */
export async function fragilityCommand(ctx: CommandContext): Promise<void> {
  const language = lang(ctx.flags.lang, 'eng_Latn');
  const items = sentences(await readInput(ctx.file), ctx.flags, language).filter((s) => !s.blank);
  const seed = intFlag(ctx.flags, 'seed', 0, 0xffffffff, 0)!;
  const samples = intFlag(ctx.flags, 'count', 1, 32);
  const engine = await openEngine(ctx);
  try {
    for (const s of items) {
      const r = await engine.fragility(s.text, language, { seed, signal: ctx.signal, decode: decodeOptions(ctx.flags), ...(samples ? { samples } : {}) });
      if (ctx.flags.json) ctx.out.json(r);
      else ctx.out.line(`${r.score.toFixed(1)}\t${r.chrf.toFixed(1)}\t${r.cosine.toFixed(3)}\t${r.levels.map((l) => `${l.noise}:${l.bleu.toFixed(1)}`).join(' ')}\t${s.text}`);
    }
  } finally {
    await engine.close();
  }
}

/**
 * --steps for a diffusion pack: 1 … its training steps T. A Base-LCM or Quant-LCM pack runs no diffusion,
 * so --steps, --guidance and --exact-steps are refused there rather than silently ignored; likewise
 * --temperature and --top-k (Quant-LCM only) on the other packs.
 */
export function diffusionStepsFlag(flags: Flags, engine: ConceptEngine): number | undefined {
  const lcm = engine.pack.manifest.lcm;
  const refuse = (names: readonly (keyof Flags)[], what: string) => {
    const given = names.filter((f) => flags[f] !== undefined);
    if (given.length) throw new UsageError(`Pack ${engine.pack.name} is ${what} (docs/variants.md): ${given.map((f) => `--${String(f)}`).join(', ')} do${given.length === 1 ? 'es' : ''} not apply to it.`);
  };
  if (!isQuantLcm(lcm)) refuse(['temperature', 'top-k'], `a ${lcm.architecture} pack; --temperature and --top-k apply to Quant-LCM packs only`);
  if (!isDiffusionLcm(lcm)) {
    refuse(['steps', 'guidance', 'exact-steps'], isQuantLcm(lcm) ? `a Quant-LCM (${lcm.architecture}; it samples codebook units: use --temperature and --top-k)` : 'a Base-LCM (deterministic)');
    return undefined;
  }
  return intFlag(flags, 'steps', 1, lcm.schedule.trainSteps);
}

/** --temperature / --top-k of a Quant-LCM pack (checked against the pack by the engine). */
function quantFlags(flags: Flags, engine: ConceptEngine): { quant?: { temperature?: number; topK?: number } } {
  const lcm = engine.pack.manifest.lcm;
  if (!isQuantLcm(lcm)) return {};
  const temperature = numFlag(flags, 'temperature', 0, 100);
  const topK = intFlag(flags, 'top-k', 0, lcm.codebooks.size);
  return { quant: { ...(temperature !== undefined ? { temperature } : {}), ...(topK !== undefined ? { topK } : {}) } };
}

function generationOptions(ctx: CommandContext, engine: ConceptEngine): GenerationOptions {
  const steps = diffusionStepsFlag(ctx.flags, engine);
  const guidance = numFlag(ctx.flags, 'guidance', 1, 100);
  const seed = intFlag(ctx.flags, 'seed', 0, 0xffffffff);
  return {
    signal: ctx.signal,
    ...(seed !== undefined ? { seed } : {}),
    ...(ctx.flags['target-lang'] ? { lang: engine.checkLanguage(lang(ctx.flags['target-lang'], 'eng_Latn')) } : {}),
    sampling: { ...(steps ? { inferenceSteps: steps } : {}), ...(guidance ? { guidanceScale: guidance } : {}), ...(ctx.flags['exact-steps'] ? { spacing: 'trailing-exact' as const } : {}) },
    ...quantFlags(ctx.flags, engine),
    decode: decodeOptions(ctx.flags),
    onProgress: (p) => ctx.out.progress(`${p.operation}: concept ${p.concept + 1}/${p.concepts}, step ${p.step}/${p.steps}`),
  };
}

/** Prints concepts as they arrive; the seed goes to stderr so stdout holds only the text. */
async function printStream(ctx: CommandContext, stream: AsyncGenerator<GeneratedConcept, StreamResult>): Promise<void> {
  for (;;) {
    const next = await stream.next();
    if (next.done) {
      ctx.out.done();
      if (ctx.flags.json) ctx.out.json({ done: true, ...next.value });
      else process.stderr.write(`lcm: seed ${next.value.seed}, stopped: ${next.value.stop}\n`);
      return;
    }
    if (ctx.flags.json) ctx.out.json(next.value);
    else ctx.out.line(next.value.text);
  }
}

async function documentConcepts(ctx: CommandContext, engine: ConceptEngine): Promise<ConceptInput[]> {
  const language = engine.checkLanguage(lang(ctx.flags.lang, 'eng_Latn'));
  return sentences(await readInput(ctx.file), ctx.flags, language).filter((s) => !s.blank).map((s) => ({ text: s.text, lang: language }));
}

export async function continueCommand(ctx: CommandContext): Promise<void> {
  const engine = await openEngine(ctx);
  try {
    const concepts = await documentConcepts(ctx, engine);
    await printStream(ctx, engine.continue(concepts, { ...generationOptions(ctx, engine), count: intFlag(ctx.flags, 'count', 1, 10_000, 3)! }));
  } finally {
    await engine.close();
  }
}

export async function expandCommand(ctx: CommandContext): Promise<void> {
  const engine = await openEngine(ctx);
  try {
    const concepts = await documentConcepts(ctx, engine);
    if (concepts.length === 0) throw new InputError('Nothing to expand: the input has no sentences.');
    const index = intFlag(ctx.flags, 'index', 0, concepts.length - 1, concepts.length - 1)!;
    await printStream(ctx, engine.expand(concepts, index, { ...generationOptions(ctx, engine), count: intFlag(ctx.flags, 'count', 1, 10_000, 3)! }));
  } finally {
    await engine.close();
  }
}

export async function summarizeCommand(ctx: CommandContext): Promise<void> {
  const engine = await openEngine(ctx);
  try {
    const concepts = await documentConcepts(ctx, engine);
    const max = intFlag(ctx.flags, 'count', 1, 10_000);
    await printStream(ctx, engine.summarize(concepts, { ...generationOptions(ctx, engine), ...(max ? { maxConcepts: max } : {}) }));
  } finally {
    await engine.close();
  }
}

export function scheduleCommand(ctx: CommandContext): void {
  const kind = (ctx.flags.kind ?? 'cosine') as ScheduleKind;
  if (!['cosine', 'linear', 'quadratic', 'sigmoid'].includes(kind)) throw new UsageError(`--kind must be cosine, linear, quadratic or sigmoid, got "${kind}".`);
  const trainSteps = intFlag(ctx.flags, 'train-steps', 2, 100_000, 100)!;
  const steps = intFlag(ctx.flags, 'inference-steps', 1, trainSteps, Math.min(40, trainSteps))!;
  const spacing = ctx.flags.spacing ?? 'trailing';
  if (spacing !== 'trailing' && spacing !== 'trailing-exact') throw new UsageError(`--spacing must be trailing or trailing-exact, got "${spacing}".`);
  const schedule = makeSchedule({ kind, trainSteps, betaStart: 0.0001, betaEnd: 0.02, sigmoidGamma: 1.5, sigmoidDelta: 0, zeroTerminalSnr: true, predictionType: 'sample' });
  const plan = inferencePlan(trainSteps, steps, spacing);
  ctx.out.json({ kind, trainSteps, inferenceSteps: steps, spacing, stepsRun: plan.timesteps.length, alphasCumprod: Array.from(schedule.alphasCumprod), timesteps: plan.timesteps, prevTimesteps: plan.prevTimesteps });
}
