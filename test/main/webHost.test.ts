/**
 * The web host (src/web/server.ts) and its browser client
 * (src/renderer/bridge/webClient.ts): requests without the token are refused
 * (401), requests for another host or from another origin too (403); static
 * files come with their content types and the CSP; API payloads are
 * validated as over IPC and errors come back as WireErrors with HTTP
 * statuses; a job's events arrive over the WebSocket, numbered, and a socket
 * that reconnects with ?since= gets what it missed; the client maps it all
 * back to the ConceptStudioApi and reconnects its socket asking for that.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { isWireError, type JobEvent, type PackEvent } from '../../src/shared/contract.ts';
import { startWebHost, type WebHost } from '../../src/web/server.ts';
import { createWebClient, WebBridgeError, type SocketLike } from '../../src/renderer/bridge/webClient.ts';
import { testStudio, types, type TestStudio } from './helpers.ts';
import { TINY_PACK } from '../helpers/fixtures.ts';

let t: TestStudio;
let host: WebHost;
let rendererDir: string;
let base: string;

beforeAll(async () => {
  t = testStudio();
  await t.service.updateSettings({ sampling: { inferenceSteps: 4 } });
  rendererDir = mkdtempSync(join(tmpdir(), 'cs-renderer-'));
  mkdirSync(join(rendererDir, 'assets'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Concept Studio</title><script type="module" src="/assets/app.js"></script>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("app");');
  writeFileSync(join(rendererDir, 'assets', 'app.css'), 'body{}');
  writeFileSync(join(rendererDir, 'assets', 'font.woff2'), Buffer.from([0x77, 0x4f, 0x46, 0x32]));
  host = await startWebHost({ api: t.service, rendererDir, maxBodyBytes: 4096 });
  base = `http://127.0.0.1:${host.port}`;
});
afterAll(async () => {
  await host.close();
  await t.close();
  rmSync(rendererDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json: () => unknown;
}

/** An HTTP request with full control of the headers (fetch may not set Host). */
function call(method: string, path: string, options: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: host.port, method, path, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body) as unknown });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const api = (method: string, payload?: unknown, headers: Record<string, string> = {}) =>
  call('POST', `/api/${method}`, { headers: { 'content-type': 'application/json', 'x-concept-studio-token': host.token, ...headers }, ...(payload === undefined ? {} : { body: JSON.stringify(payload) }) });

describe('the token', () => {
  it('is required on every API request: none or a wrong one → 401 with a WireError that says what to open', async () => {
    const none = await call('POST', '/api/listDocuments', { headers: { 'content-type': 'application/json' } });
    expect(none.status).toBe(401);
    expect(none.json()).toEqual({ error: { name: 'BridgeError', code: 'UNAUTHORIZED', message: expect.stringMatching(/Open the URL that `lcm serve` printed/) } });
    expect((await api('listDocuments', undefined, { 'x-concept-studio-token': `${host.token.slice(0, -1)}x` })).status).toBe(401);
    expect((await api('listDocuments', undefined, { 'x-concept-studio-token': 'short' })).status).toBe(401);
    expect((await api('listDocuments')).status).toBe(200);
    const byQuery = await call('POST', `/api/listDocuments?token=${host.token}`);
    expect(byQuery.status).toBe(200);
  });

  it('is required for the page: the URL printed holds it, and that first load lets the page\'s own files load by cookie', async () => {
    expect(host.url).toBe(`${base}/?token=${host.token}`);
    expect(host.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await call('GET', '/')).status).toBe(401);
    expect((await call('GET', '/assets/app.js')).status).toBe(401);
    const page = await call('GET', `/?token=${host.token}`);
    expect(page.status).toBe(200);
    const cookie = page.headers['set-cookie']![0]!;
    expect(cookie).toMatch(new RegExp(`^cs_token_${host.port}=${host.token}; HttpOnly; SameSite=Strict; Path=/$`));
    const js = await call('GET', '/assets/app.js', { headers: { cookie: cookie.split(';')[0]! } });
    expect(js.status).toBe(200);
    expect(js.body).toBe('console.log("app");');
    // The cookie does not open the API: a cross-site page could make the browser send it.
    expect((await call('POST', '/api/listDocuments', { headers: { cookie: cookie.split(';')[0]!, 'content-type': 'application/json' } })).status).toBe(401);
  });
});

