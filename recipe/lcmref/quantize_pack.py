"""int8 weights for a pack's graphs: dynamic quantization of the weight matrix products.

    /usr/bin/python3 -m recipe.lcmref.quantize_pack SRC_PACK OUT_PACK [--graphs encoder,decoder] [--name NAME]

Every ``MatMul`` whose weight is a 2-D initializer becomes onnxruntime's
``com.microsoft.DynamicQuantizeMatMul``: the weight is stored as int8 with one
symmetric scale per output column (scale = max|w| / 127, zero point 0), and the
activations are quantized per call (uint8, per tensor) inside the operator, so
nothing about the inputs changes. The tied output projection of the SONAR
decoder, which the exporter writes as ``Transpose(MatMul(W, Transpose(h)))``,
is recognized and rewritten to ``DynamicQuantizeMatMul(h, int8(Wᵀ))``; the
float32 embedding table stays for the input lookup. Attention's activation ×
activation products, norms and softmax stay float32.

Why: on x86 CPUs with VNNI/AMX onnxruntime's int8 kernels are several times
faster than float32 (docs/benchmarks.md); the cost is a small change of the
outputs, which the caller measures (lcm eval on both packs). The graphs keep
their input and output names and shapes, so the engine runs the quantized pack
with no code change; onnxruntime-web and other runtimes without the
com.microsoft domain cannot.

The output is a new pack folder: the quantized graphs, every other file copied,
and a manifest with new sizes and hashes and ``provenance.quantization``.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np
import onnx
from onnx import NodeProto, helper, numpy_helper

ROLES = {"encoder": ("sonar", "encoder"), "decoder": ("sonar", "decoder"), "contextualizer": ("lcm", "contextualizer"),
         "denoiser": ("lcm", "denoiser")}


def _int8_columns(w: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Symmetric per-column int8 of a [K, N] weight: (int8 [K, N], float32 scale [N])."""
    amax = np.abs(w).max(axis=0)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    return np.clip(np.round(w / scale), -127, 127).astype(np.int8), scale


