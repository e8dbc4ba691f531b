/**
 * The SentencePiece tokenizer of a model pack, with the pack's id map.
 *
 * SentencePiece ids come from `@sctg/sentencepiece-js` (the C++ library compiled to WebAssembly), which
 * gives the same ids as Python's `sentencepiece` (checked against test/fixtures/tokenizer/parity.json).
 * Model ids follow the pack's `TokenizerSpec` (docs/model-pack.md, "Token ids"): SentencePiece id `s`
 * maps to `ids.unk`/`ids.bos`/`ids.eos` when `s` is `spmUnk`/`spmBos`/`spmEos`, otherwise to
 * `s + pieceOffset`; language tags come from `languageTokens`. Nothing here assumes fairseq2's or
 * Hugging Face's order of the specials: the map decides.
 *
 * Loading twice or in parallel is safe: each `load` instantiates its own WebAssembly module with its own
 * heap and in-memory file system (the library writes the model to a temporary file there), so instances
 * share no state. The cost is one module per tokenizer (a few MB of wasm heap for a small model), so load
 * a pack's tokenizer once and share it.
 */
import { readFile } from 'node:fs/promises';
import { SentencePieceProcessor } from '@sctg/sentencepiece-js';
import type { TokenizerSpec } from '../pack/types.ts';
import { resolveLanguage } from '../../shared/languages.ts';

/** Options for {@link ConceptTokenizer.encode}. */
export interface EncodeOptions {
  /** Longest result, tag and `</s>` included (the encoder's `maxPositions - 2`); pieces past it are cut. At least 2. */
  maxTokens?: number;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** SentencePiece piece types (sentencepiece_model.proto, `SentencePiece.Type`). */
const PIECE_NORMAL = 1;
const PIECE_UNKNOWN = 2;
const PIECE_CONTROL = 3;

/** Piece types of a serialized SentencePiece `ModelProto`, read without a protobuf library. */
export function readPieceTypes(bytes: Uint8Array): Uint8Array {
  const types: number[] = [];
  let pos = 0;
  const varint = (end: number): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new Error(`truncated varint at byte ${pos}`);
      const b = bytes[pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new Error(`varint too long at byte ${pos}`);
  };
  // Skips one field of wire type `wire`; returns [start, end) of a length-delimited payload.
  const skip = (wire: number, end: number): [number, number] => {
    if (wire === 0) varint(end);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = varint(end);
      const start = pos;
      pos += len;
      if (pos > end) throw new Error(`field of ${len} bytes runs past the end at byte ${start}`);
      return [start, pos];
    } else throw new Error(`invalid protobuf wire type ${wire} at byte ${pos}`);
    if (pos > end) throw new Error('truncated field');
    return [pos, pos];
  };
  while (pos < bytes.length) {
    const key = varint(bytes.length);
    const [start, end] = skip(key & 7, bytes.length);
    if (key >>> 3 !== 1 || (key & 7) !== 2) continue;
    // ModelProto.pieces (field 1): SentencePiece { piece = 1; score = 2; type = 3 [default NORMAL] }.
    let type = PIECE_NORMAL;
    const outer = pos;
    pos = start;
    while (pos < end) {
      const k = varint(end);
      if (k >>> 3 === 3 && (k & 7) === 0) type = varint(end);
      else skip(k & 7, end);
    }
    pos = outer;
    types.push(type);
  }
  return Uint8Array.from(types);
}

/** Turns text into the ids a SONAR-style encoder and decoder use, and back. */
export class ConceptTokenizer {
  readonly vocabSize: number;
  readonly pad: number;
  readonly unk: number;
  readonly bos: number;
  readonly eos: number;
  /** Number of pieces in the SentencePiece model. */
  readonly pieceCount: number;
  /** FLORES-200 codes that have a language tag in this pack, sorted. */
  readonly languages: readonly string[];

  private readonly tags: ReadonlyMap<string, number>;
  private readonly tagIds: ReadonlySet<number>;

  private constructor(
    private readonly sp: SentencePieceProcessor,
    private readonly spec: TokenizerSpec,
    pieceCount: number,
  ) {
    this.vocabSize = spec.vocabSize;
    ({ pad: this.pad, unk: this.unk, bos: this.bos, eos: this.eos } = spec.ids);
    this.pieceCount = pieceCount;
    this.tags = new Map(Object.entries(spec.languageTokens));
    this.tagIds = new Set(this.tags.values());
    this.languages = [...this.tags.keys()].sort();
  }

