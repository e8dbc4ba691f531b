/**
 * The Content-Security-Policy of the renderer, one definition for both
 * hosts: the Electron window (a response header on every load) and the web
 * host (a header on every static file). Scripts and styles only from the
 * app's own files (no inline script or style, no eval), no plugins, no
 * framing, no form posts, no <base>. src/renderer/index.html carries the same
 * policy as a <meta> tag (Electron sends no headers for file:// pages; a
 * <meta> policy cannot say frame-ancestors). Electron-free.
 */

/** `connect`: extra connect-src sources (the web host's WebSocket origins). */
export function contentSecurityPolicy(options: { connect?: readonly string[] } = {}): string {
  const connect = ["'self'", ...(options.connect ?? [])].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
