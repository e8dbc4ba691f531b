/**
 * `lcm` commands over the library (src/main/store): import, export, docs,
 * search, embed. All take --db PATH (default: the app's own library).
 *
 * Embeddings at import: with an explicit --pack, the pack must load and
 * support the language, or nothing is imported (exit 1). Without --pack, the
 * default pack is used if there is one; if there is none (or it lacks the
 * language), the text is imported anyway, stderr says that no embeddings were
 * computed and how to add them (`lcm embed`), and the exit code is 0: the
 * import, which is what was asked, succeeded.
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { resolveLanguage } from '../shared/languages.ts';
import { PROVIDER_NAMES, type ProviderName } from '../inference/backend/ort.ts';
import { ConceptEngine } from '../inference/engine.ts';
import { EngineError } from '../inference/errors.ts';
import { resolvePackDir } from '../inference/pack/discover.ts';
import { packKey, type EmbeddingInput } from '../main/store/embeddings.ts';
import { exportDocumentJson, importDocumentJson, type EmbeddingEncoding } from '../main/store/jsonFormat.ts';
import { defaultLibraryPath } from '../main/store/location.ts';
import { outlineConcepts, parseMarkdown, parsePlainText, renderMarkdown, renderText } from '../main/store/markdown.ts';
import { ConceptStore } from '../main/store/store.ts';
import type { CommandContext } from './commands.ts';
import { intFlag } from './args.ts';
import { readInput, UsageError } from './io.ts';

function code(value: string): string {
  return resolveLanguage(value).code;
}

/** Opens the library of --db (or the default one). Only import creates a missing library. */
function openStore(ctx: CommandContext, create: boolean): ConceptStore {
  const path = ctx.flags.db ?? defaultLibraryPath();
  if (create && !ctx.flags.db) mkdirSync(dirname(path), { recursive: true });
  return ConceptStore.open(path, { create });
}

async function openEngine(ctx: CommandContext): Promise<ConceptEngine> {
  const p = ctx.flags.provider;
  if (p !== undefined && !(PROVIDER_NAMES as readonly string[]).includes(p)) throw new UsageError(`--provider must be one of ${PROVIDER_NAMES.join(', ')}, got "${p}".`);
  return ConceptEngine.open(resolvePackDir(ctx.flags.pack), {
    ...(p ? { provider: p as ProviderName } : {}),
    ...(ctx.flags.threads ? { threads: intFlag(ctx.flags, 'threads', 1, 256)! } : {}),
    verifyHashes: !ctx.flags['no-verify'],
  });
}

/**
 * The engine for embeddings, or undefined with the reason printed, when no
 * --pack was given and the default pack is missing or lacks `languages`.
 */
async function embeddingEngine(ctx: CommandContext, languages: readonly string[]): Promise<ConceptEngine | undefined> {
  const explicit = ctx.flags.pack !== undefined || process.env.CONCEPT_STUDIO_PACK !== undefined;
  let engine: ConceptEngine | undefined;
  try {
    engine = await openEngine(ctx);
    for (const l of languages) engine.checkLanguage(l);
    return engine;
  } catch (error) {
    await engine?.close();
    if (explicit || !(error instanceof EngineError)) throw error;
    process.stderr.write(`lcm: embeddings were not computed: ${error.message}\n`);
    return undefined;
  }
}

/** Vectors for the (language, text) pairs that the library does not have yet for the engine's pack. */
async function newVectors(ctx: CommandContext, store: ConceptStore, engine: ConceptEngine, wanted: readonly { language: string; text: string }[]): Promise<EmbeddingInput[]> {
  const key = packKey(engine.pack.manifest);
  const seen = new Set<string>();
  const unique = wanted.filter((w) => w.text.trim() && !seen.has(`${w.language}\0${w.text}`) && seen.add(`${w.language}\0${w.text}`));
  const cached = store.getEmbeddings(key, unique);
  const todo = unique.filter((_, i) => !cached[i]);
  const out: EmbeddingInput[] = [];
  for (const language of new Set(todo.map((t) => t.language))) {
    const items = todo.filter((t) => t.language === language);
    ctx.out.progress(`encoding ${items.length} sentences (${language})`);
    const vectors = await engine.encode(items.map((t) => t.text), language, ctx.signal);
    items.forEach((t, i) => out.push({ language, text: t.text, vector: vectors[i]! }));
  }
  ctx.out.done();
  return out;
}

