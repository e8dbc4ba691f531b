/**
 * Installing, linking, removing packs and choosing the default: what
 * `lcm packs add|remove|default` and the app's Models page do to the user
 * packs folder (discover.ts says where it is and how packs are found).
 *
 * An install validates the pack fully first (the caller's `verify`: every
 * hash and every graph's signature; onnxruntime is not imported here, so the
 * app runs that in a worker and the CLI in-process), checks the free disk
 * space, copies the manifest and the files it lists into a temporary folder
 * inside the packs folder (`.installing-<name>-<pid>-…`, invisible to
 * discovery), verifies the copy again and only then renames it into place.
 * A failure or a crash never leaves a half pack under a pack's name; a
 * leftover temporary folder of a process that is gone is deleted by the next
 * install. `link` records where the pack is instead of copying it (packs of
 * several GB). An existing pack of the same name is replaced only with
 * `force`; bundled packs and CONCEPT_STUDIO_PACKS folders are never touched.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError, PackError } from '../errors.ts';
import { emptyRegistry, findPacks, readRegistry, REGISTRY_FILE, userPacksDir, type FoundPack, type PackPlaces, type PackRegistry } from './discover.ts';
import { readManifestFile, verifyPackFiles } from './files.ts';
import type { PackManifest } from './types.ts';

/** Names of installed packs: they are folder names on every OS, and `--pack` tells them from paths by the lack of slashes. */
export const PACK_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/** Free space kept beyond the pack itself, so that an install never fills the disk to the last byte. */
export const DISK_MARGIN_BYTES = 64 * 1024 * 1024;

export function checkPackName(name: string, hint = 'pass --name NAME'): string {
  if (!PACK_NAME_PATTERN.test(name) || name.endsWith('.') || /^(con|prn|aux|nul|com\d|lpt\d)$/i.test(name)) {
    throw new InputError(`"${name}" cannot be a pack name: use 1 to 64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit (${hint}).`);
  }
  return name;
}

/** `~/x` → the home folder's x (a path typed in the web host's Models page or a shell that did not expand it). */
export function expandHome(path: string): string {
  return path === '~' ? homedir() : path.startsWith('~/') || path.startsWith('~\\') ? join(homedir(), path.slice(2)) : path;
}

export const formatBytes = (n: number): string => {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
};

/** Total bytes of a pack: its manifest's files and manifest.json itself. */
export const packBytes = (manifest: PackManifest, manifestBytes = 0): number => manifest.files.reduce((a, f) => a + f.bytes, manifestBytes);

// ── the registry (packs.json) ─────────────────────────────────────────────

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** Reads packs.json, applies `change` and writes it back atomically (creating the folder). A damaged file is replaced. */
export async function updateRegistry(userDir: string, change: (r: PackRegistry) => void): Promise<PackRegistry> {
  await mkdir(userDir, { recursive: true });
  const { registry, problem } = readRegistry(userDir);
  if (problem) await rename(join(userDir, REGISTRY_FILE), join(userDir, `${REGISTRY_FILE}.unreadable`)).catch(() => undefined);
  const next = problem ? emptyRegistry() : registry;
  change(next);
  await writeAtomic(join(userDir, REGISTRY_FILE), `${JSON.stringify(next, null, 2)}\n`);
  return next;
}

// ── inspecting a pack without opening its graphs ─────────────────────────

export interface InspectedPack extends FoundPack {
  /** The manifest, when it could be read and is valid. */
  manifest: PackManifest | null;
  /** Bytes of the pack's files (from the manifest). */
  bytes: number | null;
  /** The first paragraph of MODEL_CARD.md (at most 600 characters). */
  modelCard: string | null;
  /** Why the pack cannot be used (manifest, a missing or resized file), or null. Hashes and graphs are not checked here. */
  problem: { code: string; message: string } | null;
  /** Sizes and modification times of its files: changes when the pack does (a full verification stays valid while it is the same). */
  stamp: string;
}

