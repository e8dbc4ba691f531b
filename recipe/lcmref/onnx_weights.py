"""Load a model pack's ONNX weights into the lcmref modules, so PyTorch runs the SAME weights as the engine.

A pack holds no PyTorch checkpoint, only the five ONNX graphs that
``export_pack.py`` wrote. Their initializers carry the module's parameter
names (``encoder.encoder.layers.0.ffn_layer_norm.weight``: the graph wrapper's
attribute, then the lcmref name), except where the exporter rewrote a weight:
an ``nn.Linear`` applied to a 3-D input becomes ``MatMul(x, Wᵀ) + b`` and the
constant-folded Wᵀ gets an anonymous name (``onnx::MatMul_266``). Such a
weight is found through the graph: the MatMul that consumes it feeds an Add
whose other input is the named bias ``<linear>.bias``, so the initializer is
``<linear>.weight`` transposed. ``Gemm`` nodes (2-D inputs) keep W as is, or
transposed when ``transB`` is 0.

Every parameter of every module must be found exactly once (a parameter seen
in two graphs must hold the same values), otherwise ``load_pack_modules``
raises and says which names are missing or unexplained: a silent partial
load would benchmark a different model.

Check on the fixture pack (its reference outputs were made by the modules
that wrote it, so the loaded modules must reproduce them to float rounding):

    /usr/bin/python3 recipe/lcmref/onnx_weights.py --check test/fixtures/packs/tiny test/fixtures/reference/tiny
"""
import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from torch import nn

if __package__ in (None, ""):  # run as a script: put recipe/ on sys.path so `import lcmref` works
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lcmref.sonar import SonarConfig, SonarDecoder, SonarEncoder  # noqa: E402
from lcmref.tokenizer import PackTokenizer, TokenizerIds  # noqa: E402
from lcmref.two_tower import LcmConfig, SonarNormalizer, TwoTowerLCM  # noqa: E402

# Graph file role → (the module it holds, the attribute name its wrapper in export_pack.py gives that module).
GRAPH_PREFIXES = {
    "encoder": "encoder.",
    "decoder": "decoder.",
    "contextualizer": "model.",
    "denoiser_context": "model.",
    "denoiser": "model.",
}


@dataclass
class PackModules:
    """The lcmref modules of one pack, with its manifest and tokenizer."""

    manifest: Dict[str, Any]
    encoder: SonarEncoder
    decoder: SonarDecoder
    lcm: TwoTowerLCM
    normalizer: SonarNormalizer
    tokenizer: PackTokenizer


def graph_weights(path: str, prefix: str) -> Dict[str, np.ndarray]:
    """Parameter name (prefix removed) → float32 array, for every weight initializer of one graph.

    Raises ValueError for an anonymous initializer that is not the weight of a biased linear
    (the exporter did something this loader does not know: fix the loader, do not guess).
    """
    model = onnx.load(path)  # external data (<graph>.onnx.data) is read from the same folder
    dequantize_int8(model)
    g = model.graph
    # torch.onnx stores equal constants once and names the others through Identity nodes (the attention k_proj
    # biases, which get no gradient, all stay zero): give each alias its own initializer again
    named = {t.name: t for t in g.initializer}
    for node in g.node:
        if node.op_type == "Identity" and node.input[0] in named and node.output[0].startswith(prefix) \
                and node.output[0] not in named:
            alias = onnx.TensorProto()
            alias.CopyFrom(named[node.input[0]])
            alias.name = node.output[0]
            g.initializer.append(alias)
    inits = {t.name: t for t in g.initializer}
    consumers: Dict[str, List[Tuple[onnx.NodeProto, int]]] = {}
    for node in g.node:
        for i, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node, i))
    out: Dict[str, np.ndarray] = {}
    for name, tensor in inits.items():
        if tensor.data_type != onnx.TensorProto.FLOAT:
            continue  # int64 shape constants and the like
        arr = numpy_helper.to_array(tensor)
        if name.startswith(prefix):
            out[name[len(prefix):]] = arr
            continue
        param = _anonymous_weight(name, consumers, inits, prefix)
        if param is None:
            raise ValueError(f"{os.path.basename(path)}: initializer {name} {list(arr.shape)} is neither named after a "
                             "parameter nor the weight of a biased Linear; the loader does not know this export")
        key, transpose = param
        out[key] = arr.T.copy() if transpose else arr
    return out


