/**
 * `lcm packs`: list, install, link, remove model packs and choose the default.
 *
 *   lcm packs [--pack NAME|PATH] [--json] [--no-verify]   list and fully verify
 *   lcm packs add FOLDER [--name NAME] [--default] [--link] [--force]
 *   lcm packs remove NAME
 *   lcm packs default [NAME]
 *
 * Where packs live and which is the default: src/inference/pack/discover.ts;
 * how an install is made safe: src/inference/pack/install.ts.
 */
import { basename } from 'node:path';
import { availableProviders, PROVIDER_NAMES, type ProviderName } from '../inference/backend/ort.ts';
import { defaultPackName, findPacks, resolvePackDir, userPacksDir, type FoundPack, type PackSource } from '../inference/pack/discover.ts';
import { formatBytes, installPack, removePack, setDefaultPack, type InstallPhase } from '../inference/pack/install.ts';
import { verifyPack } from '../inference/pack/verify.ts';
import type { CommandContext } from './commands.ts';
import { UsageError } from './io.ts';

const SUBCOMMANDS = ['add', 'remove', 'default'] as const;

function provider(ctx: CommandContext): ProviderName | undefined {
  const p = ctx.flags.provider;
  if (p === undefined) return undefined;
  if (!(PROVIDER_NAMES as readonly string[]).includes(p)) throw new UsageError(`--provider must be one of ${PROVIDER_NAMES.join(', ')}, got "${p}".`);
  return p as ProviderName;
}

/** Flags that only some subcommands take: a wrong one is a usage error, not silently ignored. */
function onlyFlags(ctx: CommandContext, sub: string, allowed: readonly string[]): void {
  const packFlags = ['name', 'default', 'link', 'force'];
  for (const flag of packFlags) {
    if (ctx.flags[flag as keyof typeof ctx.flags] !== undefined && !allowed.includes(flag)) throw new UsageError(`--${flag} is an option of \`lcm packs add\`, not of \`lcm packs${sub ? ` ${sub}` : ''}\`.`);
  }
}

