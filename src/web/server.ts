/**
 * The web host: the built renderer and the bridge over HTTP and a WebSocket,
 * so the editor runs in a browser (the end-to-end tests; a writer using a
 * remote GPU machine through an SSH tunnel). Electron-free Node.
 *
 *   POST /api/<method>   JSON body = the request → 200 with the JSON result,
 *                        or an HTTP error status with { error: WireError }
 *   GET  /api/events     WebSocket; every message is one JobEvent (it has a jobId)
 *                        or one PackEvent (type "packProgress") as JSON, with its
 *                        sequence number `seq`, then after any replay one
 *                        { type: "hello", seq, missed }: the newest number, and how
 *                        many asked-for events are no longer kept.
 *                        `?since=N` (a reconnect) first replays the events after N
 *                        (journal.ts), so a dropped socket loses no job output.
 *   GET  /…              the files of out/renderer
 *
 * Security: it listens on 127.0.0.1 only. Every request needs the per-run
 * token (a 256-bit random string): in the x-concept-studio-token header or
 * the `token` query parameter for the API and the WebSocket; the page gets
 * it from the URL it is opened with, and that first load sets an HttpOnly,
 * SameSite=Strict cookie so the page's own scripts and styles load too.
 * Without the token: 401. The Host header must name the loopback interface
 * and a browser's Origin must be that same host (DNS rebinding and
 * cross-site requests): else 403. API requests must be JSON (a cross-site
 * form cannot send that without a CORS preflight, which is never granted).
 * Every payload is validated exactly as over IPC (src/main/ipc/validate.ts).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { WEB_API_PATH, WEB_EVENTS_PATH, WEB_TOKEN_HEADER, WEB_TOKEN_PARAM, type JobEvent, type PackEvent, type WireError } from '../shared/contract.ts';
import { dispatch } from '../main/ipc/dispatch.ts';
import { contentSecurityPolicy } from '../main/security.ts';
import { httpStatus } from '../main/services/errors.ts';
import type { StudioApi } from '../main/services/studioService.ts';
import { EventJournal } from './journal.ts';
import { staticFile } from './static.ts';

/** Request bodies above this are refused (a saveEdits of a long pasted document fits easily). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** The WebSocket is server → client; a client message over this closes it. */
const MAX_SOCKET_MESSAGE = 4096;
/** Dead sockets (a sleeping laptop, a dropped tunnel) are found by ping/pong this often. */
const HEARTBEAT_MS = 30_000;
/** Events kept for reconnecting clients (at least this many; journal.ts). */
export const EVENT_JOURNAL_SIZE = 20_000;

export interface WebHostOptions {
  api: StudioApi & { onJobEvent(listener: (event: JobEvent) => void): () => void; onPackEvent?(listener: (event: PackEvent) => void): () => void };
  /** out/renderer; null or a missing folder serves a page that says how to build it. */
  rendererDir: string | null;
  /** 0 (default): any free port. */
  port?: number;
  /** Tests pass a fixed one; by default 32 random bytes, base64url. */
  token?: string;
  /** Default MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  /** Default EVENT_JOURNAL_SIZE. */
  journalSize?: number;
  log?: (message: string) => void;
}

export interface WebHost {
  /** The URL to open, token included. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The host name of a Host header ("127.0.0.1:5173" → "127.0.0.1"), lower-cased. */
function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host.trim().toLowerCase());
  return m?.[1];
}

/** Host must be a loopback name (any port: an SSH tunnel may forward another local port). */
export function hostAllowed(host: string | undefined): boolean {
  const name = hostName(host);
  return name !== undefined && LOOPBACK.has(name);
}

/** No Origin (curl, scripts) is fine; a browser's Origin must be this very host. */
export function originAllowed(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  return origin === `http://${host?.toLowerCase()}`;
}

function cookieName(port: number): string {
  // Cookies are not port-scoped: two hosts on one machine would overwrite each other's.
  return `cs_token_${port}`;
}

function cookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

function sameToken(given: string | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const wire = (code: string, message: string): WireError => ({ name: 'BridgeError', message, code });

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const log = options.log ?? (() => undefined);
  let port = 0;
  const headers = (extra: Record<string, string | number> = {}) => ({
    'Content-Security-Policy': contentSecurityPolicy({ connect: [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`] }),
    'X-Content-Type-Options': 'nosniff',
    // The token is in the page URL: never send it on in a Referer.
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    ...extra,
  });

  const sendJson = (res: ServerResponse, status: number, value: unknown) => {
    const body = Buffer.from(JSON.stringify(value === undefined ? null : value));
    res.writeHead(status, headers({ 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length }));
    res.end(body);
  };
  const sendError = (res: ServerResponse, error: WireError, extra: Record<string, string> = {}) => {
    const body = Buffer.from(JSON.stringify({ error }));
    res.writeHead(httpStatus(error.code), headers({ 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, ...extra }));
    res.end(body);
  };
  const sendText = (res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8') => {
    const body = Buffer.from(text);
    res.writeHead(status, headers({ 'Content-Type': type, 'Content-Length': body.length }));
    res.end(body);
  };

  /** The token of an API request or WebSocket: header or query parameter. */
  const apiToken = (req: IncomingMessage, url: URL) => {
    const h = req.headers[WEB_TOKEN_HEADER];
    return (Array.isArray(h) ? h[0] : h) ?? url.searchParams.get(WEB_TOKEN_PARAM) ?? undefined;
  };

  /** Why a request may not go on (status, code, message), or undefined when it may. */
  const refusal = (req: IncomingMessage, url: URL, allowCookie: boolean): WireError | undefined => {
    if (!hostAllowed(req.headers.host)) return wire('FORBIDDEN', `This server answers only requests to 127.0.0.1 or localhost, not to "${String(req.headers.host).slice(0, 100)}".`);
    if (!originAllowed(req.headers.origin, req.headers.host)) return wire('FORBIDDEN', `Requests from ${String(req.headers.origin).slice(0, 100)} are not accepted; open the URL that \`lcm serve\` printed.`);
    const given = apiToken(req, url) ?? (allowCookie ? cookies(req.headers.cookie).get(cookieName(port)) : undefined);
    if (!sameToken(given, token)) return wire('UNAUTHORIZED', 'This request has no valid token. Open the URL that `lcm serve` printed (it ends in ?token=…).');
    return undefined;
  };

  async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBody) return 'too-large';
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = url.pathname.slice(WEB_API_PATH.length);
    if (url.pathname === WEB_EVENTS_PATH) return sendError(res, wire('BAD_REQUEST', `${WEB_EVENTS_PATH} is a WebSocket: connect with ws://…${WEB_EVENTS_PATH}?token=…`));
    if (req.method !== 'POST') return sendError(res, wire('METHOD_NOT_ALLOWED', `Use POST for ${url.pathname}, with the request as a JSON body.`), { Allow: 'POST' });
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const body = await readBody(req);
    if (body === 'too-large') {
      res.setHeader('Connection', 'close');
      return sendError(res, wire('PAYLOAD_TOO_LARGE', `The request body is over ${maxBody} bytes.`));
    }
    if (body.length > 0 && type !== 'application/json') return sendError(res, wire('UNSUPPORTED_MEDIA_TYPE', `Send the request as JSON (Content-Type: application/json), not "${type || 'none'}".`));
    let payload: unknown;
    if (body.length > 0) {
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch (error) {
        return sendError(res, wire('BAD_REQUEST', `${method}: the body is not valid JSON (${(error as Error).message}).`));
      }
    }
    const reply = await dispatch(options.api, method, payload, { onInternalError: (m, e) => log(`${m} failed: ${(e as Error)?.stack ?? String(e)}`) });
    if (reply.ok) sendJson(res, 200, reply.value);
    else sendError(res, reply.error);
  }

  async function handleStatic(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, headers({ Allow: 'GET, HEAD', 'Content-Length': 0 }));
      res.end();
      return;
    }
    if (!options.rendererDir) {
      return sendText(res, 503, 'The editor is not built. In the Concept Studio checkout run `npx electron-vite build` (it writes out/renderer), then start `lcm serve` again.\n');
    }
    const file = await staticFile(options.rendererDir, url.pathname);
    if (file.status !== 200) return sendText(res, file.status, `${file.reason}\n`);
    const extra: Record<string, string | number> = { 'Content-Type': file.contentType, 'Content-Length': file.body.length };
    // The page was opened with the token: let its own scripts and styles, which carry no token, load.
    if (url.searchParams.has(WEB_TOKEN_PARAM)) extra['Set-Cookie'] = `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    res.writeHead(200, headers(extra));
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const isApi = url.pathname.startsWith(WEB_API_PATH);
    const refused = refusal(req, url, !isApi);
    const work = refused ? Promise.resolve(sendError(res, refused)) : isApi ? handleApi(req, res, url) : handleStatic(req, res, url);
    work.catch((error: unknown) => {
      log(`${req.method} ${url.pathname} failed: ${(error as Error)?.stack ?? String(error)}`);
      if (!res.headersSent) sendError(res, wire('INTERNAL', 'The server failed to answer this request.'));
      else res.destroy();
    });
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_SOCKET_MESSAGE });
  const alive = new WeakMap<WebSocket, boolean>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const refused = url.pathname !== WEB_EVENTS_PATH ? wire('NOT_FOUND', `No WebSocket at ${url.pathname}; job events are at ${WEB_EVENTS_PATH}.`) : refusal(req, url, false);
    if (refused) {
      const status = refused.code === 'NOT_FOUND' ? 404 : httpStatus(refused.code);
      const body = JSON.stringify({ error: refused });
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  });
  // One subscription for the server's life: every event is numbered and kept, then sent to the open sockets.
  const journal = new EventJournal<JobEvent | PackEvent>(options.journalSize ?? EVENT_JOURNAL_SIZE);
  const listening = new Set<WebSocket>();
  const send = (ws: WebSocket, message: unknown) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const publish = (event: JobEvent | PackEvent) => {
    const seq = journal.push(event);
    for (const ws of listening) send(ws, { ...event, seq });
  };
  const offJobs = options.api.onJobEvent(publish);
  const offPacks = options.api.onPackEvent?.(publish);
  sockets.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    alive.set(ws, true);
    // Replay and joining happen in this one synchronous turn, so no event falls between them.
    const since = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('since');
    let missed = 0;
    if (since !== null && /^\d{1,15}$/.test(since)) {
      const replay = journal.since(Number(since));
      for (const { seq, event } of replay.entries) send(ws, { ...event, seq });
      missed = replay.missed;
      if (missed) log(`a reconnecting client asked for events after ${since}; ${missed} of them are no longer kept (journal of ${journal.capacity})`);
    }
    send(ws, { type: 'hello', seq: journal.latest, missed });
    listening.add(ws);
    const off = () => listening.delete(ws);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('message', () => ws.close(1003, 'This socket only sends job events; requests go to POST /api/<method>.'));
    ws.on('close', off);
    ws.on('error', off);
  });
  const heartbeat = setInterval(() => {
    for (const ws of sockets.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // Not listening (e.g. the port is taken): leave nothing subscribed or ticking.
    clearInterval(heartbeat);
    offJobs();
    offPacks?.();
    sockets.close();
    throw error;
  }
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/?${WEB_TOKEN_PARAM}=${token}`,
    port,
    token,
    async close() {
      clearInterval(heartbeat);
      offJobs();
      offPacks?.();
      for (const ws of sockets.clients) ws.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