def quantize_model(model: onnx.ModelProto) -> Tuple[onnx.ModelProto, int]:
    """Rewrites `model` in place; returns it and the number of products quantized."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    consumers: Dict[str, List[NodeProto]] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def is_2d_init(name: str) -> bool:
        return name in inits and len(inits[name].dims) == 2

    def transpose_2d(n: Optional[NodeProto]) -> bool:
        return n is not None and n.op_type == "Transpose" and [list(a.ints) for a in n.attribute if a.name == "perm"] == [[1, 0]]

    added: List[onnx.TensorProto] = []
    made: Dict[str, Tuple[str, str, str]] = {}

    def weights(name: str, w: np.ndarray) -> Tuple[str, str, str]:
        if name not in made:
            q, scale = _int8_columns(w)
            names = (f"{name}.int8", f"{name}.scale", f"{name}.zero")
            added.extend([numpy_helper.from_array(q, names[0]), numpy_helper.from_array(scale, names[1]),
                          numpy_helper.from_array(np.zeros(w.shape[1], np.int8), names[2])])
            made[name] = names
        return made[name]

    drop: set = set()
    replace: Dict[str, NodeProto] = {}
    for n in g.node:
        if n.op_type != "MatMul":
            continue
        a, b = n.input[0], n.input[1]
        if is_2d_init(b):  # x @ W
            q = weights(b, numpy_helper.to_array(inits[b]).astype(np.float32))
            replace[n.name or n.output[0]] = helper.make_node(
                "DynamicQuantizeMatMul", [a, *q], list(n.output), name=f"{n.name}/int8", domain="com.microsoft")
            continue
        # the tied projection: Transpose(W @ Transpose(h)) = h @ Wᵀ
        inner = producer.get(b)
        outer = consumers.get(n.output[0], [])
        if is_2d_init(a) and transpose_2d(inner) and len(outer) == 1 and transpose_2d(outer[0]) \
                and len(consumers.get(inner.output[0], [])) == 1:
            w_t = numpy_helper.to_array(inits[a]).astype(np.float32).T.copy()
            q = weights(f"{a}.T", w_t)
            replace[n.name or n.output[0]] = helper.make_node(
                "DynamicQuantizeMatMul", [inner.input[0], *q], list(outer[0].output), name=f"{n.name}/int8_tied",
                domain="com.microsoft")
            drop.update({id(inner), id(outer[0])})
    nodes = []
    for n in g.node:
        if id(n) in drop:
            continue
        nodes.append(replace.get(n.name or n.output[0], n) if n.op_type == "MatMul" else n)
    del g.node[:]
    g.node.extend(nodes)
    still_used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    kept = [i for i in g.initializer if i.name in still_used]
    del g.initializer[:]
    g.initializer.extend(kept + added)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model, len(replace)


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def quantize_pack(src: str, out: str, graphs: List[str], name: Optional[str] = None) -> Dict[str, int]:
    manifest = json.load(open(os.path.join(src, "manifest.json"), encoding="utf-8"))
    if os.path.exists(out):
        raise SystemExit(f"{out} exists: choose a new folder for the quantized pack")
    tmp = f"{out}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    counts: Dict[str, int] = {}
    targets = {}
    for role in graphs:
        if role not in ROLES:
            raise SystemExit(f"--graphs: unknown graph {role!r} (choose from {', '.join(ROLES)})")
        section, key = ROLES[role]
        spec = manifest.get(section, {}).get(key)
        if not spec:
            raise SystemExit(f"pack {manifest.get('name')} has no {section}.{key} graph")
        targets[spec["file"]] = role
    for entry in manifest["files"]:
        path = entry["path"]
        if path in targets:
            model, n = quantize_model(onnx.load(os.path.join(src, path)))
            if n == 0:
                raise SystemExit(f"{path}: no weight products to quantize")
            if model.ByteSize() > 1_800_000_000:  # protobuf's 2 GB limit: weights go to <graph>.onnx.data
                onnx.save(model, os.path.join(tmp, path), save_as_external_data=True, location=f"{os.path.basename(path)}.data")
            else:
                onnx.save(model, os.path.join(tmp, path))
            counts[targets[path]] = n
        elif path.endswith(".onnx.data") and path[:-5] in targets:
            continue  # written with the quantized graph (or not at all, when it fits inline)
        else:
            os.makedirs(os.path.dirname(os.path.join(tmp, path)) or tmp, exist_ok=True)
            shutil.copyfile(os.path.join(src, path), os.path.join(tmp, path))
    files = []
    for path in sorted(os.listdir(tmp)):
        if path != "manifest.json":
            p = os.path.join(tmp, path)
            files.append({"path": path, "bytes": os.path.getsize(p), "sha256": _sha256(p)})
    manifest["files"] = files
    if name:
        manifest["name"] = name
    manifest.setdefault("provenance", {})["quantization"] = {
        "method": "int8 weights, symmetric per output column; activations quantized per call (DynamicQuantizeMatMul)",
        "graphs": counts, "from": f"{manifest.get('name')} {manifest.get('version')}",
        "command": " ".join([os.path.basename(sys.executable), "-m", "recipe.lcmref.quantize_pack", *sys.argv[1:]]),
    }
    with open(os.path.join(tmp, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.rename(tmp, out)
    return counts


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--graphs", default="encoder,decoder", help="comma-separated: encoder, decoder, contextualizer, denoiser")
    ap.add_argument("--name", help="name of the new pack (default: the source's)")
    args = ap.parse_args(argv)
    counts = quantize_pack(args.src, args.out, [g for g in args.graphs.split(",") if g], args.name)
    print(f"{args.out}: " + ", ".join(f"{g} {n} products" for g, n in counts.items()) + " in int8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
