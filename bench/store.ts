/**
 * `npm run bench:store` (also run at the end of `npm run bench`): the concept
 * store on this machine. Prints measured figures; asserts nothing.
 *
 *   insert     100k concepts (text + full-text index + 1024-d float32 embedding), 1,000 per action
 *   edits      one typed concept per action, synchronous=FULL vs NORMAL (ms per action)
 *   disk       bytes per concept, and where they go (dbstat)
 *   search     k=10 nearest over 100k vectors: exact, bit index + rerank (and its recall@10 against
 *              exact), filtered by document; full text
 *   check      PRAGMA integrity_check over the whole file
 *   --million  the same search figures over 1M vectors (about 4.5 GB on disk; several minutes)
 *
 * Vectors are synthetic: 1,000 cluster centres (normal, offset +0.3 so that, like real sentence
 * embeddings, they are not centred on 0) plus normal noise of the same scale, from a seeded Rng.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng, type Rng } from '../src/inference/rng.ts';
import { ConceptStore } from '../src/main/store/store.ts';
import type { SemanticOptions } from '../src/main/store/search.ts';

const DIM = 1024;
const BATCH = 1000;
const CENTRES = 1000;
/** Candidate counts whose recall and speed are measured (the default is 1,000 for k=10). */
const SWEEP = [250, 1000, 4000];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(1)} ms, p95 ${percentile(s, 95).toFixed(1)} ms (${s.length} queries)`;
}

/** Clustered synthetic vectors, generated batch by batch so 1M never sits in memory. */
class VectorSource {
  private readonly centres: Float32Array;
  constructor(
    private readonly rng: Rng,
    private readonly count = CENTRES,
  ) {
    this.centres = rng.fillNormal(new Float32Array(count * DIM));
    for (let i = 0; i < this.centres.length; i++) this.centres[i]! += 0.3;
  }
  next(noise = 1): Float32Array {
    const c = Math.floor(this.rng.uniform() * this.count) * DIM;
    const v = this.rng.fillNormal(new Float32Array(DIM), noise);
    for (let j = 0; j < DIM; j++) v[j]! += this.centres[c + j]!;
    return v;
  }
}

/** Fills a library with `n` concepts in documents of 1,000; returns insert seconds and query vectors. */
function fill(store: ConceptStore, n: number, source: VectorSource, rng: Rng, queries: number): { seconds: number; near: Float32Array[]; docIds: string[] } {
  const near: Float32Array[] = [];
  const docIds: string[] = [];
  let seconds = 0;
  for (let start = 0; start < n; start += BATCH) {
    const texts = Array.from({ length: BATCH }, (_, k) => `Concept ${start + k}: the keeper wrote that the ${['sea', 'lamp', 'storm', 'ship'][k % 4]} was ${['calm', 'bright', 'near', 'late'][(k >> 2) % 4]} that night.`);
    const vecs = texts.map(() => source.next());
    // Queries near stored vectors (a paraphrase of a stored sentence), spread over the library.
    if (near.length < queries && rng.uniform() < (queries * BATCH) / n) near.push(vecs[Math.floor(rng.uniform() * BATCH)]!.map((x) => x + 0.3 * rng.normal()));
    const t = performance.now();
    store.importDocument({
      title: `Document ${start / BATCH}`,
      language: 'eng_Latn',
      concepts: texts.map((text) => ({ text })),
      embeddings: { pack: 'bench@1', dim: DIM, items: texts.map((text, k) => ({ language: 'eng_Latn', text, vector: vecs[k]! })) },
    });
    seconds += (performance.now() - t) / 1000;
    if (docIds.length < 1) docIds.push(store.listDocuments()[0]!.id);
    if (start % 100_000 === 0 && n > 100_000) process.stdout.write(`  … ${start} concepts\n`);
  }
  return { seconds, near, docIds };
}

function timeSearch(store: ConceptStore, queries: Float32Array[], options: SemanticOptions): { ms: number[]; ids: string[][]; used: string } {
  const ms: number[] = [];
  const ids: string[][] = [];
  let used = '';
  for (const q of queries) {
    const t = performance.now();
    const r = store.searchSemantic('bench@1', q, { limit: 10, ...options });
    ms.push(performance.now() - t);
    ids.push(r.hits.map((h) => h.concept.id));
    used = r.method;
  }
  return { ms, ids, used };
}

function recall(approx: string[][], exact: string[][]): number {
  let hit = 0;
  approx.forEach((a, i) => (hit += a.filter((id) => exact[i]!.includes(id)).length));
  return hit / (exact.length * 10);
}

function editLatency(dir: string, synchronous: 'full' | 'normal'): number[] {
  const store = ConceptStore.open(join(dir, `edits-${synchronous}.sqlite`), { synchronous });
  const doc = store.createDocument({ title: 'Edits', language: 'eng_Latn' });
  const ms: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    store.insertConcept(doc.id, { text: `Typed sentence number ${i}.` });
    ms.push(performance.now() - t);
  }
  store.close();
  return ms;
}

async function benchSize(n: number, dir: string, rng: Rng, exactQueries: number): Promise<void> {
  const path = join(dir, `library-${n}.sqlite`);
  const store = ConceptStore.open(path, { synchronous: 'normal' });
  const source = new VectorSource(rng);
  console.log(`\n${n.toLocaleString('en')} concepts, ${DIM}-d`);
  const { seconds, near, docIds } = fill(store, n, source, rng, 100);
  console.log(`  insert: ${(n / seconds).toFixed(0)} concepts/s with text, full-text index and embedding (${seconds.toFixed(1)} s, ${BATCH} per action)`);
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const bytes = statSync(path).size;
  console.log(`  disk: ${(bytes / n).toFixed(0)} bytes per concept (${(bytes / 2 ** 20).toFixed(0)} MiB), everything included`);
  if (n <= 100_000) {
    const parts = store.db.prepare<{ name: string; bytes: number }>('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 7').all();
    console.log(`  by table: ${parts.map((p) => `${p.name} ${(p.bytes / n).toFixed(0)} B`).join(', ')}`);
  }
  const fresh = Array.from({ length: 50 }, () => source.next());
  const queries = [...near.slice(0, 50), ...fresh];
  const exact = timeSearch(store, queries.slice(0, exactQueries), { method: 'exact' });
  console.log(`  k=10 exact (vec_distance_cosine over all): ${stats(exact.ms)}`);
  const index = timeSearch(store, queries, { method: 'index' });
  console.log(`  k=10 index (sign-bit Hamming scan, 1,000 candidates, exact rerank): ${stats(index.ms)}`);
  const sweep = SWEEP.map((candidates) => {
    const r = timeSearch(store, queries.slice(0, exactQueries), { method: 'index', candidates });
    const p50 = percentile([...r.ms].sort((a, b) => a - b), 50);
    return `${candidates} → ${recall(r.ids, exact.ids).toFixed(3)} (${p50.toFixed(0)} ms)`;
  });
  console.log(`  recall@10 of index vs exact by candidates (${exactQueries} queries, half near a stored vector): ${sweep.join(', ')}`);
  const filtered = timeSearch(store, queries.slice(0, 50), { documentId: docIds[0] });
  console.log(`  k=10 in one document (1,000 concepts, ${filtered.used}): ${stats(filtered.ms)}`);
  const ft: number[] = [];
  for (const word of ['keeper', 'storm', 'bright that', 'Concept 4711:', 'lamp was late']) {
    const t0 = performance.now();
    store.searchText(word, { limit: 10 });
    ft.push(performance.now() - t0);
  }
  console.log(`  full text, 10 hits: ${ft.map((x) => x.toFixed(1)).join(' / ')} ms`);
  if (n <= 100_000) {
    const c0 = performance.now();
    store.check();
    console.log(`  integrity_check: ${((performance.now() - c0) / 1000).toFixed(1)} s`);
  }
  store.close();
  rmSync(path, { force: true });
}

/** Recall where neighbourhoods are dense: 20k vectors in 20 clusters of ~1,000 (harder than the main set). */
function denseRecall(dir: string): void {
  const store = ConceptStore.open(join(dir, 'dense.sqlite'), { synchronous: 'normal' });
  const rng = createRng(3);
  const source = new VectorSource(rng, 20);
  const doc = store.createDocument({ title: 'Dense', language: 'eng_Latn' });
  const vecs: Float32Array[] = [];
  for (let start = 0; start < 20_000; start += BATCH) {
    const texts = Array.from({ length: BATCH }, (_, k) => `Dense ${start + k}.`);
    const batch = texts.map(() => source.next());
    vecs.push(...batch);
    store.insertConcepts(doc.id, texts.map((text) => ({ text })));
    store.putEmbeddings('bench@1', DIM, texts.map((text, k) => ({ language: 'eng_Latn', text, vector: batch[k]! })));
  }
  const queries = Array.from({ length: 30 }, (_, i) => vecs[(i * 613) % vecs.length]!.map((x) => x + rng.normal()));
  const exact = timeSearch(store, queries, { method: 'exact' });
  const sweep = [100, 250, 500, 1000, 2000].map((candidates) => `${candidates} → ${recall(timeSearch(store, queries, { method: 'index', candidates }).ids, exact.ids).toFixed(3)}`);
  console.log(`\ndense clusters (20k vectors, 20 clusters): recall@10 of index vs exact by candidates: ${sweep.join(', ')}`);
  store.close();
}

/** Runs the store benchmark; `million` adds the 1M-vector search figures. */
export async function runStoreBench(options: { million?: boolean } = {}): Promise<void> {
  console.log(`\nConcept store benchmark — ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}`);
  const dir = mkdtempSync(join(tmpdir(), 'concept-studio-bench-'));
  try {
    const probe = ConceptStore.open(':memory:');
    console.log(`sqlite-vec: ${probe.vectors.extension ? probe.vectors.version : `not loaded (${probe.vectors.reason})`}`);
    probe.close();
    const full = editLatency(dir, 'full');
    const normal = editLatency(dir, 'normal');
    console.log(`one typed concept per action: synchronous=FULL ${stats(full).replace(/queries/, 'actions')}; NORMAL ${stats(normal).replace(/queries/, 'actions')}`);
    denseRecall(dir);
    await benchSize(100_000, dir, createRng(1), 30);
    if (options.million) await benchSize(1_000_000, dir, createRng(2), 5);
    else console.log('\n(1M vectors: npm run bench:store -- --million)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runStoreBench({ million: process.argv.includes('--million') });
}
