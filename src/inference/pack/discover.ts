/**
 * Where packs live and which one is the default.
 *
 * Packs are found, in this order (the first of a name wins):
 * 1. `bundled`: folders under resources/models, shipped with the app
 *    (CONCEPT_STUDIO_BUNDLED_PACKS overrides it: tests that must not see them);
 * 2. `user`: folders in the user packs folder (`lcm packs add` copies packs
 *    there): `<userData>/packs`, i.e. ~/.config/Concept Studio/packs on Linux,
 *    ~/Library/Application Support/Concept Studio/packs on macOS,
 *    %APPDATA%\Concept Studio\packs on Windows; CONCEPT_STUDIO_USER_PACKS
 *    overrides it (tests);
 * 3. `linked`: packs recorded by `lcm packs add --link` (used where they are);
 * 4. `extra`: folders under the CONCEPT_STUDIO_PACKS folders (path-delimited).
 *
 * A pack's name is its folder's name (a linked pack's: the name it was linked
 * under). Which pack runs (resolvePackDir): an explicit request (`--pack`, the
 * app's Settings › Pack), else CONCEPT_STUDIO_PACK, else the user's default
 * (`packs.json` in the user packs folder: `lcm packs default NAME`), else the
 * bundled default (`resources/models/default.json`: `{"pack": "<folder>"}`),
 * else the only pack installed.
 *
 * Folders whose name starts with "." are never packs: installs in progress
 * (`.installing-…`) and removals (`.removing-…`) live there.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, posix, resolve, win32 } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PackError } from '../errors.ts';

/** resources/models of this checkout or installation. */
export const BUNDLED_PACKS_DIR = resolve(fileURLToPath(new URL('../../../resources/models', import.meta.url)));
/** The bundled packs folder's override: tests that must not see the packs the checkout ships. */
export const BUNDLED_PACKS_ENV = 'CONCEPT_STUDIO_BUNDLED_PACKS';

/** resources/models, or the folder CONCEPT_STUDIO_BUNDLED_PACKS names. */
export function bundledPacksDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env[BUNDLED_PACKS_ENV];
  return override ? resolve(override) : BUNDLED_PACKS_DIR;
}

/** The user packs folder's override (tests, portable installs). */
export const USER_PACKS_ENV = 'CONCEPT_STUDIO_USER_PACKS';
/** The user default and the linked packs, in the user packs folder. */
export const REGISTRY_FILE = 'packs.json';

/**
 * `<userData>/packs`. userData is Electron's app.getPath('userData') for
 * "Concept Studio", computed as src/main/store/location.ts computes it (this
 * layer cannot import src/main; test/cli/packs.test.ts checks the two agree).
 */
export function userPacksDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  const override = env[USER_PACKS_ENV];
  if (override) return resolve(override);
  if (platform === 'win32') return win32.join(env.APPDATA ?? win32.join(home, 'AppData', 'Roaming'), 'Concept Studio', 'packs');
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', 'Concept Studio', 'packs');
  const config = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : posix.join(home, '.config');
  return posix.join(config, 'Concept Studio', 'packs');
}

/** packs.json: the user's default pack and the packs used where they are (`--link`). */
export interface PackRegistry {
  format: 'concept-studio-packs';
  formatVersion: 1;
  /** Name of the default pack, or null (then the bundled default). */
  default: string | null;
  /** Linked packs: name → absolute folder. */
  links: Record<string, string>;
}

export const emptyRegistry = (): PackRegistry => ({ format: 'concept-studio-packs', formatVersion: 1, default: null, links: {} });

/** The registry of a user packs folder; a missing file is an empty registry, an unreadable one says why in `problem`. */
export function readRegistry(userDir: string): { registry: PackRegistry; problem?: string } {
  const path = join(userDir, REGISTRY_FILE);
  if (!existsSync(path)) return { registry: emptyRegistry() };
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<PackRegistry>;
    if (raw.format !== 'concept-studio-packs' || raw.formatVersion !== 1) throw new Error(`not a version-1 packs file (format ${JSON.stringify(raw.format)}, version ${JSON.stringify(raw.formatVersion)})`);
    const links: Record<string, string> = {};
    if (typeof raw.links === 'object' && raw.links !== null && !Array.isArray(raw.links)) {
      for (const [name, dir] of Object.entries(raw.links)) if (typeof dir === 'string' && dir) links[name] = dir;
    }
    return { registry: { ...emptyRegistry(), default: typeof raw.default === 'string' && raw.default ? raw.default : null, links } };
  } catch (error) {
    return { registry: emptyRegistry(), problem: `${path} could not be read (${(error as Error).message}); it is ignored until a pack command rewrites it` };
  }
}

export type PackSource = 'bundled' | 'user' | 'linked' | 'extra';

export interface FoundPack {
  /** The name `--pack`, Settings and `lcm packs default` take. */
  name: string;
  dir: string;
  source: PackSource;
}

export interface PackPlaces {
  env?: NodeJS.ProcessEnv;
  /** resources/models (bundledPacksDir(env) by default). */
  bundled?: string;
  /** The user packs folder (userPacksDir(env) by default). */
  userDir?: string;
}

