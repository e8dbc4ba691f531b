/**
 * Payload validation and dispatch (src/main/ipc/validate.ts, dispatch.ts) and
 * the IPC adapter (ipcAdapter.ts): every request method has a check; good
 * payloads reach the service rebuilt with only the contract's fields;
 * malformed payloads of every method (wrong types, missing and unknown
 * fields, huge strings, bad ids, unknown language codes, numbers out of
 * range) are refused with BAD_REQUEST naming the field, and the service is
 * never called; nothing a renderer sends makes dispatch throw.
 */
import { describe, expect, it } from 'vitest';
import { channelOf, REQUEST_METHODS, type IpcReply, type RequestMethod } from '../../src/shared/contract.ts';
import { dispatch } from '../../src/main/ipc/dispatch.ts';
import { forwardJobEvents, registerIpc, type InvokeEvent } from '../../src/main/ipc/ipcAdapter.ts';
import { LIMITS, VALIDATORS } from '../../src/main/ipc/validate.ts';
import type { StudioApi, StudioService } from '../../src/main/services/studioService.ts';

const ID = '0190f5c4-8a3e-7b1c-9d2e-4f6a8b0c1d2e';
const ID2 = 'c-000002';

/** A service that records what it was called with and answers a marker. */
function recorder(fail?: Error) {
  const calls: { method: string; req: unknown }[] = [];
  const api = Object.fromEntries(
    REQUEST_METHODS.map((m) => [m, async (req: unknown) => {
      calls.push({ method: m, req });
      if (fail) throw fail;
      return { answered: m };
    }]),
  ) as unknown as StudioApi;
  return { api, calls };
}

/** One valid payload per method. */
const GOOD: { [M in RequestMethod]: unknown } = {
  appInfo: undefined,
  getSettings: undefined,
  updateSettings: { theme: 'dark', sampling: { inferenceSteps: 20 }, quantSampling: { temperature: 0.5, topK: 8 }, seed: null, pack: null, provider: 'cuda', defaultLanguage: 'fra_Latn' },
  listDocuments: undefined,
  createDocument: { title: 'Notes', language: 'eng_Latn' },
  renameDocument: { id: ID, title: 'New title' },
  deleteDocument: { id: ID },
  openDocument: { id: ID },
  recentDocuments: null,
  saveEdits: {
    documentId: ID,
    edits: [
      { op: 'insert', concept: { id: ID2, text: 'Hello.', block: 'heading', marker: '#', origin: 'generated', seed: 7, params: { k: 1 }, jobId: null }, after: null },
      { op: 'update', id: ID2, patch: { text: 'Hi.', language: 'zho_Hans' } },
      { op: 'move', id: ID2, after: ID, parentId: null },
      { op: 'delete', id: ID2 },
    ],
  },
  conceptHistory: { id: ID },
  revertConcept: { id: ID, revisionId: 3 },
  acceptCandidate: { candidateId: 12 },
  searchText: { query: 'lighthouse', limit: 5, language: 'eng_Latn' },
  searchSimilar: { conceptId: ID, documentId: ID2, limit: 3 },
  fidelity: { text: 'The sea was calm.', language: 'eng_Latn' },
  conceptFragility: { text: 'The sea was calm.', language: 'eng_Latn', seed: 3, noiseLevels: [0, 0.25], samples: 2 },
  startJob: { kind: 'translate', documentId: ID, conceptIds: [ID2], targetLanguage: 'arb_Arab', seed: 42 },
  cancelJob: { jobId: ID },
  exportDocument: { id: ID, format: 'markdown' },
  listPacks: undefined,
  choosePackFolder: null,
  addPack: { path: '/home/ana/packs/sonar-lcm', name: 'sonar-lcm.v2', link: true, makeDefault: false, replace: true },
  removePack: { name: 'tiny-fixture' },
  setDefaultPack: { name: 'Default Pack' },
  verifyPack: { name: 'tiny' },
};

