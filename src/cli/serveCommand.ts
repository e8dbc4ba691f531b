/**
 * `lcm serve`: the editor in a browser. Serves the built renderer
 * (out/renderer) and the bridge over HTTP and a WebSocket on 127.0.0.1
 * (src/web/server.ts), prints the URL to open (with this run's token) as one
 * line on standard output, and runs until Ctrl-C or SIGTERM.
 *
 *   lcm serve [--db PATH] [--port N] [--pack NAME|PATH]
 *
 * The execution provider and the other engine settings are the library's
 * settings (settings.json beside it), changed in the editor's Settings.
 *
 * From another machine, tunnel the port: `ssh -L 8765:127.0.0.1:8765 gpu-box`,
 * run `lcm serve --port 8765` there and open the printed URL here.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolvePackDir } from '../inference/pack/discover.ts';
import { EngineHost } from '../main/engine/host.ts';
import { settingsPathFor } from '../main/services/settings.ts';
import { StudioService } from '../main/services/studioService.ts';
import { defaultLibraryPath } from '../main/store/location.ts';
import { ConceptStore } from '../main/store/store.ts';
import { startWebHost } from '../web/server.ts';
import { intFlag } from './args.ts';
import type { CommandContext } from './commands.ts';
import { UsageError } from './io.ts';

/** The built renderer of this checkout. */
export const RENDERER_DIR = fileURLToPath(new URL('../../out/renderer', import.meta.url));

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function serveCommand(ctx: CommandContext): Promise<void> {
  if (ctx.file !== undefined) throw new UsageError('serve takes no FILE; give the library with --db PATH.');
  const port = intFlag(ctx.flags, 'port', 0, 65535, 0)!;
  // An explicit --pack must exist: say so now rather than in the browser.
  const packOverride = ctx.flags.pack !== undefined ? resolvePackDir(ctx.flags.pack) : undefined;

  const path = ctx.flags.db ?? defaultLibraryPath();
  if (!ctx.flags.db) mkdirSync(dirname(path), { recursive: true });
  const store = ConceptStore.open(path);
  const engine = new EngineHost();
  const log = (m: string) => process.stderr.write(`lcm serve: ${m}\n`);
  const service = new StudioService({ store, engine, settingsPath: settingsPathFor(path), version: VERSION, host: 'web', ...(packOverride ? { packOverride } : {}), log });

  const rendererDir = existsSync(RENDERER_DIR) ? RENDERER_DIR : null;
  if (!rendererDir) log(`the editor is not built (${RENDERER_DIR} is missing): run \`npx electron-vite build\` first; the API is served meanwhile.`);
  let host;
  try {
    host = await startWebHost({ api: service, rendererDir, port, log });
  } catch (error) {
    await service.close();
    store.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`Port ${port} is in use; choose another with --port N (or --port 0 for any free port).`);
    throw error;
  }
  process.stdout.write(`${host.url}\n`);
  log(`library ${path}; open the URL above in a browser (it holds this run's token). Ctrl-C stops.`);

  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    process.once('SIGTERM', () => resolve());
  });
  await host.close();
  await service.close();
  store.close();
}