  /**
   * Loads the SentencePiece model at `modelPath` and checks that `spec`'s id map fits it (the control
   * pieces sit where the map says, every piece and tag has an id below vocabSize, and no two collide).
   * Throws an Error naming the file when it cannot be read or is not a SentencePiece model.
   */
  static async load(modelPath: string, spec: TokenizerSpec): Promise<ConceptTokenizer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(modelPath);
    } catch (error) {
      throw new Error(`Cannot read the SentencePiece model ${modelPath}: ${(error as Error).message}`, { cause: error });
    }
    let types: Uint8Array;
    try {
      types = readPieceTypes(bytes);
      if (types.length === 0) throw new Error('it holds no pieces');
    } catch (error) {
      throw new Error(`${modelPath} is not a SentencePiece model (${(error as Error).message}); expected the protobuf file spm_train writes.`, { cause: error });
    }
    checkIdMap(modelPath, spec, types);
    const sp = new SentencePieceProcessor();
    await sp.loadFromB64StringModel(bytes.toString('base64'));
    // The library ignores Load()'s status; ask the processor, whose status() says why a load failed.
    const status = (sp.processor as { status(): { ToString(): string } }).status().ToString();
    if (status !== 'OK') throw new Error(`${modelPath} is not a usable SentencePiece model: ${status}`);
    return new ConceptTokenizer(sp, spec, types.length);
  }

  /**
   * Raw SentencePiece ids of `text`, exactly what Python's `sp.encode(text)` returns. A lone UTF-16
   * surrogate (which Python cannot encode at all) is read as U+FFFD: passed through, the wasm binding
   * silently drops the rest of the text.
   */
  pieceIds(text: string): number[] {
    if (typeof text !== 'string') throw new TypeError(`Text to tokenize must be a string, got ${typeof text}.`);
    return this.sp.encodeIds(text.replace(LONE_SURROGATE, '\ufffd'));
  }

  /** Encoder input `[langTag] pieces… </s>` in model ids; with `maxTokens`, the pieces are cut so the whole fits. */
  encode(text: string, lang: string, options: EncodeOptions = {}): number[] {
    const tag = this.tagFor(lang);
    const { maxTokens } = options;
    if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 2)) {
      throw new RangeError(`maxTokens must be an integer of at least 2 (the language tag and </s>), got ${String(maxTokens)}.`);
    }
    const pieces = this.pieceIds(text);
    const keep = maxTokens === undefined ? pieces.length : Math.min(pieces.length, maxTokens - 2);
    const out = new Array<number>(keep + 2);
    out[0] = tag;
    for (let i = 0; i < keep; i++) out[i + 1] = this.toModelId(pieces[i]!);
    out[keep + 1] = this.eos;
    return out;
  }

  /** Decoder prompt `</s> [langTag]` (SONAR's decoder starts from </s>, then the target language tag). */
  decoderPrompt(lang: string): number[] {
    return [this.eos, this.tagFor(lang)];
  }

  /**
   * Model ids → text. Pad, `<s>`, `</s>` and language tags are skipped, and so are ids below vocabSize
   * that are no piece (padding rows of the embedding); unk decodes as SentencePiece's " ⁇ ".
   * Throws a RangeError for an id that is not an integer in [0, vocabSize).
   */
  decode(ids: ArrayLike<number>): string {
    const { spmUnk, spmBos, spmEos, pieceOffset } = this.spec.ids;
    const pieces: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`Token id ${String(id)} at position ${i} is outside this tokenizer's vocabulary [0, ${this.vocabSize}).`);
      }
      if (id === this.unk) pieces.push(spmUnk);
      else if (id === this.pad || id === this.bos || id === this.eos || this.tagIds.has(id)) continue;
      else {
        const s = id - pieceOffset;
        if (s >= 0 && s < this.pieceCount && s !== spmUnk && s !== spmBos && s !== spmEos) pieces.push(s);
      }
    }
    return pieces.length === 0 ? '' : String(this.sp.decodeIds(Int32Array.from(pieces)));
  }

  /** Every language tag id, ascending (the decoder bans them after the prompt). */
  languageTokenIds(): number[] {
    return [...this.tagIds].sort((a, b) => a - b);
  }

  /**
   * Ids that can never appear inside generated text: pad, `<s>`, every language tag, and the rows
   * below vocabSize that are no piece (the vocabulary is rounded up). The decoder bans them after
   * the prompt; unk stays allowed, as in the reference generator.
   */
  bannedInText(): number[] {
    const used = new Set<number>([this.unk, this.eos]);
    for (let s = 0; s < this.pieceCount; s++) used.add(this.toModelId(s));
    const banned = new Set<number>([this.pad, this.bos, ...this.tagIds]);
    for (let id = 0; id < this.vocabSize; id++) if (!used.has(id)) banned.add(id);
    return [...banned].sort((a, b) => a - b);
  }

  /** True for pad, unk, `<s>`, `</s>` and language tags. */
  isSpecial(id: number): boolean {
    return id === this.pad || id === this.unk || id === this.bos || id === this.eos || this.tagIds.has(id);
  }

  /** The tag id of `lang` (a FLORES-200 code, or an ISO 639-1 alias of one); RangeError listing the pack's languages otherwise. */
  languageTokenId(lang: string): number {
    return this.tagFor(lang);
  }

  private tagFor(lang: string): number {
    let tag = this.tags.get(lang);
    if (tag === undefined) {
      try {
        tag = this.tags.get(resolveLanguage(lang).code);
      } catch {
        // Not a code nor an alias: fall through to the error that lists what this pack has.
      }
    }
    if (tag === undefined) {
      const shown = this.languages.length > 24 ? `${this.languages.slice(0, 24).join(', ')} and ${this.languages.length - 24} more` : this.languages.join(', ');
      throw new RangeError(`This model pack has no language tag for "${lang}". Its languages are: ${shown}.`);
    }
    return tag;
  }

  private toModelId(s: number): number {
    const { ids } = this.spec;
    if (s === ids.spmUnk) return ids.unk;
    if (s === ids.spmBos) return ids.bos;
    if (s === ids.spmEos) return ids.eos;
    return s + ids.pieceOffset;
  }
}

