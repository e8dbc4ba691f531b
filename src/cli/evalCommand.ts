/**
 * `lcm eval`: runs the held-out suites (resources/eval) on a pack and writes docs/eval/<pack>/report.md, its SVG
 * charts and report.json (src/eval, docs/evaluation.md).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { PROVIDER_NAMES, type ProviderName } from '../inference/backend/ort.ts';
import { ConceptEngine } from '../inference/engine.ts';
import { resolvePackDir } from '../inference/pack/discover.ts';
import type { DecodeOptions } from '../inference/sonar/decoder.ts';
import { writeReport } from '../eval/report.ts';
import { parseSuites, runEvaluation } from '../eval/run.ts';
import { SUITE_NAMES } from '../eval/suites.ts';
import { intFlag, numFlag, type Flags } from './args.ts';
import { diffusionStepsFlag, type CommandContext } from './commands.ts';
import { UsageError } from './io.ts';

/** Decoding for the suites: greedy unless --beam N (recipe/train/evaluate.py decodes greedily). */
function decodeOptions(flags: Flags): Omit<DecodeOptions, 'signal' | 'rng'> {
  const beam = intFlag(flags, 'beam', 1, 64);
  if (beam !== undefined && flags.greedy) throw new UsageError('Give either --beam N or --greedy, not both.');
  return beam !== undefined ? { strategy: 'beam', beamSize: beam } : { strategy: 'greedy' };
}

/** A path as the user would type it again: relative to the working folder when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

const quote = (s: string) => (/^[\w./,:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export async function evalCommand(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  if (ctx.file !== undefined) throw new UsageError(`eval reads no input file (got "${ctx.file}"); the suites come from resources/eval.`);
  let suites;
  try {
    suites = parseSuites(flags.suites);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const limit = intFlag(flags, 'limit', 1, 1_000_000);
  const seed = intFlag(flags, 'seed', 0, 2 ** 32 - 1, 0)!;
  const decode = decodeOptions(flags);
  const provider = flags.provider;
  if (provider !== undefined && !(PROVIDER_NAMES as readonly string[]).includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDER_NAMES.join(', ')}, got "${provider}".`);
  const packDir = resolvePackDir(flags.pack);
  const engine = await ConceptEngine.open(packDir, {
    ...(provider ? { provider: provider as ProviderName } : {}),
    ...(flags.threads ? { threads: intFlag(flags, 'threads', 1, 256)! } : {}),
    verifyHashes: !flags['no-verify'],
  });
  try {
    const steps = diffusionStepsFlag(flags, engine);
    const guidance = numFlag(flags, 'guidance', 1, 100);
    const sampling = { ...(steps ? { inferenceSteps: steps } : {}), ...(guidance ? { guidanceScale: guidance } : {}), ...(flags['exact-steps'] ? { spacing: 'trailing-exact' as const } : {}) };
    const outDir = resolve(flags.out ?? `docs/eval/${engine.pack.name}`);
    const report = await runEvaluation(engine, {
      suites,
      ...(limit !== undefined ? { limit } : {}),
      seed,
      decode,
      sampling,
      signal: ctx.signal,
      onProgress: (message) => ctx.out.progress(`eval: ${message}`),
    });
    const pack = flags.pack === undefined ? shown(packDir) : existsSync(flags.pack) ? shown(resolve(flags.pack)) : flags.pack;
    const args = ['lcm', 'eval', '--pack', quote(pack)];
    if (suites.length !== SUITE_NAMES.length) args.push('--suites', suites.join(','));
    if (limit !== undefined) args.push('--limit', String(limit));
    args.push('--seed', String(seed));
    if (decode.strategy === 'beam') args.push('--beam', String(decode.beamSize));
    if (steps) args.push('--steps', String(steps));
    if (guidance) args.push('--guidance', String(guidance));
    if (flags['exact-steps']) args.push('--exact-steps');
    args.push('--out', quote(shown(outDir)));
    report.command = args.join(' ');
    const written = writeReport(report, outDir);
    ctx.out.done();
    if (flags.json) ctx.out.json(report);
    else {
      for (const [name, r] of Object.entries(report.suites)) ctx.out.line(`${name}: ${r?.status === 'skipped' ? `skipped (${r.reason})` : `${r?.items} items, ${r?.seconds} s`}`);
      ctx.out.line(`wrote ${written.map(shown).join(', ')}`);
    }
  } finally {
    await engine.close();
  }
}
