"""Two-Tower diffusion LCM checkpoints of Meta's reference trainer (facebookresearch/large_concept_model).

Source: lcm/models/two_tower_diffusion_lcm/builder.py (``TwoTowerDiffusionLCModel``: submodules
``sonar_normalizer``, ``encoder_frontend``, ``context_encoder``, ``denoiser``), lcm/models/
two_tower_diffusion_lcm/frontend.py (``pre_linear``), lcm/nn/denoisers/lcm_denoiser.py
(``embed_time``, ``initial_proj``, ``final_proj``, ``layers``, ``layer_norm``; each layer's
``self_attn``, ``cross_attention``, ``ffn``, their ``*_layer_norm`` and ``modulator.fc``),
lcm/nn/projection.py (``Projection`` wraps its Linear as ``fc``), lcm/nn/timestep_encoder.py
(``fc1``/``fc2``), lcm/models/sonar_normalizer/builder.py (buffers ``center``, ``scale`` and,
with ``clip_proba``, ``clip_min``/``clip_max``). All read through the code search corpus.

The trainer saves fairseq2 checkpoints: ``{"model": state_dict, …}`` (or a bare state dict).
The normalizer comes from the LCM checkpoint's ``sonar_normalizer.*`` or from a separate
normalizer checkpoint (``--normalizer``: keys ``center``/``scale``, optionally under ``model``).

Not stored in the weights, so given as options: attention heads (default 16 for D = 2048 and
32 for D = 4096, the paper's 1.6B / 7B), RoPE θ (10000), the diffusion schedule and sampling
defaults (the released configs: cosine, T = 100; the paper's S = 40, g = 3, r = 0.7 …).
"""
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

from lcmref.two_tower import LcmConfig, SonarNormalizer, TwoTowerLCM
from .checkpoints import ConversionError, Rule, load_mapped, load_state_dict, need, remap, strip_prefix

# ---------------------------------------------------------------------------------------------
# MAPPING TABLE (Meta LCM name → recipe/lcmref/two_tower.py name).
# Confirmed from the sources above: encoder_frontend.pre_linear, denoiser.{initial,final}_proj.fc,
# denoiser.embed_time.fc1/fc2, denoiser.layers.{i}.{self_attn,cross_attention,ffn,modulator.fc},
# the three *_layer_norm names of a denoiser layer, denoiser.layer_norm, sonar_normalizer.{center,scale}.
# NOT confirmed (lcm/nn/transformer was not readable): the context encoder's layer names, taken to
# be fairseq2's StandardTransformerDecoderLayer without cross-attention (self_attn,
# self_attn_layer_norm, ffn = GLUFeedForwardNetwork gate_proj/inner_proj/output_proj,
# ffn_layer_norm) plus context_encoder.layer_norm; fairseq2's standard names, and the names the
# denoiser layers (same library) use. A checkpoint that differs fails with the unexpected key named.
# ---------------------------------------------------------------------------------------------
_L = r"(\d+)"
TWO_TOWER: List[Rule] = [
    (r"encoder_frontend\.pre_linear\.(weight|bias)", r"encoder_frontend.pre_linear.\1"),
    (rf"context_encoder\.layers\.{_L}\.self_attn\.(q|k|v|output)_proj\.(weight|bias)", r"context_encoder.layers.\1.self_attn.\2_proj.\3"),
    (rf"context_encoder\.layers\.{_L}\.(self_attn_layer_norm|ffn_layer_norm)\.weight", r"context_encoder.layers.\1.\2.weight"),
    (rf"context_encoder\.layers\.{_L}\.ffn\.(gate_proj|inner_proj|output_proj)\.(weight|bias)", r"context_encoder.layers.\1.ffn.\2.\3"),
    (r"context_encoder\.layer_norm\.weight", r"context_encoder.layer_norm.weight"),
    (r"denoiser\.initial_proj\.fc\.(weight|bias)", r"denoiser.initial_proj.\1"),
    (r"denoiser\.final_proj\.fc\.(weight|bias)", r"denoiser.final_proj.\1"),
    (r"denoiser\.embed_time\.(fc1|fc2)\.(weight|bias)", r"denoiser.embed_time.\1.\2"),
    (rf"denoiser\.layers\.{_L}\.(self_attn|cross_attention)\.(q|k|v|output)_proj\.(weight|bias)", r"denoiser.layers.\1.\2.\3_proj.\4"),
    (rf"denoiser\.layers\.{_L}\.(self_attn_layer_norm|cross_attention_layer_norm|ffn_layer_norm)\.weight", r"denoiser.layers.\1.\2.weight"),
    (rf"denoiser\.layers\.{_L}\.ffn\.(gate_proj|inner_proj|output_proj)\.(weight|bias)", r"denoiser.layers.\1.ffn.\2.\3"),
    (rf"denoiser\.layers\.{_L}\.modulator\.fc\.(weight|bias)", r"denoiser.layers.\1.modulator.fc.\2"),
    (r"denoiser\.layer_norm\.weight", r"denoiser.layer_norm.weight"),
]
#: Weightless buffers (rotary tables) and the normalizer, which is read separately.
IGNORED = [r".*pos_encoder\.freqs", r"sonar_normalizer\..*"]
NORMALIZER_KEYS = ("center", "scale")
UNSUPPORTED_NORMALIZER = ("clip_min", "clip_max")
#: The paper's sizes: D → heads.
PAPER_HEADS = {2048: 16, 4096: 32}
# ---------------------------------------------------------------------------------------------


