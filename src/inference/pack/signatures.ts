/**
 * What each ONNX graph of a pack must look like (docs/model-pack.md), derived
 * from the manifest. The loader compares these with the graph's declared
 * inputs and outputs when it opens a graph.
 */
import type { TensorInfo } from '../backend/ort.ts';
import type { PackManifest } from './types.ts';

/** Expected tensor: name, element type, and per-dimension size (a number) or null for dynamic. */
export interface ExpectedTensor {
  name: string;
  type: 'float32' | 'int64';
  dims: (number | null)[];
}

export interface GraphSignature {
  inputs: ExpectedTensor[];
  outputs: ExpectedTensor[];
}

export type GraphRole = 'encoder' | 'decoder' | 'contextualizer' | 'denoiserContext' | 'denoiser';

const kv = (prefix: string, layers: number, heads: number, headDim: number, batch: number | null = null): ExpectedTensor[] =>
  Array.from({ length: layers }, (_, i) => [
    { name: `${prefix}_key.${i}`, type: 'float32' as const, dims: [batch, heads, null, headDim] },
    { name: `${prefix}_value.${i}`, type: 'float32' as const, dims: [batch, heads, null, headDim] },
  ]).flat();

/**
 * The graphs a pack of this architecture has, in the order `lcm packs` opens them
 * (docs/model-pack.md, docs/variants.md). Base-LCM: one LCM graph; One-Tower: two
 * (context rows, noisy rows); Two-Tower and Quant-LCM: three (context rows, the
 * second tower's cross keys/values, the denoiser or unit head).
 */
export function graphRoles(m: PackManifest): GraphRole[] {
  switch (m.lcm.architecture) {
    case 'base-mse': return ['encoder', 'decoder', 'contextualizer'];
    case 'one-tower-diffusion': return ['encoder', 'decoder', 'contextualizer', 'denoiser'];
    case 'two-tower-diffusion':
    case 'quant-discrete':
    case 'quant-continuous': return ['encoder', 'decoder', 'contextualizer', 'denoiserContext', 'denoiser'];
  }
}