const places = (p: PackPlaces = {}) => {
  const env = p.env ?? process.env;
  return { env, bundled: p.bundled ?? bundledPacksDir(env), userDir: p.userDir ?? userPacksDir(env) };
};

const extraDirs = (env: NodeJS.ProcessEnv): string[] => (env.CONCEPT_STUDIO_PACKS ?? '').split(delimiter).filter(Boolean).map((d) => resolve(d));

/** The folders searched for pack folders: resources/models, the user packs folder, then CONCEPT_STUDIO_PACKS. */
export function packSearchDirs(env: NodeJS.ProcessEnv = process.env, bundled = bundledPacksDir(env), userDir = userPacksDir(env)): string[] {
  return [bundled, userDir, ...extraDirs(env)];
}

function packFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && existsSync(join(dir, e.name, 'manifest.json')))
    .map((e) => e.name)
    .sort();
}

/** Folders that hold a manifest.json, in the search folders. */
export function listPackDirs(dirs: readonly string[]): string[] {
  return dirs.flatMap((dir) => packFolders(dir).map((name) => join(dir, name)));
}

/**
 * Every pack, in search order (bundled, user, linked, extra). A linked pack is
 * listed even when its folder is gone (loading it then says so). Names may
 * repeat across sources; the first one is the one a name resolves to.
 */
export function findPacks(where: PackPlaces = {}): FoundPack[] {
  const { env, bundled, userDir } = places(where);
  const out: FoundPack[] = [];
  for (const name of packFolders(bundled)) out.push({ name, dir: join(bundled, name), source: 'bundled' });
  for (const name of packFolders(userDir)) out.push({ name, dir: join(userDir, name), source: 'user' });
  for (const [name, dir] of Object.entries(readRegistry(userDir).registry.links).sort(([a], [b]) => a.localeCompare(b))) out.push({ name, dir, source: 'linked' });
  for (const extra of extraDirs(env)) for (const name of packFolders(extra)) out.push({ name, dir: join(extra, name), source: 'extra' });
  return out;
}

/** The pack a name resolves to (the first of that name in search order). */
export function findPack(name: string, where: PackPlaces = {}): FoundPack | undefined {
  return findPacks(where).find((p) => p.name === name);
}

/** Which pack is the default, and why: the user's choice, else the bundled default.json, else null. */
export function defaultPackName(where: PackPlaces = {}): { name: string; from: 'user' | 'bundled' } | null {
  const { bundled, userDir } = places(where);
  const user = readRegistry(userDir).registry.default;
  if (user) return { name: user, from: 'user' };
  const marker = join(bundled, 'default.json');
  if (existsSync(marker)) {
    try {
      const name = (JSON.parse(readFileSync(marker, 'utf8')) as { pack?: unknown }).pack;
      if (typeof name === 'string' && name) return { name, from: 'bundled' };
    } catch {
      // A damaged marker of the installation: as if there were none (the only installed pack, or a clear error).
    }
  }
  return null;
}

const looksLikePath = (want: string) => want.includes('/') || want.includes('\\') || want === '.' || want === '..';

/**
 * The pack folder to use: `requested` (a path, or a pack name), else
 * CONCEPT_STUDIO_PACK, else the user's default, else the bundled default,
 * else the only pack installed.
 */
export function resolvePackDir(requested: string | undefined, env: NodeJS.ProcessEnv = process.env, bundled = bundledPacksDir(env), userDir = userPacksDir(env)): string {
  const where = { env, bundled, userDir };
  const searched = () => `${packSearchDirs(env, bundled, userDir).join(', ')}${Object.keys(readRegistry(userDir).registry.links).length ? ' and the linked packs' : ''}`;
  const want = requested ?? env.CONCEPT_STUDIO_PACK;
  if (want) {
    if (looksLikePath(want) || existsSync(join(want, 'manifest.json'))) return resolve(want);
    const named = findPack(want, where);
    if (named) return named.dir;
    throw new PackError('PACK_NOT_FOUND', want, undefined, `no pack folder named "${want}" in ${searched()}; pass a path to a pack folder, or install it with \`lcm packs add FOLDER\``);
  }
  const chosen = defaultPackName(where);
  if (chosen) {
    const found = findPack(chosen.name, where);
    if (found) return found.dir;
    if (chosen.from === 'user') {
      throw new PackError('PACK_NOT_FOUND', chosen.name, undefined,
        `the default pack "${chosen.name}" (set in ${join(userDir, REGISTRY_FILE)}) is not installed; choose another with \`lcm packs default NAME\` (\`lcm packs\` lists them)`);
    }
  }
  const found = findPacks(where);
  if (found.length === 1) return found[0]!.dir;
  throw new PackError('PACK_NOT_FOUND', 'default', undefined,
    found.length === 0
      ? `no model pack is installed (looked in ${searched()}); pass --pack PATH, e.g. --pack test/fixtures/packs/tiny, or install one with \`lcm packs add FOLDER\``
      : `several packs are installed and none is the default (${found.map((p) => p.name).join(', ')}); choose one with \`lcm packs default NAME\` or pass --pack`);
}
