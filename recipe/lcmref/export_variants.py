"""ONNX graphs and manifest sections of the Base-LCM and One-Tower packs (docs/variants.md is the contract).

``export_pack.export_pack`` calls ``export_lcm_graphs`` for every architecture and
``lcm_manifest_section`` builds ``manifest.lcm``; the Two-Tower parts stay in
``export_pack.py`` (its graphs are unchanged). Graph roles reuse the pack format's
names, so the loader opens them by the same manifest keys:

base-mse (``lcm.contextualizer``, one graph):
- contextualizer.onnx: embeddings [B,T,E], past_key.i/past_value.i [B,H,P,Dh]
  → prediction [B,T,E] (normalized; row j predicts concept P+j+1), present_key.i/present_value.i [B,H,P+T,Dh]

one-tower-diffusion (``lcm.contextualizer`` and ``lcm.denoiser`` describe the same tower):
- contextualizer.onnx: embeddings [B,T,E] (clean rows), past_key.i/past_value.i → present_key.i/present_value.i
- denoiser.onnx: noisy [B,E], timesteps int64 [B], context_key.i/context_value.i [1,H,P,Dh], context_mask [B,P]
  → x0 [B,E]

quant-discrete / quant-continuous (``lcm.contextualizer``, ``lcm.denoiser`` = the head, ``lcm.codebooks``):
- contextualizer.onnx: as the Two-Tower's (embeddings, past → hidden [B,T,D], present)
- denoiser_context.onnx: context rows [1,T,D] → cross_key.i/cross_value.i [1,H,T,Dh] (the head's cross-attention)
- denoiser.onnx: partial [B,E], level int64 [B], cross_key.i/cross_value.i [1,H,M,Dh] of [zero row; context] →
  logits [B,K] (discrete) or residual [B,E]
- codebooks.bin: float32 little-endian [L,K,E] (normalized space), no header
"""
from typing import Any, Dict, List, Tuple

import torch
from torch import Tensor, nn

from .base_lcm import BaseLCM
from .one_tower import OneTowerLCM
from .quant_lcm import QuantLCM

DEFAULT_QUANT_SAMPLING = {"temperature": 1.0, "topK": 0}


def _split(flat: Tuple[Tensor, ...]) -> Tuple[List[Tensor], List[Tensor]]:
    return list(flat[0::2]), list(flat[1::2])


def _interleave(keys: List[Tensor], values: List[Tensor]) -> List[Tensor]:
    return [t for pair in zip(keys, values) for t in pair]


class BaseStepGraph(nn.Module):
    def __init__(self, model: BaseLCM):
        super().__init__()
        self.model = model

    def forward(self, embeddings: Tensor, *past: Tensor) -> Tuple[Tensor, ...]:
        pred, keys, values = self.model.step(embeddings, *_split(past))
        return (pred, *_interleave(keys, values))


class OneTowerContextGraph(nn.Module):
    def __init__(self, model: OneTowerLCM):
        super().__init__()
        self.model = model

    def forward(self, embeddings: Tensor, *past: Tensor) -> Tuple[Tensor, ...]:
        return tuple(_interleave(*self.model.context(embeddings, *_split(past))))


class OneTowerDenoiserGraph(nn.Module):
    def __init__(self, model: OneTowerLCM):
        super().__init__()
        self.model = model

    def forward(self, noisy: Tensor, timesteps: Tensor, *rest: Tensor) -> Tensor:
        keys, values = _split(rest[:-1])
        return self.model.denoise(noisy, timesteps, keys, values, rest[-1])


class QuantContextGraph(nn.Module):
    def __init__(self, model: QuantLCM):
        super().__init__()
        self.model = model

    def forward(self, embeddings: Tensor, *past: Tensor) -> Tuple[Tensor, ...]:
        hidden, keys, values = self.model.contextualize(embeddings, *_split(past))
        return (hidden, *_interleave(keys, values))


class QuantHeadContextGraph(nn.Module):
    def __init__(self, model: QuantLCM):
        super().__init__()
        self.model = model

    def forward(self, context: Tensor) -> Tuple[Tensor, ...]:
        return tuple(_interleave(*self.model.head_context(context)))


class QuantHeadGraph(nn.Module):
    def __init__(self, model: QuantLCM):
        super().__init__()
        self.model = model

    def forward(self, partial: Tensor, level: Tensor, *cross: Tensor) -> Tensor:
        return self.model.head_from_kv(partial, level, *_split(cross))


