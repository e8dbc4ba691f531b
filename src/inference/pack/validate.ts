/**
 * Structural validation of manifest.json. Hand-written (no schema library) so
 * that each message can name the field, what it holds and what is allowed.
 */
import { isSonarLanguage } from '../../shared/languages.ts';
import { LCM_ARCHITECTURES, PACK_FORMAT, PACK_FORMAT_VERSION, type PackManifest } from './types.ts';

type Json = unknown;

/** Collects problems instead of stopping at the first, so one run of `lcm packs` shows them all. */
export class Problems {
  readonly list: string[] = [];
  add(message: string): void {
    this.list.push(message);
  }
  get ok(): boolean {
    return this.list.length === 0;
  }
}

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function field(obj: Json, path: string, problems: Problems): Json {
  let cur: Json = obj;
  for (const key of path.split('.')) {
    if (!isObject(cur) || !(key in cur)) {
      problems.add(`\`${path}\` is missing`);
      return undefined;
    }
    cur = cur[key];
  }
  return cur;
}

function int(obj: Json, path: string, problems: Problems, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const v = field(obj, path, problems);
  if (v === undefined) return NaN;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    problems.add(`\`${path}\` must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got ${JSON.stringify(v)}`);
    return NaN;
  }
  return v;
}

function num(obj: Json, path: string, problems: Problems, min: number, max: number, nullable = false): number | null {
  const v = field(obj, path, problems);
  if (v === undefined) return NaN;
  if (v === null && nullable) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    problems.add(`\`${path}\` must be a number from ${min} to ${max}${nullable ? ' or null' : ''}, got ${JSON.stringify(v)}`);
    return NaN;
  }
  return v;
}

function str(obj: Json, path: string, problems: Problems, allowed?: readonly string[]): string {
  const v = field(obj, path, problems);
  if (v === undefined) return '';
  if (typeof v !== 'string' || v.length === 0) {
    problems.add(`\`${path}\` must be a non-empty string`);
    return '';
  }
  if (allowed && !allowed.includes(v)) problems.add(`\`${path}\` is "${v}"; allowed: ${allowed.join(', ')}`);
  return v;
}

/** A file name inside the pack: relative, no `..`, no absolute path, no backslashes. */
function relPath(obj: Json, path: string, problems: Problems): string {
  const v = str(obj, path, problems);
  if (v && (v.startsWith('/') || v.includes('\\') || v.split('/').includes('..') || /^[a-zA-Z]:/.test(v))) {
    problems.add(`\`${path}\` must be a path inside the pack folder, got "${v}"`);
  }
  return v;
}

function shape(obj: Json, path: string, problems: Problems): void {
  const dim = int(obj, `${path}.modelDim`, problems);
  const heads = int(obj, `${path}.heads`, problems);
  int(obj, `${path}.layers`, problems);
  int(obj, `${path}.ffnDim`, problems);
  if (Number.isFinite(dim) && Number.isFinite(heads) && dim % heads !== 0) problems.add(`\`${path}.modelDim\` (${dim}) is not divisible by \`${path}.heads\` (${heads})`);
}

