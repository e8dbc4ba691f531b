/**
 * The payload check of every request method of the bridge contract
 * (src/shared/contract.ts). The IPC adapter and the web host run these before
 * any service code sees a payload: types, required fields, string lengths,
 * ids, language codes, numeric ranges and enumerations. The result is a new
 * object with only the contract's fields.
 *
 * The limits are generous for a writer and small enough that one request
 * cannot make the main process allocate without bound. A concept is one
 * sentence (the segmenter caps sentences at 200 characters), but pasted
 * text may arrive whole before the editor splits it: 10,000 characters.
 */
import type { ConceptEdit, ConceptStudioApi, ExportFormat, JobOptions, JobRequest, QuantSamplingSettings, RequestMethod, SamplingSettings, Settings } from '../../shared/contract.ts';
import { BLOCKS, ORIGINS, type ConceptPatch, type NewConcept } from '../../shared/library.ts';
import { PACK_NAME_PATTERN } from '../../inference/pack/install.ts';
import { BridgeError } from '../services/errors.ts';
import { arr, bool, fail, id, int, isPlainObject, jsonObject, language, none, nullable, num, obj, oneOf, str, type Check } from './checks.ts';

export const LIMITS = {
  title: 500,
  conceptText: 10_000,
  query: 1_000,
  fidelityText: 2_000,
  /** Edits in one saveEdits batch (a paste of a long document arrives as one batch). */
  edits: 20_000,
  /** Concepts selected for one job. */
  selection: 20_000,
  /** Concepts one generation may ask for; a pack may allow fewer (its manifest's maxConcepts). */
  generate: 64,
  /** Provenance params and other JSON objects, serialized. */
  json: 16_384,
  marker: 16,
  packRef: 4_096,
  packKey: 200,
  /** Diffusion steps: the paper's setting is 40; 1,000 is the usual number of training steps. */
  inferenceSteps: 1_000,
  /** Classifier-free guidance: the paper uses 3; beyond ~20 samples degenerate. */
  guidanceScale: 100,
  /** Quant-LCM temperature: the engine's and the pack manifest's bound (QuantLcm.quantOptions, `lcm --temperature`); ~5 is already near uniform. */
  quantTemperature: 100,
  /**
   * Quant-LCM top-k: a bound on the number only (the paper's RVQ codebooks
   * hold 8,192 units); the loaded pack's codebook size is the real limit,
   * checked by the engine when a job runs (a job's error names it).
   */
  quantTopK: 65_536,
} as const;

export const MAX_SEED = 0xffffffff;

const title = str({ max: LIMITS.title, min: 1, what: 'a title' });
const conceptText = str({ max: LIMITS.conceptText, what: 'one concept' });
const seed = int(0, MAX_SEED);
const rowId = int(1, Number.MAX_SAFE_INTEGER);

const samplingPatch: Check<Partial<SamplingSettings>> = obj({}, {
  inferenceSteps: int(1, LIMITS.inferenceSteps),
  guidanceScale: num(1, LIMITS.guidanceScale), // 1 = guidance off; the engine refuses less
  spacing: oneOf(['trailing', 'trailing-exact'] as const),
});

/** `check`, with `note` (what the bounds mean) added to its message. */
function explained<T>(check: Check<T>, note: string): Check<T> {
  return (value, path) => {
    try {
      return check(value, path);
    } catch (error) {
      if (error instanceof BridgeError) throw new BridgeError(error.code, `${error.message} ${note}`);
      throw error;
    }
  };
}

/** Quant-LCM temperature and top-k (docs/variants.md); the engine then checks top-k against the pack's codebook size. */
const quantSamplingPatch: Check<Partial<QuantSamplingSettings>> = obj({}, {
  temperature: explained(num(0, LIMITS.quantTemperature), '0 is greedy (the best unit of each codebook); leave it out for the pack\'s default.'),
  topK: explained(int(0, LIMITS.quantTopK), '0 keeps all units; the loaded pack\'s codebook size is the most that applies. Leave it out for the pack\'s default.'),
});