def export_quant_graphs(out_dir: str, lcm: QuantLCM, external_data: bool) -> List[str]:
    from .export_pack import _dummy_kv, export_graph, kv_names  # late import: export_pack imports this module
    import os

    cfg = lcm.cfg
    past = kv_names("past", cfg.context_layers)
    present = kv_names("present", cfg.context_layers)
    axes: Dict[str, Dict[int, str]] = {"embeddings": {0: "B", 1: "T"}, "hidden": {0: "B", 1: "T"}}
    axes.update({n: {0: "B", 2: "P"} for n in past})
    axes.update({n: {0: "B", 2: "P_plus_T"} for n in present})
    x = torch.randn(2, 3, cfg.embedding_dim, generator=torch.Generator().manual_seed(2))
    written = export_graph(QuantContextGraph(lcm), (x, *_dummy_kv(2, cfg.heads, 2, cfg.head_dim, cfg.context_layers)),
                           out_dir, "contextualizer.onnx", ["embeddings", *past], ["hidden", *present], axes,
                           external_data)
    cross = kv_names("cross", cfg.head_layers)
    ctx = torch.randn(1, 3, cfg.model_dim, generator=torch.Generator().manual_seed(3))
    written += export_graph(QuantHeadContextGraph(lcm), (ctx,), out_dir, "denoiser_context.onnx", ["context"], cross,
                            {"context": {1: "T"}, **{n: {2: "T"} for n in cross}}, external_data)
    partial = torch.randn(3, cfg.embedding_dim, generator=torch.Generator().manual_seed(4))
    level = torch.tensor([0, cfg.levels - 1, cfg.levels // 2], dtype=torch.long)
    out_name = "logits" if lcm.discrete else "residual"
    written += export_graph(QuantHeadGraph(lcm), (partial, level, *_dummy_kv(1, cfg.heads, 4, cfg.head_dim, cfg.head_layers)),
                            out_dir, "denoiser.onnx", ["partial", "level", *cross], [out_name],
                            {"partial": {0: "B"}, "level": {0: "B"}, out_name: {0: "B"}, **{n: {2: "M"} for n in cross}},
                            external_data)
    with open(os.path.join(out_dir, "codebooks.bin"), "wb") as f:
        f.write(lcm.rvq.to_bytes())
    return written + ["codebooks.bin"]


def export_lcm_graphs(out_dir: str, lcm: Any, external_data: bool) -> List[str]:
    """Export the LCM graphs of a BaseLCM, OneTowerLCM or QuantLCM (dummy sizes B=2/3, T=3, P=2 so no size is baked in)."""
    from .export_pack import _dummy_kv, export_graph, kv_names  # late import: export_pack imports this module

    if isinstance(lcm, QuantLCM):
        return export_quant_graphs(out_dir, lcm, external_data)
    cfg = lcm.cfg
    past = kv_names("past", cfg.layers)
    present = kv_names("present", cfg.layers)
    axes: Dict[str, Dict[int, str]] = {"embeddings": {0: "B", 1: "T"}}
    axes.update({n: {0: "B", 2: "P"} for n in past})
    axes.update({n: {0: "B", 2: "P_plus_T"} for n in present})
    x = torch.randn(2, 3, cfg.embedding_dim, generator=torch.Generator().manual_seed(2))
    kv = _dummy_kv(2, cfg.heads, 2, cfg.head_dim, cfg.layers)
    if isinstance(lcm, BaseLCM):
        axes["prediction"] = {0: "B", 1: "T"}
        return export_graph(BaseStepGraph(lcm), (x, *kv), out_dir, "contextualizer.onnx", ["embeddings", *past],
                            ["prediction", *present], axes, external_data)
    if not isinstance(lcm, OneTowerLCM):
        raise TypeError(f"no variant exporter for {type(lcm).__name__}")
    written = export_graph(OneTowerContextGraph(lcm), (x, *kv), out_dir, "contextualizer.onnx", ["embeddings", *past],
                           present, axes, external_data)
    ctx = kv_names("context", cfg.layers)
    noisy = torch.randn(3, cfg.embedding_dim, generator=torch.Generator().manual_seed(4))
    steps = torch.tensor([99, 50, 3], dtype=torch.long)
    cmask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=torch.float32)
    written += export_graph(
        OneTowerDenoiserGraph(lcm), (noisy, steps, *_dummy_kv(1, cfg.heads, 4, cfg.head_dim, cfg.layers), cmask),
        out_dir, "denoiser.onnx", ["noisy", "timesteps", *ctx, "context_mask"], ["x0"],
        {"noisy": {0: "B"}, "timesteps": {0: "B"}, "context_mask": {0: "B", 1: "P"}, "x0": {0: "B"},
         **{n: {2: "P"} for n in ctx}}, external_data)
    return written


def lcm_manifest_section(lcm: Any, schedule: Any, sampling: Any) -> Dict[str, Any]:
    """``manifest.lcm`` without normalizer/stopping/instructions (the caller adds those)."""
    cfg = lcm.cfg
    if isinstance(lcm, QuantLCM):
        quant_sampling = sampling if isinstance(sampling, dict) and "temperature" in sampling else DEFAULT_QUANT_SAMPLING
        return {
            "architecture": lcm.ARCHITECTURE,
            "contextualizer": {"file": "contextualizer.onnx", "modelDim": cfg.model_dim, "layers": cfg.context_layers,
                               "heads": cfg.heads, "ffnDim": cfg.ffn_dim, "maxContext": cfg.max_context,
                               "ropeTheta": cfg.rope_theta},
            "denoiser": {"file": "denoiser.onnx", "contextFile": "denoiser_context.onnx", "modelDim": cfg.model_dim,
                         "layers": cfg.head_layers, "heads": cfg.heads, "ffnDim": cfg.ffn_dim,
                         "timestepDim": cfg.level_dim},
            "codebooks": {"file": "codebooks.bin", "levels": cfg.levels, "size": cfg.codebook_size,
                          "space": "normalized"},
            "sampling": {"temperature": float(quant_sampling["temperature"]), "topK": int(quant_sampling["topK"])},
        }
    tower = {"file": "contextualizer.onnx", "modelDim": cfg.model_dim, "layers": cfg.layers, "heads": cfg.heads,
             "ffnDim": cfg.ffn_dim, "maxContext": cfg.max_context, "ropeTheta": cfg.rope_theta}
    if isinstance(lcm, BaseLCM):
        return {"architecture": lcm.ARCHITECTURE, "contextualizer": tower}
    if isinstance(lcm, OneTowerLCM):
        denoiser = {"file": "denoiser.onnx", "modelDim": cfg.model_dim, "layers": cfg.layers, "heads": cfg.heads,
                    "ffnDim": cfg.ffn_dim, "timestepDim": cfg.timestep_dim}
        return {"architecture": lcm.ARCHITECTURE, "contextualizer": tower, "denoiser": denoiser,
                "schedule": schedule, "sampling": sampling}
    raise TypeError(f"no variant manifest for {type(lcm).__name__}")
