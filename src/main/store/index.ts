/** The concept store's public surface (docs/store.md). Electron-free: the app, the web host and `lcm` use it. */
export { ConceptStore, type EmbeddingBatch, type StoreOptions } from './store.ts';
export { StoreError, type StoreErrorCode } from './errors.ts';
export { defaultLibraryPath, userDataDir } from './location.ts';
export { packKey, type EmbeddingInput } from './embeddings.ts';
export { exportDocumentJson, importDocumentJson, DOCUMENT_FORMAT, type DocumentJson, type EmbeddingEncoding } from './jsonFormat.ts';
export { outlineConcepts, parseMarkdown, parsePlainText, renderMarkdown, renderText } from './markdown.ts';
export { EXACT_LIMIT, type SearchFilter, type SemanticHit, type SemanticMethod, type SemanticOptions, type SemanticResult, type TextHit } from './search.ts';
export type { NewJob } from './jobs.ts';
export type * from './types.ts';
