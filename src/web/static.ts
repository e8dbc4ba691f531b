/**
 * Static files of the built renderer (out/renderer) for the web host: paths
 * confined to the folder, a content type per extension, and `index.html`
 * for the root. Electron-free Node.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export type StaticResult = { status: 200; body: Buffer; contentType: string } | { status: 400 | 404; reason: string };

/** The file for a URL path under `root`, or why there is none. */
export async function staticFile(root: string, urlPath: string): Promise<StaticResult> {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return { status: 400, reason: 'The path is not valid percent-encoding.' };
  }
  if (path.includes('\0')) return { status: 400, reason: 'The path contains a NUL character.' };
  if (path === '/' || path === '') path = '/index.html';
  const full = normalize(join(root, path));
  if (full !== root && !full.startsWith(root.endsWith(sep) ? root : root + sep)) return { status: 404, reason: 'Not found.' };
  try {
    const info = await stat(full);
    if (!info.isFile()) return { status: 404, reason: 'Not found.' };
    return { status: 200, body: await readFile(full), contentType: CONTENT_TYPES[extname(full).toLowerCase()] ?? 'application/octet-stream' };
  } catch {
    return { status: 404, reason: 'Not found.' };
  }
}