/** Throws unless `spec` maps `types` (the model's pieces) into distinct ids below vocabSize. */
function checkIdMap(modelPath: string, spec: TokenizerSpec, types: Uint8Array): void {
  const fail = (problem: string): never => {
    throw new Error(`The tokenizer id map does not fit ${modelPath}: ${problem}.`);
  };
  const { ids, vocabSize } = spec;
  if (spec.kind !== 'sentencepiece') fail(`kind must be "sentencepiece", got ${JSON.stringify(spec.kind)}`);
  if (!Number.isInteger(vocabSize) || vocabSize < 1) fail(`vocabSize must be a positive integer, got ${String(vocabSize)}`);
  for (const [name, value] of Object.entries(ids)) {
    if (!Number.isInteger(value) || value < 0) fail(`ids.${name} must be a non-negative integer, got ${String(value)}`);
  }
  const expectType = (name: string, s: number, type: number, label: string): void => {
    if (s >= types.length || types[s] !== type) fail(`ids.${name} = ${s}, but that piece is not the model's ${label} piece`);
  };
  expectType('spmUnk', ids.spmUnk, PIECE_UNKNOWN, 'unknown (<unk>)');
  expectType('spmBos', ids.spmBos, PIECE_CONTROL, 'control (<s>)');
  expectType('spmEos', ids.spmEos, PIECE_CONTROL, 'control (</s>)');
  const owner = new Map<number, string>();
  const claim = (id: number, what: string): void => {
    if (id >= vocabSize) fail(`${what} has id ${id}, not below vocabSize ${vocabSize}`);
    const prev = owner.get(id);
    if (prev !== undefined) fail(`${what} and ${prev} both have id ${id}`);
    owner.set(id, what);
  };
  claim(ids.pad, 'pad');
  claim(ids.unk, 'unk');
  claim(ids.bos, 'bos');
  claim(ids.eos, 'eos');
  for (const [code, id] of Object.entries(spec.languageTokens)) {
    if (!Number.isInteger(id) || id < 0) fail(`languageTokens.${code} must be a non-negative integer, got ${String(id)}`);
    claim(id, `the ${code} tag`);
  }
  // Pieces map to a contiguous run s + pieceOffset; only its ends and the specials can collide.
  for (let s = 0; s < types.length; s++) {
    if (s === ids.spmUnk || s === ids.spmBos || s === ids.spmEos) continue;
    const id = s + ids.pieceOffset;
    if (id >= vocabSize) fail(`piece ${s} maps to ${id}, not below vocabSize ${vocabSize}`);
    const prev = owner.get(id);
    if (prev !== undefined) fail(`piece ${s} maps to ${id}, which is already ${prev}`);
  }
}
