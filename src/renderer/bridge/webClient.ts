/**
 * ConceptStudioApi over the web host (src/web/server.ts): each request is a
 * POST of JSON to /api/<method>, job events arrive on one WebSocket at
 * /api/events. The token comes from the page's URL (`?token=…`, printed by
 * `lcm serve`) and is kept in sessionStorage, so it survives the page
 * dropping it from the address bar.
 *
 * Failed requests reject with a WebBridgeError, which has the WireError
 * fields (name, message, code), as in Electron (there a plain object: see
 * isWireError in the contract). The socket opens when the first job-event
 * listener subscribes, reconnects with a growing delay (0.5 s doubling to
 * 10 s) while any listener remains, and closes when the last one leaves.
 * Every event comes numbered (`seq`); a reconnect asks for the events after
 * the last number seen (`?since=`), and the server replays them first
 * (src/web/journal.ts), so a dropped socket loses no job output. Should the
 * server no longer hold some of them (a very long outage), `onEventsMissed`
 * hears how many. The web host has no application menu: onMenuCommand never
 * calls its listener.
 *
 * No DOM types are used, only what is passed in or found on globalThis, so
 * the same module runs in the browser and in Node tests (with the `ws`
 * package's WebSocket).
 */
import {
  REQUEST_METHODS, WEB_API_PATH, WEB_EVENTS_PATH, WEB_TOKEN_HEADER, WEB_TOKEN_PARAM, isWireError,
  type ConceptStudioApi, type JobEvent, type PackEvent, type RequestMethod, type WireError,
} from '../../shared/contract.ts';

/** What the client needs of fetch's response. */
interface ResponseLike {
  ok: boolean;
  status: number;
  text(): Promise<string>;
}
export type FetchLike = (url: string, init: { method: 'POST'; headers: Record<string, string>; body?: string }) => Promise<ResponseLike>;

/** What the client needs of a WebSocket (the browser's, or the `ws` package's). */
export interface SocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(): void;
}
export type SocketFactory = (url: string) => SocketLike;

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface WebClientOptions {
  /** http://host:port of the web host (default: the page's origin). */
  baseUrl?: string;
  /** The run's token (default: `?token=` of the page URL, else the one kept in sessionStorage). */
  token?: string;
  fetch?: FetchLike;
  socket?: SocketFactory;
  /** Called when the event socket opens or closes (a "reconnecting…" hint for the page). */
  onConnectionChange?: (connected: boolean) => void;
  /** Called after a reconnect when the server no longer held `count` of the events sent while it was down. */
  onEventsMissed?: (count: number) => void;
}

const TOKEN_KEY = 'concept-studio-token';
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 10_000;

/** A failed request: the server's WireError, as an Error. */
export class WebBridgeError extends Error implements WireError {
  readonly code: string;
  constructor(error: WireError) {
    super(error.message);
    this.name = error.name;
    this.code = error.code;
  }
}

interface BrowserGlobals {
  location?: { href: string; origin: string };
  sessionStorage?: StorageLike;
  fetch?: FetchLike;
  WebSocket?: new (url: string) => SocketLike;
}

function pageToken(g: BrowserGlobals): string | undefined {
  let token: string | null = null;
  try {
    token = g.location ? new URL(g.location.href).searchParams.get(WEB_TOKEN_PARAM) : null;
    if (token) g.sessionStorage?.setItem(TOKEN_KEY, token);
    else token = g.sessionStorage?.getItem(TOKEN_KEY) ?? null;
  } catch {
    // sessionStorage can be unavailable (privacy settings); the URL's token still works.
  }
  return token ?? undefined;
}