@dataclass
class LcmParts:
    lcm: TwoTowerLCM
    normalizer: SonarNormalizer
    notes: Dict[str, str] = field(default_factory=dict)


def _count(mapped: Dict[str, Tuple[str, Tensor]], prefix: str, source: str) -> int:
    idx = {int(k[len(prefix):].split(".")[0]) for k in mapped if k.startswith(prefix)}
    if not idx:
        raise ConversionError(f"{source}: no layers under `{prefix}`; is this a Two-Tower LCM checkpoint?")
    n = max(idx) + 1
    if sorted(idx) != list(range(n)):
        raise ConversionError(f"{source}: layers {sorted(set(range(n)) - idx)} under `{prefix}` are missing")
    return n


def _zero_biases(model: TwoTowerLCM, mapped: Dict[str, Tuple[str, Tensor]]) -> Dict[str, Tensor]:
    """Zero biases for Linear layers saved without one (fairseq2 Linear(bias=False)): the same function."""
    extra = {}
    for name, t in model.state_dict().items():
        if name.endswith(".bias") and name not in mapped and name[: -len("bias")] + "weight" in mapped:
            extra[name] = torch.zeros_like(t)
    return extra


def read_normalizer(state: Dict[str, Tensor], source: str, dim: int) -> SonarNormalizer:
    for k in UNSUPPORTED_NORMALIZER:
        if k in state:
            raise ConversionError(f"{source}: the normalizer has `{k}` (clip_proba was set); pack format 1's normalizer "
                                  "is (x − center)/scale without clipping, so this normalizer cannot be converted")
    center = state.get("center")
    scale = state.get("scale")
    if center is None or scale is None:
        raise ConversionError(f"{source}: no normalizer `center`/`scale`; pass --normalizer with the SonarNormalizer checkpoint")
    for name, t in (("center", center), ("scale", scale)):
        if list(t.shape) != [dim]:
            raise ConversionError(f"{source}: normalizer `{name}` has shape {list(t.shape)}, expected [{dim}]")
    left = sorted(set(state) - set(NORMALIZER_KEYS))
    if left:
        raise ConversionError(f"{source}: unexpected normalizer keys {left}")
    try:
        return SonarNormalizer(center.to(torch.float32), scale.to(torch.float32))
    except ValueError as e:
        raise ConversionError(f"{source}: {e}") from e


def convert(path: str, normalizer_path: Optional[str] = None, heads: Optional[int] = None,
            rope_theta: float = 10000.0, max_context: int = 4096) -> LcmParts:
    """Two-Tower checkpoint (+ optional separate normalizer) → ``TwoTowerLCM`` and ``SonarNormalizer``."""
    state, _ = load_state_dict(path)
    state = strip_prefix(state, ["module.", "model."])  # DDP/FSDP wrappers
    mapped = remap(state, TWO_TOWER, path, IGNORED)
    pre = need(mapped, "encoder_frontend.pre_linear.weight", path, "`encoder_frontend.pre_linear.weight` (the contextualizer PreNet)")
    model_dim, embedding_dim = pre.shape
    if heads is None:
        if model_dim not in PAPER_HEADS:
            raise ConversionError(f"{path}: model dim {model_dim} is not one of the paper's sizes {sorted(PAPER_HEADS)}; "
                                  "the head count is not stored in the weights: pass --lcm-heads")
        heads = PAPER_HEADS[model_dim]
    ffn_c = need(mapped, "context_encoder.layers.0.ffn.gate_proj.weight", path, "`context_encoder.layers.0.ffn.gate_proj.weight`").shape[0]
    ffn_d = need(mapped, "denoiser.layers.0.ffn.gate_proj.weight", path, "`denoiser.layers.0.ffn.gate_proj.weight`").shape[0]
    if ffn_c != ffn_d:
        raise ConversionError(f"{path}: the contextualizer's FFN is {ffn_c} wide and the denoiser's {ffn_d}; the reference "
                              "modules (recipe/lcmref/two_tower.py) share one ffn_dim, so this checkpoint is not supported yet")
    t_dim = need(mapped, "denoiser.embed_time.fc1.weight", path, "`denoiser.embed_time.fc1.weight`").shape[1]
    try:
        cfg = LcmConfig(embedding_dim=embedding_dim, model_dim=model_dim, heads=heads,
                        context_layers=_count(mapped, "context_encoder.layers.", path),
                        denoiser_layers=_count(mapped, "denoiser.layers.", path), ffn_dim=ffn_c,
                        max_context=max_context, rope_theta=rope_theta, timestep_dim=t_dim)
    except ValueError as e:
        raise ConversionError(f"{path}: {e} (check --lcm-heads)") from e
    model = TwoTowerLCM(cfg)
    load_mapped(model, mapped, path, extra=_zero_biases(model, mapped))
    notes = {}
    if normalizer_path:
        nstate, _ = load_state_dict(normalizer_path)
        nstate = strip_prefix(nstate, ["sonar_normalizer."])
        normalizer = read_normalizer(nstate, normalizer_path, embedding_dim)
        notes["normalizer"] = f"from {os.path.basename(normalizer_path)}"
    else:
        nstate = {k[len("sonar_normalizer."):]: v for k, v in state.items() if k.startswith("sonar_normalizer.")}
        normalizer = read_normalizer(nstate, path, embedding_dim)
        notes["normalizer"] = "sonar_normalizer.* of the LCM checkpoint"
    return LcmParts(lcm=model.eval(), normalizer=normalizer, notes=notes)
