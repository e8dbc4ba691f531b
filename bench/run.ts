/**
 * `npm run bench`: speed and memory of the concept engine on this machine,
 * side by side with the PyTorch reference modules on the same weights and
 * inputs, for every pack present (resources/models/*, the tiny fixture, and the
 * default-shape pack: random weights with the default pack's shapes, built by
 * recipe/bench/make_shape_pack.py into .bench/packs/ when missing).
 *
 *   engine   encoder sentences/s (batch 1, 64), decoder tokens/s (greedy, beam 5; one sentence per call),
 *            LCM ms per concept (40 → 50 steps, guidance 3: 2-row batches), engine vs PyTorch with ratios,
 *            and a parity check that both sides computed the same thing (bench/engine.ts, bench/torch.ts)
 *   expand   Expand → first concept through ConceptEngine.expand, and where the time goes
 *   scaling  ms per generated concept for contexts of 10 … 2,000 concepts, with and without the
 *            engine's caches, and PyTorch; peak memory; chart in docs/bench/ (bench/scaling.ts)
 *   app      resident memory of the web host + engine worker and Chromium with a 5,000-concept
 *            document open (bench/appMemory.ts, which runs bench/editor.ts)
 *   store    the concept store (bench/store.ts)
 *
 * Every figure is the median of several timed calls after a warm-up, with both sides on 2 threads.
 * Targets are printed with PASS/MISS; nothing is asserted. Results also go to .bench/bench.json.
 *
 *   npm run bench [-- --only engine,expand] [-- --skip app,store]
 *   waits    the engine with onnxruntime's threads waiting passively (its default) and spinning, side by side
 *
 * PYTHON overrides /usr/bin/python3; CONCEPT_STUDIO_PACKS adds pack folders; BENCH_ORT_SPINNING=1 runs every
 * section with spinning onnxruntime waits instead of the engine's passive default (GraphOptions.spinWait).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listPackDirs, packSearchDirs } from '../src/inference/pack/discover.ts';
import { appMemorySkipReason, measureAppMemory, type AppMemory } from './appMemory.ts';
import { benchEngine, benchExpand, benchSentences, WORK, type EngineFigures, type ExpandFigures } from './engine.ts';
import { fmt, loadAverage, machineLine, maxRssMiB, medianMsPerUnit, medianRate, SPIN_WAIT, table, THREADS, verdict, verdictLabel, WAITS_SUFFIX, type Verdict } from './measure.ts';
import { benchWaits, type WaitsFigures } from './waits.ts';
import { runScaling, type ScalingResult } from './scaling.ts';
import { ensureShapePack, ensureShapePackInt8, probeTorch, ROOT, torchCompare, type TorchCompareReply, type TorchStatus } from './torch.ts';

const SECTIONS = ['engine', 'waits', 'expand', 'scaling', 'app', 'store'] as const;
type Section = (typeof SECTIONS)[number];

function sections(argv: readonly string[]): Set<Section> {
  const list = (flag: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) return null;
    const names = (argv[i + 1] ?? '').split(',').filter(Boolean);
    const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
    if (bad.length || names.length === 0) throw new RangeError(`${flag} takes a comma-separated list of ${SECTIONS.join(', ')}; got "${argv[i + 1] ?? ''}".`);
    return names as Section[];
  };
  const only = list('--only');
  const skip = list('--skip') ?? [];
  return new Set((only ?? [...SECTIONS]).filter((s) => !skip.includes(s)));
}

/** Max |a − b| over all values; Infinity when the shapes differ. */
function maxAbsDiff(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  a.forEach((row, i) => {
    if (row.length !== b[i]!.length) m = Infinity;
    for (let j = 0; j < row.length; j++) m = Math.max(m, Math.abs(row[j]! - b[i]![j]!));
  });
  return m;
}

const sameTokens = (a: number[][], b: number[][]) => a.filter((t, i) => JSON.stringify(t) === JSON.stringify(b[i])).length;

interface PackResult {
  engine: Omit<EngineFigures, 'encoderVectors' | 'lcmVectors' | 'request' | 'greedyTokens' | 'beamTokens'>;
  torch: Omit<TorchCompareReply, 'encoderVectors' | 'lcmVectors' | 'greedyTokens' | 'beamTokens'> | null;
  parity: Record<string, string> | null;
  /** PyTorch time / engine time for each figure (> 1: the engine is faster). */
  ratios: Record<string, number>;
}

