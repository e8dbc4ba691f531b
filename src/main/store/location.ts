/**
 * Where the app keeps its library, computed without Electron so that `lcm`
 * and the web host find the same file: Electron's app.getPath('userData') for
 * the app name "Concept Studio" (Electron: `appData` joined with the app name;
 * appData is %APPDATA% on Windows, ~/Library/Application Support on macOS,
 * $XDG_CONFIG_HOME or ~/.config on Linux), then `library.sqlite`.
 * CONCEPT_STUDIO_DB overrides it.
 */
import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';

export const APP_NAME = 'Concept Studio';
export const LIBRARY_FILE = 'library.sqlite';

/** The folder Electron's app.getPath('userData') returns for Concept Studio. */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  if (platform === 'win32') return win32.join(env.APPDATA ?? win32.join(home, 'AppData', 'Roaming'), APP_NAME);
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', APP_NAME);
  const config = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : posix.join(home, '.config');
  return posix.join(config, APP_NAME);
}

/** The library file `lcm` and the app use by default. */
export function defaultLibraryPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  if (env.CONCEPT_STUDIO_DB) return env.CONCEPT_STUDIO_DB;
  return (platform === 'win32' ? win32 : posix).join(userDataDir(env, platform, home), LIBRARY_FILE);
}
