/**
 * Child process for the crash test (crash.test.ts): edits a library in a loop,
 * each edit one store action, and reports on stdout with synchronous writes:
 *   B {"op":…}   before the action (its intent)
 *   C            after the action committed
 * so the parent, which SIGKILLs this process at a random moment, knows every
 * committed edit and the one (at most) in flight.
 *
 * Usage: node --import tsx writer.ts DB SEED full|normal
 */
import { writeSync } from 'node:fs';
import { createRng } from '../../../src/inference/rng.ts';
import { ConceptStore } from '../../../src/main/store/store.ts';

const [path, seedArg, sync] = process.argv.slice(2);
const rng = createRng(Number(seedArg));
const store = ConceptStore.open(path!, { synchronous: sync === 'normal' ? 'normal' : 'full' });
// Checkpoint every ~20 pages, so that kills also land inside WAL checkpoints.
store.db.pragma('wal_autocheckpoint = 20');
const doc = store.listDocuments()[0] ?? store.createDocument({ title: 'Crash test', language: 'eng_Latn' });
const ids = store.listConcepts(doc.id).map((c) => c.id);
const say = (line: string) => writeSync(1, `${line}\n`);
const filler = (n: number) => 'lorem ipsum dolor sit amet '.repeat(1 + Math.floor(rng.uniform() * n));
say('ready');
for (let n = 0; ; n++) {
  const r = rng.uniform();
  const tag = `${seedArg}-${n}`;
  if (r < 0.4 || ids.length < 5) {
    const text = `insert ${tag} ${filler(8)}`;
    say(`B ${JSON.stringify({ op: 'insert', text })}`);
    ids.push(store.insertConcept(doc.id, { text }).id);
    say(`C ${JSON.stringify({ id: ids[ids.length - 1] })}`);
  } else if (r < 0.6) {
    // A batch inserted between two concepts: one action, three rows.
    const after = ids[Math.floor(rng.uniform() * ids.length)]!;
    const texts = [0, 1, 2].map((k) => `batch ${tag}.${k} ${filler(4)}`);
    say(`B ${JSON.stringify({ op: 'batch', texts })}`);
    const made = store.insertConcepts(doc.id, texts.map((text) => ({ text })), { after });
    ids.push(...made.map((c) => c.id));
    say(`C ${JSON.stringify({ ids: made.map((c) => c.id) })}`);
  } else {
    const id = ids[Math.floor(rng.uniform() * ids.length)]!;
    const text = `update ${tag} ${filler(6)}`;
    say(`B ${JSON.stringify({ op: 'update', id, text })}`);
    store.updateConcept(id, { text });
    say('C {}');
  }
}