type InputFormat = 'markdown' | 'text' | 'json';

function inputFormat(ctx: CommandContext): InputFormat {
  const f = ctx.flags.format;
  if (f !== undefined) {
    if (f === 'md') return 'markdown';
    if (f === 'txt') return 'text';
    if (f !== 'markdown' && f !== 'text' && f !== 'json') throw new UsageError(`--format must be markdown, text or json, got "${f}".`);
    return f;
  }
  const ext = extname(ctx.file ?? '').toLowerCase();
  return ext === '.md' || ext === '.markdown' ? 'markdown' : ext === '.json' ? 'json' : 'text';
}

export async function importCommand(ctx: CommandContext): Promise<void> {
  const format = inputFormat(ctx);
  const source = await readInput(ctx.file);
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (error) {
      throw new UsageError(`${ctx.file ?? 'Standard input'} is not JSON (${(error as Error).message}); give --format markdown or text for other files.`);
    }
    const store = openStore(ctx, true);
    try {
      const doc = importDocumentJson(store, value);
      await embedDocuments(ctx, store, [doc.id], 'import');
      report(ctx, doc.id, store);
    } finally {
      store.close();
    }
    return;
  }
  const language = code(ctx.flags.lang ?? 'eng_Latn');
  const title = ctx.flags.title ?? (ctx.file && ctx.file !== '-' ? basename(ctx.file, extname(ctx.file)) : undefined);
  if (!title) throw new UsageError('Give the document a --title (it is read from standard input).');
  const blocks = format === 'markdown' ? parseMarkdown(source) : parsePlainText(source);
  const concepts = outlineConcepts(blocks, { lang: language, ...(ctx.flags['max-chars'] ? { maxChars: intFlag(ctx.flags, 'max-chars', 20, 10_000)! } : {}) });
  if (concepts.length === 0) throw new UsageError(`${ctx.file ?? 'The input'} has no text to import.`);
  const store = openStore(ctx, true);
  try {
    const engine = await embeddingEngine(ctx, [language]);
    let embeddings;
    if (engine) {
      try {
        const items = await newVectors(ctx, store, engine, concepts.map((c) => ({ language, text: c.text })));
        embeddings = { pack: packKey(engine.pack.manifest), dim: engine.pack.manifest.embeddingDim, items };
      } finally {
        await engine.close();
      }
    }
    const { document } = store.importDocument({ title, language, concepts, ...(embeddings ? { embeddings } : {}) });
    if (!engine) process.stderr.write(`lcm: imported the text only. To add embeddings: lcm embed ${document.id} --pack PATH${ctx.flags.db ? ` --db ${JSON.stringify(ctx.flags.db)}` : ''}\n`);
    report(ctx, document.id, store, embeddings ? `${embeddings.items.length} new embeddings from ${embeddings.pack}` : 'no embeddings');
  } finally {
    store.close();
  }
}

function report(ctx: CommandContext, documentId: string, store: ConceptStore, embeddings?: string): void {
  const doc = store.getDocument(documentId);
  const n = store.listConcepts(documentId).length;
  if (ctx.flags.json) ctx.out.json({ ...doc, conceptCount: n, ...(embeddings ? { embeddings } : {}) });
  else ctx.out.line(`${doc.id}\t${doc.title}\t${n} concepts${embeddings ? `, ${embeddings}` : ''}`);
}

/** Computes the embeddings the documents lack, one action per document. */
async function embedDocuments(ctx: CommandContext, store: ConceptStore, documentIds: readonly string[], why: 'import' | 'embed'): Promise<number> {
  const docs = documentIds.map((id) => store.getDocument(id));
  const languages = [...new Set(docs.flatMap((d) => store.listConcepts(d.id).map((c) => c.language)))];
  const engine = why === 'import' ? await embeddingEngine(ctx, languages) : await openEngine(ctx);
  if (!engine) return 0;
  try {
    if (why === 'embed') languages.forEach((l) => engine.checkLanguage(l));
    let added = 0;
    for (const d of docs) {
      const items = await newVectors(ctx, store, engine, store.missingEmbeddings(packKey(engine.pack.manifest), d.id));
      added += store.putEmbeddings(packKey(engine.pack.manifest), engine.pack.manifest.embeddingDim, items);
    }
    if (why === 'embed') ctx.out.line(`${added} new embeddings from ${packKey(engine.pack.manifest)} for ${docs.length} document${docs.length === 1 ? '' : 's'}`);
    return added;
  } finally {
    await engine.close();
  }
}