/** The graphs a pack ships as int8 (its manifest's provenance.quantization.graphs), or null. */
function int8Graphs(dir: string): string | null {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { provenance?: { quantization?: { graphs?: unknown } } };
    const graphs = manifest.provenance?.quantization?.graphs;
    // quantize_pack.py records {graph: products quantized}
    const names = graphs && typeof graphs === 'object' ? Object.keys(graphs) : [];
    return names.length ? names.join(', ') : null;
  } catch {
    return null;
  }
}

async function comparePack(dir: string, sentences: string[], torch: TorchStatus): Promise<PackResult> {
  const e = await benchEngine(dir, sentences);
  let t: TorchCompareReply | null = null;
  if (torch.ok) {
    try {
      t = await torchCompare(e.request);
    } catch (error) {
      console.log(`PyTorch side failed on ${e.pack}: ${(error as Error).message}`);
    }
  }
  const rows: [string, number, number | undefined][] = [
    ['encoder, batch 1 (sentences/s)', medianRate(e.encoderBatch1), t ? medianRate(t.encoderBatch1) : undefined],
    ['encoder, batch 64 (sentences/s)', medianRate(e.encoderBatch64), t ? medianRate(t.encoderBatch64) : undefined],
    ['decoder greedy, 1 sentence/call (tokens/s)', medianRate(e.decoderGreedy), t ? medianRate(t.decoderGreedy) : undefined],
    [`decoder beam ${WORK.beamSize}, 1 sentence/call (tokens/s)`, medianRate(e.decoderBeam), t ? medianRate(t.decoderBeam) : undefined],
    ['LCM ms per concept (1 concept, 2-row guidance batch)', medianMsPerUnit(e.lcm), t ? medianMsPerUnit(t.lcm) : undefined],
  ];
  const ratios: Record<string, number> = {};
  console.log(`\n### ${e.pack}: ${e.shape} (${dir.replace(ROOT, '')})`);
  console.log(`inputs: ${WORK.batch64Sentences} corpus sentences (${e.lang}, median ${e.tokensPerSentence} tokens), decoder max ${WORK.decodeMaxLength} tokens on ${WORK.decodeVectors} vectors, LCM ${WORK.lcmConcepts} concepts after ${WORK.contextConcepts}; load ${loadAverage()}`);
  console.log(table([
    ['figure', 'engine', 'PyTorch', 'engine speed-up'],
    ...rows.map(([name, engine, pt]) => {
      const lcm = name.startsWith('LCM');
      const ratio = pt === undefined ? Number.NaN : lcm ? pt / engine : engine / pt;
      ratios[name] = ratio;
      return [name, fmt(engine, lcm ? 1 : 0), pt === undefined ? '—' : fmt(pt, lcm ? 1 : 0), Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—'];
    }),
  ]));
  let parity: Record<string, string> | null = null;
  if (t) {
    const enc = maxAbsDiff(e.encoderVectors, t.encoderVectors);
    const lcm = maxAbsDiff(e.lcmVectors, t.lcmVectors);
    parity = {
      encoder: `max |Δ| ${enc.toExponential(2)} over ${WORK.parityCount} vectors`,
      greedy: `${sameTokens(e.greedyTokens, t.greedyTokens)}/${e.greedyTokens.length} token sequences identical`,
      beam: `${sameTokens(e.beamTokens, t.beamTokens)}/${e.beamTokens.length} best hypotheses identical`,
      lcm: `max |Δ| ${lcm.toExponential(2)} over ${WORK.lcmConcepts} generated vectors (same seed)`,
    };
    console.log(`same weights, same inputs — engine vs PyTorch: encoder ${parity.encoder}; greedy ${parity.greedy}; beam ${parity.beam}; LCM ${parity.lcm}`);
    const int8 = int8Graphs(dir);
    if (int8) console.log(`int8 graphs (${int8}): PyTorch runs float32 on their dequantized weights (recipe/lcmref/onnx_weights.py dequantize_int8), the engine also quantizes activations per call, so those graphs differ by the quantization error, not exactly`);
    console.log(`PyTorch ${t.torch} on ${t.threads} threads (OMP_WAIT_POLICY=PASSIVE), peak RSS ${(t.maxRssKiB / 1024).toFixed(0)} MiB; engine process peak RSS so far ${maxRssMiB().toFixed(0)} MiB`);
  }
  const strip = <T extends object>(o: T, keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
  return {
    engine: strip(e, ['encoderVectors', 'lcmVectors', 'request', 'greedyTokens', 'beamTokens']) as PackResult['engine'],
    torch: t ? (strip(t, ['encoderVectors', 'lcmVectors', 'greedyTokens', 'beamTokens']) as PackResult['torch']) : null,
    parity,
    ratios,
  };
}

/** Packs to measure: the bundled ones, the tiny fixture, and the default-shape pack(s) in .bench/packs. */
function packDirs(shapePack: string | null): string[] {
  const shapeDir = join(ROOT, '.bench/packs');
  const shapes = existsSync(shapeDir) ? readdirSync(shapeDir).map((d) => join(shapeDir, d)).filter((d) => existsSync(join(d, 'manifest.json'))) : [];
  return [...new Set([...listPackDirs(packSearchDirs()), join(ROOT, 'test/fixtures/packs/tiny'), ...(shapePack ? [shapePack] : []), ...shapes])];
}

async function main(): Promise<void> {
  const run = sections(process.argv.slice(2));
  const started = new Date().toISOString();
  console.log(`# Concept Studio benchmark — ${started}`);
  console.log(`${machineLine()}; load average ${loadAverage()} (1, 5, 15 min)`);
  console.log(`onnxruntime thread waits: ${SPIN_WAIT ? 'SPINNING (BENCH_ORT_SPINNING=1: onnxruntime\'s default, not how the engine ships)' : 'passive (as the engine ships)'}`);
  const torch = await probeTorch();
  console.log(torch.ok ? `PyTorch ${torch.version} via ${process.env.PYTHON ?? '/usr/bin/python3'}, ${THREADS} threads` : `PyTorch is NOT available (${torch.reason}): engine figures only.`);
  const shapePack = run.has('engine') || run.has('waits') || run.has('expand') || run.has('scaling') || run.has('app') ? await ensureShapePack(torch) : null;
  const bundled = listPackDirs(packSearchDirs());
  // The targets are for the default pack; until it exists, the default-shape pack stands in for it.
  const target = bundled[0] ?? shapePack;
  const out: Record<string, unknown> = { started, machine: machineLine(), loadAtStart: loadAverage(), ortWaits: SPIN_WAIT ? 'spinning' : 'passive', torch, targetPack: target };
  const verdicts: Verdict[] = [];

  const packs: Record<string, PackResult> = {};
  if (run.has('engine')) {
    console.log('\n## Engine vs PyTorch reference, same weights and inputs');
    const sentences = benchSentences();
    for (const dir of packDirs(shapePack)) packs[dir] = await comparePack(dir, sentences, torch);
    // The int8 variant (recipe/lcmref/quantize_pack.py): PyTorch has no int8 twin of it, so it is
    // compared with the engine's own float32 run of the same pack and with that run's PyTorch figures.
    const int8 = shapePack ? await ensureShapePackInt8(shapePack, torch) : null;
    if (int8) packs[int8] = await comparePack(int8, sentences, { ok: false, reason: 'int8 graphs (PyTorch runs the float32 pack above)' });
    out.packs = packs;
    const t = target ? packs[target] : undefined;
    if (t) {
      verdicts.push(verdict('encoder, batch 64', medianRate(t.engine.encoderBatch64), 'sentences/s', '>=', 500));
      const batch1 = Object.entries(t.ratios).filter(([k]) => !k.startsWith('encoder'));
      for (const [name, ratio] of batch1) verdicts.push(verdict(`engine vs PyTorch: ${name.replace(/ \(.*\)$/, '')}`, ratio, '×', '>=', 1.5, torch.ok ? '' : 'PyTorch absent', 2));
      const q = int8 && target === shapePack ? packs[int8] : undefined;
      if (q && t.torch) {
        const rate = (k: 'encoderBatch64' | 'decoderGreedy' | 'decoderBeam') => medianRate(q.engine[k]);
        verdicts.push(verdict('encoder, batch 64 (int8 SONAR)', rate('encoderBatch64'), 'sentences/s', '>=', 500));
        verdicts.push(verdict('int8 engine vs PyTorch fp32: decoder greedy', rate('decoderGreedy') / medianRate(t.torch.decoderGreedy), '×', '>=', 1.5, '', 2));
        verdicts.push(verdict('int8 engine vs PyTorch fp32: decoder beam 5', rate('decoderBeam') / medianRate(t.torch.decoderBeam), '×', '>=', 1.5, '', 2));
        console.log(`int8 vs float32 engine on the same pack: encoder b64 ${(rate('encoderBatch64') / medianRate(t.engine.encoderBatch64)).toFixed(2)}×, greedy ${(rate('decoderGreedy') / medianRate(t.engine.decoderGreedy)).toFixed(2)}×, beam ${(rate('decoderBeam') / medianRate(t.engine.decoderBeam)).toFixed(2)}×`);
      }
    }
  }

  if (run.has('waits') && target) {
    console.log('\n## onnxruntime thread waits: passive (the engine) vs spinning (onnxruntime\'s default), alternated call by call');
    const w: WaitsFigures = await benchWaits(target);
    console.log(table([
      ['median ms per call', 'passive', 'spinning', 'spinning / passive'],
      ...Object.entries(w.ms).map(([name, m]) => [name, fmt(m.passive, 1), fmt(m.spinning, 1), `${(m.spinning / m.passive).toFixed(2)}×`]),
    ]));
    console.log(`(${w.pack}, ${THREADS} threads, ${w.repeats} calls each after a warm-up; > 1×: passive waits are faster; load ${loadAverage()})`);
    out.waits = w;
  }

  let expand: ExpandFigures | null = null;
  if (run.has('expand') && target) {
    console.log('\n## Expand → first concept (ConceptEngine.expand, warm engine)');
    const tokens = (packs[target]?.engine.tokensPerSentence ?? 24) - 1; // pieces + </s>, no tag
    expand = await benchExpand(target, 'The lighthouse keeper wrote that the storm had passed by midnight.', tokens);
    console.log(table([
      ['pack', 'first Expand (cold)', 'Expand → first concept', 'encode concept + marker', 'LCM: 1 concept', `decode (beam 5, ${expand.decodeTokens} tokens)`],
      [expand.pack, `${fmt(expand.coldMs)} ms`, `${fmt(expand.firstMs)} ms`, `${fmt(expand.encodeMs, 1)} ms`, `${fmt(expand.diffusionMs, 1)} ms`, `${fmt(expand.decodeMs, 1)} ms`],
    ]));
    out.expand = expand;
    verdicts.push(verdict('Expand → first concept', expand.firstMs, 'ms', '<=', 300, `decode capped at ${expand.decodeTokens} tokens (so a pack with random weights, which never emits </s>, is timed alike)`));
  }

  let scaling: ScalingResult[] | null = null;
  if (run.has('scaling') && target) {
    scaling = await runScaling(target, torch);
    out.scaling = scaling;
  }

  let app: AppMemory | null = null;
  if (run.has('app') && target) {
    console.log('\n## Resident memory with a 5,000-concept document open (web host + engine worker, Chromium)');
    const skip = appMemorySkipReason();
    if (skip) console.log(`skipped: ${skip}`);
    else {
      try {
        app = await measureAppMemory(target);
        console.log(table([
          ['host (lcm serve + engine worker) peak RSS', 'Chromium peak PSS (RSS sum)', 'total'],
          [`${fmt(app.hostHwmMiB)} MiB`, `${fmt(app.browserPssMiB)} MiB (${fmt(app.browserRssMiB)} MiB, ${app.browserProcesses} processes)`, `${fmt(app.totalMiB)} MiB`],
        ]));
        out.app = app;
        verdicts.push(verdict('resident memory, app open on 5,000 concepts', app.totalMiB, 'MiB', '<=', 954, '1 GB = 954 MiB; host VmHWM + Chromium PSS'));
        const ui = app.editor?.expandLargeMs as number[] | undefined;
        if (ui) console.log(`Expand → first concept in the editor (pack's own decode limit, ${(app.editor?.concepts as number) ?? 5000}-concept document): ${ui.join(', ')} ms`);
      } catch (error) {
        console.log(`FAILED: ${(error as Error).message}`);
      }
    }
  }

  if (verdicts.length) {
    console.log(`\n## Targets (${target?.replace(ROOT, '') ?? 'no pack'}; load average now ${loadAverage()})`);
    console.log(table([['figure', 'measured', 'target', 'verdict', 'note'], ...verdicts.map((v) => [v.name, v.value, v.target, verdictLabel(v), v.note])]));
    out.verdicts = verdicts;
  }
  out.loadAtEnd = loadAverage();
  mkdirSync(join(ROOT, '.bench'), { recursive: true });
  const file = `.bench/bench${WAITS_SUFFIX}.json`;
  writeFileSync(join(ROOT, file), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nfigures: ${file}`);

  if (run.has('store')) await (await import('./store.ts')).runStoreBench();
}

await main();
