"""Two-Tower diffusion LCM (LCM paper §2.3.3, Meta's lcm/models/two_tower_diffusion_lcm), per LCM-SPEC.md.

Names follow Meta's checkpoints: the contextualizer is ``encoder_frontend.pre_linear``
+ ``context_encoder.layers.{i}`` + ``context_encoder.layer_norm``; the denoiser is
``denoiser.{initial_proj, embed_time.fc1/fc2, layers.{i}, layer_norm, final_proj}``
(lcm/nn/denoisers/lcm_denoiser.py).

- Contextualizer: PreNet Linear(E→D); causal pre-RMSNorm layers (eps 1e-5),
  attention with bias, rotary positions (θ = 10000, adjacent pairs (2k, 2k+1),
  positions from P), SwiGLU FFN; final RMSNorm.
- Denoiser: Linear(E→D) on x_t; t → [cos(t·f_i) | sin(t·f_i)], f_i = exp(−ln(1e4)·i/128)
  → fc1 → SiLU → fc2; each layer AdaLN-modulates self-attention (a position sees
  only itself), cross-attention to the contextualizer outputs with a zero row
  prepended as key 0, and a SwiGLU FFN: (shift, scale, gate) from
  ``modulator.fc(SiLU(t_emb))`` in the order self, cross, ffn;
  h = RMS(x)·(1+scale)+shift; x += gate·Block(h). Final RMSNorm, Linear(D→E).
  The output is the predicted x0 in normalized space.

Two forms: ``TwoTowerLCM.forward_train`` (whole documents, used by the training
recipe) and the inference pieces that the ONNX graphs export
(``contextualize``, ``Denoiser.cross_kv``, ``Denoiser.denoise``).
``check_train_inference_consistency`` proves the two agree.
"""
import math
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .sonar import MultiheadAttention, additive_mask, causal_mask

RMS_NORM_EPS = 1e-5  # LCM-SPEC.md: RMSNorm eps 1e-5


@dataclass(frozen=True)
class LcmConfig:
    """Shape of the Two-Tower LCM (the manifest's ``lcm.contextualizer`` / ``lcm.denoiser``)."""

    embedding_dim: int
    model_dim: int
    heads: int
    context_layers: int
    denoiser_layers: int
    ffn_dim: int
    max_context: int = 4096
    rope_theta: float = 10000.0
    timestep_dim: int = 256  # DiTTimestepEncoder frequency_embedding_size

    def __post_init__(self) -> None:
        if self.model_dim % self.heads:
            raise ValueError(f"model_dim {self.model_dim} is not divisible by heads {self.heads}")
        if (self.model_dim // self.heads) % 2:
            raise ValueError("rotary positions need an even head dimension")

    @property
    def head_dim(self) -> int:
        return self.model_dim // self.heads


class RMSNorm(nn.Module):
    """x · rsqrt(mean(x²) + eps) · weight (fairseq2 RMSNorm, no bias)."""

    def __init__(self, dim: int, eps: float = RMS_NORM_EPS):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.weight


class SwiGLU(nn.Module):
    """fairseq2 GLUFeedForwardNetwork: output_proj(silu(gate_proj(x)) * inner_proj(x)), biased linears."""

    def __init__(self, model_dim: int, ffn_dim: int):
        super().__init__()
        self.gate_proj = nn.Linear(model_dim, ffn_dim)
        self.inner_proj = nn.Linear(model_dim, ffn_dim)
        self.output_proj = nn.Linear(ffn_dim, model_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.output_proj(F.silu(self.gate_proj(x)) * self.inner_proj(x))


def rope_inv_freq(head_dim: int, theta: float) -> Tensor:
    """θ^(−2k/Dh) for k < Dh/2 (fairseq2 RotaryEncoder), float32."""
    return 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))


def apply_rope(x: Tensor, positions: Tensor, inv_freq: Tensor) -> Tensor:
    """Rotate adjacent pairs (2k, 2k+1) of x [B, H, T, Dh] by positions[T]·inv_freq[k] (interleaved, not half-split)."""
    angles = positions.to(torch.float32).unsqueeze(1) * inv_freq.unsqueeze(0)  # [T, Dh/2]
    cos, sin = torch.cos(angles), torch.sin(angles)
    b, h, t, d = x.shape
    pairs = x.reshape(b, h, t, d // 2, 2)
    x0, x1 = pairs[..., 0], pairs[..., 1]
    return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1).reshape(b, h, t, d)


