/** Command-line options of `lcm`, parsed with node:util's parseArgs. */
import { parseArgs } from 'node:util';
import { UsageError } from './io.ts';

export const OPTIONS = {
  pack: { type: 'string' },
  provider: { type: 'string' },
  threads: { type: 'string' },
  lang: { type: 'string' },
  'target-lang': { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  count: { type: 'string' },
  index: { type: 'string' },
  'max-chars': { type: 'string' },
  beam: { type: 'string' },
  greedy: { type: 'boolean' },
  'exact-steps': { type: 'boolean' },
  kind: { type: 'string' },
  'train-steps': { type: 'string' },
  'inference-steps': { type: 'string' },
  spacing: { type: 'string' },
  'no-verify': { type: 'boolean' },
  json: { type: 'boolean' },
  lines: { type: 'boolean' },
  // library (storeCommands.ts)
  db: { type: 'string' },
  title: { type: 'string' },
  format: { type: 'string' },
  doc: { type: 'string' },
  limit: { type: 'string' },
  semantic: { type: 'boolean' },
  exact: { type: 'boolean' },
  'query-lang': { type: 'string' },
  embeddings: { type: 'string' },
  // serve (serveCommand.ts)
  port: { type: 'string' },
  // packs add (packsCommands.ts)
  name: { type: 'string' },
  default: { type: 'boolean' },
  link: { type: 'boolean' },
  force: { type: 'boolean' },
  // eval (evalCommand.ts)
  suites: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type Flags = ReturnType<typeof parse>['values'];

export function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** An integer flag in [min, max], or `fallback` when absent. */
export function intFlag(flags: Flags, name: keyof Flags, min: number, max: number, fallback?: number): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw) || n < min || n > max) throw new UsageError(`--${String(name)} must be an integer from ${min} to ${max}, got "${String(raw)}".`);
  return n;
}

/** A number flag in [min, max], or undefined when absent. */
export function numFlag(flags: Flags, name: keyof Flags, min: number, max: number): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${String(name)} must be a number from ${min} to ${max}, got "${String(raw)}".`);
  return n;
}
