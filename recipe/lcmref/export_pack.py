"""Write a Concept Studio model pack folder (docs/model-pack.md is the contract).

``export_pack`` exports the five ONNX graphs (opset 17) with the exact input and
output names of docs/model-pack.md, runs ``onnx.checker`` on each, writes
normalizer.json, copies tokenizer.model, writes MODEL_CARD.md and finally
manifest.json with the bytes and SHA-256 of every file.

Graphs (B batch, T new rows, P cached rows, M cross-attention keys):

- encoder.onnx: input_ids, attention_mask int64 [B,T] → sentence_embedding [B,E]
- decoder.onnx: input_ids [B,T], sentence_embedding [B,E], past_key.i/past_value.i [B,H,P,Dh]
  → logits [B,T,V], present_key.i/present_value.i [B,H,P+T,Dh]
- contextualizer.onnx: embeddings [B,T,E], past_key.i/past_value.i → hidden [B,T,D], present_*
- denoiser_context.onnx: context [1,T,D] → cross_key.i/cross_value.i [1,H,T,Dh]
- denoiser.onnx: noisy [B,E], timesteps int64 [B], cross_key.i/cross_value.i [1,H,M,Dh],
  cross_mask [B,M] → x0 [B,E]

Positions are derived from the past's shape inside the graphs, so P = 0 (empty
caches) works. A graph over 2 GB is written with ONNX external data
(``<graph>.onnx.data``, listed in ``files``); ``external_data=True`` forces that
path so it can be tested with a small model.

Base-LCM (``base_lcm.BaseLCM``) and One-Tower (``one_tower.OneTowerLCM``) modules go through
the same two functions; their LCM graphs and manifest section come from export_variants.py.

Verify a written pack (checker + hashes):  cd recipe && /usr/bin/python3 -m lcmref.export_pack --verify ../test/fixtures/packs/tiny
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import sys
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

import onnx
import torch
from torch import Tensor, nn

from .sonar import SonarDecoder, SonarEncoder
from .two_tower import SonarNormalizer, TwoTowerLCM

OPSET = 17
TWO_GB = 2 ** 31 - 1  # protobuf's limit on one serialized message


def kv_names(prefix: str, layers: int) -> List[str]:
    """``prefix_key.0, prefix_value.0, prefix_key.1, …`` (the order the graphs take and return them)."""
    return [f"{prefix}_{kind}.{i}" for i in range(layers) for kind in ("key", "value")]


def _split_kv(flat: Sequence[Tensor]) -> Tuple[List[Tensor], List[Tensor]]:
    return list(flat[0::2]), list(flat[1::2])


def _interleave(keys: Sequence[Tensor], values: Sequence[Tensor]) -> List[Tensor]:
    return [t for pair in zip(keys, values) for t in pair]


class EncoderGraph(nn.Module):
    def __init__(self, encoder: SonarEncoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        return self.encoder(input_ids, attention_mask)


class DecoderGraph(nn.Module):
    def __init__(self, decoder: SonarDecoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, input_ids: Tensor, sentence_embedding: Tensor, *past: Tensor) -> Tuple[Tensor, ...]:
        logits, keys, values = self.decoder.step(input_ids, sentence_embedding, *_split_kv(past))
        return (logits, *_interleave(keys, values))


class ContextualizerGraph(nn.Module):
    def __init__(self, model: TwoTowerLCM):
        super().__init__()
        self.model = model

    def forward(self, embeddings: Tensor, *past: Tensor) -> Tuple[Tensor, ...]:
        hidden, keys, values = self.model.contextualize(embeddings, *_split_kv(past))
        return (hidden, *_interleave(keys, values))


class DenoiserContextGraph(nn.Module):
    def __init__(self, model: TwoTowerLCM):
        super().__init__()
        self.model = model

    def forward(self, context: Tensor) -> Tuple[Tensor, ...]:
        return tuple(_interleave(*self.model.denoiser.cross_kv(context)))


class DenoiserGraph(nn.Module):
    def __init__(self, model: TwoTowerLCM):
        super().__init__()
        self.model = model

    def forward(self, noisy: Tensor, timesteps: Tensor, *rest: Tensor) -> Tensor:
        keys, values = _split_kv(rest[:-1])
        return self.model.denoiser.denoise(noisy, timesteps, keys, values, rest[-1])


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_graph(
    module: nn.Module, args: Tuple[Tensor, ...], out_dir: str, file_name: str, input_names: List[str],
    output_names: List[str], dynamic_axes: Dict[str, Dict[int, str]], external_data: bool,
) -> List[str]:
    """Export one graph to ``out_dir/file_name`` and check it; returns the files written (graph [+ data])."""
    module.eval()
    path = os.path.join(out_dir, file_name)
    with tempfile.TemporaryDirectory() as tmp:
        # torch writes one external file per tensor when a model passes 2 GB; export into a
        # scratch folder, then re-save with a single data file next to the graph.
        tmp_path = os.path.join(tmp, file_name)
        with torch.no_grad():
            torch.onnx.export(
                module, args, tmp_path, input_names=input_names, output_names=output_names,
                dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True,
            )
        model = onnx.load(tmp_path)  # loads any external tensors from tmp
        big = sum(t.ByteSize() for t in model.graph.initializer) > TWO_GB - (64 << 20)
        data_name = file_name + ".data"
        for stale in (path, os.path.join(out_dir, data_name)):
            if os.path.exists(stale):
                os.remove(stale)
        if external_data or big:
            onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location=data_name, size_threshold=1024)
            written = [file_name, data_name]
        else:
            onnx.save_model(model, path)
            written = [file_name]
    onnx.checker.check_model(path, full_check=True)
    return written


def _dummy_kv(batch: int, heads: int, length: int, head_dim: int, layers: int) -> List[Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.randn(batch, heads, length, head_dim, generator=g) for _ in range(2 * layers)]


def export_graphs(out_dir: str, encoder: SonarEncoder, decoder: SonarDecoder, lcm: TwoTowerLCM,
                  external_data: bool = False) -> List[str]:
    """Export the five graphs with dummy inputs of distinct sizes (B=2, T=3, P=2, M=4) so no size is baked in.

    A Base-LCM or One-Tower ``lcm`` gets its own LCM graphs (export_variants.py, docs/variants.md).
    """
    written: List[str] = []
    ec, dc, lc = encoder.cfg, decoder.cfg, lcm.cfg
    ids = torch.tensor([[5, 6, 7], [8, 9, 0]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.long)
    written += export_graph(
        EncoderGraph(encoder), (ids, mask), out_dir, "encoder.onnx", ["input_ids", "attention_mask"],
        ["sentence_embedding"],
        {"input_ids": {0: "B", 1: "T"}, "attention_mask": {0: "B", 1: "T"}, "sentence_embedding": {0: "B"}},
        external_data)

    past = kv_names("past", dc.layers)
    present = kv_names("present", dc.layers)
    axes: Dict[str, Dict[int, str]] = {"input_ids": {0: "B", 1: "T"}, "sentence_embedding": {0: "B"},
                                       "logits": {0: "B", 1: "T"}}
    axes.update({n: {0: "B", 2: "P"} for n in past})
    axes.update({n: {0: "B", 2: "P_plus_T"} for n in present})
    emb = torch.randn(2, ec.model_dim, generator=torch.Generator().manual_seed(1))
    written += export_graph(
        DecoderGraph(decoder), (ids, emb, *_dummy_kv(2, dc.heads, 2, dc.model_dim // dc.heads, dc.layers)),
        out_dir, "decoder.onnx", ["input_ids", "sentence_embedding", *past], ["logits", *present], axes, external_data)

    if not isinstance(lcm, TwoTowerLCM):
        from .export_variants import export_lcm_graphs
        return written + export_lcm_graphs(out_dir, lcm, external_data)

    past = kv_names("past", lc.context_layers)
    present = kv_names("present", lc.context_layers)
    axes = {"embeddings": {0: "B", 1: "T"}, "hidden": {0: "B", 1: "T"}}
    axes.update({n: {0: "B", 2: "P"} for n in past})
    axes.update({n: {0: "B", 2: "P_plus_T"} for n in present})
    x = torch.randn(2, 3, lc.embedding_dim, generator=torch.Generator().manual_seed(2))
    written += export_graph(
        ContextualizerGraph(lcm), (x, *_dummy_kv(2, lc.heads, 2, lc.head_dim, lc.context_layers)), out_dir,
        "contextualizer.onnx", ["embeddings", *past], ["hidden", *present], axes, external_data)

    cross = kv_names("cross", lc.denoiser_layers)
    ctx = torch.randn(1, 3, lc.model_dim, generator=torch.Generator().manual_seed(3))
    written += export_graph(
        DenoiserContextGraph(lcm), (ctx,), out_dir, "denoiser_context.onnx", ["context"], cross,
        {"context": {1: "T"}, **{n: {2: "T"} for n in cross}}, external_data)

    noisy = torch.randn(3, lc.embedding_dim, generator=torch.Generator().manual_seed(4))
    steps = torch.tensor([99, 50, 3], dtype=torch.long)
    cmask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.float32)
    written += export_graph(
        DenoiserGraph(lcm), (noisy, steps, *_dummy_kv(1, lc.heads, 4, lc.head_dim, lc.denoiser_layers), cmask),
        out_dir, "denoiser.onnx", ["noisy", "timesteps", *cross, "cross_mask"], ["x0"],
        {"noisy": {0: "B"}, "timesteps": {0: "B"}, "cross_mask": {0: "B", 1: "M"}, "x0": {0: "B"},
         **{n: {2: "M"} for n in cross}}, external_data)
    return written


def file_entry(out_dir: str, name: str) -> Dict[str, Any]:
    p = os.path.join(out_dir, name)
    return {"path": name, "bytes": os.path.getsize(p), "sha256": _sha256(p)}


def export_pack(
    out_dir: str, *, encoder: SonarEncoder, decoder: SonarDecoder, lcm: TwoTowerLCM, normalizer: SonarNormalizer,
    tokenizer_model: str, manifest: Dict[str, Any], model_card: str, provenance: Dict[str, Any],
    external_data: bool = False,
) -> Dict[str, Any]:
    """Write the pack folder and return the manifest written.

    ``manifest`` holds everything but ``files``, ``provenance`` and ``modelCard`` (see
    ``manifest_fields``); ``provenance`` gets torch/onnx versions, the opset and a UTC
    timestamp (SOURCE_DATE_EPOCH if set, so fixtures can be rebuilt byte for byte).
    """
    os.makedirs(out_dir, exist_ok=True)
    for stale in os.listdir(out_dir):  # a pack folder holds only what the manifest lists
        if stale.endswith((".onnx", ".onnx.data")):
            os.remove(os.path.join(out_dir, stale))
    names = export_graphs(out_dir, encoder, decoder, lcm, external_data)
    with open(os.path.join(out_dir, "normalizer.json"), "w", encoding="utf-8") as f:
        json.dump({"center": normalizer.center.tolist(), "scale": normalizer.scale.tolist()}, f)
        f.write("\n")
    shutil.copyfile(tokenizer_model, os.path.join(out_dir, "tokenizer.model"))
    with open(os.path.join(out_dir, "MODEL_CARD.md"), "w", encoding="utf-8") as f:
        f.write(model_card)
    names += ["normalizer.json", "tokenizer.model", "MODEL_CARD.md"]
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch else datetime.datetime.now(datetime.timezone.utc)
    prov = {"torch": torch.__version__, "onnx": onnx.__version__, "opset": OPSET, **provenance,
            "createdAt": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    full = {**manifest, "files": [file_entry(out_dir, n) for n in sorted(names)], "provenance": prov,
            "modelCard": "MODEL_CARD.md"}
    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(full, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return full


def manifest_fields(
    *, name: str, version: str, description: str, languages: Sequence[Tuple[str, str]], tokenizer_ids: Dict[str, int],
    vocab_size: int, language_tokens: Dict[str, int], encoder: SonarEncoder, decoder: SonarDecoder, decoder_max_length: int,
    lcm: TwoTowerLCM, schedule: Dict[str, Any], sampling: Dict[str, Any], stopping: Dict[str, Any],
    instructions: Dict[str, Any],
) -> Dict[str, Any]:
    """The manifest's fixed part, sizes read from the modules so they cannot disagree with the graphs."""
    ec, dc, lc = encoder.cfg, decoder.cfg, lcm.cfg
    if dc.model_dim != lc.embedding_dim or ec.model_dim != lc.embedding_dim:
        raise ValueError(f"encoder ({ec.model_dim}), decoder ({dc.model_dim}) and LCM ({lc.embedding_dim}) dims must agree")
    if not isinstance(lcm, TwoTowerLCM):  # Base-LCM / One-Tower: docs/variants.md
        from .export_variants import lcm_manifest_section
        lcm_section = {**lcm_manifest_section(lcm, schedule, sampling),
                       "normalizer": {"file": "normalizer.json", "kind": "robust-scaler"},
                       "stopping": stopping, "instructions": instructions}
    else:
        lcm_section = {
            "architecture": "two-tower-diffusion",
            "contextualizer": {"file": "contextualizer.onnx", "modelDim": lc.model_dim, "layers": lc.context_layers,
                               "heads": lc.heads, "ffnDim": lc.ffn_dim, "maxContext": lc.max_context,
                               "ropeTheta": lc.rope_theta},
            "denoiser": {"file": "denoiser.onnx", "contextFile": "denoiser_context.onnx", "modelDim": lc.model_dim,
                         "layers": lc.denoiser_layers, "heads": lc.heads, "ffnDim": lc.ffn_dim,
                         "timestepDim": lc.timestep_dim},
            "normalizer": {"file": "normalizer.json", "kind": "robust-scaler"},
            "schedule": schedule, "sampling": sampling, "stopping": stopping, "instructions": instructions,
        }
    return {
        "format": "concept-studio-pack", "formatVersion": 1, "name": name, "version": version, "description": description,
        "embeddingDim": lc.embedding_dim,
        "languages": [{"code": c, "name": n} for c, n in languages],
        "tokenizer": {"kind": "sentencepiece", "file": "tokenizer.model", "ids": tokenizer_ids, "vocabSize": vocab_size,
                      "languageTokens": language_tokens},
        "sonar": {
            "encoder": {"file": "encoder.onnx", "modelDim": ec.model_dim, "layers": ec.layers, "heads": ec.heads,
                        "ffnDim": ec.ffn_dim, "maxPositions": ec.max_positions, "pooling": "mean"},
            "decoder": {"file": "decoder.onnx", "modelDim": dc.model_dim, "layers": dc.layers, "heads": dc.heads,
                        "ffnDim": dc.ffn_dim, "maxPositions": dc.max_positions, "maxLength": decoder_max_length},
        },
        "lcm": lcm_section,
    }


def verify_pack(pack_dir: str) -> List[str]:
    """Problems with a written pack: missing files, wrong size/hash, graphs failing onnx.checker."""
    with open(os.path.join(pack_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    problems = []
    for entry in manifest["files"]:
        p = os.path.join(pack_dir, entry["path"])
        if not os.path.exists(p):
            problems.append(f"{entry['path']}: missing")
            continue
        if os.path.getsize(p) != entry["bytes"] or _sha256(p) != entry["sha256"]:
            problems.append(f"{entry['path']}: size or sha256 differs from the manifest")
        if p.endswith(".onnx"):
            try:
                onnx.checker.check_model(p, full_check=True)
            except Exception as e:  # noqa: BLE001 - report every graph
                problems.append(f"{entry['path']}: onnx.checker: {e}")
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--verify", metavar="PACK_DIR", required=True, help="check hashes and graphs of a written pack")
    args = ap.parse_args(argv)
    problems = verify_pack(args.verify)
    for p in problems:
        print(p, file=sys.stderr)
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
