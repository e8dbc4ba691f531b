/**
 * The model packs behind the Models page: listing (with each pack's state),
 * installing from a folder, removing, choosing the default, verifying. The
 * same install module as `lcm packs` (src/inference/pack/install.ts), so the
 * app and the CLI share the user packs folder and its packs.json.
 *
 * Listing is fast: the manifest and the file sizes of every pack (no hashing,
 * no onnxruntime on this thread). Full verification (every SHA-256, every
 * graph opened and checked against the format) runs in an engine worker of
 * its own, started for the check and ended after it, so the writer's engine
 * keeps running and a multi-GB pack's graphs do not stay in memory; its
 * outcome is remembered while the pack's files stay the same (sizes and
 * modification times). Changes to the packs folder run one at a time.
 */
import { basename, resolve } from 'node:path';
import type { AddPackRequest, InstalledPack, PackEvent, PackList, PackSource, PackValidation } from '../../shared/contract.ts';
import { defaultPackName, findPacks, readRegistry, type FoundPack, type PackPlaces } from '../../inference/pack/discover.ts';
import { expandHome, inspectPack, installPack, removePack, setDefaultPack, type InspectedPack, type InstallResult, type RemoveResult } from '../../inference/pack/install.ts';
import { isQuantLcm, type PackManifest } from '../../inference/pack/types.ts';
import type { EngineHost } from '../engine/host.ts';

export interface PacksServiceOptions extends PackPlaces {
  /** A fresh engine host for one full verification (closed after it). */
  verifier: () => EngineHost;
  /** The folder of the pack the engine has loaded or is loading, or null. */
  loadedFolder: () => string | null;
  /** The host runs a fixed pack (`lcm serve --pack`). */
  pinned: boolean;
  folderDialog: boolean;
  onEvent: (event: PackEvent) => void;
  /** Milliseconds between copy progress events (phase changes are always sent). */
  progressIntervalMs?: number;
}