def dequantize_int8(model: onnx.ModelProto) -> int:
    """Undoes recipe/lcmref/quantize_pack.py in place, for loading weights: every
    ``DynamicQuantizeMatMul(x, W.int8, W.scale, W.zero)`` becomes ``MatMul(x, W)`` with the float32
    initializer ``W = (int8 − zero) · scale`` under its original name, so an int8 pack loads into the
    PyTorch modules with the weights the engine multiplies by (the quantization error included; the
    activations are not quantized here). The tied projection's ``<E>.T`` copy is left out when ``E``
    itself is still in the graph (the embedding's Gather): the modules tie to ``E``. Returns the number of
    weight matrices restored."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    restored: Dict[str, onnx.TensorProto] = {}
    nodes: List[onnx.NodeProto] = []
    for n in g.node:
        if n.op_type != "DynamicQuantizeMatMul":
            nodes.append(n)
            continue
        q_name, s_name, z_name = n.input[1], n.input[2], n.input[3]
        if not (q_name.endswith(".int8") and q_name in inits and s_name in inits and z_name in inits):
            raise ValueError(f"{n.name}: a DynamicQuantizeMatMul whose weights are not quantize_pack.py's; "
                             "the loader does not know this export")
        name = q_name[: -len(".int8")]
        if name not in restored:
            q = numpy_helper.to_array(inits[q_name]).astype(np.float32)
            w = (q - numpy_helper.to_array(inits[z_name]).astype(np.float32)) * numpy_helper.to_array(inits[s_name])
            restored[name] = numpy_helper.from_array(w.astype(np.float32), name)
        nodes.append(helper.make_node("MatMul", [n.input[0], name], list(n.output), name=n.name))
    if not restored:
        return 0
    del g.node[:]
    g.node.extend(nodes)
    kept = [t for t in g.initializer if not t.name.endswith((".int8", ".scale", ".zero"))
            or t.name.rsplit(".", 1)[0] not in restored]
    # the tied projection's copy: the embedding it was made from is loaded under its own name (this graph is
    # only read for its weights, never run, so the MatMul may name an initializer that is not there)
    tied = [k for k in restored if k.endswith(".T") and k[:-2] in inits]
    del g.initializer[:]
    g.initializer.extend(kept + [t for k, t in restored.items() if k not in tied])
    return len(restored)


def _anonymous_weight(name: str, consumers: Dict[str, List[Tuple[onnx.NodeProto, int]]],
                      inits: Dict[str, onnx.TensorProto], prefix: str) -> Optional[Tuple[str, bool]]:
    """(parameter name, stored transposed?) of an anonymous Linear weight, or None."""
    uses = consumers.get(name, [])
    if len(uses) != 1:
        return None
    node, index = uses[0]
    if node.op_type == "Gemm" and index == 1 and len(node.input) > 2 and node.input[2].startswith(prefix):
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        return node.input[2][len(prefix):-len(".bias")] + ".weight", trans_b == 0
    if node.op_type != "MatMul" or index != 1:
        return None
    adds = [n for n, _ in consumers.get(node.output[0], []) if n.op_type == "Add"]
    for add in adds:
        for other in add.input:
            if other != node.output[0] and other in inits and other.startswith(prefix) and other.endswith(".bias"):
                return other[len(prefix):-len(".bias")] + ".weight", True
    return None


def load_into(module: nn.Module, weights: Dict[str, np.ndarray], what: str) -> None:
    """Copy ``weights`` into every parameter of ``module``; raise if one is missing, extra or mis-shaped."""
    params = dict(module.named_parameters())  # tied parameters appear once (decoder final_proj ≡ embed)
    missing = sorted(set(params) - set(weights))
    extra = sorted(set(weights) - set(params))
    if missing or extra:
        raise ValueError(f"{what}: ONNX weights do not match the module: missing {missing[:8]}"
                         f"{' …' if len(missing) > 8 else ''}, unexplained {extra[:8]}{' …' if len(extra) > 8 else ''}")
    with torch.no_grad():
        for key, p in params.items():
            w = torch.tensor(np.asarray(weights[key], dtype=np.float32))  # a copy: onnx arrays are read-only
            if tuple(w.shape) != tuple(p.shape):
                raise ValueError(f"{what}: {key} has shape {list(w.shape)} in the graph, {list(p.shape)} in the module")
            p.copy_(w)


def _merge(parts: List[Dict[str, np.ndarray]], what: str) -> Dict[str, np.ndarray]:
    merged: Dict[str, np.ndarray] = {}
    for part in parts:
        for k, v in part.items():
            if k in merged and not np.array_equal(merged[k], v):
                raise ValueError(f"{what}: {k} differs between two graphs of the pack")
            merged[k] = v
    return merged


def configs(manifest: Dict[str, Any]) -> Tuple[SonarConfig, SonarConfig, LcmConfig]:
    """Module shapes from the manifest (the LCM towers must share width, heads and FFN, as lcmref builds them)."""
    vocab = manifest["tokenizer"]["vocabSize"]
    e, d = manifest["sonar"]["encoder"], manifest["sonar"]["decoder"]
    enc = SonarConfig(vocab, e["modelDim"], e["layers"], e["heads"], e["ffnDim"], e["maxPositions"])
    dec = SonarConfig(vocab, d["modelDim"], d["layers"], d["heads"], d["ffnDim"], d["maxPositions"])
    c, n = manifest["lcm"]["contextualizer"], manifest["lcm"]["denoiser"]
    for key in ("modelDim", "heads", "ffnDim"):
        if c[key] != n[key]:
            raise ValueError(f"lcmref builds both LCM towers with one {key}; this pack has {c[key]} and {n[key]}")
    lcm = LcmConfig(embedding_dim=manifest["embeddingDim"], model_dim=c["modelDim"], heads=c["heads"],
                    context_layers=c["layers"], denoiser_layers=n["layers"], ffn_dim=c["ffnDim"],
                    max_context=c["maxContext"], rope_theta=float(c["ropeTheta"]), timestep_dim=n["timestepDim"])
    return enc, dec, lcm


def load_pack_modules(pack_dir: str) -> PackModules:
    """Build the lcmref modules of a pack folder with its ONNX weights (eval mode)."""
    with open(os.path.join(pack_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    enc_cfg, dec_cfg, lcm_cfg = configs(manifest)
    files = {
        "encoder": manifest["sonar"]["encoder"]["file"], "decoder": manifest["sonar"]["decoder"]["file"],
        "contextualizer": manifest["lcm"]["contextualizer"]["file"],
        "denoiser_context": manifest["lcm"]["denoiser"]["contextFile"], "denoiser": manifest["lcm"]["denoiser"]["file"],
    }
    w = {role: graph_weights(os.path.join(pack_dir, f), GRAPH_PREFIXES[role]) for role, f in files.items()}
    encoder, decoder, lcm = SonarEncoder(enc_cfg), SonarDecoder(dec_cfg), TwoTowerLCM(lcm_cfg)
    load_into(encoder, w["encoder"], f"{manifest['name']}/{files['encoder']}")
    load_into(decoder, w["decoder"], f"{manifest['name']}/{files['decoder']}")
    load_into(lcm, _merge([w["contextualizer"], w["denoiser_context"], w["denoiser"]], f"{manifest['name']} LCM"),
              f"{manifest['name']} LCM graphs")
    with open(os.path.join(pack_dir, manifest["lcm"]["normalizer"]["file"]), encoding="utf-8") as f:
        norm = json.load(f)
    normalizer = SonarNormalizer(torch.tensor(norm["center"]), torch.tensor(norm["scale"]))
    t = manifest["tokenizer"]
    tokenizer = PackTokenizer(os.path.join(pack_dir, t["file"]), TokenizerIds(**t["ids"]), t["languageTokens"], t["vocabSize"])
    for m in (encoder, decoder, lcm):
        m.eval()
    return PackModules(manifest, encoder, decoder, lcm, normalizer, tokenizer)


def check_against_references(pack_dir: str, ref_dir: str) -> Dict[str, float]:
    """Max |Δ| between the loaded modules and the reference outputs in ``ref_dir`` (make_tiny_pack.py's JSON)."""
    m = load_pack_modules(pack_dir)

    def ref(name: str) -> Dict[str, Any]:
        with open(os.path.join(ref_dir, name), encoding="utf-8") as f:
            return json.load(f)

    out: Dict[str, float] = {}
    with torch.no_grad():
        e = ref("encoder.json")
        emb = m.encoder(torch.tensor(e["inputIds"]), torch.tensor(e["attentionMask"]))
        out["encoder sentence_embedding"] = float((emb - torch.tensor(e["sentenceEmbedding"])).abs().max())
        d = ref("decoder.json")
        logits = m.decoder(torch.tensor(d["inputIds"]), torch.tensor(d["sentenceEmbedding"]))
        out["decoder logits"] = float((logits[:, :, d["logitColumns"]] - torch.tensor(d["logits"])).abs().max())
        c = ref("contextualizer.json")
        hidden = m.lcm.contextualize(torch.tensor(c["embeddings"]).unsqueeze(0), *m.lcm.empty_cache(1))[0]
        out["contextualizer hidden"] = float((hidden[0] - torch.tensor(c["hidden"])).abs().max())
        n = ref("denoiser.json")
        ck, cv = m.lcm.denoiser.cross_kv(torch.tensor(n["context"]).unsqueeze(0))
        x0 = m.lcm.denoiser.denoise(torch.tensor(n["noisy"]), torch.tensor(n["timesteps"]), ck, cv, torch.tensor(n["crossMask"]))
        out["denoiser x0"] = float((x0 - torch.tensor(n["x0"])).abs().max())
    return out


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", nargs=2, metavar=("PACK_DIR", "REFERENCE_DIR"), required=True,
                    help="load the pack and compare with the reference outputs; fails above 1e-5")
    args = ap.parse_args(argv)
    diffs = check_against_references(*args.check)
    for k, v in diffs.items():
        print(f"{k}: max |Δ| {v:.3g}")
    bad = [k for k, v in diffs.items() if not v <= 1e-5]
    print("ok" if not bad else f"FAILED (above 1e-5): {', '.join(bad)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