/** The first paragraph of a model card that is not a heading, on one line. */
export function modelCardSummary(text: string, max = 600): string | null {
  const paragraph = text.replace(/\r\n/g, '\n').split(/\n\s*\n/).map((p) => p.trim()).find((p) => p && !p.startsWith('#'));
  if (!paragraph) return null;
  const line = paragraph.replace(/\s+/g, ' ').replace(/\*\*|__|`/g, '');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Manifest and file sizes of a pack (fast: no hashing, no onnxruntime), for listings. */
export async function inspectPack(found: FoundPack): Promise<InspectedPack> {
  const base = { ...found, manifest: null, bytes: null, modelCard: null, stamp: '' };
  let manifest: PackManifest;
  try {
    manifest = await readManifestFile(found.dir);
  } catch (error) {
    return { ...base, problem: problemOf(error) };
  }
  const manifestInfo = await stat(join(found.dir, 'manifest.json')).catch(() => undefined);
  let modelCard: string | null = null;
  try {
    const fh = await open(join(found.dir, manifest.modelCard), 'r');
    try {
      const buf = Buffer.alloc(8192);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      modelCard = modelCardSummary(buf.subarray(0, bytesRead).toString('utf8'));
    } finally {
      await fh.close();
    }
  } catch {
    // A missing model card is reported by verifyPackFiles below.
  }
  const stamps: string[] = [`manifest:${manifestInfo?.size}:${manifestInfo?.mtimeMs}`];
  for (const f of manifest.files) {
    const s = await stat(join(found.dir, f.path)).catch(() => undefined);
    stamps.push(`${f.path}:${s?.size}:${s?.mtimeMs}`);
  }
  let problem: InspectedPack['problem'] = null;
  try {
    await verifyPackFiles(found.dir, manifest, { hashes: false });
  } catch (error) {
    problem = problemOf(error);
  }
  return { ...found, manifest, bytes: packBytes(manifest, manifestInfo?.size ?? 0), modelCard, problem, stamp: stamps.join('|') };
}

function problemOf(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : 'PACK_INVALID', message: error instanceof Error ? error.message : String(error) };
}

// ── installing ───────────────────────────────────────────────────────────

export type InstallPhase = 'checking' | 'copying' | 'verifying' | 'done';

export interface InstallProgress {
  /** checking: the source is verified; copying: files are copied; verifying: the copy is verified; done. */
  phase: InstallPhase;
  /** Bytes copied so far (copying), of `bytesTotal`. */
  bytesDone: number;
  bytesTotal: number;
  /** The file being copied. */
  file?: string;
}

export interface InstallOptions extends PackPlaces {
  /** The pack folder to install (the one holding manifest.json). */
  source: string;
  /** Name to install under; default the manifest's name. */
  name?: string;
  /** Record where the pack is instead of copying it. */
  link?: boolean;
  /** Replace a pack of the same name in the user packs folder (or a link of that name). */
  force?: boolean;
  /** Make it the default pack. */
  makeDefault?: boolean;
  /**
   * Full verification of a folder (every hash, every graph's signature): the
   * CLI opens the pack in-process, the app in a worker. Throws a PackError.
   */
  verify: (dir: string) => Promise<void>;
  onProgress?: (progress: InstallProgress) => void;
  signal?: AbortSignal;
  /** Free bytes on the volume of `dir` (a test hook; default statfs). */
  freeBytes?: (dir: string) => Promise<number>;
}

export interface InstallResult {
  name: string;
  dir: string;
  source: 'user' | 'linked';
  manifest: PackManifest;
  bytes: number;
  /** A pack of the same name was replaced (force). */
  replaced: boolean;
  isDefault: boolean;
}

async function freeBytesOf(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Deletes `.installing-*` and `.removing-*` folders left by processes that are gone (a crash mid-install). */
export async function cleanLeftovers(userDir: string): Promise<string[]> {
  const removed: string[] = [];
  const entries = await readdir(userDir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const m = /^\.(installing|removing)-.*-(\d+)-[^-]+$/.exec(e.name);
    if (!e.isDirectory() || !m || (Number(m[2]) !== process.pid && alive(Number(m[2])))) continue;
    await rm(join(userDir, e.name), { recursive: true, force: true });
    removed.push(e.name);
  }
  return removed;
}

const describeSource = (p: FoundPack) => ({
  bundled: `ships with the app (${p.dir})`,
  user: `is installed in ${p.dir}`,
  linked: `is linked to ${p.dir}`,
  extra: `is in a CONCEPT_STUDIO_PACKS folder (${p.dir})`,
})[p.source];

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/** Copies one file, reporting bytes as they are written, and flushes it to disk. */
async function copyFile(from: string, to: string, onBytes: (n: number) => void, signal?: AbortSignal): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  await pipeline(createReadStream(from, { highWaterMark: 1 << 22 }), counter, createWriteStream(to, { mode: 0o644 }), ...(signal ? [{ signal }] as const : []));
  const fh = await open(to, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename durable on Linux and macOS; Windows cannot open a folder this way, and NTFS journals renames anyway.
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // see above
  }
}

/** Installs (copies) or links a pack after verifying it; see the module comment for the steps. */
export async function installPack(options: InstallOptions): Promise<InstallResult> {
  const where = { env: options.env ?? process.env, bundled: options.bundled, userDir: options.userDir };
  const userDir = resolve(options.userDir ?? userPacksDir(where.env));
  const source = resolve(expandHome(options.source));
  const label = basename(source);
  const info = await stat(source).catch(() => undefined);
  if (!info) throw new PackError('PACK_NOT_FOUND', label, undefined, `there is no folder at ${source}; give the pack folder (the one that holds manifest.json)`);
  if (!info.isDirectory()) throw new PackError('PACK_NOT_FOUND', label, undefined, `${source} is a file, not a folder; give the pack folder (the one that holds manifest.json)`);
  const manifest = await readManifestFile(source);
  const name = checkPackName(options.name ?? manifest.name, options.name ? 'choose another name' : `the manifest's name "${manifest.name}" cannot be used as one: pass --name NAME`);

  const existing = findPacks({ ...where, userDir }).filter((p) => p.name === name);
  const fixed = existing.find((p) => p.source === 'bundled' || p.source === 'extra');
  if (fixed) throw new InputError(`A pack named "${name}" ${describeSource(fixed)} and cannot be replaced; install this one under another name (--name NAME).`);
  const mine = existing.find((p) => p.source === 'user' || p.source === 'linked');
  if (mine && resolve(mine.dir) === source) throw new InputError(`Pack "${name}" ${describeSource(mine)} already: that is the folder you gave.`);
  if (mine && !options.force) throw new InputError(`A pack named "${name}" ${describeSource(mine)} already; pass --force to replace it, or --name NAME to install this one beside it.`);
  if (!options.link && inside(userDir, source)) throw new InputError(`Cannot copy ${source} into ${userDir}, which is inside it; use --link to use the pack where it is.`);

  const manifestBytes = (await stat(join(source, 'manifest.json'))).size;
  const total = packBytes(manifest, manifestBytes);
  const report = (phase: InstallPhase, bytesDone: number, file?: string) => options.onProgress?.({ phase, bytesDone, bytesTotal: total, ...(file ? { file } : {}) });

  report('checking', 0);
  await options.verify(source);
  options.signal?.throwIfAborted();

  const registryChange = (r: PackRegistry) => {
    delete r.links[name];
    if (options.link) r.links[name] = source;
    if (options.makeDefault) r.default = name;
  };

  if (options.link) {
    if (mine?.source === 'user') await removeFolder(userDir, mine.dir, name);
    const registry = await updateRegistry(userDir, registryChange);
    report('done', total);
    return { name, dir: source, source: 'linked', manifest, bytes: total, replaced: Boolean(mine), isDefault: registry.default === name };
  }

  await mkdir(userDir, { recursive: true });
  await cleanLeftovers(userDir);
  const free = await (options.freeBytes ?? freeBytesOf)(userDir);
  if (free < total + DISK_MARGIN_BYTES) {
    throw new InputError(`Not enough free disk space to install pack "${name}": it needs ${formatBytes(total)} (plus ${formatBytes(DISK_MARGIN_BYTES)} to spare) and ${userDir} has ${formatBytes(free)} free. Free some space, or use --link to use the pack where it is.`);
  }

  const tmp = await mkdtemp(join(userDir, `.installing-${name}-${process.pid}-`));
  try {
    await chmod(tmp, 0o755); // mkdtemp makes it private; an installed pack is as readable as any app resource
    let done = 0;
    const files = ['manifest.json', ...manifest.files.map((f) => f.path)];
    for (const file of files) {
      options.signal?.throwIfAborted();
      report('copying', done, file);
      await copyFile(join(source, file), join(tmp, file), (n) => {
        done += n;
        report('copying', done, file);
      }, options.signal);
    }
    report('verifying', done);
    try {
      await options.verify(tmp);
    } catch (error) {
      if (error instanceof PackError) error.message = `${error.message} (in the copy; the source changed while it was copied, or the disk is failing: nothing was installed)`;
      throw error;
    }
    options.signal?.throwIfAborted();
    const dest = join(userDir, name);
    if (mine?.source === 'user') {
      const away = join(userDir, `.removing-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
      await rename(dest, away);
      await rename(tmp, dest);
      await rm(away, { recursive: true, force: true });
    } else {
      if (existsSync(dest)) throw new InputError(`${dest} exists and is not a pack (no manifest.json); move it away or install under another name (--name NAME).`);
      await rename(tmp, dest);
    }
    await syncDir(userDir);
    const registry = await updateRegistry(userDir, registryChange);
    report('done', done);
    return { name, dir: dest, source: 'user', manifest, bytes: total, replaced: Boolean(mine), isDefault: registry.default === name };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Takes a pack folder out of sight at once (a rename), then deletes it. */
async function removeFolder(userDir: string, dir: string, name: string): Promise<void> {
  const away = join(userDir, `.removing-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await rename(dir, away);
  await rm(away, { recursive: true, force: true });
}

export interface RemoveResult {
  removed: FoundPack;
  /** It was the default (the default is now unset). */
  wasDefault: boolean;
  /** A linked pack's folder, which is left where it is. */
  keptFolder: string | null;
}

/** Removes an installed pack (deletes its copy) or a link (the folder stays). Bundled and CONCEPT_STUDIO_PACKS packs are refused. */
export async function removePack(name: string, where: PackPlaces = {}): Promise<RemoveResult> {
  const userDir = resolve(where.userDir ?? userPacksDir(where.env ?? process.env));
  const all = findPacks({ ...where, userDir });
  const found = all.find((p) => p.name === name && (p.source === 'user' || p.source === 'linked')) ?? all.find((p) => p.name === name);
  if (!found) throw new PackError('PACK_NOT_FOUND', name, undefined, `no installed pack has this name; \`lcm packs\` lists them (${all.map((p) => p.name).join(', ') || 'none is installed'})`);
  if (found.source === 'bundled' || found.source === 'extra') throw new InputError(`Pack "${name}" ${describeSource(found)} and cannot be removed here.`);
  if (found.source === 'user') await removeFolder(userDir, found.dir, name);
  let wasDefault = false;
  await updateRegistry(userDir, (r) => {
    if (found.source === 'linked') delete r.links[name];
    if (r.default === name) {
      wasDefault = true;
      r.default = null;
    }
  });
  return { removed: found, wasDefault, keptFolder: found.source === 'linked' ? found.dir : null };
}

/**
 * Makes `name` the default pack (null: back to the bundled default). The
 * pack must be installed and pass the quick check (manifest and file sizes).
 */
export async function setDefaultPack(name: string | null, where: PackPlaces = {}): Promise<FoundPack | null> {
  const userDir = resolve(where.userDir ?? userPacksDir(where.env ?? process.env));
  let found: FoundPack | undefined;
  if (name !== null) {
    const all = findPacks({ ...where, userDir });
    found = all.find((p) => p.name === name);
    if (!found) throw new PackError('PACK_NOT_FOUND', name, undefined, `no installed pack has this name; \`lcm packs\` lists them (${all.map((p) => p.name).join(', ') || 'none is installed'})`);
    const inspected = await inspectPack(found);
    if (inspected.problem) throw new PackError('PACK_INVALID', name, undefined, `cannot be the default: ${inspected.problem.message}`);
  }
  await updateRegistry(userDir, (r) => {
    r.default = name;
  });
  return found ?? null;
}
