/** Temporary folders for store tests, removed after the test file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A fresh folder under the system's temp folder, deleted when the test file ends. */
export function tempDir(prefix = 'store-'): string {
  const dir = mkdtempSync(join(tmpdir(), `concept-studio-${prefix}`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