export async function packsCommand(ctx: CommandContext): Promise<void> {
  const [sub, ...rest] = ctx.args ?? (ctx.file !== undefined ? [ctx.file] : []);
  if (sub === undefined) {
    onlyFlags(ctx, '', []);
    return listPacks(ctx);
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UsageError(`Unknown \`lcm packs\` command "${sub}": use add, remove or default (or no command to list the packs).`);
  if (sub === 'add') {
    onlyFlags(ctx, 'add', ['name', 'default', 'link', 'force']);
    if (rest.length !== 1) throw new UsageError('lcm packs add takes one FOLDER: the pack folder, the one that holds manifest.json.');
    return addPack(ctx, rest[0]!);
  }
  onlyFlags(ctx, sub, []);
  if (sub === 'remove') {
    if (rest.length !== 1) throw new UsageError('lcm packs remove takes one NAME (`lcm packs` lists them).');
    const r = await removePack(rest[0]!);
    if (ctx.flags.json) ctx.out.json({ removed: r.removed.name, source: r.removed.source, dir: r.removed.dir, wasDefault: r.wasDefault, keptFolder: r.keptFolder });
    else {
      ctx.out.line(r.keptFolder
        ? `Unlinked pack ${r.removed.name}; its folder ${r.keptFolder} was left as it is.`
        : `Removed pack ${r.removed.name} (deleted ${r.removed.dir}).`);
      if (r.wasDefault) ctx.out.line(`It was the default pack; the default is now ${describeDefault()}.`);
    }
    return;
  }
  // default
  if (rest.length > 1) throw new UsageError('lcm packs default takes at most one NAME.');
  if (rest.length === 1) {
    await setDefaultPack(rest[0]!);
    if (ctx.flags.json) ctx.out.json({ default: rest[0] });
    else ctx.out.line(`The default pack is now ${rest[0]} (for lcm and for the app when Settings › Model pack is empty).`);
    return;
  }
  const d = defaultPackName();
  if (ctx.flags.json) ctx.out.json({ default: d?.name ?? null, from: d?.from ?? null });
  else ctx.out.line(`The default pack is ${describeDefault()}.`);
}

function describeDefault(): string {
  if (process.env.CONCEPT_STUDIO_PACK) return `${process.env.CONCEPT_STUDIO_PACK} (from CONCEPT_STUDIO_PACK)`;
  const d = defaultPackName();
  if (d) return `${d.name}${d.from === 'bundled' ? ' (bundled default)' : ''}`;
  const found = findPacks();
  return found.length === 1 ? `${found[0]!.name} (the only pack installed)` : 'not set (`lcm packs default NAME` sets it)';
}

const PHASES: Record<InstallPhase, string> = { checking: 'verifying the pack', copying: 'copying', verifying: 'verifying the copy', done: 'done' };

async function addPack(ctx: CommandContext, folder: string): Promise<void> {
  const p = provider(ctx);
  const result = await installPack({
    source: folder,
    ...(ctx.flags.name !== undefined ? { name: ctx.flags.name } : {}),
    link: Boolean(ctx.flags.link),
    force: Boolean(ctx.flags.force),
    makeDefault: Boolean(ctx.flags.default),
    verify: async (dir) => {
      await verifyPack(dir, { hashes: true, ...(p ? { provider: p } : {}) });
    },
    onProgress: (pr) => ctx.out.progress(pr.phase === 'copying' ? `${PHASES[pr.phase]} ${pr.file ?? ''}: ${formatBytes(pr.bytesDone)} of ${formatBytes(pr.bytesTotal)}` : `${PHASES[pr.phase]}…`),
    signal: ctx.signal,
  });
  ctx.out.done();
  if (ctx.flags.json) {
    ctx.out.json({ name: result.name, dir: result.dir, source: result.source, bytes: result.bytes, replaced: result.replaced, default: result.isDefault, version: result.manifest.version });
    return;
  }
  const how = result.source === 'linked' ? `linked (used where it is, ${result.dir})` : `installed in ${result.dir}`;
  ctx.out.line(`Pack ${result.name} ${result.manifest.version} (${formatBytes(result.bytes)}, ${result.manifest.languages.length} languages) verified and ${how}${result.replaced ? ', replacing the pack of that name' : ''}.`);
  ctx.out.line(result.isDefault ? 'It is now the default pack.' : `Use it with --pack ${result.name}, or make it the default: lcm packs default ${result.name}`);
}

const SOURCE_LABEL: Record<PackSource | 'path', string> = { bundled: 'bundled', user: 'installed', linked: 'linked', extra: 'CONCEPT_STUDIO_PACKS', path: 'path' };

/** Every pack, fully verified (or the one --pack names), marked default, with where it lives. */
async function listPacks(ctx: CommandContext): Promise<void> {
  const all = findPacks();
  const defaultDir = (() => {
    try {
      return resolvePackDir(undefined);
    } catch {
      return null;
    }
  })();
  // --pack PATH that is not among the packs found: listed by its folder's name, as a path.
  const packs: (Omit<FoundPack, 'source'> & { source: PackSource | 'path' })[] = ctx.flags.pack
    ? [all.find((f) => f.dir === resolvePackDir(ctx.flags.pack)) ?? { name: basename(resolvePackDir(ctx.flags.pack)), dir: resolvePackDir(ctx.flags.pack), source: 'path' }]
    : all;
  if (packs.length === 0 && !ctx.flags.json) ctx.out.line(`No packs are installed. Install one with \`lcm packs add FOLDER\` (user packs folder: ${userPacksDir()}).`);
  const seen = new Set<string>();
  let failed = 0;
  for (const found of packs) {
    const shadowed = seen.has(found.name);
    seen.add(found.name);
    const isDefault = found.dir === defaultDir;
    const mark = isDefault ? '*' : ' ';
    try {
      const r = await verifyPack(found.dir, { hashes: !ctx.flags['no-verify'], ...(provider(ctx) ? { provider: provider(ctx)! } : {}) });
      if (ctx.flags.json) ctx.out.json({ name: found.name, source: found.source, dir: found.dir, default: isDefault, shadowed, ok: true, manifestName: r.name, version: r.version, embeddingDim: r.embeddingDim, architecture: r.architecture, quantized: r.quantized, languages: r.languages, graphs: r.graphs });
      else {
        ctx.out.line(`${mark} ok  ${found.name}  ${r.name} ${r.version}  ${SOURCE_LABEL[found.source]}: ${found.dir}${shadowed ? '  (hidden by an earlier pack of this name)' : ''}`);
        ctx.out.line(`        ${r.embeddingDim}-d, ${r.architecture}${r.quantized ? `, int8 ${r.quantized.join('+')}` : ''}, ${r.languages.length} languages (${r.languages.join(' ')}), graphs on ${[...new Set(r.graphs.map((g) => g.provider))].join('/')}`);
      }
    } catch (error) {
      failed++;
      if (ctx.flags.json) ctx.out.json({ name: found.name, source: found.source, dir: found.dir, default: isDefault, shadowed, ok: false, error: (error as Error).message });
      else ctx.out.line(`${mark} BAD ${found.name}  ${SOURCE_LABEL[found.source]}: ${found.dir}\n        ${(error as Error).message}`);
    }
  }
  if (!ctx.flags.json) {
    if (packs.length) ctx.out.line(`* = the default pack (${describeDefault()}); user packs folder: ${userPacksDir()}`);
    ctx.out.line(`providers in this onnxruntime: ${availableProviders().map((p) => `${p.name}${p.bundled ? '' : ' (needs its libraries)'}`).join(', ')}`);
  }
  if (failed) process.exitCode = 1;
}
