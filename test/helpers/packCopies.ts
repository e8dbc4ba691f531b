/**
 * Throw-away copies of fixture packs for tests that break them on purpose:
 * `copy` puts a pack in a fresh temporary folder, `edit` rewrites its
 * manifest, and every copy is removed after each test.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** A manifest as loose JSON, for tests that write invalid ones. */
export type LooseManifest = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function packCopies(prefix: string): { copy: (src: string) => string; edit: (dir: string, change: (m: LooseManifest) => void) => void } {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    copy: (src) => {
      const root = mkdtempSync(join(tmpdir(), `cs-${prefix}-`));
      dirs.push(root);
      const dir = join(root, 'pack');
      cpSync(src, dir, { recursive: true });
      return dir;
    },
    edit: (dir, change) => {
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as LooseManifest;
      change(m);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 1));
    },
  };
}