export function expectedSignature(m: PackManifest, role: GraphRole): GraphSignature {
  const E = m.embeddingDim;
  const V = m.tokenizer.vocabSize;
  const lcm = m.lcm;
  if ((role === 'contextualizer' || role === 'denoiserContext' || role === 'denoiser') && !graphRoles(m).includes(role)) {
    throw new Error(`a ${lcm.architecture} pack has no ${role} graph (its graphs: ${graphRoles(m).join(', ')}; docs/variants.md)`);
  }
  switch (role) {
    case 'encoder':
      return {
        inputs: [{ name: 'input_ids', type: 'int64', dims: [null, null] }, { name: 'attention_mask', type: 'int64', dims: [null, null] }],
        outputs: [{ name: 'sentence_embedding', type: 'float32', dims: [null, E] }],
      };
    case 'decoder': {
      const d = m.sonar.decoder;
      const dh = d.modelDim / d.heads;
      return {
        inputs: [{ name: 'input_ids', type: 'int64', dims: [null, null] }, { name: 'sentence_embedding', type: 'float32', dims: [null, E] }, ...kv('past', d.layers, d.heads, dh)],
        outputs: [{ name: 'logits', type: 'float32', dims: [null, null, V] }, ...kv('present', d.layers, d.heads, dh)],
      };
    }
    case 'contextualizer': {
      const c = lcm.contextualizer;
      const dh = c.modelDim / c.heads;
      const inputs: ExpectedTensor[] = [{ name: 'embeddings', type: 'float32', dims: [null, null, E] }, ...kv('past', c.layers, c.heads, dh)];
      const present = kv('present', c.layers, c.heads, dh);
      switch (lcm.architecture) {
        // Base-LCM: PreNet, causal layers, PostNet; row j predicts the concept after it (normalized space).
        case 'base-mse': return { inputs, outputs: [{ name: 'prediction', type: 'float32', dims: [null, null, E] }, ...present] };
        // One-Tower: clean rows give only their keys/values; their outputs are never read.
        case 'one-tower-diffusion': return { inputs, outputs: present };
        // Two-Tower and Quant-LCM: the rows' outputs are the memory of the second tower.
        case 'two-tower-diffusion':
        case 'quant-discrete':
        case 'quant-continuous': return { inputs, outputs: [{ name: 'hidden', type: 'float32', dims: [null, null, c.modelDim] }, ...present] };
      }
      break;
    }
    case 'denoiserContext': {
      if (lcm.architecture !== 'two-tower-diffusion' && lcm.architecture !== 'quant-discrete' && lcm.architecture !== 'quant-continuous') break; // refused above
      const d = lcm.denoiser;
      const dh = d.modelDim / d.heads;
      return {
        inputs: [{ name: 'context', type: 'float32', dims: [1, null, d.modelDim] }],
        outputs: kv('cross', d.layers, d.heads, dh, 1),
      };
    }
    case 'denoiser': {
      if (lcm.architecture === 'base-mse') break; // refused above
      const d = lcm.denoiser;
      const dh = d.modelDim / d.heads;
      if (lcm.architecture === 'quant-discrete' || lcm.architecture === 'quant-continuous') {
        // Quant head: partial centroid sums at a codebook level, attending to the cross keys/values of [zero row; context rows].
        const out: ExpectedTensor = lcm.architecture === 'quant-discrete'
          ? { name: 'logits', type: 'float32', dims: [null, lcm.codebooks.size] }
          : { name: 'residual', type: 'float32', dims: [null, E] };
        return {
          inputs: [
            { name: 'partial', type: 'float32', dims: [null, E] },
            { name: 'level', type: 'int64', dims: [null] },
            ...kv('cross', d.layers, d.heads, dh, 1),
          ],
          outputs: [out],
        };
      }
      if (lcm.architecture === 'one-tower-diffusion') {
        return {
          inputs: [
            { name: 'noisy', type: 'float32', dims: [null, E] },
            { name: 'timesteps', type: 'int64', dims: [null] },
            ...kv('context', d.layers, d.heads, dh, 1),
            { name: 'context_mask', type: 'float32', dims: [null, null] },
          ],
          outputs: [{ name: 'x0', type: 'float32', dims: [null, E] }],
        };
      }
      return {
        inputs: [
          { name: 'noisy', type: 'float32', dims: [null, E] },
          { name: 'timesteps', type: 'int64', dims: [null] },
          ...kv('cross', d.layers, d.heads, dh, 1),
          { name: 'cross_mask', type: 'float32', dims: [null, null] },
        ],
        outputs: [{ name: 'x0', type: 'float32', dims: [null, E] }],
      };
    }
  }
  throw new Error(`unknown graph role ${String(role)}`);
}

/**
 * Differences between a graph's declared tensors and the expected ones.
 * Symbolic dimensions in the graph match anything; a fixed dimension must
 * equal the expected size where one is expected.
 */
export function compareSignature(expected: GraphSignature, inputs: readonly TensorInfo[], outputs: readonly TensorInfo[]): string[] {
  const problems: string[] = [];
  const check = (kind: 'input' | 'output', want: ExpectedTensor[], have: readonly TensorInfo[]) => {
    for (const w of want) {
      const h = have.find((t) => t.name === w.name);
      if (!h) {
        problems.push(`${kind} \`${w.name}\` is missing (the graph has ${have.map((t) => t.name).join(', ') || 'none'})`);
        continue;
      }
      if (h.type !== w.type) problems.push(`${kind} \`${w.name}\` is ${h.type}, expected ${w.type}`);
      if (h.shape.length !== w.dims.length) {
        problems.push(`${kind} \`${w.name}\` has rank ${h.shape.length} [${h.shape.join(',')}], expected rank ${w.dims.length}`);
        continue;
      }
      w.dims.forEach((d, k) => {
        const got = h.shape[k];
        if (typeof got === 'number' && got >= 0) {
          // A fixed size on an input where the format wants a dynamic one (batch, length) would break batching or caching.
          if (d === null) {
            if (kind === 'input') problems.push(`input \`${w.name}\` fixes dimension ${k} to ${got}; it must be dynamic`);
          } else if (got !== d) problems.push(`${kind} \`${w.name}\` dimension ${k} is ${got}, expected ${d}`);
        }
      });
    }
    if (kind === 'input') for (const h of have) if (!want.some((w) => w.name === h.name)) problems.push(`unexpected input \`${h.name}\``);
  };
  check('input', expected.inputs, inputs);
  check('output', expected.outputs, outputs);
  return problems;
}