describe('host and origin', () => {
  it('refuses another Host (DNS rebinding) and a foreign Origin with 403; accepts localhost on any port (SSH tunnels)', async () => {
    const rebind = await api('listDocuments', undefined, { host: `evil.example:${host.port}` });
    expect(rebind.status).toBe(403);
    expect(rebind.json()).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringMatching(/only requests to 127\.0\.0\.1 or localhost/) } });
    const foreign = await api('listDocuments', undefined, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.json()).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringMatching(/Requests from http:\/\/evil\.example are not accepted/) } });
    expect((await api('listDocuments', undefined, { origin: `http://localhost:${host.port}` })).status).toBe(403); // Host is 127.0.0.1: another origin
    expect((await api('listDocuments', undefined, { origin: base })).status).toBe(200);
    expect((await api('listDocuments', undefined, { host: 'localhost:9999', origin: 'http://localhost:9999' })).status).toBe(200);
    expect((await call('GET', `/?token=${host.token}`, { headers: { host: 'attacker.test' } })).status).toBe(403);
  });
});

describe('static files', () => {
  it('have content types, the CSP (with the WebSocket origins) and no-referrer; stay inside the folder', async () => {
    const q = `?token=${host.token}`;
    const page = await call('GET', `/${q}`);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(
      `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' ws://127.0.0.1:${host.port} ws://localhost:${host.port}; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect((await call('GET', `/assets/app.js${q}`)).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await call('GET', `/assets/app.css${q}`)).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await call('GET', `/assets/font.woff2${q}`)).headers['content-type']).toBe('font/woff2');
    expect((await call('GET', `/missing.js${q}`)).status).toBe(404);
    expect((await call('GET', `/%2e%2e/%2e%2e/%2e%2e/etc/passwd${q}`)).status).toBe(404);
    expect((await call('GET', `/assets/..%2f..%2f..%2fetc%2fpasswd${q}`)).status).toBe(404);
    expect((await call('GET', `/%E0%A4%A${q}`)).status).toBe(400);
    const head = await call('HEAD', `/assets/app.js${q}`);
    expect([head.status, head.headers['content-length'], head.body]).toEqual([200, '19', '']);
    expect((await call('DELETE', `/${q}`)).status).toBe(405);
  });

  it('say how to build the editor when out/renderer is missing', async () => {
    const bare = await startWebHost({ api: t.service, rendererDir: null, token: 'fixed-token' });
    try {
      const answer = await new Promise<Answer>((resolve) => {
        httpRequest({ host: '127.0.0.1', port: bare.port, path: '/?token=fixed-token' }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, json: () => null }));
        }).end();
      });
      expect(answer.status).toBe(503);
      expect(answer.body).toMatch(/run `npx electron-vite build` \(it writes out\/renderer\)/);
    } finally {
      await bare.close();
    }
  });
});

describe('the API over HTTP', () => {
  it('answers results as JSON and errors as { error: WireError } with an HTTP status', async () => {
    const created = await api('createDocument', { title: 'Over HTTP', language: 'eng_Latn' });
    expect(created.status).toBe(200);
    const doc = created.json() as { id: string; title: string };
    expect(doc.title).toBe('Over HTTP');
    const del = await api('deleteDocument', { id: doc.id });
    expect([del.status, del.body]).toEqual([200, 'null']);

    const missing = await api('openDocument', { id: doc.id });
    expect(missing.status).toBe(404);
    expect(missing.json()).toMatchObject({ error: { name: 'StoreError', code: 'STORE_NOT_FOUND' } });
    const bad = await api('createDocument', { title: 'x', language: 'english' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/^createDocument: req\.language must be a FLORES-200 language code/) } });
    const unknown = await api('dropLibrary', {});
    expect([unknown.status, (unknown.json() as { error: { code: string } }).error.code]).toEqual([404, 'UNKNOWN_METHOD']);
  });

  it('serves conceptFragility (the engine worker behind it) and validates its payload', async () => {
    const ok = await api('conceptFragility', { text: 'The sea was calm.', language: 'eng_Latn', noiseLevels: [0, 0.5], samples: 1 });
    expect(ok.status).toBe(200);
    const r = ok.json() as { seed: number; levels: { noise: number; stability: number }[]; fragility: number; score: number };
    expect([r.seed, r.levels.map((l) => l.noise), r.levels[0]!.stability]).toEqual([0, [0, 0.5], 100]);
    expect(r.fragility).toBeCloseTo(100 - r.score, 10);
    const bad = await api('conceptFragility', { text: 'x', language: 'eng_Latn', samples: 99 });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/^conceptFragility: req\.samples/) } });
  });

  it('takes only POSTs of JSON under the size limit', async () => {
    const get = await call('GET', `/api/listDocuments?token=${host.token}`);
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    const text = await call('POST', '/api/createDocument', { headers: { 'x-concept-studio-token': host.token, 'content-type': 'text/plain' }, body: '{"title":"x","language":"eng_Latn"}' });
    expect([text.status, (text.json() as { error: { code: string } }).error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const broken = await call('POST', '/api/createDocument', { headers: { 'x-concept-studio-token': host.token, 'content-type': 'application/json' }, body: '{"title": ' });
    expect(broken.status).toBe(400);
    expect(broken.json()).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/the body is not valid JSON/) } });
    const big = await api('createDocument', { title: 'x'.repeat(5000), language: 'eng_Latn' });
    expect([big.status, (big.json() as { error: { code: string } }).error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const events = await call('GET', `/api/events?token=${host.token}`);
    expect(events.status).toBe(400);
  });
});

describe('job events over the WebSocket', () => {
  const open = (url: string, headers: Record<string, string> = {}) => new WebSocket(url, { headers });
  const refusal = (ws: WebSocket) => new Promise<number>((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
    ws.on('open', () => reject(new Error('the socket opened')));
    ws.on('error', () => undefined);
  });

  it('refuses a socket without the token (401), from another origin (403) or at another path (404)', async () => {
    const ws = `ws://127.0.0.1:${host.port}`;
    expect(await refusal(open(`${ws}/api/events`))).toBe(401);
    expect(await refusal(open(`${ws}/api/events?token=${host.token}`, { origin: 'https://evil.example' }))).toBe(403);
    expect(await refusal(open(`${ws}/api/other?token=${host.token}`))).toBe(404);
  });

  it('sends every event of a job, as JSON, in order', async () => {
    const ws = open(`ws://127.0.0.1:${host.port}/api/events?token=${host.token}`, { origin: base });
    const received: JobEvent[] = [];
    ws.on('message', (data) => received.push(JSON.parse(String(data)) as JobEvent));
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    const doc = (await api('createDocument', { title: 'Socket', language: 'eng_Latn' })).json() as { id: string };
    await api('saveEdits', { documentId: doc.id, edits: [{ op: 'insert', concept: { id: 'sock-1', text: 'The harbour was quiet.' }, after: null }] });
    const started = (await api('startJob', { kind: 'continue', documentId: doc.id, afterConceptId: 'sock-1', count: 2, seed: 9 })).json() as { jobId: string };
    await expect.poll(() => received.some((e) => e.jobId === started.jobId && e.type === 'done'), { timeout: 60_000 }).toBe(true);
    ws.close();
    const hello = received[0] as unknown as { type: string; seq: number; missed: number };
    expect(hello).toEqual({ type: 'hello', seq: expect.any(Number), missed: 0 }); // first: where the numbering stands
    const mine = received.filter((e) => e.jobId === started.jobId);
    const kinds = types(mine);
    expect(kinds[0]).toBe('started');
    expect(kinds.filter((k) => k === 'concept')).toHaveLength(2);
    expect(mine.at(-1)).toEqual({ jobId: started.jobId, type: 'done', seed: 9, stop: 'max-concepts', documentId: null, seq: expect.any(Number) });
    const seqs = received.slice(1).map((e) => (e as unknown as { seq: number }).seq);
    expect(seqs[0]).toBe(hello.seq + 1);
    expect(seqs.every((q, i) => i === 0 || q === seqs[i - 1]! + 1)).toBe(true); // numbered one by one, in order
  });

  /** Opens a socket (with `?since=` when given) and collects its messages; resolves once open. */
  async function listen(query = '', port = host.port): Promise<{ ws: WebSocket; got: Record<string, unknown>[] }> {
    const ws = open(`ws://127.0.0.1:${port}/api/events?token=${host.token}${query}`, { origin: `http://127.0.0.1:${port}` });
    const got: Record<string, unknown>[] = [];
    ws.on('message', (data) => got.push(JSON.parse(String(data)) as Record<string, unknown>));
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    return { ws, got };
  }

  it('replays what a dropped socket missed when it reconnects with ?since=, then goes on live', async () => {
    const doc = (await api('createDocument', { title: 'Replay', language: 'eng_Latn' })).json() as { id: string };
    await api('saveEdits', { documentId: doc.id, edits: [{ op: 'insert', concept: { id: 'rp-1', text: 'The tide turned at noon.' }, after: null }] });
    const first = await listen();
    await expect.poll(() => first.got.length).toBe(1);
    const lastSeen = first.got[0]!.seq as number;
    first.ws.close(); // the writer's laptop sleeps
    const watcher = await listen(); // another page, to know when the job is over
    const { jobId } = (await api('startJob', { kind: 'continue', documentId: doc.id, afterConceptId: 'rp-1', count: 2, seed: 3 })).json() as { jobId: string };
    await expect.poll(() => watcher.got.some((m) => m.jobId === jobId && m.type === 'done'), { timeout: 60_000 }).toBe(true);
    const sent = watcher.got.filter((m) => m.jobId === jobId);
    const back = await listen(`&since=${lastSeen}`);
    await expect.poll(() => back.got.some((m) => m.type === 'hello')).toBe(true);
    const replayed = back.got.filter((m) => m.jobId === jobId);
    expect(replayed).toEqual(sent); // every event of the job, same numbers, same order
    expect(back.got.at(-1)).toEqual({ type: 'hello', seq: sent.at(-1)!.seq, missed: 0 });
    expect(types(replayed as unknown as JobEvent[])).toEqual(['started', ...types(sent as unknown as JobEvent[]).slice(1)]);
    back.ws.close();
    watcher.ws.close();
  }, 90_000);

  it('leaves nothing subscribed when it cannot listen (the port is taken)', async () => {
    let subscribed = 0;
    const counting = (off: () => void) => {
      subscribed++;
      return () => { subscribed--; off(); };
    };
    const api = new Proxy(t.service, {
      get(target, key, receiver) {
        if (key === 'onJobEvent') return (l: (e: JobEvent) => void) => counting(target.onJobEvent(l));
        if (key === 'onPackEvent') return (l: (e: PackEvent) => void) => counting(target.onPackEvent(l));
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await expect(startWebHost({ api, rendererDir, port: host.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(subscribed).toBe(0);
    const ok = await startWebHost({ api, rendererDir });
    expect(subscribed).toBe(2); // job and pack events, once for the server's life
    await ok.close();
    expect(subscribed).toBe(0);
  });

  it('says how many asked-for events it no longer keeps (a small journal)', async () => {
    const small = await startWebHost({ api: t.service, rendererDir, token: host.token, journalSize: 2 });
    try {
      const watcher = await listen('', small.port);
      const doc = (await api('createDocument', { title: 'Small journal', language: 'eng_Latn' })).json() as { id: string };
      await api('saveEdits', { documentId: doc.id, edits: [{ op: 'insert', concept: { id: 'sj-1', text: 'Rain on the deck.' }, after: null }] });
      const { jobId } = (await api('startJob', { kind: 'continue', documentId: doc.id, afterConceptId: 'sj-1', count: 3, seed: 5 })).json() as { jobId: string };
      await expect.poll(() => watcher.got.some((m) => m.jobId === jobId && m.type === 'done'), { timeout: 60_000 }).toBe(true);
      const latest = watcher.got.at(-1)!.seq as number;
      expect(latest).toBeGreaterThan(4); // started, progress…, 3 concepts, done: more than the journal holds
      const back = await listen('&since=0', small.port);
      await expect.poll(() => back.got.some((m) => m.type === 'hello')).toBe(true);
      const hello = back.got.at(-1)!;
      const replayed = back.got.slice(0, -1);
      expect(hello).toMatchObject({ type: 'hello', seq: latest });
      expect((hello.missed as number) + replayed.length).toBe(latest); // what it had, and the count of what it lacked
      expect(hello.missed as number).toBeGreaterThan(0);
      expect(replayed.at(-1)).toMatchObject({ jobId, type: 'done', seq: latest });
      back.ws.close();
      watcher.ws.close();
    } finally {
      await small.close();
    }
  }, 90_000);
});

describe('the web client', () => {
  const socket = (url: string) => new WebSocket(url, { headers: { origin: base } }) as unknown as SocketLike;

  it('implements the API over fetch: results, WireErrors as WebBridgeError, and job events over its socket', async () => {
    const client = createWebClient({ baseUrl: base, token: host.token, fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, origin: base } }), socket });
    expect((await client.appInfo()).pack).toMatchObject({ name: 'tiny-fixture' });
    const doc = await client.createDocument({ title: 'Client', language: 'eng_Latn' });
    expect((await client.listDocuments()).map((d) => d.id)).toContain(doc.id);
    expect(await client.deleteDocument({ id: doc.id })).toBeUndefined();
    const error = await client.openDocument({ id: doc.id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebBridgeError);
    expect(error).toMatchObject({ name: 'StoreError', code: 'STORE_NOT_FOUND' });
    expect(isWireError(error)).toBe(true);

    const second = await client.createDocument({ title: 'Client events', language: 'eng_Latn' });
    await client.saveEdits({ documentId: second.id, edits: [{ op: 'insert', concept: { id: 'cl-1', text: 'Gulls circled the mast.' }, after: null }] });
    const connected: boolean[] = [];
    const seen: JobEvent[] = [];
    const viaClient = createWebClient({ baseUrl: base, token: host.token, fetch: (url, init) => fetch(url, init), socket, onConnectionChange: (c) => connected.push(c) });
    let off = () => {};
    const done = new Promise<void>((resolve) => {
      off = viaClient.onJobEvent((e) => {
        seen.push(e);
        if (e.type === 'done') resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 200)); // the socket opens
    const { jobId } = await viaClient.startJob({ kind: 'expand', documentId: second.id, conceptId: 'cl-1', count: 2, seed: 4 });
    await done;
    off();
    expect(types(seen.filter((e) => e.jobId === jobId))).toEqual(expect.arrayContaining(['started', 'concept', 'done']));
    expect(connected[0]).toBe(true);
    expect(viaClient.onMenuCommand(() => undefined)).toBeTypeOf('function');

    // Pack events share the socket: each listener gets its own kind.
    const packSeen: PackEvent[] = [];
    const jobSeen: JobEvent[] = [];
    const offPack = viaClient.onPackEvent((e) => packSeen.push(e));
    const offJob = viaClient.onJobEvent((e) => jobSeen.push(e));
    await new Promise((r) => setTimeout(r, 200)); // the socket opens
    const added = await viaClient.addPack({ path: TINY_PACK, name: 'via-web' });
    expect(added.added).toBe('via-web');
    await expect.poll(() => packSeen.at(-1)?.phase).toBe('done');
    expect([...new Set(packSeen.map((e) => e.phase))]).toEqual(['checking', 'copying', 'verifying', 'done']);
    expect(packSeen.every((e) => e.type === 'packProgress' && e.name === 'via-web' && e.path === TINY_PACK)).toBe(true);
    expect(jobSeen).toEqual([]);
    offPack();
    offJob();
  }, 90_000);

  it('without a token it refuses before any request; it reconnects its socket after a drop', async () => {
    let fetched = 0;
    const noToken = createWebClient({ baseUrl: base, fetch: async () => (fetched++, { ok: true, status: 200, text: async () => 'null' }) });
    await expect(noToken.listDocuments()).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/no access token/) });
    expect(fetched).toBe(0);

    const sockets: SocketLike[] = [];
    const fake = () => {
      const s: SocketLike = { onopen: null, onmessage: null, onclose: null, onerror: null, close: () => s.onclose?.({}) };
      sockets.push(s);
      return s;
    };
    const urls: string[] = [];
    const missed: number[] = [];
    const client = createWebClient({ baseUrl: base, token: 't', socket: (url) => (urls.push(url), fake()), onEventsMissed: (n) => missed.push(n) });
    const got: JobEvent[] = [];
    const off = client.onJobEvent((e) => got.push(e));
    expect(sockets).toHaveLength(1);
    expect(urls[0]).not.toContain('since='); // a first connection asks for no replay
    sockets[0]!.onopen?.({});
    sockets[0]!.onmessage?.({ data: JSON.stringify({ type: 'hello', seq: 41, missed: 0 }) });
    sockets[0]!.onmessage?.({ data: JSON.stringify({ jobId: 'j', type: 'cancelled', seq: 42 }) });
    sockets[0]!.onmessage?.({ data: 'not json' });
    expect(got).toEqual([{ jobId: 'j', type: 'cancelled' }]); // the number is the client's business, not the listener's
    sockets[0]!.onclose?.({}); // the server went away
    await new Promise((r) => setTimeout(r, 700)); // first retry after 0.5 s
    expect(sockets).toHaveLength(2);
    expect(urls[1]).toMatch(/&since=42$/); // asks for what came after the last event it saw
    sockets[1]!.onmessage?.({ data: JSON.stringify({ jobId: 'k', type: 'cancelled', seq: 45 }) });
    sockets[1]!.onmessage?.({ data: JSON.stringify({ type: 'hello', seq: 45, missed: 2 }) });
    expect(missed).toEqual([2]);
    expect(got.at(-1)).toEqual({ jobId: 'k', type: 'cancelled' });
    off(); // the last listener leaves: the socket closes and is not reopened
    await new Promise((r) => setTimeout(r, 1200));
    expect(sockets).toHaveLength(2);
    const again = client.onJobEvent(() => undefined); // a new subscription starts from now: no replay
    expect(urls[2]).not.toContain('since=');
    again();
  });
});
