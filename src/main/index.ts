/**
 * Electron main process: one secure window, the application menu, and the
 * bridge (the IPC adapter over StudioService). Only this file, menu.ts and
 * the preload import electron; the services, the engine host, the store and
 * the web host are Electron-free (docs/app.md).
 *
 * Security (Electron's checklist): context isolation, the sandbox, no Node in
 * the renderer, a strict Content-Security-Policy, no navigation away from the
 * app, no new windows (https links open in the system browser), no
 * permissions granted, no <webview>, and IPC requests accepted only from the
 * app's own page.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeTheme, session, shell } from 'electron';
import { BUNDLED_PACKS_ENV } from '../inference/pack/discover.ts';
import { EngineHost } from './engine/host.ts';
import { forwardJobEvents, registerIpc } from './ipc/ipcAdapter.ts';
import { buildMenu } from './menu.ts';
import { contentSecurityPolicy } from './security.ts';
import { settingsPathFor } from './services/settings.ts';
import { StudioService } from './services/studioService.ts';
import { LIBRARY_FILE } from './store/location.ts';
import { ConceptStore } from './store/store.ts';

const here = dirname(fileURLToPath(import.meta.url));
const RENDERER_INDEX = join(here, '../renderer/index.html');
/** Not a literal in `new URL(…)`: Vite would treat that as an asset to copy. */
const WORKER_BUNDLE = './engineWorker.js';

/** resources/models: beside the app's code in development, in the unpacked resources when packaged (CONCEPT_STUDIO_BUNDLED_PACKS overrides it, as for the CLI). */
function packsDir(): string {
  const override = process.env[BUNDLED_PACKS_ENV];
  if (override) return resolve(override);
  return app.isPackaged ? join(process.resourcesPath, 'models') : join(app.getAppPath(), 'resources', 'models');
}

/** The app's own page: the dev server in development, out/renderer/index.html otherwise. */
function isTrustedSender(url: string): boolean {
  const dev = process.env.ELECTRON_RENDERER_URL;
  if (!app.isPackaged && dev) return url.startsWith(new URL(dev).origin + '/');
  return url.split(/[?#]/)[0] === pathToFileURL(RENDERER_INDEX).href;
}

function createWindow(service: StudioService): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    show: false,
    title: 'Concept Studio',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#1e1e1e' : '#ffffff',
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: true,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  const stopEvents = forwardJobEvents(service, win.webContents);
  win.on('closed', stopEvents);
  if (!app.isPackaged && process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(RENDERER_INDEX);
  return win;
}

async function start(): Promise<void> {
  // The CSP as a header for pages served over http (the dev server); file:// pages get the same policy from
  // the <meta> tag of src/renderer/index.html, as Electron sends no headers for files.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy()] } });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));

  const dbPath = process.env.CONCEPT_STUDIO_DB ?? join(app.getPath('userData'), LIBRARY_FILE);
  let store: ConceptStore;
  try {
    mkdirSync(dirname(dbPath), { recursive: true });
    store = ConceptStore.open(dbPath);
    // Jobs left running by an app that stopped (a crash, a power cut) are marked failed (docs/store.md).
    store.jobs.failInterrupted();
  } catch (error) {
    dialog.showErrorBox('Concept Studio cannot open its library', (error as Error).message);
    app.exit(1);
    return;
  }

  // The worker bundle beside this one (electron.vite.config.ts: the main build's engineWorker entry).
  const engine = new EngineHost({ workerUrl: new URL(WORKER_BUNDLE, import.meta.url) });
  const service = new StudioService({
    store, engine, settingsPath: settingsPathFor(dbPath), version: app.getVersion(), host: 'electron', packsDir: packsDir(),
    log: (m) => console.error(`concept-studio: ${m}`),
    // Full pack verification (Models page) runs in an engine worker of its own.
    verifier: () => new EngineHost({ workerUrl: new URL(WORKER_BUNDLE, import.meta.url) }),
    chooseFolder: async () => {
      const win = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
      const options = { title: 'Choose a model pack folder', buttonLabel: 'Choose pack', properties: ['openDirectory' as const] };
      const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return r.canceled ? null : r.filePaths[0] ?? null;
    },
  });
  registerIpc(ipcMain, service, { isTrustedSender, log: (m) => console.error(`concept-studio: ${m}`) });

  const refreshMenu = () => {
    void service.recentDocuments().then((recent) => Menu.setApplicationMenu(buildMenu({ recent, theme: service.settingsFile.settings.theme })));
  };
  nativeTheme.themeSource = service.settingsFile.settings.theme;
  service.onDidChangeRecent(refreshMenu);
  service.onDidChangeSettings((s) => {
    nativeTheme.themeSource = s.theme;
    refreshMenu();
  });
  refreshMenu();

  createWindow(service);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow(service);
  });

  // Cancel jobs and end the engine worker before the store closes; Electron does not wait for promises.
  let closing = false;
  app.on('will-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    void service.close().finally(() => {
      store.close();
      app.exit(0);
    });
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win?.isMinimized()) win.restore();
    win?.focus();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  void app.whenReady().then(start);
}
