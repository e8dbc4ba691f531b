/** Helpers for the main-process tests: a service over a temporary library and the tiny pack, and job event collection. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobEvent } from '../../src/shared/contract.ts';
import { EngineHost } from '../../src/main/engine/host.ts';
import { StudioService, type StudioServiceOptions } from '../../src/main/services/studioService.ts';
import { ConceptStore } from '../../src/main/store/store.ts';
import { TINY_PACK } from '../helpers/fixtures.ts';

export interface TestStudio {
  dir: string;
  store: ConceptStore;
  service: StudioService;
  events: JobEvent[];
  /** Resolves with the job's events once it is done, failed or cancelled. */
  finished(jobId: string, timeoutMs?: number): Promise<JobEvent[]>;
  close(): Promise<void>;
}

/** A StudioService on a fresh library in a temporary folder; the tiny pack is the default unless `pack` is false. */
export function testStudio(options: { pack?: boolean; service?: Partial<StudioServiceOptions> } = {}): TestStudio {
  const dir = mkdtempSync(join(tmpdir(), 'cs-main-'));
  const store = ConceptStore.open(join(dir, 'library.sqlite'));
  const engine = new EngineHost();
  const logs: string[] = [];
  const service = new StudioService({
    store,
    engine,
    settingsPath: join(dir, 'settings.json'),
    version: '9.9.9-test',
    host: 'web',
    // No bundled packs; the tiny pack through CONCEPT_STUDIO_PACK (as a user would set it), or none at all.
    packsDir: join(dir, 'no-packs'),
    env: options.pack === false ? {} : { CONCEPT_STUDIO_PACK: TINY_PACK },
    log: (m) => logs.push(m),
    embedDelayMs: 20,
    // Never the real ~/.config/Concept Studio/packs.
    userPacksDir: join(dir, 'user-packs'),
    ...options.service,
  });
  const events: JobEvent[] = [];
  const waiting = new Map<string, () => void>();
  service.onJobEvent((e) => {
    events.push(e);
    if (e.type === 'done' || e.type === 'error' || e.type === 'cancelled') waiting.get(e.jobId)?.();
  });
  const terminal = (jobId: string) => events.some((e) => e.jobId === jobId && (e.type === 'done' || e.type === 'error' || e.type === 'cancelled'));
  return {
    dir,
    store,
    service,
    events,
    finished(jobId, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const done = () => setImmediate(() => resolve(events.filter((e) => e.jobId === jobId)));
        if (terminal(jobId)) return done();
        const timer = setTimeout(() => reject(new Error(`job ${jobId} did not finish in ${timeoutMs} ms; events: ${JSON.stringify(events.filter((e) => e.jobId === jobId).map((e) => e.type))}`)), timeoutMs);
        waiting.set(jobId, () => {
          clearTimeout(timer);
          done();
        });
      });
    },
    async close() {
      await service.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const types = (events: readonly JobEvent[]) => events.map((e) => e.type);
