/**
 * Opens a model pack folder: reads and validates manifest.json, checks every
 * listed file (present, size, SHA-256), loads the tokenizer and normalizer,
 * and opens ONNX graphs on first use, checking each against the signature
 * the format requires. Every failure is a PackError naming the pack, the file
 * and the problem.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Graph, type ProviderName } from '../backend/ort.ts';
import { PackError } from '../errors.ts';
import { Normalizer } from '../lcm/normalizer.ts';
import { ConceptTokenizer } from '../text/tokenizer.ts';
import { compareSignature, expectedSignature, graphRoles, type GraphRole } from './signatures.ts';
import { readManifestFile, verifyPackFiles } from './files.ts';
import type { PackManifest } from './types.ts';

export interface OpenPackOptions {
  /** Execution provider to try first for every graph; CPU is the fallback. */
  provider?: ProviderName;
  /** Intra-op threads per graph. */
  threads?: number;
  /** onnxruntime threads spin while waiting (default false: passive; see GraphOptions.spinWait). */
  spinWait?: boolean;
  /**
   * Check SHA-256 of every file (default true). Hashing runs at ~1 GB/s, so a
   * real-size pack (≈6 GB) costs seconds; `false` still checks sizes.
   */
  verifyHashes?: boolean;
}

export interface GraphReport {
  role: GraphRole;
  file: string;
  provider: ProviderName;
  fallbackReason?: string;
}

export class ModelPack {
  private readonly graphs = new Map<GraphRole, Promise<Graph>>();

  private constructor(
    readonly dir: string,
    readonly manifest: PackManifest,
    readonly tokenizer: ConceptTokenizer,
    readonly normalizer: Normalizer,
    private readonly options: OpenPackOptions,
  ) {}

  get name(): string {
    return this.manifest.name;
  }

  /** Codes of the languages this pack claims to support. */
  get languageCodes(): string[] {
    return this.manifest.languages.map((l) => l.code);
  }

  static async open(dir: string, options: OpenPackOptions = {}): Promise<ModelPack> {
    const folder = resolve(dir);
    const manifest = await readManifestFile(folder);
    await verifyPackFiles(folder, manifest, { hashes: options.verifyHashes ?? true });

    let tokenizer: ConceptTokenizer;
    try {
      tokenizer = await ConceptTokenizer.load(join(folder, manifest.tokenizer.file), manifest.tokenizer);
    } catch (error) {
      throw new PackError('PACK_INVALID', manifest.name, manifest.tokenizer.file, (error as Error).message, { cause: error });
    }
    let normalizer: Normalizer;
    try {
      normalizer = Normalizer.fromJson(JSON.parse(await readFile(join(folder, manifest.lcm.normalizer.file), 'utf8')), manifest.embeddingDim);
    } catch (error) {
      throw new PackError('PACK_INVALID', manifest.name, manifest.lcm.normalizer.file, (error as Error).message, { cause: error });
    }
    return new ModelPack(folder, manifest, tokenizer, normalizer, options);
  }

  /** File name of a graph role, from the manifest. */
  graphFile(role: GraphRole): string {
    const m = this.manifest;
    switch (role) {
      case 'encoder': return m.sonar.encoder.file;
      case 'decoder': return m.sonar.decoder.file;
      case 'contextualizer': return m.lcm.contextualizer.file;
      case 'denoiserContext':
        if (m.lcm.architecture === 'two-tower-diffusion' || m.lcm.architecture === 'quant-discrete' || m.lcm.architecture === 'quant-continuous') return m.lcm.denoiser.contextFile;
        break;
      case 'denoiser':
        if (m.lcm.architecture !== 'base-mse') return m.lcm.denoiser.file;
        break;
    }
    throw new PackError('PACK_INVALID', this.name, undefined, `a ${m.lcm.architecture} pack has no ${role} graph (its graphs: ${graphRoles(m).join(', ')}; docs/variants.md)`);
  }

  /** The graph for `role`, opened (and signature-checked) on first use. */
  graph(role: GraphRole): Promise<Graph> {
    let pending = this.graphs.get(role);
    if (!pending) {
      pending = this.openGraph(role);
      this.graphs.set(role, pending);
      pending.catch(() => this.graphs.delete(role));
    }
    return pending;
  }

  private async openGraph(role: GraphRole): Promise<Graph> {
    const file = this.graphFile(role);
    let graph: Graph;
    try {
      graph = await Graph.open(join(this.dir, file), `${this.name}/${file}`, { provider: this.options.provider, threads: this.options.threads, spinWait: this.options.spinWait });
    } catch (error) {
      throw new PackError('PACK_INVALID', this.name, file, (error as Error).message, { cause: error });
    }
    const problems = compareSignature(expectedSignature(this.manifest, role), graph.inputs, graph.outputs);
    if (problems.length) {
      await graph.release();
      throw new PackError('PACK_INVALID', this.name, file, `the graph does not match the ${role} signature of pack format 1 (docs/model-pack.md): ${problems.join('; ')}`);
    }
    return graph;
  }

  /** Opens every graph: what `lcm packs` runs to validate a pack completely. */
  async openAll(): Promise<GraphReport[]> {
    const roles = graphRoles(this.manifest);
    const reports: GraphReport[] = [];
    for (const role of roles) {
      const g = await this.graph(role);
      reports.push({ role, file: this.graphFile(role), provider: g.provider, ...(g.fallbackReason ? { fallbackReason: g.fallbackReason } : {}) });
    }
    return reports;
  }

  /** Graphs opened so far and the provider each runs on. */
  async openedGraphs(): Promise<GraphReport[]> {
    const out: GraphReport[] = [];
    for (const [role, pending] of this.graphs) {
      const g = await pending.catch(() => undefined);
      if (g) out.push({ role, file: this.graphFile(role), provider: g.provider, ...(g.fallbackReason ? { fallbackReason: g.fallbackReason } : {}) });
    }
    return out;
  }

  async close(): Promise<void> {
    const pending = [...this.graphs.values()];
    this.graphs.clear();
    for (const p of pending) {
      const g = await p.catch(() => undefined);
      await g?.release();
    }
  }
}
