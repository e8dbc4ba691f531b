/**
 * Where packs live and which one is the default. Packs shipped with the app are
 * folders under resources/models; `resources/models/default.json` names the
 * default (`{"pack": "<folder>"}`). CONCEPT_STUDIO_PACK overrides the default
 * with a path; CONCEPT_STUDIO_PACKS adds search folders (path-delimited).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PackError } from '../errors.ts';

/** resources/models of this checkout or installation. */
export const BUNDLED_PACKS_DIR = resolve(fileURLToPath(new URL('../../../resources/models', import.meta.url)));

export function packSearchDirs(env: NodeJS.ProcessEnv = process.env, bundled = BUNDLED_PACKS_DIR): string[] {
  const extra = (env.CONCEPT_STUDIO_PACKS ?? '').split(delimiter).filter(Boolean);
  return [bundled, ...extra.map((d) => resolve(d))];
}

/** Folders that hold a manifest.json, in the search folders. */
export function listPackDirs(dirs: readonly string[]): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory() && existsSync(join(dir, entry.name, 'manifest.json'))) out.push(join(dir, entry.name));
    }
  }
  return out;
}

/**
 * The pack folder to use: `requested` (a path, or the name of a folder in the
 * search folders), else CONCEPT_STUDIO_PACK, else the bundled default.
 */
export function resolvePackDir(requested: string | undefined, env: NodeJS.ProcessEnv = process.env, bundled = BUNDLED_PACKS_DIR): string {
  const dirs = packSearchDirs(env, bundled);
  const want = requested ?? env.CONCEPT_STUDIO_PACK;
  if (want) {
    if (existsSync(join(want, 'manifest.json')) || want.includes('/') || want.includes('\\')) return resolve(want);
    const named = listPackDirs(dirs).find((d) => d.endsWith(`/${want}`) || d.endsWith(`\\${want}`));
    if (named) return named;
    throw new PackError('PACK_NOT_FOUND', want, undefined, `no pack folder named "${want}" in ${dirs.join(', ')}; pass a path to a pack folder`);
  }
  const marker = join(bundled, 'default.json');
  if (existsSync(marker)) {
    const name = (JSON.parse(readFileSync(marker, 'utf8')) as { pack?: unknown }).pack;
    if (typeof name === 'string' && existsSync(join(bundled, name, 'manifest.json'))) return join(bundled, name);
  }
  const found = listPackDirs(dirs);
  if (found.length === 1) return found[0]!;
  throw new PackError('PACK_NOT_FOUND', 'default', undefined,
    found.length === 0
      ? `no model pack is installed (looked in ${dirs.join(', ')}); pass --pack PATH, e.g. --pack test/fixtures/packs/tiny`
      : `several packs are installed and none is marked default (${found.join(', ')}); pass --pack`);
}