export async function embedCommand(ctx: CommandContext): Promise<void> {
  const store = openStore(ctx, false);
  try {
    const ids = ctx.file ? [store.findDocument(ctx.file).id] : store.listDocuments().map((d) => d.id);
    await embedDocuments(ctx, store, ids, 'embed');
  } finally {
    store.close();
  }
}

export function exportCommand(ctx: CommandContext): void {
  if (!ctx.file) throw new UsageError('Which document? lcm export DOC (an id, the start of one, or a title; `lcm docs` lists them).');
  const format = ctx.flags.format ?? 'markdown';
  const encoding = (ctx.flags.embeddings ?? 'base64') as EmbeddingEncoding;
  if (!['base64', 'array', 'none'].includes(encoding)) throw new UsageError(`--embeddings must be base64, array or none, got "${encoding}".`);
  const store = openStore(ctx, false);
  try {
    const doc = store.findDocument(ctx.file);
    if (format === 'json') process.stdout.write(`${JSON.stringify(exportDocumentJson(store, doc.id, { embeddings: encoding }), null, 1)}\n`);
    else if (format === 'markdown' || format === 'md') process.stdout.write(renderMarkdown(store.listConcepts(doc.id)));
    else if (format === 'text' || format === 'txt') process.stdout.write(renderText(store.listConcepts(doc.id)));
    else throw new UsageError(`--format must be markdown, text or json, got "${format}".`);
  } finally {
    store.close();
  }
}

export function docsCommand(ctx: CommandContext): void {
  const store = openStore(ctx, false);
  try {
    const docs = store.listDocuments();
    if (!docs.length && !ctx.flags.json) ctx.out.line(`No documents in ${store.path}. Add one with \`lcm import FILE\`.`);
    for (const d of docs) {
      if (ctx.flags.json) ctx.out.json(d);
      else ctx.out.line(`${d.id}\t${d.language}\t${String(d.conceptCount).padStart(6)} concepts\t${new Date(d.updatedAt).toISOString().slice(0, 16).replace('T', ' ')}\t${d.title}`);
    }
  } finally {
    store.close();
  }
}

export async function searchCommand(ctx: CommandContext): Promise<void> {
  const query = ctx.file;
  if (!query?.trim()) throw new UsageError('What to search for? lcm search "QUERY" (quote a query of several words).');
  const limit = intFlag(ctx.flags, 'limit', 1, 1000, 10)!;
  const store = openStore(ctx, false);
  try {
    const filter = {
      limit,
      ...(ctx.flags.doc ? { documentId: store.findDocument(ctx.flags.doc).id } : {}),
      ...(ctx.flags.lang ? { language: code(ctx.flags.lang) } : {}),
    };
    const titles = new Map(store.listDocuments().map((d) => [d.id, d.title]));
    const print = (c: { id: string; documentId: string; text: string; language: string }, extra: Record<string, number | string>) => {
      if (ctx.flags.json) ctx.out.json({ ...extra, conceptId: c.id, documentId: c.documentId, document: titles.get(c.documentId), language: c.language, text: c.text });
      else ctx.out.line(`${Object.values(extra).map((v) => (typeof v === 'number' ? v.toFixed(4) : v)).join('\t')}${Object.keys(extra).length ? '\t' : ''}${titles.get(c.documentId)}\t${c.text}`);
    };
    if (!ctx.flags.semantic) {
      for (const hit of store.searchText(query, filter)) print(hit.concept, {});
      return;
    }
    const queryLang = code(ctx.flags['query-lang'] ?? ctx.flags.lang ?? 'eng_Latn');
    const engine = await openEngine(ctx);
    try {
      const key = packKey(engine.pack.manifest);
      const [vector] = await engine.encode([query], engine.checkLanguage(queryLang), ctx.signal);
      const result = store.searchSemantic(key, vector!, { ...filter, method: ctx.flags.exact ? 'exact' : 'auto' });
      if (result.hits.length === 0 && store.missingEmbeddings(key).length > 0) process.stderr.write(`lcm: no concepts have embeddings from ${key} yet; run \`lcm embed --pack ${ctx.flags.pack ?? 'PATH'}\` first.\n`);
      for (const hit of result.hits) print(hit.concept, { distance: hit.distance });
    } finally {
      await engine.close();
    }
  } finally {
    store.close();
  }
}