/** "SONAR 32-d, 2+2 layers; LCM 48-d, 2+2 layers" from a manifest (encoder+decoder; context tower+denoiser for Two-Tower). */
export function packShape(m: PackManifest): string {
  const sonar = `SONAR ${m.embeddingDim}-d, ${m.sonar.encoder.layers}+${m.sonar.decoder.layers} layers`;
  // A Base-LCM has no denoiser (its manifest has no such key): the context tower is the whole model.
  const denoiser = m.lcm.architecture === 'two-tower-diffusion' || isQuantLcm(m.lcm) ? `+${m.lcm.denoiser!.layers}` : '';
  // A Quant-LCM also names its codebooks (levels × units).
  const rvq = isQuantLcm(m.lcm) ? `; RVQ ${m.lcm.codebooks.levels}×${m.lcm.codebooks.size}` : '';
  return `${sonar}; LCM ${m.lcm.contextualizer.modelDim}-d, ${m.lcm.contextualizer.layers}${denoiser} layers${rvq}`;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export class PacksService {
  /** Full verifications that passed: folder → the files' stamp then, and when. */
  private readonly verified = new Map<string, { stamp: string; at: number }>();
  /** Full verifications that failed, while the files stay the same. */
  private readonly failed = new Map<string, { stamp: string; code: string; message: string }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PacksServiceOptions) {}

  get userDir(): string {
    return this.options.userDir!;
  }

  private get where(): PackPlaces {
    return { env: this.options.env, bundled: this.options.bundled, userDir: this.options.userDir };
  }

  /** Runs changes to the packs folder one after the other. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  find(name: string): FoundPack | undefined {
    return findPacks(this.where).find((p) => p.name === name);
  }

  async list(): Promise<PackList> {
    const found: { pack: FoundPack; source: PackSource }[] = findPacks(this.where).map((pack) => ({ pack, source: pack.source }));
    // The default as resolvePackDir picks it without a request: the user's, the bundled one, else the only pack.
    const chosen = defaultPackName(this.where);
    const defaultDir = chosen ? found.find((f) => f.pack.name === chosen.name)?.pack.dir ?? null : (found.length === 1 ? found[0]!.pack.dir : null);
    const loaded = this.options.loadedFolder();
    if (loaded && !found.some((f) => resolve(f.pack.dir) === resolve(loaded))) found.push({ pack: { name: basename(loaded), dir: loaded, source: 'extra' }, source: 'path' });
    const seen = new Set<string>();
    const packs: InstalledPack[] = [];
    for (const { pack, source } of found) {
      const shadowed = seen.has(pack.name);
      seen.add(pack.name);
      packs.push(this.describe(await inspectPack(pack), source, { shadowed, isDefault: !shadowed && pack.dir === defaultDir, loaded: loaded !== null && resolve(pack.dir) === resolve(loaded) }));
    }
    const { problem } = readRegistry(this.userDir);
    return {
      packs,
      defaultPack: defaultDir ? packs.find((p) => p.folder === defaultDir)?.name ?? null : null,
      userFolder: this.userDir,
      folderDialog: this.options.folderDialog,
      pinned: this.options.pinned,
      problem: problem ?? null,
    };
  }

  private validation(i: InspectedPack): PackValidation {
    if (i.problem) return { state: 'invalid', code: i.problem.code, message: i.problem.message };
    const bad = this.failed.get(i.dir);
    if (bad && bad.stamp === i.stamp) return { state: 'invalid', code: bad.code, message: bad.message };
    const ok = this.verified.get(i.dir);
    if (ok && ok.stamp === i.stamp) return { state: 'verified', at: ok.at };
    return { state: 'checked' };
  }

  private describe(i: InspectedPack, source: PackSource, flags: { shadowed: boolean; isDefault: boolean; loaded: boolean }): InstalledPack {
    const m = i.manifest;
    return {
      name: i.name,
      source,
      folder: i.dir,
      packName: m?.name ?? null,
      version: m?.version ?? null,
      description: m?.description ?? null,
      bytes: i.bytes,
      languages: m ? m.languages.map((l) => l.code) : [],
      architecture: m?.lcm.architecture ?? null,
      shape: m ? packShape(m) : null,
      provenance: m ? Object.fromEntries(Object.entries(m.provenance).map(([k, v]) => [k, text(v)])) : {},
      modelCard: i.modelCard,
      validation: this.validation(i),
      ...flags,
      removable: source === 'user' || source === 'linked',
    };
  }

  /** Full verification in a worker of its own; records the outcome against the files' stamp. */
  private async verifyDir(dir: string): Promise<void> {
    const host = this.options.verifier();
    try {
      await host.verify(dir);
    } finally {
      await host.close();
    }
  }

  async verify(name: string): Promise<void> {
    const found = this.find(name) ?? this.pathPack(name);
    const before = await inspectPack(found);
    if (before.problem) return;
    try {
      await this.verifyDir(found.dir);
      this.failed.delete(found.dir);
      this.verified.set(found.dir, { stamp: before.stamp, at: Date.now() });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      this.verified.delete(found.dir);
      this.failed.set(found.dir, { stamp: before.stamp, code: typeof code === 'string' ? code : 'PACK_INVALID', message: (error as Error).message });
    }
  }

  /** The loaded pack when it is only a path (`lcm serve --pack PATH`), by the name the list gives it. */
  private pathPack(name: string): FoundPack {
    const loaded = this.options.loadedFolder();
    if (loaded && basename(loaded) === name) return { name, dir: loaded, source: 'extra' };
    const known = findPacks(this.where).map((p) => p.name);
    const error = new Error(`No pack is named "${name}"; the packs are: ${known.join(', ') || 'none'}.`) as Error & { code: string };
    error.code = 'PACK_NOT_FOUND';
    throw error;
  }

  add(req: AddPackRequest): Promise<InstallResult> {
    return this.serial(async () => {
      const path = expandHome(req.path);
      let name = req.name ?? '';
      let lastSent = 0;
      const interval = this.options.progressIntervalMs ?? 100;
      let lastPhase = '';
      const result = await installPack({
        ...this.where,
        source: path,
        ...(req.name !== undefined ? { name: req.name } : {}),
        link: req.link ?? false,
        force: req.replace ?? false,
        makeDefault: req.makeDefault ?? false,
        verify: (dir) => this.verifyDir(dir),
        onProgress: (p) => {
          const now = Date.now();
          if (p.phase === lastPhase && p.phase === 'copying' && now - lastSent < interval && p.bytesDone < p.bytesTotal) return;
          lastSent = now;
          lastPhase = p.phase;
          this.options.onEvent({ type: 'packProgress', path: req.path, name: name || req.path, phase: p.phase, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, file: p.file ?? null });
        },
      });
      name = result.name;
      // Verified twice on the way in (the source and the copy): the listing says so.
      const inspected = await inspectPack({ name: result.name, dir: result.dir, source: result.source });
      this.failed.delete(result.dir);
      this.verified.set(result.dir, { stamp: inspected.stamp, at: Date.now() });
      return result;
    });
  }

  remove(name: string): Promise<RemoveResult> {
    return this.serial(async () => {
      const result = await removePack(name, this.where);
      this.verified.delete(result.removed.dir);
      this.failed.delete(result.removed.dir);
      return result;
    });
  }

  setDefault(name: string): Promise<FoundPack | null> {
    return this.serial(() => setDefaultPack(name, this.where));
  }
}
