/**
 * The held-out evaluation suites (resources/eval/*.jsonl, built from the data stage's TEST split by
 * recipe/fixtures/make_eval_suites.py; docs/evaluation.md): their item types, loading with validation, and the
 * per-language limit of `lcm eval --limit`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** resources/eval of this checkout or installation. */
export const EVAL_SUITES_DIR = resolve(fileURLToPath(new URL('../../resources/eval', import.meta.url)));

/** Every suite, in the order they run and appear in the report. */
export const SUITE_NAMES = ['roundtrip', 'translate', 'next', 'summarize', 'expand', 'segmenters'] as const;
export type SuiteName = (typeof SUITE_NAMES)[number];

export interface RoundtripItem {
  lang: string;
  text: string;
}

/** An English ↔ `lang` pair; both directions are scored. */
export interface TranslateItem {
  lang: string;
  english: string;
  text: string;
}

/** A document and the position whose concept is predicted from `sentences[0..position)`. */
export interface NextItem {
  lang: string;
  doc: string;
  source: string;
  sentences: string[];
  position: number;
}

/** A document and its reference summary (summarize: document → summary; expand: summary → document). */
export interface SummaryItem {
  lang: string;
  doc: string;
  source: string;
  document: string[];
  summary: string[];
}

/** A paragraph of raw text, to be segmented. */
export interface SegmenterItem {
  lang: string;
  doc: string;
  source: string;
  text: string;
}

export interface SuiteItems {
  roundtrip: RoundtripItem;
  translate: TranslateItem;
  next: NextItem;
  summarize: SummaryItem;
  segmenters: SegmenterItem;
}
export type SuiteFile = keyof SuiteItems;

/** The file each suite reads: expand runs on the summarize items the other way round. */
export function suiteFile(name: SuiteName): SuiteFile {
  return name === 'expand' ? 'summarize' : name;
}

type Field = 'string' | 'strings' | 'position';
const FIELDS: { [K in SuiteFile]: Record<keyof SuiteItems[K], Field> } = {
  roundtrip: { lang: 'string', text: 'string' },
  translate: { lang: 'string', english: 'string', text: 'string' },
  next: { lang: 'string', doc: 'string', source: 'string', sentences: 'strings', position: 'position' },
  summarize: { lang: 'string', doc: 'string', source: 'string', document: 'strings', summary: 'strings' },
  segmenters: { lang: 'string', doc: 'string', source: 'string', text: 'string' },
};

const nonEmpty = (x: unknown): x is string => typeof x === 'string' && x.trim() !== '';

function check(file: string, line: number, row: unknown, fields: Record<string, Field>): void {
  const where = `${file}:${line}`;
  if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new TypeError(`${where}: expected a JSON object.`);
  const r = row as Record<string, unknown>;
  for (const [key, kind] of Object.entries(fields)) {
    const v = r[key];
    const ok =
      kind === 'string' ? nonEmpty(v)
      : kind === 'strings' ? Array.isArray(v) && v.length > 0 && v.every(nonEmpty)
      : Number.isInteger(v) && (v as number) >= 1 && Array.isArray(r.sentences) && (v as number) < r.sentences.length;
    if (!ok) {
      const want = kind === 'string' ? 'a non-empty string' : kind === 'strings' ? 'a non-empty list of non-empty strings' : 'an integer from 1 to sentences.length − 1';
      throw new TypeError(`${where}: "${key}" must be ${want}. Rebuild the suites with /usr/bin/python3 recipe/fixtures/make_eval_suites.py.`);
    }
  }
}

/** Reads and validates `<dir>/<file>.jsonl`; errors name the file and line. */
export function loadSuite<K extends SuiteFile>(file: K, dir: string = EVAL_SUITES_DIR): SuiteItems[K][] {
  const path = join(dir, `${file}.jsonl`);
  if (!existsSync(path)) throw new RangeError(`Evaluation suite ${path} is missing; build it with /usr/bin/python3 recipe/fixtures/make_eval_suites.py.`);
  const out: SuiteItems[K][] = [];
  readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (error) {
      throw new TypeError(`${path}:${i + 1}: not JSON (${(error as Error).message}).`);
    }
    check(path, i + 1, row, FIELDS[file]);
    out.push(row as SuiteItems[K]);
  });
  return out;
}

/** The first `limit` items of each language, in file order (all when `limit` is undefined). */
export function limitPerLanguage<T extends { lang: string }>(items: readonly T[], limit: number | undefined): T[] {
  if (limit === undefined) return [...items];
  const seen = new Map<string, number>();
  return items.filter((it) => {
    const n = seen.get(it.lang) ?? 0;
    seen.set(it.lang, n + 1);
    return n < limit;
  });
}

/** Items whose language the pack supports, and a note naming the languages left out (or undefined). */
export function supportedItems<T extends { lang: string }>(items: readonly T[], packLanguages: readonly string[]): { items: T[]; note?: string } {
  const ok = new Set(packLanguages);
  const dropped = new Map<string, number>();
  const kept = items.filter((it) => {
    if (ok.has(it.lang)) return true;
    dropped.set(it.lang, (dropped.get(it.lang) ?? 0) + 1);
    return false;
  });
  if (dropped.size === 0) return { items: kept };
  const list = [...dropped].map(([l, n]) => `${l} (${n})`).join(', ');
  return { items: kept, note: `Not in the pack, left out: ${list}.` };
}

/** Groups items by language, languages in first-seen order. */
export function byLanguage<T extends { lang: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const list = out.get(it.lang) ?? [];
    list.push(it);
    out.set(it.lang, list);
  }
  return out;
}
