/**
 * A pack folder's manifest and files, without opening any graph: reading and
 * validating manifest.json, and checking every listed file (present, size,
 * SHA-256). The loader runs these before it opens a pack; `lcm packs add` and
 * the app's Models page run them on folders they only list or copy, without
 * loading onnxruntime (this module does not import it).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { PackError } from '../errors.ts';
import type { PackManifest } from './types.ts';
import { validateManifest } from './validate.ts';

/** Reads and validates `<dir>/manifest.json`; every failure is a PackError naming the pack folder and the file. */
export async function readManifestFile(dir: string): Promise<PackManifest> {
  const folder = resolve(dir);
  const label = basename(folder);
  const manifestPath = join(folder, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    const missingDir = await stat(folder).then((s) => !s.isDirectory(), () => true);
    throw new PackError('PACK_NOT_FOUND', label, missingDir ? undefined : 'manifest.json',
      missingDir ? `no pack folder at ${folder}` : `cannot read ${manifestPath} (${(error as Error).message}); a pack folder must hold manifest.json`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new PackError('PACK_INVALID', label, 'manifest.json', `not valid JSON (${(error as Error).message})`, { cause: error });
  }
  const { manifest, problems, newerVersion } = validateManifest(raw);
  if (!manifest) {
    throw new PackError(newerVersion ? 'PACK_UNSUPPORTED_VERSION' : 'PACK_INVALID', label, 'manifest.json', problems.join('; '));
  }
  return manifest;
}

export async function sha256File(path: string, onBytes?: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) {
    hash.update(chunk as Buffer);
    onBytes?.((chunk as Buffer).length);
  }
  return hash.digest('hex');
}

export interface VerifyFilesOptions {
  /** Check SHA-256 too (default true); sizes are always checked. */
  hashes?: boolean;
  /** Bytes hashed so far, for a progress bar. */
  onBytes?: (bytes: number) => void;
  signal?: AbortSignal;
}

/** Checks every file the manifest lists: present, its size, and (unless `hashes: false`) its SHA-256. */
export async function verifyPackFiles(folder: string, manifest: PackManifest, options: VerifyFilesOptions = {}): Promise<void> {
  for (const file of manifest.files) {
    options.signal?.throwIfAborted();
    const path = join(folder, file.path);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new PackError('PACK_INVALID', manifest.name, file.path, `missing (expected at ${path}); reinstall or re-export the pack`);
    if (info.size !== file.bytes) throw new PackError('PACK_INVALID', manifest.name, file.path, `is ${info.size} bytes but the manifest says ${file.bytes}; the file is truncated or was replaced`);
    if (options.hashes ?? true) {
      const digest = await sha256File(path, options.onBytes);
      if (digest !== file.sha256) throw new PackError('PACK_INVALID', manifest.name, file.path, `SHA-256 mismatch (file ${digest.slice(0, 12)}…, manifest ${file.sha256.slice(0, 12)}…); the file is corrupt or was modified`);
    }
  }
}
