/**
 * The app's own state beside the library: the writer's settings and the
 * recently opened documents, in one JSON file (`settings.json` in the
 * library's folder). Written atomically: a temporary file in the same folder
 * is written and flushed, then renamed over the old one, so a crash leaves
 * the old file or the new one, never half of one. A file that cannot be read
 * (damaged, or written by a newer version) is set aside as
 * `settings.json.unreadable` and the defaults are used; a setting with a
 * bad value (checked as updateSettings checks it) falls back to its
 * default. The reasons are kept in `problem` for the log.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Settings } from '../../shared/contract.ts';
import type { Check } from '../ipc/checks.ts';
import { SETTINGS_FIELDS } from '../ipc/validate.ts';

export const SETTINGS_FILE = 'settings.json';
/** Recent documents kept (the File › Open Recent menu shows them). */
export const RECENT_LIMIT = 10;

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  pack: null,
  provider: 'cpu',
  sampling: null,
  // Files written before the Quant-LCM controls have no quantSampling: the default (the pack's) fills it in.
  quantSampling: null,
  seed: null,
  theme: 'system',
  defaultLanguage: 'eng_Latn',
});

interface StateFile {
  format: 'concept-studio-settings';
  formatVersion: 1;
  settings: Settings;
  recentDocuments: string[];
}

/** The settings file of the library at `libraryPath` (null for an in-memory library: nothing is written). */
export function settingsPathFor(libraryPath: string): string | null {
  return libraryPath === ':memory:' || libraryPath === '' ? null : join(dirname(libraryPath), SETTINGS_FILE);
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export class SettingsFile {
  private state: StateFile;
  /** Why the file on disk (or some of its settings) was not used, if it was not. */
  readonly problem: string | undefined;

  constructor(private readonly path: string | null) {
    const fresh: StateFile = { format: 'concept-studio-settings', formatVersion: 1, settings: { ...DEFAULT_SETTINGS }, recentDocuments: [] };
    this.state = fresh;
    if (!path || !existsSync(path)) return;
    try {
      const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<StateFile>;
      if (raw.format !== 'concept-studio-settings' || raw.formatVersion !== 1) throw new Error(`not a version-1 Concept Studio settings file (format ${JSON.stringify(raw.format)}, version ${JSON.stringify(raw.formatVersion)})`);
      const { settings, dropped } = checkedSettings(raw.settings);
      if (dropped.length) this.problem = `${path}: ${dropped.join(' ')} The defaults are used for ${dropped.length === 1 ? 'that setting' : 'those settings'}.`;
      this.state = {
        ...fresh,
        settings: { ...DEFAULT_SETTINGS, ...settings },
        recentDocuments: Array.isArray(raw.recentDocuments) ? raw.recentDocuments.filter((id): id is string => typeof id === 'string').slice(0, RECENT_LIMIT) : [],
      };
    } catch (error) {
      this.problem = `${path} could not be read (${(error as Error).message}); it was moved to ${path}.unreadable and the default settings are used.`;
      try {
        renameSync(path, `${path}.unreadable`);
      } catch {
        // Keeping the defaults matters more than moving the file; the next save overwrites it.
      }
    }
  }

  get settings(): Settings {
    return structuredClone(this.state.settings);
  }

  get recentDocuments(): string[] {
    return [...this.state.recentDocuments];
  }

  /** Applies a (validated) patch and saves; returns the new settings. */
  update(patch: Partial<Settings>): Settings {
    this.state.settings = { ...this.state.settings, ...patch };
    this.save();
    return this.settings;
  }

  /** Puts a document first in the recent list (and saves). */
  touchRecent(documentId: string): void {
    this.state.recentDocuments = [documentId, ...this.state.recentDocuments.filter((id) => id !== documentId)].slice(0, RECENT_LIMIT);
    this.save();
  }

  forgetRecent(documentId: string): void {
    const before = this.state.recentDocuments.length;
    this.state.recentDocuments = this.state.recentDocuments.filter((id) => id !== documentId);
    if (this.state.recentDocuments.length !== before) this.save();
  }

  private save(): void {
    if (this.path) writeAtomic(this.path, `${JSON.stringify(this.state, null, 2)}\n`);
  }
}

/** The valid settings of a file (checked like an updateSettings payload), and why the others were dropped. */
function checkedSettings(value: unknown): { settings: Partial<Settings>; dropped: string[] } {
  const settings: Record<string, unknown> = {};
  const dropped: string[] = [];
  if (typeof value !== 'object' || value === null) return { settings, dropped: value === undefined ? [] : ['"settings" is not an object.'] };
  for (const [key, v] of Object.entries(value)) {
    const check = (SETTINGS_FIELDS as Record<string, Check<unknown>>)[key];
    if (!check) continue; // a setting of a newer version: ignored, and kept out of the next save
    try {
      settings[key] = check(v, `settings.${key}`);
    } catch (error) {
      dropped.push((error as Error).message);
    }
  }
  return { settings: settings as Partial<Settings>, dropped };
}
