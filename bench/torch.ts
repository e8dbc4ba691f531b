/**
 * The PyTorch side of the benchmark: runs recipe/bench/torch_bench.py with
 * /usr/bin/python3 as a child process (one JSON request on stdin, one JSON reply
 * on stdout), and builds the default-shape pack with recipe/bench/make_shape_pack.py.
 * Where torch cannot be imported (CI machines), `probeTorch` says why and the
 * benchmark runs the engine alone.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sample } from './measure.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The Python with torch 1.13 (Debian's); PYTHON overrides it. */
export const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
/** Packs with the default pack's shapes and random weights (git-ignored). */
export const SHAPE_PACK = join(ROOT, '.bench/packs/default-shape');
/** The same pack with int8 SONAR graphs (recipe/lcmref/quantize_pack.py); not in .bench/packs, which PyTorch also reads. */
export const SHAPE_PACK_INT8 = join(ROOT, '.bench/packs-int8/default-shape-int8');

export type TorchStatus = { ok: true; version: string } | { ok: false; reason: string };

export interface TorchCompareReply {
  torch: string;
  threads: number;
  maxRssKiB: number;
  loadSeconds: number;
  encoderBatch1: Sample[];
  encoderBatch64: Sample[];
  encoderVectors: number[][];
  decoderGreedy: Sample[];
  greedyTokens: number[][];
  decoderBeam: Sample[];
  beamTokens: number[][];
  lcm: Sample[];
  lcmVectors: number[][];
}

export interface ScalingPoint {
  size: number;
  concepts: number;
  /** Median of timesMs. */
  msPerConcept: number;
  timesMs: number[];
  prefillMs: number;
  maxRssKiB: number;
}

export interface TorchScalingReply {
  variant: string;
  points: ScalingPoint[];
  maxRssKiB: number;
}

/** Runs `python script` with `input` on stdin; resolves with stdout, rejects with stderr's tail. Stderr lines are echoed when `echo`. */
export function runPython(script: string, args: readonly string[], input: string, echo = true): Promise<string> {
  return new Promise((resolve, reject) => {
    // Passive OpenMP waits: on 2 cores shared with other work, spinning OpenMP threads make torch
    // 5–20× slower (measured here); recipe/run.py sets the same for training.
    const child = spawn(PYTHON, [join(ROOT, script), ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (echo) process.stderr.write(d);
    });
    child.on('error', (e) => reject(new Error(`Could not start ${PYTHON} ${script}: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(Object.assign(new Error(`${PYTHON} ${script} exited with status ${code}: ${err.trim().split('\n').slice(-6).join('\n')}`), { code }));
    });
    child.stdin.end(input);
  });
}

async function request<T>(body: Record<string, unknown>): Promise<T> {
  const out = await runPython('recipe/bench/torch_bench.py', [], JSON.stringify(body));
  return JSON.parse(out) as T;
}

/** Whether /usr/bin/python3 can import torch, and its version. */
export async function probeTorch(): Promise<TorchStatus> {
  try {
    const r = await request<{ torch: string }>({ mode: 'probe' });
    return { ok: true, version: r.torch };
  } catch (error) {
    return { ok: false, reason: (error as Error).message.split('\n').slice(-1)[0] ?? String(error) };
  }
}

export interface CompareRequest {
  pack: string;
  threads: number;
  repeats: number;
  encoder: { texts: string[]; lang: string; batch1Sentences: number; batch64Sentences: number; parityCount: number };
  decoder: { vectors: number[][]; prompt: number[]; eos: number; maxLength: number; banned: number[]; beamSize: number; lengthPenalty: number };
  lcm: { context: number[][]; concepts: number; seed: number };
}

export const torchCompare = (r: CompareRequest): Promise<TorchCompareReply> => request({ mode: 'compare', ...r });

export const torchScaling = (r: { pack: string; threads: number; variant: 'cached' | 'reference'; sizes: number[]; concepts: number[]; seed: number }): Promise<TorchScalingReply> =>
  request({ mode: 'scaling', ...r });

/**
 * Builds .bench/packs/default-shape when it is missing (about 40 s). Returns the folder, or null with the
 * reason printed when it cannot be built (no torch).
 */
export async function ensureShapePack(torch: TorchStatus): Promise<string | null> {
  if (existsSync(join(SHAPE_PACK, 'manifest.json'))) return SHAPE_PACK;
  if (!torch.ok) {
    console.log(`The default-shape pack (${SHAPE_PACK}) is missing and cannot be built without PyTorch (${torch.reason}); skipping it.`);
    return null;
  }
  console.log('Building the default-shape pack (random weights, the default pack\'s shapes) with recipe/bench/make_shape_pack.py …');
  await runPython('recipe/bench/make_shape_pack.py', [], '');
  return SHAPE_PACK;
}

/** The int8 variant of the default-shape pack, built from it when missing (needs Python's onnx, not torch). */
export async function ensureShapePackInt8(shapePack: string | null, torch: TorchStatus): Promise<string | null> {
  if (existsSync(join(SHAPE_PACK_INT8, 'manifest.json'))) return SHAPE_PACK_INT8;
  if (!shapePack || !torch.ok) return null;
  console.log('Quantizing the default-shape pack\'s SONAR graphs to int8 with recipe/lcmref/quantize_pack.py …');
  await runPython('recipe/lcmref/quantize_pack.py', [shapePack, SHAPE_PACK_INT8, '--name', 'bench-gpu-shape-int8'], '');
  return SHAPE_PACK_INT8;
}
