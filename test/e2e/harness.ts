/**
 * End-to-end harness: builds the renderer, starts the real web host
 * (`lcm serve` on a fresh library with the tiny fixture pack, port 0) and
 * drives Debian's Chromium with playwright-core. Used by the e2e tests and by
 * bench/editor.ts.
 *
 * Chromium: `apt-get install -y chromium fonts-noto-cjk fonts-noto-core`
 * (CHROMIUM_PATH overrides /usr/bin/chromium). Without it the tests are
 * skipped with a message saying so.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const TINY_PACK = join(ROOT, 'test/fixtures/packs/tiny');

/** Why the e2e tests cannot run here, or null when they can. */
export function skipReason(): string | null {
  if (!existsSync(CHROMIUM)) return `No Chromium at ${CHROMIUM}: install it (apt-get install -y chromium fonts-noto-cjk fonts-noto-core) or set CHROMIUM_PATH. The end-to-end tests were SKIPPED.`;
  return null;
}

/** Builds out/renderer (electron-vite builds main, preload and renderer; ~5 s). E2E_SKIP_BUILD=1 uses the existing build. */
export function buildRenderer(): void {
  if (process.env.E2E_SKIP_BUILD === '1' && existsSync(join(ROOT, 'out/renderer/index.html'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`electron-vite build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

export interface WebHost {
  /** The URL `lcm serve` printed, token included. */
  url: string;
  dir: string;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `lcm serve --db <tmp>/library.db --pack <pack> --port 0` and waits for its URL. */
export async function startWebHost(pack = TINY_PACK, dir = mkdtempSync(join(tmpdir(), 'cs-e2e-'))): Promise<WebHost> {
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin/lcm.mjs'), 'serve', '--db', join(dir, 'library.db'), '--pack', pack, '--port', '0'], {
    // The user packs folder of this run, never the real ~/.config/Concept Studio/packs (the Models step adds packs),
    // and no bundled packs: the tests see the same list whatever this checkout ships in resources/models.
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', CONCEPT_STUDIO_USER_PACKS: join(dir, 'user-packs'), CONCEPT_STUDIO_BUNDLED_PACKS: join(dir, 'bundled-packs') },
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`lcm serve printed no URL within 60 s. Its stderr:\n${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /https?:\/\/\S+/.exec(out);
      if (m) { clearTimeout(timer); ok(m[0]); }
    });
    child.once('exit', (code) => { clearTimeout(timer); fail(new Error(`lcm serve exited (${code}) before printing its URL. Its stderr:\n${err}`)); });
  });
  return {
    url, dir, stderr: () => err,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far (a test asserts there are none). */
  errors: string[];
  close(): Promise<void>;
}

/** Chromium with a fresh profile, as the design notes say (no sandbox in containers, no GPU, no background traffic). */
export async function launchBrowser(options: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'cs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: options.width ?? 1280, height: options.height ?? 820 },
    colorScheme: options.colorScheme ?? 'light',
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  // CSP violations would mean the strict policy broke something: record them for the test to check.
  await context.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`));
  });
  return {
    context, page, errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
