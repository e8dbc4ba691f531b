"""What every SONAR source format converts into: the reference modules of recipe/lcmref/sonar.py.

The source converters (``sonar_fairseq2``, ``sonar_hf``) only rename keys into the names of
``SonarEncoder`` / ``SonarDecoder`` (fairseq2's own names: ``encoder_frontend.embed``,
``encoder.layers.{i}.self_attn.q_proj`` …) and say how token ids map; this module builds the
modules with sizes read from the tensors and loads them strictly, so the export path is the
one the fixture packs already prove (docs/model-pack.md).
"""
import math
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Tuple

import torch
from torch import Tensor

from lcmref.sonar import SonarConfig, SonarDecoder, SonarEncoder, sinusoidal_table
from lcmref.tokenizer import TokenizerIds
from .checkpoints import ConversionError, load_mapped, need

Mapped = Dict[str, Tuple[str, Tensor]]

#: Published SONAR text models: 1024-d, 16 heads, sinusoidal table of 512 + 2 rows (fairseq2's
#: ``max_seq_len += pad_idx + 1`` for fairseq-trained models), decoding up to 256 tokens.
SONAR_HEADS = 16
SONAR_MAX_POSITIONS = 514
SONAR_MAX_LENGTH = 256


@dataclass
class SonarParts:
    """Converted SONAR towers plus the token conventions of their vocabulary."""

    encoder: Optional[SonarEncoder]
    decoder: Optional[SonarDecoder]
    ids: TokenizerIds
    vocab_size: int
    notes: Dict[str, str] = field(default_factory=dict)


def default_heads(model_dim: int, heads: Optional[int], source: str) -> int:
    """``heads`` if given; 16 for the published 1024-d models; otherwise an error asking for --heads."""
    if heads is not None:
        return heads
    if model_dim == 1024:
        return SONAR_HEADS
    raise ConversionError(f"{source}: the checkpoint is {model_dim}-d, not the published 1024-d SONAR; "
                          "its head count is not stored in the weights: pass --heads")


def _layers(mapped: Mapping[str, Tuple[str, Tensor]], prefix: str, source: str) -> int:
    idx = {int(k[len(prefix):].split(".")[0]) for k in mapped if k.startswith(prefix)}
    if not idx:
        raise ConversionError(f"{source}: no transformer layers found; is this a SONAR text checkpoint?")
    n = max(idx) + 1
    gaps = sorted(set(range(n)) - idx)
    if gaps:
        raise ConversionError(f"{source}: layers {gaps} are missing (the checkpoint has layers up to {n - 1})")
    return n


def build_encoder(mapped: Mapped, source: str, heads: Optional[int], max_positions: int) -> SonarEncoder:
    """A SonarEncoder loaded from target-named tensors; sizes come from the tensors."""
    embed = need(mapped, "encoder_frontend.embed.weight", source, "for the token embeddings")
    vocab, dim = embed.shape
    ffn = need(mapped, "encoder.layers.0.ffn.inner_proj.weight", source, "for layer 0's FFN").shape[0]
    cfg = SonarConfig(vocab_size=vocab, model_dim=dim, layers=_layers(mapped, "encoder.layers.", source),
                      heads=default_heads(dim, heads, source), ffn_dim=ffn, max_positions=max_positions)
    model = SonarEncoder(cfg)
    load_mapped(model, mapped, source)
    return model.eval()


def build_decoder(mapped: Mapped, source: str, heads: Optional[int], max_positions: int) -> SonarDecoder:
    """A SonarDecoder loaded from target-named tensors. The output projection must be tied to the embeddings."""
    embed = need(mapped, "decoder_frontend.embed.weight", source, "for the token embeddings")
    vocab, dim = embed.shape
    if "final_proj.weight" in mapped:
        key, proj = mapped.pop("final_proj.weight")
        if proj.shape != embed.shape or not torch.equal(proj.to(torch.float32), embed.to(torch.float32)):
            raise ConversionError(f"{source}: `{key}` differs from the token embeddings; pack format 1 ties the output "
                                  "projection to the embeddings (as SONAR does), so an untied decoder cannot be converted")
    ffn = need(mapped, "decoder.layers.0.ffn.inner_proj.weight", source, "for layer 0's FFN").shape[0]
    cfg = SonarConfig(vocab_size=vocab, model_dim=dim, layers=_layers(mapped, "decoder.layers.", source),
                      heads=default_heads(dim, heads, source), ffn_dim=ffn, max_positions=max_positions)
    model = SonarDecoder(cfg)
    load_mapped(model, mapped, source, extra={"final_proj.weight": embed})
    return model.eval()


def check_sinusoids(table: Tensor, source: str, key: str, first_position: int = 0) -> None:
    """A stored sinusoidal table (HF ``embed_positions.weights``, fairseq2 ``freqs``) must match the one the graphs compute."""
    rows, dim = table.shape
    ours = sinusoidal_table(rows, dim)
    sl = slice(first_position, rows)
    worst = float((table[sl].to(torch.float32) - ours[sl]).abs().max()) if rows > first_position else 0.0
    if not math.isfinite(worst) or worst > 1e-4:
        raise ConversionError(f"{source}: `{key}` is not fairseq's sinusoidal table (max difference {worst:.3g}); "
                              "the converter only supports fairseq-style sinusoidal positions starting at 2")