/** The Quant-LCM's fields (docs/variants.md): the head, the codebooks, temperature/top-k sampling; no schedule. */
function validateQuant(raw: Record<string, Json>, architecture: string, p: Problems): void {
  relPath(raw, 'lcm.denoiser.file', p);
  const dnRaw = field(raw, 'lcm.denoiser', new Problems());
  if (isObject(dnRaw) && !('contextFile' in dnRaw)) {
    p.add(`\`lcm.denoiser.contextFile\` is missing: a ${architecture} pack's head takes its context keys/values from denoiser_context.onnx (packs exported before 2026-11-29 read the context rows in denoiser.onnx; export the pack again with recipe/run.py export)`);
  } else relPath(raw, 'lcm.denoiser.contextFile', p);
  shape(raw, 'lcm.denoiser', p);
  int(raw, 'lcm.denoiser.timestepDim', p, 2);
  const cm = field(raw, 'lcm.contextualizer', new Problems());
  const dn = field(raw, 'lcm.denoiser', new Problems());
  if (isObject(cm) && isObject(dn) && cm.modelDim !== dn.modelDim) {
    p.add('`lcm.contextualizer.modelDim` and `lcm.denoiser.modelDim` must be equal (the quant head cross-attends to the contextualizer outputs)');
  }
  if (isObject(raw.lcm) && 'schedule' in raw.lcm) p.add(`\`lcm.schedule\` does not apply to a ${architecture} pack (nothing is denoised: units are sampled level by level with temperature and top-k): remove it`);
  relPath(raw, 'lcm.codebooks.file', p);
  int(raw, 'lcm.codebooks.levels', p, 1, 1024);
  const size = int(raw, 'lcm.codebooks.size', p, 2, 1 << 20);
  str(raw, 'lcm.codebooks.space', p, ['normalized']);
  num(raw, 'lcm.sampling.temperature', p, 0, 100);
  int(raw, 'lcm.sampling.topK', p, 0, Number.isFinite(size) ? size : undefined);
  const s = field(raw, 'lcm.sampling', new Problems());
  if (isObject(s)) {
    for (const key of Object.keys(s)) {
      if (key !== 'temperature' && key !== 'topK') p.add(`\`lcm.sampling.${key}\` does not apply to a ${architecture} pack (its sampling options are temperature and topK): remove it`);
    }
  }
}

/**
 * Checks that `raw` is a format-1 manifest. Returns the problems found; when
 * there are none the value can be used as a PackManifest.
 */