/** The fields of a settings patch (also used to check settings.json when it is read). */
export const SETTINGS_FIELDS = {
  pack: nullable(str({ max: LIMITS.packRef, min: 1, what: 'a pack name or folder' })),
  provider: oneOf(['cpu', 'cuda', 'tensorrt', 'dml', 'coreml'] as const),
  sampling: nullable(samplingPatch),
  quantSampling: nullable(quantSamplingPatch),
  seed: nullable(seed),
  theme: oneOf(['light', 'dark', 'system'] as const),
  defaultLanguage: language,
} satisfies { [K in keyof Settings]: Check<Settings[K]> };

const settingsPatch: Check<Partial<Settings>> = obj({}, SETTINGS_FIELDS);

const provenance = {
  origin: oneOf(ORIGINS),
  pack: nullable(str({ max: LIMITS.packKey, min: 1 })),
  seed: nullable(seed),
  params: nullable(jsonObject(LIMITS.json)),
  jobId: nullable(id),
};

const layout = {
  block: oneOf(BLOCKS),
  blockStart: bool,
  marker: nullable(str({ max: LIMITS.marker })),
};

const newConcept: Check<NewConcept & { id: string }> = obj({ id, text: conceptText }, { language, parentId: nullable(id), ...layout, ...provenance });
const conceptPatch: Check<ConceptPatch> = obj({}, { text: conceptText, language, ...layout, ...provenance });

const edit: Check<ConceptEdit> = (value, path) => {
  const op = isPlainObject(value) ? value.op : undefined;
  switch (op) {
    case 'insert':
      return obj({ op: oneOf(['insert'] as const), concept: newConcept, after: nullable(id) })(value, path);
    case 'update':
      return obj({ op: oneOf(['update'] as const), id, patch: conceptPatch })(value, path);
    case 'delete':
      return obj({ op: oneOf(['delete'] as const), id })(value, path);
    case 'move':
      return obj({ op: oneOf(['move'] as const), id, after: nullable(id), parentId: nullable(id) })(value, path);
    default:
      return fail(`${path}.op`, `must be "insert", "update", "delete" or "move", got ${JSON.stringify(op) ?? 'nothing'}.`);
  }
};

const count = int(1, LIMITS.generate);
const selection = nullable(arr(id, LIMITS.selection));
const jobOptions = { seed, language, sampling: samplingPatch, quantSampling: quantSamplingPatch };

const JOB_REQUESTS: { [K in JobRequest['kind']]: Check<Extract<JobRequest, { kind: K }> & JobOptions> } = {
  continue: obj({ kind: oneOf(['continue'] as const), documentId: id, afterConceptId: nullable(id), count }, jobOptions),
  regenerate: obj({ kind: oneOf(['regenerate'] as const), documentId: id, conceptId: id, count }, jobOptions),
  expand: obj({ kind: oneOf(['expand'] as const), documentId: id, conceptId: id, count }, jobOptions),
  summarize: obj({ kind: oneOf(['summarize'] as const), documentId: id, conceptIds: selection, maxConcepts: count }, jobOptions),
  translate: obj({ kind: oneOf(['translate'] as const), documentId: id, conceptIds: selection, targetLanguage: language }, jobOptions),
};

const jobRequest: Check<JobRequest & JobOptions> = (value, path) => {
  const kind = isPlainObject(value) ? value.kind : undefined;
  if (typeof kind !== 'string' || !Object.hasOwn(JOB_REQUESTS, kind)) {
    return fail(`${path}.kind`, `must be one of ${Object.keys(JOB_REQUESTS).map((k) => `"${k}"`).join(', ')}, got ${JSON.stringify(kind) ?? 'nothing'}.`);
  }
  return JOB_REQUESTS[kind as JobRequest['kind']](value, path);
};

