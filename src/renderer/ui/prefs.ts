/**
 * The writer's choices that belong to this renderer, not to the engine: how
 * many concepts Continue and Expand make and how many candidates Regenerate
 * shows, and the last view. Kept in localStorage (per origin, so per host).
 */
import type { ViewMode } from '../editor/viewMode.ts';

export interface Prefs {
  continueCount: number;
  expandCount: number;
  regenerateCount: number;
  summarizeMax: number;
  viewMode: ViewMode;
}

/**
 * Defaults: Continue adds one concept (a writer steps sentence by sentence); Expand makes three (the
 * outline → draft step of the LCM paper's summary expansion, kept short); Regenerate shows three
 * candidates (enough to choose from, one diffusion batch); a summary of at most three concepts.
 */
export const DEFAULT_PREFS: Prefs = { continueCount: 1, expandCount: 3, regenerateCount: 3, summarizeMax: 3, viewMode: 'outline' };

const KEY = 'concept-studio:prefs';

function clampCount(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 64 ? v : fallback;
}

/** The saved prefs, each field checked (a bad or missing value falls back to its default). */
export function loadPrefs(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): Prefs {
  let raw: Partial<Record<keyof Prefs, unknown>> = {};
  try {
    raw = JSON.parse(storage?.getItem(KEY) ?? '{}') as typeof raw;
  } catch {
    raw = {};
  }
  return {
    continueCount: clampCount(raw.continueCount, DEFAULT_PREFS.continueCount),
    expandCount: clampCount(raw.expandCount, DEFAULT_PREFS.expandCount),
    regenerateCount: clampCount(raw.regenerateCount, DEFAULT_PREFS.regenerateCount),
    summarizeMax: clampCount(raw.summarizeMax, DEFAULT_PREFS.summarizeMax),
    viewMode: raw.viewMode === 'draft' ? 'draft' : 'outline',
  };
}

export function savePrefs(prefs: Prefs, storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(KEY, JSON.stringify(prefs));
  } catch {
    // Private mode or a full quota: the prefs last for this session only.
  }
}
