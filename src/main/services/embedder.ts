/**
 * Background embeddings: after the writer's edits are saved, the vectors the
 * loaded pack lacks for that document are computed on the engine host and
 * cached in the store, so that similar-concept search and the next job find
 * them ready. It works in batches, lets jobs go first (it waits while one
 * runs), skips texts in languages the pack does not support, and never
 * fails anything the writer did: a problem is logged and the document is
 * dropped until it is saved again.
 */
import type { EngineHost } from '../engine/host.ts';
import type { ConceptStore } from '../store/store.ts';
import { ENCODE_BATCH, vectorsFor } from './vectors.ts';

/** Wait this long after a save before encoding: typing saves often, and a sentence being typed changes every keystroke. */
export const EMBED_DELAY_MS = 400;

/** A whole-library pass (after a pack is loaded) is keyed by this instead of a document id. */
const LIBRARY = '';

export class Embedder {
  private readonly pending = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: ConceptStore,
    private readonly engine: EngineHost,
    /** Resolves when no job is running or queued: embeddings wait for jobs. */
    private readonly jobsIdle: () => Promise<void>,
    private readonly log: (message: string) => void,
    private readonly delayMs = EMBED_DELAY_MS,
  ) {}

  /** Computes the missing vectors of a document (or, without one, of the whole library) soon. */
  schedule(documentId?: string): void {
    if (this.stopped) return;
    this.pending.add(documentId ?? LIBRARY);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running ??= this.pump().finally(() => {
        this.running = undefined;
        if (this.pending.size > 0 && !this.stopped) this.schedule([...this.pending][0]);
      });
    }, this.delayMs);
  }

  /** Resolves when nothing is scheduled or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.timer !== undefined || this.running !== undefined) {
      if (this.timer !== undefined) await new Promise((r) => setTimeout(r, this.delayMs));
      await this.running;
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private async pump(): Promise<void> {
    while (this.pending.size > 0 && !this.stopped) {
      const key = this.pending.values().next().value as string;
      this.pending.delete(key);
      const pack = this.engine.state.state === 'ready' ? this.engine.state.pack : undefined;
      if (!pack) return; // no pack: nothing to compute (loading a pack schedules a library pass)
      try {
        const supported = new Set(pack.languages);
        const missing = this.store.missingEmbeddings(pack.key, key === LIBRARY ? undefined : key).filter((m) => supported.has(m.language));
        for (let start = 0; start < missing.length && !this.stopped; start += ENCODE_BATCH) {
          await this.jobsIdle();
          if (this.engine.state.state !== 'ready' || this.engine.state.pack.key !== pack.key) return;
          await vectorsFor(this.store, this.engine, pack, missing.slice(start, start + ENCODE_BATCH));
        }
      } catch (error) {
        if (this.stopped) return;
        this.log(`Background embeddings for ${key === LIBRARY ? 'the library' : `document ${key}`} stopped: ${(error as Error).message}`);
      }
    }
  }
}