const similar: Check<Parameters<ConceptStudioApi['searchSimilar']>[0]> = (value, path) => {
  const req = obj({}, { query: str({ max: LIMITS.query, min: 1 }), language, conceptId: id, documentId: id, limit: int(1, 1000) })(value, path);
  if ((req.query === undefined) === (req.conceptId === undefined)) fail(path, 'needs exactly one of "query" (a text) and "conceptId" (a concept to start from).');
  return req;
};

/** A pack folder on the host's machine: absolute (/…, C:\…, \\server\…) or in the home folder (~/…); a relative path would depend on where the host was started. */
const packPath: Check<string> = (value, path) => {
  const p = str({ max: LIMITS.packRef, min: 1, what: 'a folder path' })(value, path);
  if (p.includes('\0')) return fail(path, 'must not contain a NUL character.');
  if (!/^(\/|~([/\\]|$)|[A-Za-z]:[/\\]|\\\\)/.test(p)) return fail(path, `must be the full path of the pack folder (starting with / or ~/, or a drive letter on Windows), got ${JSON.stringify(p.slice(0, 200))}.`);
  return p;
};

/** The name of a pack that is listed: its folder's name, so no path separators. */
const packName: Check<string> = (value, path) => {
  const n = str({ max: 255, min: 1, what: 'a pack name' })(value, path);
  if (/[/\\\0]/.test(n) || n === '.' || n === '..') return fail(path, `must be a pack name as the Models page lists it (no slashes), got ${JSON.stringify(n.slice(0, 200))}.`);
  return n;
};

/** The name to install a pack under (src/inference/pack/install.ts PACK_NAME_PATTERN). */
const newPackName: Check<string> = (value, path) => {
  const n = str({ max: 64, min: 1, what: 'a pack name' })(value, path);
  if (!PACK_NAME_PATTERN.test(n)) return fail(path, `must be 1 to 64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit, got ${JSON.stringify(n)}.`);
  return n;
};

/** The payload type of each request method (undefined for those that take none). */
export type Payload<M extends RequestMethod> = Parameters<ConceptStudioApi[M]> extends [infer P, ...unknown[]] ? P : undefined;

/** One check per request method; a method missing here is a type error. */
export const VALIDATORS: { [M in RequestMethod]: Check<Payload<M>> } = {
  appInfo: none,
  getSettings: none,
  updateSettings: settingsPatch,
  listDocuments: none,
  createDocument: obj({ title, language }),
  renameDocument: obj({ id, title }),
  deleteDocument: obj({ id }),
  openDocument: obj({ id }),
  recentDocuments: none,
  saveEdits: obj({ documentId: id, edits: arr(edit, LIMITS.edits) }),
  conceptHistory: obj({ id }),
  revertConcept: obj({ id, revisionId: rowId }),
  acceptCandidate: obj({ candidateId: rowId }),
  searchText: obj({ query: str({ max: LIMITS.query, min: 1 }) }, { documentId: id, language, limit: int(1, 1000) }),
  searchSimilar: similar,
  fidelity: obj({ text: str({ max: LIMITS.fidelityText, min: 1 }), language }),
  conceptFragility: obj({ text: str({ max: LIMITS.fidelityText, min: 1 }), language }, { seed, noiseLevels: arr(num(0, 1), 16), samples: int(1, 32) }),
  startJob: jobRequest,
  cancelJob: obj({ jobId: id }),
  exportDocument: obj({ id, format: oneOf(['markdown', 'text', 'json'] as const satisfies readonly ExportFormat[]) }),
  listPacks: none,
  choosePackFolder: none,
  addPack: obj({ path: packPath }, { name: newPackName, link: bool, makeDefault: bool, replace: bool }),
  removePack: obj({ name: packName }),
  setDefaultPack: obj({ name: packName }),
  verifyPack: obj({ name: packName }),
};

/** Checks the payload of `method`; throws a BAD_REQUEST BridgeError naming the field. */
export function validatePayload<M extends RequestMethod>(method: M, payload: unknown): Payload<M> {
  return VALIDATORS[method](payload, `${method}: req`);
}
