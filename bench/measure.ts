/**
 * Timing and reporting helpers shared by the benchmark files: warm-up plus
 * repeats with the median, the machine line (CPU, load average), memory
 * high-water marks, targets judged PASS/MISS, and plain text tables.
 */
import { cpus, loadavg, totalmem } from 'node:os';

/** One timed call: its wall time and the units of work it did (sentences, tokens, concepts). */
export interface Sample {
  seconds: number;
  units: number;
}

/** Threads given to onnxruntime and to torch alike (the brief: both sides on the same 2 cores). */
export const THREADS = 2;

/**
 * BENCH_ORT_SPINNING=1 opens every engine with onnxruntime's spinning waits
 * instead of the engine's default passive ones (GraphOptions.spinWait); the
 * "waits" section measures both side by side in any case.
 */
export const SPIN_WAIT = process.env.BENCH_ORT_SPINNING === '1';
/** How the bench opens engines: as the app does, on THREADS threads. */
export const ENGINE_OPTIONS = { threads: THREADS, spinWait: SPIN_WAIT } as const;
/** File-name suffix of figures measured with spinning waits. */
export const WAITS_SUFFIX = SPIN_WAIT ? '-spinning' : '';

/** One untimed warm-up call, then `repeats` timed calls; `fn` returns the units of work it did. */
export async function timed(fn: () => Promise<number>, repeats: number): Promise<Sample[]> {
  await fn();
  const out: Sample[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    const units = await fn();
    out.push({ seconds: (performance.now() - t) / 1000, units });
  }
  return out;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median over calls of units per second. */
export const medianRate = (samples: readonly Sample[]): number => median(samples.map((s) => s.units / s.seconds));
/** Median over calls of milliseconds per unit. */
export const medianMsPerUnit = (samples: readonly Sample[]): number => median(samples.map((s) => (s.seconds * 1000) / s.units));

/** "3.82 4.53 4.99" (1, 5, 15 minutes). */
export function loadAverage(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}

export function machineLine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, onnxruntime-node CPU, ${THREADS} intra-op threads`;
}

/** This process's resident-set high-water mark in MiB (process.resourceUsage().maxRSS is in KiB). */
export function maxRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** A figure judged against a target. */
export interface Verdict {
  name: string;
  value: string;
  target: string;
  pass: boolean | null;
  note: string;
}

export function verdict(name: string, value: number, unit: string, op: '>=' | '<=', limit: number, note = '', digits = 0): Verdict {
  const pass = Number.isFinite(value) ? (op === '>=' ? value >= limit : value <= limit) : null;
  return { name, value: Number.isFinite(value) ? `${value.toFixed(digits)} ${unit}` : 'not measured', target: `${op === '>=' ? '≥' : '≤'} ${limit} ${unit}`, pass, note };
}

export function verdictLabel(v: Verdict): string {
  return v.pass === null ? 'n/a' : v.pass ? 'PASS' : 'MISS';
}

/** Left-aligned text table (first row = header). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** `x` with `digits` decimals, or "—" when not finite. */
export const fmt = (x: number | undefined, digits = 0): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(digits) : '—');