class ContextLayer(nn.Module):
    def __init__(self, cfg: LcmConfig):
        super().__init__()
        self.self_attn_layer_norm = RMSNorm(cfg.model_dim)
        self.self_attn = MultiheadAttention(cfg.model_dim, cfg.heads)
        self.ffn_layer_norm = RMSNorm(cfg.model_dim)
        self.ffn = SwiGLU(cfg.model_dim, cfg.ffn_dim)

    def forward(
        self, x: Tensor, positions: Tensor, inv_freq: Tensor, past_k: Tensor, past_v: Tensor, mask: Tensor
    ) -> Tuple[Tensor, Tensor, Tensor]:
        h = self.self_attn_layer_norm(x)
        q = apply_rope(self.self_attn.project_q(h), positions, inv_freq)
        k, v = self.self_attn.project_kv(h)
        k = torch.cat([past_k, apply_rope(k, positions, inv_freq)], dim=2)  # the cache holds rotated keys
        v = torch.cat([past_v, v], dim=2)
        x = x + self.self_attn.attend(q, k, v, mask)
        return x + self.ffn(self.ffn_layer_norm(x)), k, v


class Frontend(nn.Module):
    """``encoder_frontend.pre_linear``: the contextualizer's PreNet Linear(E→D)."""

    def __init__(self, cfg: LcmConfig):
        super().__init__()
        self.pre_linear = nn.Linear(cfg.embedding_dim, cfg.model_dim)


class ContextEncoder(nn.Module):
    def __init__(self, cfg: LcmConfig):
        super().__init__()
        self.layers = nn.ModuleList([ContextLayer(cfg) for _ in range(cfg.context_layers)])
        self.layer_norm = RMSNorm(cfg.model_dim)


class TimestepEncoder(nn.Module):
    """DiTTimestepEncoder: 256-d [cos | sin] sinusoid → fc1 → SiLU → fc2."""

    def __init__(self, cfg: LcmConfig):
        super().__init__()
        self.dim = cfg.timestep_dim
        self.fc1 = nn.Linear(cfg.timestep_dim, cfg.model_dim)
        self.fc2 = nn.Linear(cfg.model_dim, cfg.model_dim)

    def sinusoid(self, timesteps: Tensor) -> Tensor:
        """[N] → [N, 256], computed in float32 in the reference's order of operations."""
        half = self.dim // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(0, half, dtype=torch.float32) / half)
        args = timesteps.to(torch.float32).unsqueeze(-1) * freqs
        return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)

    def forward(self, timesteps: Tensor) -> Tensor:
        return self.fc2(F.silu(self.fc1(self.sinusoid(timesteps))))


class Modulator(nn.Module):
    """AdaLNModulator: ``fc`` = Linear(D→9D) on SiLU(t_emb), chunked (self, cross, ffn) × (shift, scale, gate)."""

    def __init__(self, cfg: LcmConfig):
        super().__init__()
        self.fc = nn.Linear(cfg.model_dim, 9 * cfg.model_dim)

    def forward(self, t_emb: Tensor) -> List[Tuple[Tensor, Tensor, Tensor]]:
        blocks = self.fc(F.silu(t_emb)).chunk(3, dim=-1)
        return [tuple(b.chunk(3, dim=-1)) for b in blocks]  # type: ignore[misc]


class DenoiserLayer(nn.Module):
    def __init__(self, cfg: LcmConfig):
        super().__init__()
        d = cfg.model_dim
        self.self_attn_layer_norm = RMSNorm(d)
        self.self_attn = MultiheadAttention(d, cfg.heads)
        self.cross_attention_layer_norm = RMSNorm(d)
        self.cross_attention = MultiheadAttention(d, cfg.heads)
        self.ffn_layer_norm = RMSNorm(d)
        self.ffn = SwiGLU(d, cfg.ffn_dim)
        self.modulator = Modulator(cfg)

    def forward(
        self, x: Tensor, t_emb: Tensor, self_mask: Optional[Tensor], cross_k: Tensor, cross_v: Tensor, cross_mask: Tensor
    ) -> Tensor:
        """x [B, N, D], t_emb [B, N, D]; cross_k/v [B|1, H, M, Dh]; masks additive, broadcastable to [B, H, N, ·]."""
        (s_shift, s_scale, s_gate), (c_shift, c_scale, c_gate), (f_shift, f_scale, f_gate) = self.modulator(t_emb)
        h = self.self_attn_layer_norm(x) * (1 + s_scale) + s_shift
        k, v = self.self_attn.project_kv(h)
        x = x + s_gate * self.self_attn.attend(self.self_attn.project_q(h), k, v, self_mask)
        h = self.cross_attention_layer_norm(x) * (1 + c_scale) + c_shift
        x = x + c_gate * self.cross_attention.attend(self.cross_attention.project_q(h), cross_k, cross_v, cross_mask)
        h = self.ffn_layer_norm(x) * (1 + f_scale) + f_shift
        return x + f_gate * self.ffn(h)