export function createWebClient(options: WebClientOptions = {}): ConceptStudioApi {
  const g = globalThis as unknown as BrowserGlobals;
  const baseUrl = (options.baseUrl ?? g.location?.origin ?? '').replace(/\/$/, '');
  const token = options.token ?? pageToken(g);
  const doFetch: FetchLike | undefined = options.fetch ?? (g.fetch ? (url, init) => g.fetch!(url, init) : undefined);
  const makeSocket: SocketFactory | undefined = options.socket ?? (g.WebSocket ? (url) => new g.WebSocket!(url) : undefined);

  const noToken = (): WebBridgeError =>
    new WebBridgeError({ name: 'BridgeError', code: 'UNAUTHORIZED', message: 'This page has no access token. Open the URL that `lcm serve` printed (it ends in ?token=…).' });

  async function request(method: RequestMethod, req: unknown): Promise<unknown> {
    if (!token) throw noToken();
    if (!doFetch) throw new WebBridgeError({ name: 'BridgeError', code: 'NETWORK', message: 'This page cannot make requests (no fetch).' });
    let response: ResponseLike;
    try {
      response = await doFetch(`${baseUrl}${WEB_API_PATH}${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', [WEB_TOKEN_HEADER]: token },
        ...(req === undefined ? {} : { body: JSON.stringify(req) }),
      });
    } catch (error) {
      throw new WebBridgeError({ name: 'BridgeError', code: 'NETWORK', message: `The Concept Studio server at ${baseUrl || 'this address'} did not answer (${(error as Error).message}). Is \`lcm serve\` still running?` });
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      throw new WebBridgeError({ name: 'BridgeError', code: 'BAD_RESPONSE', message: `The server answered ${method} with something that is not JSON (HTTP ${response.status}).` });
    }
    if (!response.ok) {
      const error = (body as { error?: unknown } | null)?.error;
      throw new WebBridgeError(isWireError(error) ? error : { name: 'BridgeError', code: `HTTP_${response.status}`, message: `The server refused ${method} (HTTP ${response.status}).` });
    }
    return body === null ? undefined : body;
  }

  // ── job and pack events over one WebSocket ─────────────────────────────
  // A JobEvent has a jobId; a PackEvent is { type: 'packProgress', … }. Each listener gets its own kind.
  const listeners = new Set<(event: JobEvent | PackEvent) => void>();
  let socket: SocketLike | undefined;
  /** The number of the newest event seen on this subscription (the server's `hello` sets it at once). */
  let lastSeq: number | undefined;
  let retryMs = RECONNECT_FIRST_MS;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  function connect(): void {
    if (socket || listeners.size === 0 || !makeSocket || !token) return;
    const wsBase = baseUrl.replace(/^http/, 'ws');
    const since = lastSeq === undefined ? '' : `&since=${lastSeq}`;
    const s = makeSocket(`${wsBase}${WEB_EVENTS_PATH}?${WEB_TOKEN_PARAM}=${encodeURIComponent(token)}${since}`);
    socket = s;
    s.onopen = () => {
      retryMs = RECONNECT_FIRST_MS;
      options.onConnectionChange?.(true);
    };
    s.onmessage = (message) => {
      let event: JobEvent | PackEvent;
      try {
        const data = JSON.parse(String(message.data)) as (JobEvent | PackEvent | { type: 'hello'; missed?: unknown }) & { seq?: unknown };
        const { seq, ...rest } = data;
        if (typeof seq === 'number' && Number.isFinite(seq)) lastSeq = Math.max(lastSeq ?? 0, seq);
        if (rest.type === 'hello') {
          const missed = (rest as { missed?: unknown }).missed;
          if (typeof missed === 'number' && missed > 0) options.onEventsMissed?.(missed);
          return;
        }
        event = rest as JobEvent | PackEvent;
      } catch {
        return;
      }
      for (const l of [...listeners]) {
        try {
          l(event);
        } catch {
          // One listener's failure must not keep the event from the others.
        }
      }
    };
    s.onerror = () => undefined; // onclose follows and handles it
    s.onclose = () => {
      if (socket !== s) return;
      socket = undefined;
      options.onConnectionChange?.(false);
      if (listeners.size === 0) return;
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        connect();
      }, retryMs);
      retryMs = Math.min(RECONNECT_MAX_MS, retryMs * 2);
    };
  }

  function disconnect(): void {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    lastSeq = undefined; // nobody listens any more: a later subscription starts from now, without a replay
    const s = socket;
    socket = undefined;
    s?.close();
  }

  const subscribe = (listener: (event: JobEvent | PackEvent) => void): (() => void) => {
    listeners.add(listener);
    connect();
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) disconnect();
    };
  };
  const api: Partial<ConceptStudioApi> = {
    onJobEvent(listener) {
      return subscribe((event) => {
        if ('jobId' in event) listener(event);
      });
    },
    onPackEvent(listener) {
      return subscribe((event) => {
        if (event.type === 'packProgress') listener(event);
      });
    },
    onMenuCommand() {
      return () => undefined;
    },
  };
  for (const method of REQUEST_METHODS) {
    (api as Record<string, unknown>)[method] = (req?: unknown) => request(method, req);
  }
  return api as ConceptStudioApi;
}
