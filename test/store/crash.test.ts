/**
 * Crash safety for real: a child process edits the library in a loop
 * (helpers/writer.ts) and is killed with SIGKILL at seeded-random moments,
 * 30 times over the same file, alternately with synchronous=FULL and NORMAL.
 * After every kill the library must open, pass integrity_check, and hold
 * every edit the child reported as committed (the one edit in flight may or
 * may not be there, but whole or not at all).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/inference/rng.ts';
import { ConceptStore } from '../../src/main/store/store.ts';
import { tempDir } from './helpers/tmp.ts';

const WRITER = fileURLToPath(new URL('./helpers/writer.ts', import.meta.url));
const ROUNDS = 30;

type Op = { op: 'insert'; text: string } | { op: 'batch'; texts: string[] } | { op: 'update'; id: string; text: string };

/** Runs the writer until it is killed `delayMs` after it is ready (or after spawn, when `early`); returns its stdout. */
function runAndKill(db: string, seed: number, sync: string, delayMs: number, early: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, db, String(seed), sync], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let armed = false;
    const arm = () => {
      if (armed) return;
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    };
    if (early) arm();
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (out.startsWith('ready\n')) arm();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (code ${code}): ${err}`));
      else resolve(out);
    });
  });
}

describe('a process killed mid-write', () => {
  const db = join(tempDir('crash-'), 'library.sqlite');
  it(`loses no committed edit and leaves a sound library (${ROUNDS} kills)`, async () => {
    const rng = createRng(20240531);
    /** Every concept the child reported, with its committed text. */
    const expected = new Map<string, string>();
    let committed = 0;
    let inFlight = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const early = round % 6 === 5; // sometimes kill while the child is still opening the library
      const delay = Math.floor(rng.uniform() * (early ? 600 : 150));
      const out = await runAndKill(db, round, round % 2 === 0 ? 'full' : 'normal', delay, early);
      const lines = out.split('\n').filter((l) => l && l !== 'ready');
      let pending: Op | undefined;
      for (const line of lines) {
        if (line.startsWith('B ')) pending = JSON.parse(line.slice(2)) as Op;
        else if (line.startsWith('C ')) {
          const result = JSON.parse(line.slice(2)) as { id?: string; ids?: string[] };
          if (pending?.op === 'insert') expected.set(result.id!, pending.text);
          if (pending?.op === 'batch') {
            const texts = pending.texts;
            result.ids!.forEach((id, k) => expected.set(id, texts[k]!));
          }
          if (pending?.op === 'update') expected.set(pending.id, pending.text);
          committed++;
          pending = undefined;
        }
        // A torn last line (killed mid-write of the report) is ignored like an unreported edit.
      }

      const store = ConceptStore.open(db);
      try {
        expect(store.check(), `round ${round}`).toEqual(['ok']);
        const doc = store.listDocuments()[0];
        if (!doc) continue; // killed before the first document was created
        const byId = new Map(store.listConcepts(doc.id).map((c) => [c.id, c]));
        // The edit in flight: whole or not at all.
        if (pending) inFlight++;
        if (pending?.op === 'update') {
          const now = byId.get(pending.id)!.text;
          expect([expected.get(pending.id), pending.text], `round ${round}: in-flight update`).toContain(now);
          if (now === pending.text) expected.set(pending.id, pending.text);
        } else if (pending?.op === 'batch') {
          const found = pending.texts.map((t) => [...byId.values()].some((c) => c.text === t));
          expect(found.every((f) => f === found[0]), `round ${round}: a batch is all or nothing`).toBe(true);
        }
        for (const [id, text] of expected) {
          expect(byId.get(id)?.text, `round ${round}: committed edit of ${id}`).toBe(text);
        }
        // Every concept the child made is accounted for: reported, or the one edit in flight.
        expect(byId.size - expected.size, `round ${round}: unreported concepts`).toBeLessThanOrEqual(pending?.op === 'batch' ? 3 : pending?.op === 'insert' ? 1 : 0);
        for (const [id, c] of byId) if (!expected.has(id)) expected.set(id, c.text);
      } finally {
        store.close();
      }
    }
    // The kills landed while work was going on, not only between runs.
    expect(committed).toBeGreaterThan(ROUNDS * 3);
    expect(inFlight).toBeGreaterThan(0);
  }, 180_000);
});