class Denoiser(nn.Module):
    def __init__(self, cfg: LcmConfig):
        super().__init__()
        self.cfg = cfg
        self.initial_proj = nn.Linear(cfg.embedding_dim, cfg.model_dim)
        self.embed_time = TimestepEncoder(cfg)
        self.layers = nn.ModuleList([DenoiserLayer(cfg) for _ in range(cfg.denoiser_layers)])
        self.layer_norm = RMSNorm(cfg.model_dim)
        self.final_proj = nn.Linear(cfg.model_dim, cfg.embedding_dim)

    def cross_kv(self, context: Tensor) -> Tuple[List[Tensor], List[Tensor]]:
        """denoiser_context.onnx: context rows [1, T, D] → per-layer cross keys/values [1, H, T, Dh].

        Position-wise, so the engine projects each context row once and appends; key 0
        is this applied to a zero row (the projection biases).
        """
        keys, values = [], []
        for layer in self.layers:
            k, v = layer.cross_attention.project_kv(context)
            keys.append(k)
            values.append(v)
        return keys, values

    def run(self, noisy: Tensor, timesteps: Tensor, self_mask: Optional[Tensor],
            cross_k: Sequence[Tensor], cross_v: Sequence[Tensor], cross_mask: Tensor) -> Tensor:
        """Shared body: noisy [B, N, E], timesteps [B, N] → x0 [B, N, E]."""
        x = self.initial_proj(noisy)
        t_emb = self.embed_time(timesteps)
        for layer, k, v in zip(self.layers, cross_k, cross_v):
            x = layer(x, t_emb, self_mask, k, v, cross_mask)
        return self.final_proj(self.layer_norm(x))

    def denoise(self, noisy: Tensor, timesteps: Tensor, cross_k: Sequence[Tensor], cross_v: Sequence[Tensor],
                cross_mask: Tensor) -> Tensor:
        """denoiser.onnx: noisy [B, E], timesteps int64 [B], cross keys/values [1, H, M, Dh] (shared by the batch),
        cross_mask float [B, M] (1 attend, 0 masked; column 0 always 1) → x0 [B, E].

        One position per row, so self-attention sees only itself (as in training).
        """
        mask = additive_mask(cross_mask > 0.5)[:, None, None, :]  # [B, 1, 1, M]
        return self.run(noisy.unsqueeze(1), timesteps.unsqueeze(1), None, cross_k, cross_v, mask).squeeze(1)


class SonarNormalizer(nn.Module):
    """Per-dimension robust scaler: normalize = (x − center)/scale, denormalize = y·scale + center."""

    def __init__(self, center: Tensor, scale: Tensor):
        super().__init__()
        if bool((scale <= 0).any()) or not bool(torch.isfinite(center).all() and torch.isfinite(scale).all()):
            raise ValueError("normalizer scale must be finite and > 0 and center finite")
        self.register_buffer("center", center.to(torch.float32).clone())
        self.register_buffer("scale", scale.to(torch.float32).clone())

    def normalize(self, x: Tensor) -> Tensor:
        return (x - self.center) / self.scale

    def denormalize(self, y: Tensor) -> Tensor:
        return y * self.scale + self.center


def causal_layers(layers: Sequence[nn.Module], x: Tensor, inv_freq: Tensor, past_keys: Sequence[Tensor],
                  past_values: Sequence[Tensor]) -> Tuple[Tensor, List[Tensor], List[Tensor]]:
    """Causal context layers over new rows x [B, T, D] after P cached rows (rotary positions P…P+T−1):
    (x, present keys, present values), each present [B, H, P+T, Dh]. Every LCM design's contextualizer."""
    past_len = past_keys[0].shape[2]
    new_len = x.shape[1]
    positions = (torch.arange(new_len) + past_len).to(x.device)
    mask = causal_mask(new_len, past_len).to(x.device)
    keys, values = [], []
    for layer, pk, pv in zip(layers, past_keys, past_values):
        x, k, v = layer(x, positions, inv_freq, pk, pv, mask)
        keys.append(k)
        values.append(v)
    return x, keys, values


def empty_kv(cfg: Any, batch: int, layers: int) -> Tuple[List[Tensor], List[Tensor]]:
    """An empty key/value cache of `layers` context layers (`cfg`: anything with heads and head_dim)."""
    shape = (batch, cfg.heads, 0, cfg.head_dim)
    return [torch.zeros(shape) for _ in range(layers)], [torch.zeros(shape) for _ in range(layers)]


