"""Base-LCM (LCM paper §2.3.1; Meta's lcm/models/base_lcm): next-concept regression with MSE.

Names follow Meta's ``BaseLCModel``: ``frontend.pre_linear`` (PreNet Linear(E→D)),
``lcm.layers.{i}`` + ``lcm.layer_norm`` (the causal transformer decoder),
``postnet.fc`` (PostNet Linear(D→E)). The layers are the Two-Tower contextualizer's
(``two_tower.ContextLayer``: pre-RMSNorm, attention with bias, rotary positions on
adjacent pairs, SwiGLU), as Meta's ``base_lcm_1_6B`` arch configures them
(``pos_embedding_style="rope"``, ``use_swiglu``, ``layer_normalization_style="rms"``).

Normalization: the model reads and writes *normalized* SONAR vectors; Meta's
``predict_next_sentence`` normalizes the input with the SONAR normalizer and
denormalizes the output, and the MSE loss is taken in normalized space. Here the
normalizer (``two_tower.SonarNormalizer``) stays outside the module, as in the
Two-Tower reference, so the engine does the same two affine maps.

The output at row i is the prediction of concept i+1 (deterministic). Meta's
generator can add ``temperature·N(0, 1)`` to that mean (``LCMGeneratorOptions``
``sample_latent_variable``/``lcm_temperature``); the paper's Base-LCM is the plain
regression, and so is this reference (docs/variants.md).

Two forms: ``step`` (incremental with a key/value cache; what ``contextualizer.onnx``
of a base-mse pack exports) and ``forward_train`` (whole documents, causal).
``check_train_inference_consistency`` proves they agree.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from .two_tower import ContextLayer, LcmConfig, RMSNorm, causal_layers, empty_kv, rope_inv_freq

ARCHITECTURE = "base-mse"


@dataclass(frozen=True)
class BaseLcmConfig:
    """Shape of the Base-LCM (the manifest's ``lcm.contextualizer``)."""

    embedding_dim: int
    model_dim: int
    heads: int
    layers: int
    ffn_dim: int
    max_context: int = 4096
    rope_theta: float = 10000.0

    def __post_init__(self) -> None:
        if self.model_dim % self.heads:
            raise ValueError(f"model_dim {self.model_dim} is not divisible by heads {self.heads}")
        if (self.model_dim // self.heads) % 2:
            raise ValueError("rotary positions need an even head dimension")

    @property
    def head_dim(self) -> int:
        return self.model_dim // self.heads

    def layer_config(self) -> LcmConfig:
        """The Two-Tower config whose ``ContextLayer`` has this shape (only width, heads and FFN are read)."""
        return LcmConfig(embedding_dim=self.embedding_dim, model_dim=self.model_dim, heads=self.heads,
                         context_layers=self.layers, denoiser_layers=0, ffn_dim=self.ffn_dim,
                         max_context=self.max_context, rope_theta=self.rope_theta)


class BaseFrontend(nn.Module):
    """``frontend.pre_linear``: PreNet Linear(E→D) (Meta's LCMFrontend with scale_embeddings off, no pos_encoder)."""

    def __init__(self, cfg: BaseLcmConfig):
        super().__init__()
        self.pre_linear = nn.Linear(cfg.embedding_dim, cfg.model_dim)


class BaseDecoder(nn.Module):
    """``lcm``: causal pre-norm layers and the final RMSNorm (Meta's LCMTransformerDecoder)."""

    def __init__(self, cfg: BaseLcmConfig):
        super().__init__()
        self.layers = nn.ModuleList([ContextLayer(cfg.layer_config()) for _ in range(cfg.layers)])
        self.layer_norm = RMSNorm(cfg.model_dim)


class PostNet(nn.Module):
    """``postnet.fc``: Linear(D→E), no activation (Meta's Projection with its defaults)."""

    def __init__(self, cfg: BaseLcmConfig):
        super().__init__()
        self.fc = nn.Linear(cfg.model_dim, cfg.embedding_dim)


class BaseLCM(nn.Module):
    ARCHITECTURE = ARCHITECTURE

    def __init__(self, cfg: BaseLcmConfig):
        super().__init__()
        self.cfg = cfg
        self.frontend = BaseFrontend(cfg)
        self.lcm = BaseDecoder(cfg)
        self.postnet = PostNet(cfg)
        self.register_buffer("rope_inv_freq", rope_inv_freq(cfg.head_dim, cfg.rope_theta), persistent=False)

    def empty_cache(self, batch: int) -> Tuple[List[Tensor], List[Tensor]]:
        return empty_kv(self.cfg, batch, self.cfg.layers)

    def step(self, embeddings: Tensor, past_keys: Sequence[Tensor], past_values: Sequence[Tensor]
             ) -> Tuple[Tensor, List[Tensor], List[Tensor]]:
        """contextualizer.onnx of a base-mse pack: normalized embeddings [B, T, E] after P cached rows →
        prediction [B, T, E] (row j predicts concept P+j+1, normalized), present keys/values [B, H, P+T, Dh]."""
        x, keys, values = causal_layers(self.lcm.layers, self.frontend.pre_linear(embeddings), self.rope_inv_freq,
                                        past_keys, past_values)
        return self.postnet.fc(self.lcm.layer_norm(x)), keys, values

    def forward_train(self, clean: Tensor) -> Tensor:
        """Whole documents: normalized [B, N, E] → predictions [B, N, E]; row i predicts row i+1.

        Right padding needs no mask (causality keeps it out of real rows); leave padded
        targets out of the loss (``mse_loss``).
        """
        keys, values = self.empty_cache(clean.shape[0])
        return self.step(clean, [k.to(clean) for k in keys], [v.to(clean) for v in values])[0]


def mse_loss(model: BaseLCM, clean: Tensor, lengths: Optional[Tensor] = None) -> Tensor:
    """Mean squared error of next-vector prediction in normalized space (paper §2.3.1).

    clean [B, N, E] normalized; lengths [B] real rows per document (None: all N). The
    prediction at row i is compared with row i+1, for i + 1 < length.
    """
    pred = model.forward_train(clean)[:, :-1]
    target = clean[:, 1:]
    err = (pred - target).pow(2).mean(dim=-1)  # [B, N-1]
    if lengths is None:
        return err.mean()
    valid = torch.arange(clean.shape[1] - 1, device=clean.device).unsqueeze(0) < (lengths.unsqueeze(1) - 1)
    return (err * valid).sum() / valid.sum().clamp(min=1)


def check_train_inference_consistency(model: BaseLCM, clean: Tensor) -> float:
    """Max |whole-document form − incremental form in two chunks| for one document [1, N, E]."""
    with torch.no_grad():
        ref = model.forward_train(clean)
        cut = max(1, clean.shape[1] // 2)
        pk, pv = model.empty_cache(1)
        p1, pk, pv = model.step(clean[:, :cut], pk, pv)
        p2 = model.step(clean[:, cut:], pk, pv)[0]
        return float((torch.cat([p1, p2], dim=1) - ref).abs().max())


__all__ = ["ARCHITECTURE", "BaseLcmConfig", "BaseLCM", "mse_loss", "check_train_inference_consistency"]
