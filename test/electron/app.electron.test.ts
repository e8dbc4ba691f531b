/**
 * The built Electron app, driven with Playwright's `_electron`: one window
 * with context isolation, the sandbox and no Node in the page; the preload
 * exposes exactly the contract; requests and WireErrors cross the bridge;
 * a job's events reach the page; window.open and navigation are denied; the
 * menu has its six menus and sends commands to the page.
 *
 * It needs Electron's binary and a build (`npx electron-vite build`). Where
 * the binary is not installed (npm install with ELECTRON_SKIP_BINARY_DOWNLOAD=1,
 * as on the project's build machines) the suite is skipped and its name says
 * so. The binary is looked up without `require('electron')`: that call
 * downloads the binary when it is missing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_METHODS, type ConceptStudioApi, type JobEvent, type MenuCommand } from '../../src/shared/contract.ts';
import { TINY_PACK } from '../helpers/fixtures.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The Electron executable npm installed, or undefined (node_modules/electron/path.txt names it inside dist/). */
function electronBinary(): string | undefined {
  const pkg = join(ROOT, 'node_modules', 'electron');
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkg, 'dist');
  const exe = join(dist, readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : undefined;
}

const EXE = electronBinary();
const NAME = EXE
  ? 'the Electron app'
  : "the Electron app — SKIPPED: Electron's binary is not installed (node_modules/electron/dist is missing; npm ran with ELECTRON_SKIP_BINARY_DOWNLOAD=1). Install it with `npx install-electron` where downloads work.";

type Bridge = { conceptStudio: ConceptStudioApi; lastCommand?: MenuCommand; events?: JobEvent[] };

describe.skipIf(!EXE)(NAME, () => {
  let app: ElectronApplication;
  let page: Page;
  let dir: string;

  beforeAll(async () => {
    for (const built of ['out/main/index.js', 'out/main/engineWorker.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {
      if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run \`npx electron-vite build\` before this test.`);
    }
    dir = mkdtempSync(join(tmpdir(), 'cs-electron-'));
    app = await _electron.launch({
      executablePath: EXE!,
      args: [ROOT, ...(process.env.CI || process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
      env: { ...process.env, CONCEPT_STUDIO_DB: join(dir, 'library.sqlite'), CONCEPT_STUDIO_PACK: TINY_PACK, ELECTRON_RENDERER_URL: '' },
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens one window with context isolation, the sandbox and no Node in the page', async () => {
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
    // The context bridge freezes what it exposes, and works only with context isolation.
    expect(await page.evaluate(() => Object.isFrozen((globalThis as unknown as Bridge).conceptStudio))).toBe(true);
    // No require, process or Buffer: no Node integration (the sandboxed preload has no access to them either).
    expect(await page.evaluate(() => ['require', 'process', 'Buffer'].map((k) => typeof (globalThis as Record<string, unknown>)[k]))).toEqual(['undefined', 'undefined', 'undefined']);
    await page.screenshot({ path: join(dir, 'window.png') });
  });

  it('exposes exactly the contract, and requests and errors cross the bridge', async () => {
    const keys = await page.evaluate(() => Object.keys((globalThis as unknown as Bridge).conceptStudio).sort());
    expect(keys).toEqual([...REQUEST_METHODS, 'onJobEvent', 'onMenuCommand'].sort());
    const info = await page.evaluate(() => (globalThis as unknown as Bridge).conceptStudio.appInfo());
    expect(info).toMatchObject({ host: 'electron', pack: { name: 'tiny-fixture' } });
    const title = await page.evaluate(async () => (await (globalThis as unknown as Bridge).conceptStudio.createDocument({ title: 'From Electron', language: 'eng_Latn' })).title);
    expect(title).toBe('From Electron');
    const missing = await page.evaluate(() => (globalThis as unknown as Bridge).conceptStudio.openDocument({ id: 'nope' }).catch((e: unknown) => e));
    expect(missing).toMatchObject({ name: 'StoreError', code: 'STORE_NOT_FOUND' });
    const bad = await page.evaluate(() => (globalThis as unknown as Bridge).conceptStudio.createDocument({ title: 5 as unknown as string, language: 'eng_Latn' }).catch((e: unknown) => e));
    expect(bad).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/req\.title must be a string/) });
  });

  it('delivers a job\'s events to the page', async () => {
    const last = await page.evaluate(async () => {
      const cs = (globalThis as unknown as Bridge).conceptStudio;
      await cs.updateSettings({ sampling: { inferenceSteps: 4 } });
      const doc = await cs.createDocument({ title: 'Job', language: 'eng_Latn' });
      await cs.saveEdits({ documentId: doc.id, edits: [{ op: 'insert', concept: { id: 'e-1', text: 'The tide came in.' }, after: null }] });
      const events: JobEvent[] = [];
      const finished = new Promise<void>((resolve) => {
        const off = cs.onJobEvent((e) => {
          events.push(e);
          if (e.type === 'done' || e.type === 'error') {
            off();
            resolve();
          }
        });
      });
      await cs.startJob({ kind: 'continue', documentId: doc.id, afterConceptId: 'e-1', count: 1, seed: 1 });
      await finished;
      return events.map((e) => e.type);
    });
    expect(last[0]).toBe('started');
    expect(last).toContain('concept');
    expect(last.at(-1)).toBe('done');
  });

  it('denies new windows and navigation away from the app', async () => {
    const before = page.url();
    expect(await page.evaluate(() => (globalThis as unknown as { open(url: string): unknown }).open('https://example.com/') === null)).toBe(true);
    await page.evaluate(() => {
      (globalThis as unknown as { location: { href: string } }).location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe(before);
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
  });

  it('has File, Edit, View, Generate, Language and Help menus whose items send commands to the page', async () => {
    const labels = await app.evaluate(({ Menu }) => Menu.getApplicationMenu()!.items.map((i) => i.label.replace('&', '')));
    expect(labels).toEqual(expect.arrayContaining(['File', 'Edit', 'View', 'Generate', 'Language', 'Help']));
    await page.evaluate(() => {
      const g = globalThis as unknown as Bridge;
      g.conceptStudio.onMenuCommand((c) => (g.lastCommand = c));
    });
    await app.evaluate(({ Menu }) => {
      const generate = Menu.getApplicationMenu()!.items.find((i) => i.label.replace('&', '') === 'Generate')!;
      generate.submenu!.items.find((i) => i.label === 'Expand')!.click();
    });
    await page.waitForFunction(() => (globalThis as unknown as Bridge).lastCommand !== undefined);
    expect(await page.evaluate(() => (globalThis as unknown as Bridge).lastCommand)).toEqual({ command: 'generate', action: 'expand' });
  });
});