class TwoTowerLCM(nn.Module):
    """Contextualizer (``encoder_frontend`` + ``context_encoder``) and ``denoiser``."""

    def __init__(self, cfg: LcmConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder_frontend = Frontend(cfg)
        self.context_encoder = ContextEncoder(cfg)
        self.denoiser = Denoiser(cfg)
        self.register_buffer("rope_inv_freq", rope_inv_freq(cfg.head_dim, cfg.rope_theta), persistent=False)

    def empty_cache(self, batch: int) -> Tuple[List[Tensor], List[Tensor]]:
        return empty_kv(self.cfg, batch, self.cfg.context_layers)

    def contextualize(self, embeddings: Tensor, past_keys: Sequence[Tensor], past_values: Sequence[Tensor]
                      ) -> Tuple[Tensor, List[Tensor], List[Tensor]]:
        """contextualizer.onnx: normalized embeddings [B, T, E] after P cached rows → hidden [B, T, D], present [B,H,P+T,Dh]."""
        x, keys, values = causal_layers(self.context_encoder.layers, self.encoder_frontend.pre_linear(embeddings),
                                        self.rope_inv_freq, past_keys, past_values)
        return self.context_encoder.layer_norm(x), keys, values

    def forward_train(self, clean: Tensor, noisy: Tensor, timesteps: Tensor, uncond: Optional[Tensor] = None) -> Tensor:
        """Training form over whole documents.

        clean, noisy: normalized [B, N, E] (x_0 and x_t of every position); timesteps int64 [B, N];
        uncond: bool [B, N], positions that see only the zero key (classifier-free guidance dropout).
        Position n is denoised with cross-attention to key 0 and the contextualizer outputs of
        positions < n (keys 0…n of the zero-prepended sequence). Returns predicted x0 [B, N, E].
        Right-padded documents need no mask: causality keeps padding out of every real
        position; leave padded positions out of the loss.
        """
        b, n, _ = clean.shape
        past_k, past_v = self.empty_cache(b)
        hidden = self.contextualize(clean, past_k, past_v)[0]
        context = torch.cat([torch.zeros_like(hidden[:, :1]), hidden], dim=1)  # [B, N+1, D]
        allowed = torch.arange(n + 1).unsqueeze(0) <= torch.arange(n).unsqueeze(1)  # [N, N+1]
        allowed = allowed.unsqueeze(0).expand(b, n, n + 1)
        if uncond is not None:
            allowed = allowed & ~(uncond.unsqueeze(-1) & (torch.arange(n + 1) > 0))
        cross_mask = additive_mask(allowed).unsqueeze(1)  # [B, 1, N, N+1]
        self_mask = additive_mask(torch.eye(n, dtype=torch.bool))  # each position sees only itself
        cross_k, cross_v = self.denoiser.cross_kv(context)
        return self.denoiser.run(noisy, timesteps, self_mask, cross_k, cross_v, cross_mask)

    def uncond_mask(self, batch: int, n: int, p: float, generator: torch.Generator) -> Tensor:
        """Classifier-free guidance dropout for training: each position unconditional with probability p (≈0.15)."""
        return torch.rand(batch, n, generator=generator) < p


def check_train_inference_consistency(model: TwoTowerLCM, clean: Tensor, noisy: Tensor, timesteps: Tensor,
                                      uncond: Tensor) -> float:
    """Max |training form − inference pieces| for one document (B = 1).

    Inference side: contextualize incrementally in two chunks, then for each position n
    build keys from [zero; hidden[:n]] with ``cross_kv`` and call ``denoise`` with a mask of
    ones (or only column 0 where ``uncond``).
    """
    with torch.no_grad():
        ref = model.forward_train(clean, noisy, timesteps, uncond)[0]
        n = clean.shape[1]
        cut = max(1, n // 2)
        pk, pv = model.empty_cache(1)
        h1, pk, pv = model.contextualize(clean[:, :cut], pk, pv)
        h2 = model.contextualize(clean[:, cut:], pk, pv)[0]
        hidden = torch.cat([h1, h2], dim=1)
        rows = torch.cat([torch.zeros(1, 1, model.cfg.model_dim), hidden], dim=1)
        ck, cv = model.denoiser.cross_kv(rows)
        worst = 0.0
        for i in range(n):
            mask = torch.zeros(1, n + 1)
            mask[0, : i + 1] = 1.0
            if bool(uncond[0, i]):
                mask[0, 1:] = 0.0
            x0 = model.denoiser.denoise(noisy[:, i], timesteps[:, i], ck, cv, mask)
            worst = max(worst, float((x0[0] - ref[i]).abs().max()))
        return worst