/** Malformed payloads of each method, with the message each must produce. */
const BAD: { [M in RequestMethod]: [unknown, RegExp][] } = {
  appInfo: [[{ x: 1 }, /appInfo: req takes no arguments, got an object/], ['now', /takes no arguments/]],
  getSettings: [[[1], /takes no arguments, got an array/]],
  updateSettings: [
    [{ theme: 'blue' }, /req\.theme must be one of "light", "dark", "system", got "blue"/],
    [{ provider: 'tpu' }, /req\.provider must be one of/],
    [{ seed: -1 }, /req\.seed must be an integer from 0 to 4294967295, got -1/],
    [{ seed: 2 ** 32 }, /req\.seed must be an integer/],
    [{ sampling: { inferenceSteps: 0 } }, /req\.sampling\.inferenceSteps must be an integer from 1 to 1000/],
    [{ sampling: { guidanceScale: Number.NaN } }, /guidanceScale must be a number from 1 to 100/],
    [{ defaultLanguage: 'en' }, /defaultLanguage must be a FLORES-200 language code.*Did you mean eng_Latn/],
    [{ pack: '' }, /req\.pack must not be empty/],
    [{ quantSampling: { temperature: -0.1 } }, /^updateSettings: req\.quantSampling\.temperature must be a number from 0 to 100, got -0\.1\. 0 is greedy \(the best unit of each codebook\); leave it out for the pack's default\.$/],
    [{ quantSampling: { temperature: Number.POSITIVE_INFINITY } }, /req\.quantSampling\.temperature must be a number from 0 to 100, got Infinity/],
    [{ quantSampling: { temperature: 101 } }, /req\.quantSampling\.temperature must be a number from 0 to 100, got 101/],
    [{ quantSampling: { temperature: '0.5' } }, /req\.quantSampling\.temperature must be a number from 0 to 100, got "0\.5"/],
    [{ quantSampling: { topK: 2.5 } }, /^updateSettings: req\.quantSampling\.topK must be an integer from 0 to 65536, got 2\.5\. 0 keeps all units; the loaded pack's codebook size is the most that applies\./],
    [{ quantSampling: { topK: -1 } }, /req\.quantSampling\.topK must be an integer from 0 to 65536, got -1/],
    [{ quantSampling: { topK: LIMITS.quantTopK + 1 } }, /req\.quantSampling\.topK must be an integer from 0 to 65536, got 65537/],
    [{ quantSampling: { top_k: 5 } }, /req\.quantSampling\.top_k is not a field here \(allowed: temperature, topK\)/],
    [{ quantSampling: 0.5 }, /req\.quantSampling must be an object, got 0\.5/],
    [{ colour: 'x' }, /req\.colour is not a field here \(allowed: pack, provider, sampling, quantSampling, seed, theme, defaultLanguage\)/],
    ['dark', /req must be an object, got "dark"/],
  ],
  listDocuments: [[5, /takes no arguments, got 5/]],
  createDocument: [
    [{ title: 'x' }, /req\.language is required/],
    [{ title: '   ', language: 'eng_Latn' }, /req\.title must not be empty/],
    [{ title: 'x'.repeat(LIMITS.title + 1), language: 'eng_Latn' }, /req\.title is 501 characters long; at most 500 are allowed for a title/],
    [{ title: 3, language: 'eng_Latn' }, /req\.title must be a string, got 3/],
    [{ title: 'x', language: 'klingon' }, /req\.language must be a FLORES-200 language code/],
    [{ title: 'x', language: 'eng_Latn', __proto__x: 1 }, /req\.__proto__x is not a field here/],
    [undefined, /createDocument: req must be an object, got undefined/],
  ],
  renameDocument: [[{ id: '../etc', title: 'x' }, /req\.id must be an id/], [{ id: ID }, /req\.title is required/]],
  deleteDocument: [[{ id: 'x'.repeat(65) }, /req\.id must be an id \(1 to 64 letters/], [{}, /req\.id is required/]],
  openDocument: [[{ id: 7 }, /req\.id must be an id.*got 7/], [null, /req must be an object, got null/]],
  recentDocuments: [[{ a: 1 }, /takes no arguments/]],
  saveEdits: [
    [{ documentId: ID, edits: {} }, /req\.edits must be an array, got an object/],
    [{ documentId: ID, edits: [{ op: 'rename', id: ID }] }, /req\.edits\[0\]\.op must be "insert", "update", "delete" or "move", got "rename"/],
    [{ documentId: ID, edits: [{ op: 'insert', concept: { text: 'x' }, after: null }] }, /req\.edits\[0\]\.concept\.id is required/],
    [{ documentId: ID, edits: [{ op: 'insert', concept: { id: ID2, text: 'x' } }] }, /req\.edits\[0\]\.after is required/],
    [{ documentId: ID, edits: [{ op: 'insert', concept: { id: ID2, text: 'x'.repeat(LIMITS.conceptText + 1) }, after: null }] }, /concept\.text is 10001 characters long; at most 10000 are allowed for one concept/],
    [{ documentId: ID, edits: [{ op: 'insert', concept: { id: ID2, text: 'x', block: 'table' }, after: null }] }, /concept\.block must be one of "paragraph", "heading", "item", "code"/],
    [{ documentId: ID, edits: [{ op: 'insert', concept: { id: ID2, text: 'x', origin: 'magic' }, after: null }] }, /concept\.origin must be one of "typed"/],
    [{ documentId: ID, edits: [{ op: 'insert', concept: { id: ID2, text: 'x', params: [1] }, after: null }] }, /concept\.params must be a JSON object, got an array/],
    [{ documentId: ID, edits: [{ op: 'insert', concept: { id: ID2, text: 'x', params: { big: 'y'.repeat(LIMITS.json) } }, after: null }] }, /concept\.params is \d+ bytes as JSON; at most 16384/],
    [{ documentId: ID, edits: [{ op: 'update', id: ID, patch: { text: 5 } }] }, /req\.edits\[0\]\.patch\.text must be a string, got 5/],
    [{ documentId: ID, edits: [{ op: 'update', id: ID, patch: { documentId: ID } }] }, /patch\.documentId is not a field here/],
    [{ documentId: ID, edits: [{ op: 'move', id: ID, after: null }] }, /req\.edits\[0\]\.parentId is required/],
    [{ documentId: ID, edits: new Array(LIMITS.edits + 1).fill({ op: 'delete', id: ID }) }, /req\.edits has 20001 items; at most 20000/],
  ],
  conceptHistory: [[{ id: '' }, /req\.id must be an id/]],
  revertConcept: [[{ id: ID, revisionId: 1.5 }, /req\.revisionId must be an integer from 1/], [{ id: ID, revisionId: '3' }, /revisionId must be an integer.*got "3"/]],
  acceptCandidate: [[{ candidateId: 0 }, /req\.candidateId must be an integer from 1/]],
  searchText: [
    [{ query: '' }, /req\.query must not be empty/],
    [{ query: 'q'.repeat(LIMITS.query + 1) }, /req\.query is 1001 characters long/],
    [{ query: 'x', limit: 1001 }, /req\.limit must be an integer from 1 to 1000/],
  ],
  searchSimilar: [
    [{}, /needs exactly one of "query" \(a text\) and "conceptId"/],
    [{ query: 'x', conceptId: ID }, /needs exactly one of/],
    [{ query: 'x', language: 'fr' }, /req\.language must be a FLORES-200 language code/],
  ],
  fidelity: [[{ text: 'x' }, /req\.language is required/], [{ text: 'x'.repeat(LIMITS.fidelityText + 1), language: 'eng_Latn' }, /req\.text is 2001 characters long/]],
  conceptFragility: [
    [{ text: '', language: 'eng_Latn' }, /req\.text/],
    [{ text: 'x', language: 'eng_Latn', noiseLevels: [0.1, 11] }, /req\.noiseLevels\[1\]/],
    [{ text: 'x', language: 'eng_Latn', noiseLevels: Array.from({ length: 17 }, () => 0.1) }, /req\.noiseLevels/],
    [{ text: 'x', language: 'eng_Latn', samples: 0 }, /req\.samples/],
    [{ text: 'x', language: 'eng_Latn', seed: -1 }, /req\.seed/],
    [{ text: 'x', language: 'eng_Latn', extra: 1 }, /extra/],
  ],
  startJob: [
    [{ kind: 'dream', documentId: ID }, /req\.kind must be one of "continue", "regenerate", "expand", "summarize", "translate", got "dream"/],
    [{ documentId: ID }, /req\.kind must be one of/],
    [{ kind: 'continue', documentId: ID, afterConceptId: null, count: 0 }, /req\.count must be an integer from 1 to 64, got 0/],
    [{ kind: 'continue', documentId: ID, afterConceptId: null, count: 65 }, /req\.count must be an integer from 1 to 64/],
    [{ kind: 'continue', documentId: ID, count: 1 }, /req\.afterConceptId is required/],
    [{ kind: 'expand', documentId: ID, conceptId: ID, count: 2, seed: 1.5 }, /req\.seed must be an integer from 0 to 4294967295/],
    [{ kind: 'regenerate', documentId: ID, conceptId: ID, count: 2, sampling: { spacing: 'leading' } }, /req\.sampling\.spacing must be one of "trailing", "trailing-exact"/],
    [{ kind: 'regenerate', documentId: ID, conceptId: ID, count: 2, quantSampling: { topK: 1.5 } }, /^startJob: req\.quantSampling\.topK must be an integer from 0 to 65536, got 1\.5\. 0 keeps all units/],
    [{ kind: 'continue', documentId: ID, afterConceptId: null, count: 1, quantSampling: { temperature: Number.NaN } }, /req\.quantSampling\.temperature must be a number from 0 to 100, got NaN\. 0 is greedy/],
    [{ kind: 'continue', documentId: ID, afterConceptId: null, count: 1, quantSampling: null }, /req\.quantSampling must be an object, got null/],
    [{ kind: 'translate', documentId: ID, conceptIds: null, targetLanguage: 'Arabic' }, /req\.targetLanguage must be a FLORES-200 language code.*Did you mean/],
    [{ kind: 'summarize', documentId: ID, conceptIds: [ID, 'bad id!'], maxConcepts: 2 }, /req\.conceptIds\[1\] must be an id/],
    [{ kind: 'summarize', documentId: ID, conceptIds: null, maxConcepts: 2, count: 3 }, /req\.count is not a field here/],
  ],
  cancelJob: [[{ job: ID }, /req\.job is not a field here/]],
  exportDocument: [[{ id: ID, format: 'pdf' }, /req\.format must be one of "markdown", "text", "json", got "pdf"/]],
  listPacks: [[{ all: true }, /listPacks: req takes no arguments, got an object/]],
  choosePackFolder: [['/tmp', /choosePackFolder: req takes no arguments, got "\/tmp"/]],
  addPack: [
    [{}, /addPack: req\.path is required/],
    [{ path: 'packs/tiny' }, /req\.path must be the full path of the pack folder \(starting with \/ or ~\/, or a drive letter on Windows\), got "packs\/tiny"/],
    [{ path: '/p\u0000x' }, /req\.path must not contain a NUL character/],
    [{ path: '/'.repeat(LIMITS.packRef + 1) }, /req\.path is 4097 characters long; at most 4096 are allowed for a folder path/],
    [{ path: '/p', name: '../evil' }, /req\.name must be 1 to 64 letters, digits, '\.', '_', '\+' or '-', starting with a letter or digit, got "\.\.\/evil"/],
    [{ path: '/p', link: 'yes' }, /req\.link must be true or false, got "yes"/],
    [{ path: '/p', force: true }, /req\.force is not a field here \(allowed: path, name, link, makeDefault, replace\)/],
  ],
  removePack: [[{ name: '../../etc' }, /removePack: req\.name must be a pack name as the Models page lists it \(no slashes\), got "\.\.\/\.\.\/etc"/], [{}, /req\.name is required/]],
  setDefaultPack: [[{ name: '' }, /req\.name must not be empty/], [{ name: '..' }, /must be a pack name/]],
  verifyPack: [[{ name: 3 }, /req\.name must be a string, got 3/]],
};

describe('the validators', () => {
  it('cover exactly the request methods of the contract, and each channel is cs:<method>', () => {
    expect(Object.keys(VALIDATORS).sort()).toEqual([...REQUEST_METHODS].sort());
    expect(channelOf('startJob')).toBe('cs:startJob');
  });

  it.each(REQUEST_METHODS)('pass a good %s payload to the service, rebuilt with only its fields', async (method) => {
    const { api, calls } = recorder();
    const reply = await dispatch(api, method, GOOD[method]);
    expect(reply).toEqual({ ok: true, value: { answered: method } });
    expect(calls).toHaveLength(1);
    const req = calls[0]!.req;
    if (GOOD[method] === undefined || GOOD[method] === null) expect(req).toBeUndefined();
    else {
      expect(req).toEqual(GOOD[method]);
      expect(req).not.toBe(GOOD[method]);
    }
  });

  it.each(REQUEST_METHODS)('refuse malformed %s payloads with BAD_REQUEST naming the field, never calling the service', async (method) => {
    const { api, calls } = recorder();
    expect(BAD[method].length).toBeGreaterThan(0);
    for (const [payload, message] of BAD[method]) {
      const reply = await dispatch(api, method, payload);
      expect(reply.ok, JSON.stringify(payload)?.slice(0, 200)).toBe(false);
      const error = (reply as Extract<IpcReply<unknown>, { ok: false }>).error;
      expect(error.code).toBe('BAD_REQUEST');
      expect(error.name).toBe('BridgeError');
      expect(error.message).toMatch(message);
      expect(error.message.startsWith(`${method}: req`)).toBe(true);
    }
    expect(calls).toEqual([]);
  });

  it('pass Quant-LCM temperature/top-k at their bounds, in settings (null = the pack\'s) and in job options', async () => {
    const { api, calls } = recorder();
    const settings = [null, {}, { temperature: 0 }, { topK: 0 }, { temperature: 100, topK: LIMITS.quantTopK }, { temperature: 0.05, topK: 16 }];
    for (const quantSampling of settings) expect(await dispatch(api, 'updateSettings', { quantSampling })).toMatchObject({ ok: true });
    const jobs = [
      { kind: 'regenerate', documentId: ID, conceptId: ID2, count: 3, quantSampling: { temperature: 0 } },
      { kind: 'continue', documentId: ID, afterConceptId: null, count: 2, seed: 9, quantSampling: { temperature: 5, topK: 0 }, sampling: { inferenceSteps: 8 } },
      { kind: 'expand', documentId: ID, conceptId: ID2, count: 2, quantSampling: { topK: 3 } },
      { kind: 'summarize', documentId: ID, conceptIds: null, maxConcepts: 2, quantSampling: {} },
    ];
    for (const job of jobs) expect(await dispatch(api, 'startJob', job)).toMatchObject({ ok: true });
    expect(calls.map((c) => c.req)).toEqual([...settings.map((quantSampling) => ({ quantSampling })), ...jobs]);
  });

  it('do not let __proto__ in a JSON payload reach the service or change prototypes', async () => {
    const { api, calls } = recorder();
    const payload = JSON.parse('{"title":"x","language":"eng_Latn","__proto__":{"polluted":true}}') as unknown;
    const reply = await dispatch(api, 'createDocument', payload);
    expect(reply.ok).toBe(false);
    expect(calls).toEqual([]);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});

describe('dispatch', () => {
  it('answers an unknown method with UNKNOWN_METHOD and never throws, whatever the method value is', async () => {
    const { api } = recorder();
    for (const method of ['dropTables', '__proto__', 'constructor', 'onJobEvent', 42, null, undefined, 'x'.repeat(10_000)]) {
      const reply = await dispatch(api, method, {});
      expect(reply.ok).toBe(false);
      expect((reply as { error: { code: string } }).error.code).toBe('UNKNOWN_METHOD');
    }
    const long = await dispatch(api, 'x'.repeat(10_000), {});
    expect((long as { error: { message: string } }).error.message.length).toBeLessThan(600);
  });

  it('turns service failures into WireErrors: coded errors keep their code, TypeError/RangeError are BAD_INPUT, others INTERNAL (logged)', async () => {
    const coded = Object.assign(new Error('No document with id x.'), { name: 'StoreError', code: 'STORE_NOT_FOUND' });
    expect(await dispatch(recorder(coded).api, 'openDocument', { id: ID })).toEqual({ ok: false, error: { name: 'StoreError', message: 'No document with id x.', code: 'STORE_NOT_FOUND' } });
    expect(await dispatch(recorder(new RangeError('Bad parent.')).api, 'openDocument', { id: ID })).toEqual({ ok: false, error: { name: 'RangeError', message: 'Bad parent.', code: 'BAD_INPUT' } });
    const logged: string[] = [];
    const reply = await dispatch(recorder(new Error('boom')).api, 'listDocuments', undefined, { onInternalError: (m) => logged.push(m) });
    expect(reply).toEqual({ ok: false, error: { name: 'Error', message: 'boom', code: 'INTERNAL' } });
    expect(logged).toEqual(['listDocuments']);
  });
});

describe('the IPC adapter', () => {
  function fakeIpc() {
    const handlers = new Map<string, (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>>();
    return {
      handlers,
      handle: (channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>) => {
        handlers.set(channel, listener);
      },
      removeHandler: (channel: string) => {
        handlers.delete(channel);
      },
    };
  }
  const APP = 'file:///app/out/renderer/index.html';
  const trusted = (url: string) => url === APP;

  it('handles one channel per request method, validates, and refuses other frames and extra arguments', async () => {
    const ipc = fakeIpc();
    const { api, calls } = recorder();
    const unregister = registerIpc(ipc, api as unknown as StudioService, { isTrustedSender: trusted });
    expect([...ipc.handlers.keys()].sort()).toEqual(REQUEST_METHODS.map(channelOf).sort());

    const open = ipc.handlers.get('cs:openDocument')!;
    expect(await open({ senderFrame: { url: APP } }, { id: ID })).toEqual({ ok: true, value: { answered: 'openDocument' } });
    expect(await open({ senderFrame: { url: APP } }, { id: 5 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await open({ senderFrame: { url: 'https://evil.example/' } }, { id: ID })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', message: expect.stringMatching(/only accepted from the Concept Studio window/) } });
    expect(await open({ senderFrame: null }, { id: ID })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await open({ senderFrame: { url: APP } }, { id: ID }, 'extra')).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: 'openDocument: takes one argument, got 2.' } });
    expect(calls).toHaveLength(1);

    unregister();
    expect(ipc.handlers.size).toBe(0);
  });

  it('forwards job and pack events to a window until it is destroyed', () => {
    const listeners = new Set<(e: unknown) => void>();
    const packListeners = new Set<(e: unknown) => void>();
    const service = {
      onJobEvent: (l: (e: unknown) => void) => (listeners.add(l), () => listeners.delete(l)),
      onPackEvent: (l: (e: unknown) => void) => (packListeners.add(l), () => packListeners.delete(l)),
    } as unknown as StudioService;
    const sent: unknown[] = [];
    let destroyed = false;
    forwardJobEvents(service, { send: (channel, payload) => sent.push([channel, payload]), isDestroyed: () => destroyed });
    for (const l of listeners) l({ jobId: 'j', type: 'cancelled' });
    const progress = { type: 'packProgress', path: '/p', name: 'p', phase: 'copying', bytesDone: 1, bytesTotal: 2, file: 'encoder.onnx' };
    for (const l of packListeners) l(progress);
    expect(sent).toEqual([['cs:job-event', { jobId: 'j', type: 'cancelled' }], ['cs:pack-event', progress]]);
    destroyed = true;
    for (const l of [...listeners]) l({ jobId: 'j', type: 'cancelled' });
    expect(sent).toHaveLength(2);
    expect(listeners.size).toBe(0);
    expect(packListeners.size).toBe(0);
  });
});