export function validateManifest(raw: Json): { manifest: PackManifest | undefined; problems: string[]; newerVersion: boolean } {
  const p = new Problems();
  if (!isObject(raw)) return { manifest: undefined, problems: ['manifest.json must hold a JSON object'], newerVersion: false };
  if (raw.format !== PACK_FORMAT) p.add(`\`format\` must be "${PACK_FORMAT}", got ${JSON.stringify(raw.format)}`);
  const version = raw.formatVersion;
  if (typeof version === 'number' && version > PACK_FORMAT_VERSION) {
    return { manifest: undefined, problems: [`format version ${version} was made by a newer Concept Studio (this one reads version ${PACK_FORMAT_VERSION}); update the app`], newerVersion: true };
  }
  if (version !== PACK_FORMAT_VERSION) p.add(`\`formatVersion\` must be ${PACK_FORMAT_VERSION}, got ${JSON.stringify(version)}`);
  str(raw, 'name', p);
  str(raw, 'version', p);
  const dim = int(raw, 'embeddingDim', p);

  const langs = field(raw, 'languages', p);
  const tags = field(raw, 'tokenizer.languageTokens', p);
  const vocab = int(raw, 'tokenizer.vocabSize', p);
  if (!Array.isArray(langs) || langs.length === 0) p.add('`languages` must be a non-empty list of {code, name}');
  else {
    langs.forEach((l, i) => {
      const code = str(l, 'code', p);
      str(l, 'name', p);
      if (code && !isSonarLanguage(code)) p.add(`\`languages[${i}].code\` "${code}" is not one of the 202 SONAR language codes (FLORES-200 style, e.g. eng_Latn)`);
      if (code && isObject(tags) && !(code in tags)) p.add(`language ${code} has no tag in \`tokenizer.languageTokens\``);
    });
  }
  if (isObject(tags)) {
    for (const [code, id] of Object.entries(tags)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || (Number.isFinite(vocab) && id >= vocab)) p.add(`\`tokenizer.languageTokens.${code}\` must be an id below vocabSize (${vocab}), got ${JSON.stringify(id)}`);
    }
  } else if (tags !== undefined) p.add('`tokenizer.languageTokens` must be an object of code → id');
  str(raw, 'tokenizer.kind', p, ['sentencepiece']);
  relPath(raw, 'tokenizer.file', p);
  for (const k of ['pad', 'unk', 'bos', 'eos'] as const) int(raw, `tokenizer.ids.${k}`, p, 0, Number.isFinite(vocab) ? vocab - 1 : undefined);
  for (const k of ['pieceOffset', 'spmUnk', 'spmBos', 'spmEos'] as const) int(raw, `tokenizer.ids.${k}`, p, 0);

  for (const part of ['encoder', 'decoder'] as const) {
    relPath(raw, `sonar.${part}.file`, p);
    shape(raw, `sonar.${part}`, p);
    int(raw, `sonar.${part}.maxPositions`, p, 3);
  }
  str(raw, 'sonar.encoder.pooling', p, ['mean']);
  int(raw, 'sonar.decoder.maxLength', p);
  if (Number.isFinite(dim) && field(raw, 'sonar.decoder.modelDim', new Problems()) !== dim) {
    p.add(`\`sonar.decoder.modelDim\` must equal \`embeddingDim\` (${dim}): the decoder's cross-attention memory is the sentence vector itself`);
  }

  const architecture = str(raw, 'lcm.architecture', p, LCM_ARCHITECTURES);
  relPath(raw, 'lcm.contextualizer.file', p);
  shape(raw, 'lcm.contextualizer', p);
  int(raw, 'lcm.contextualizer.maxContext', p);
  num(raw, 'lcm.contextualizer.ropeTheta', p, 1, 1e9);
  const quant = architecture === 'quant-discrete' || architecture === 'quant-continuous';
  const diffusion = architecture === 'two-tower-diffusion' || architecture === 'one-tower-diffusion';
  if (architecture === 'base-mse') {
    // Base-LCM regresses the next vector: nothing is denoised or sampled, so these keys would only mislead.
    for (const key of ['denoiser', 'schedule', 'sampling', 'codebooks']) {
      if (isObject(raw.lcm) && key in raw.lcm) p.add(`\`lcm.${key}\` does not apply to a base-mse pack (the Base-LCM predicts the next vector directly; nothing is denoised or sampled): remove it, or set \`lcm.architecture\` to the design the pack holds`);
    }
  } else if (quant) {
    validateQuant(raw, architecture, p);
  } else if (diffusion) {
    if (isObject(raw.lcm) && 'codebooks' in raw.lcm) p.add(`\`lcm.codebooks\` does not apply to a ${architecture} pack (codebooks belong to quant-discrete/quant-continuous packs): remove it`);
    relPath(raw, 'lcm.denoiser.file', p);
    shape(raw, 'lcm.denoiser', p);
    int(raw, 'lcm.denoiser.timestepDim', p, 2);
    const cm = field(raw, 'lcm.contextualizer', new Problems());
    const dn = field(raw, 'lcm.denoiser', new Problems());
    if (architecture === 'one-tower-diffusion') {
      // One tower: contextualizer.onnx (clean rows) and denoiser.onnx (noisy rows) run the same transformer.
      if (isObject(cm) && isObject(dn)) {
        for (const key of ['modelDim', 'layers', 'heads', 'ffnDim']) {
          if (cm[key] !== dn[key]) p.add(`\`lcm.denoiser.${key}\` (${JSON.stringify(dn[key])}) must equal \`lcm.contextualizer.${key}\` (${JSON.stringify(cm[key])}): a one-tower pack's two graphs run the same transformer`);
        }
      }
      if (isObject(dn) && 'contextFile' in dn) p.add('`lcm.denoiser.contextFile` does not apply to a one-tower-diffusion pack (its context keys/values come from `lcm.contextualizer.file`): remove it');
    } else {
      relPath(raw, 'lcm.denoiser.contextFile', p);
      if (isObject(cm) && isObject(dn) && cm.modelDim !== dn.modelDim) {
        p.add('`lcm.contextualizer.modelDim` and `lcm.denoiser.modelDim` must be equal (the denoiser cross-attends to the contextualizer outputs)');
      }
    }
  }
  relPath(raw, 'lcm.normalizer.file', p);
  str(raw, 'lcm.normalizer.kind', p, ['robust-scaler']);
  if (diffusion) {
    str(raw, 'lcm.schedule.kind', p, ['cosine', 'linear', 'quadratic', 'sigmoid']);
    const trainSteps = int(raw, 'lcm.schedule.trainSteps', p, 2, 100_000);
    num(raw, 'lcm.schedule.betaStart', p, 0, 1);
    num(raw, 'lcm.schedule.betaEnd', p, 0, 1);
    num(raw, 'lcm.schedule.sigmoidGamma', p, -1e3, 1e3);
    num(raw, 'lcm.schedule.sigmoidDelta', p, -1e3, 1e3);
    if (typeof field(raw, 'lcm.schedule.zeroTerminalSnr', p) !== 'boolean') p.add('`lcm.schedule.zeroTerminalSnr` must be true or false');
    str(raw, 'lcm.schedule.predictionType', p, ['sample']);
    int(raw, 'lcm.sampling.inferenceSteps', p, 1, Number.isFinite(trainSteps) ? trainSteps : undefined);
    str(raw, 'lcm.sampling.spacing', p, ['trailing', 'trailing-exact']);
    num(raw, 'lcm.sampling.guidanceScale', p, 1, 100);
    num(raw, 'lcm.sampling.guidanceRescale', p, 0, 1);
    num(raw, 'lcm.sampling.initialNoiseScale', p, 0, 100);
    num(raw, 'lcm.sampling.epsilonScaling', p, 0.5, 2, true);
    num(raw, 'lcm.sampling.clipNoise', p, 0, 1e6);
  }
  str(raw, 'lcm.stopping.endOfText.text', p);
  const eotLang = str(raw, 'lcm.stopping.endOfText.lang', p);
  if (eotLang && isObject(tags) && !(eotLang in tags)) p.add(`\`lcm.stopping.endOfText.lang\` (${eotLang}) has no tag in \`tokenizer.languageTokens\``);
  num(raw, 'lcm.stopping.endOfText.threshold', p, -1, 1);
  num(raw, 'lcm.stopping.repetitionThreshold', p, -1, 1, true);
  int(raw, 'lcm.stopping.maxConcepts', p);
  const instructions = field(raw, 'lcm.instructions', p);
  if (isObject(instructions)) {
    for (const [task, spec] of Object.entries(instructions)) {
      if (task !== 'summarize' && task !== 'expand') p.add(`\`lcm.instructions.${task}\` is not a known task (summarize, expand)`);
      str(spec, 'marker', p);
      str(spec, 'lang', p);
    }
  }

  const files = field(raw, 'files', p);
  if (!Array.isArray(files)) p.add('`files` must list every file of the pack with its bytes and sha256');
  else {
    files.forEach((f, i) => {
      relPath(f, 'path', p);
      int(f, 'bytes', p, 0);
      const sha = str(f, 'sha256', p);
      if (sha && !/^[0-9a-f]{64}$/.test(sha)) p.add(`\`files[${i}].sha256\` must be 64 lowercase hex digits`);
    });
    const listed = new Set(files.map((f) => (isObject(f) ? f.path : undefined)));
    const named = [
      field(raw, 'tokenizer.file', new Problems()), field(raw, 'sonar.encoder.file', new Problems()), field(raw, 'sonar.decoder.file', new Problems()),
      field(raw, 'lcm.contextualizer.file', new Problems()),
      ...(diffusion || quant ? [field(raw, 'lcm.denoiser.file', new Problems())] : []),
      ...(quant ? [field(raw, 'lcm.codebooks.file', new Problems())] : []),
      ...(architecture === 'two-tower-diffusion' || quant ? [field(raw, 'lcm.denoiser.contextFile', new Problems())] : []),
      field(raw, 'lcm.normalizer.file', new Problems()), field(raw, 'modelCard', new Problems()),
    ];
    for (const n of named) if (typeof n === 'string' && !listed.has(n)) p.add(`\`${n}\` is named by the manifest but not listed in \`files\` (with its bytes and sha256)`);
  }
  relPath(raw, 'modelCard', p);
  if (!isObject(field(raw, 'provenance', p))) p.add('`provenance` must be an object');
  return { manifest: p.ok ? (raw as unknown as PackManifest) : undefined, problems: p.list, newerVersion: false };
}
