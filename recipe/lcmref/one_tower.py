"""One-Tower diffusion LCM (LCM paper §2.3.3, left panel of its diffusion-LCM figure), per docs/variants.md.

Meta released no One-Tower code; this follows the paper's description and reuses the
Two-Tower building blocks (``two_tower``: RMSNorm, SwiGLU, rotary positions, the
DiT timestep encoder) so both diffusion LCMs differ only where the paper says they do.

- One causal transformer reads an interleaved sequence of clean concepts x0_i and
  noisy concepts x_t_n. Each input is concatenated with its diffusion timestep
  embedding (paper: "each input embedding is concatenated with the corresponding
  diffusion timestep embedding"); clean rows carry t = 0. The timestep embedding is
  the DiT encoder (256-d [cos | sin] sinusoid → fc1 → SiLU → fc2, D wide); the PreNet
  ``frontend.pre_linear`` is Linear(E + D → D) on [x ; t_emb], which is Meta's
  ``LCMFrontend(timestep_embed_dim=…)`` layout.
- Attention mask: a clean row i sees the clean rows j ≤ i; a noisy row n sees the
  clean rows j < n and itself, never another noisy row. Classifier-free guidance:
  an unconditional noisy row sees only itself (training drops its context with
  probability ≈ 0.15, as the paper's "self-attention can be dropped").
- Positions: rotary, θ = ``rope_theta``; clean row i and the noisy row that predicts
  concept i share position i. (The paper adds learned positions; rotary is what
  Meta's released LCMs use, and it keeps the clean rows' keys independent of how
  many noisy rows sit between them.)
- Layers: pre-RMSNorm (eps 1e-5), attention with bias, SwiGLU; final RMSNorm;
  PostNet ``postnet.fc`` Linear(D → E). The noisy rows' outputs are x̂0 (normalized
  space, prediction type "sample").

Why the clean keys/values can be cached exactly: no clean row ever attends to a
noisy row, so the clean rows' keys and values at every layer depend only on the
clean rows before them. Sampling therefore runs the whole stack for the one noisy
row at each denoising step, against cached clean keys/values, with the same result
as re-running the interleaved sequence (``check_train_inference_consistency``).

Two forms: ``forward_train`` (the whole interleaved document, laid out as
[clean rows; noisy rows] with the mask above: attention is permutation-equivariant
given explicit positions and mask, so this is the interleaved computation) and the
inference pieces the ONNX graphs export: ``context`` (clean rows → per-layer keys and
values, incremental) and ``denoise`` (noisy rows against the cached context).
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .sonar import additive_mask
from .two_tower import ContextLayer, LcmConfig, RMSNorm, TimestepEncoder, apply_rope, rope_inv_freq

ARCHITECTURE = "one-tower-diffusion"


@dataclass(frozen=True)
class OneTowerConfig:
    """Shape of the One-Tower LCM (the manifest's ``lcm.contextualizer`` = ``lcm.denoiser`` shape)."""

    embedding_dim: int
    model_dim: int
    heads: int
    layers: int
    ffn_dim: int
    max_context: int = 4096
    rope_theta: float = 10000.0
    timestep_dim: int = 256

    def __post_init__(self) -> None:
        if self.model_dim % self.heads:
            raise ValueError(f"model_dim {self.model_dim} is not divisible by heads {self.heads}")
        if (self.model_dim // self.heads) % 2:
            raise ValueError("rotary positions need an even head dimension")
        if self.timestep_dim % 2:
            raise ValueError("timestep_dim must be even ([cos | sin] halves)")

    @property
    def head_dim(self) -> int:
        return self.model_dim // self.heads

    def layer_config(self) -> LcmConfig:
        return LcmConfig(embedding_dim=self.embedding_dim, model_dim=self.model_dim, heads=self.heads,
                         context_layers=self.layers, denoiser_layers=0, ffn_dim=self.ffn_dim,
                         max_context=self.max_context, rope_theta=self.rope_theta, timestep_dim=self.timestep_dim)


class OneTowerFrontend(nn.Module):
    """``frontend.pre_linear``: Linear(E + D → D) on [x ; timestep embedding]."""

    def __init__(self, cfg: OneTowerConfig):
        super().__init__()
        self.pre_linear = nn.Linear(cfg.embedding_dim + cfg.model_dim, cfg.model_dim)


class PostNet(nn.Module):
    def __init__(self, cfg: OneTowerConfig):
        super().__init__()
        self.fc = nn.Linear(cfg.model_dim, cfg.embedding_dim)


def _attend_layer(layer: ContextLayer, x: Tensor, positions: Tensor, inv_freq: Tensor, prefix_k: Optional[Tensor],
                  prefix_v: Optional[Tensor], mask: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """One pre-norm layer; keys/values of ``x``'s rows are appended after ``prefix_k/v`` (broadcast to the batch).

    Returns (x out, rotated keys of x's rows, values of x's rows).
    """
    h = layer.self_attn_layer_norm(x)
    q = apply_rope(layer.self_attn.project_q(h), positions, inv_freq)
    k, v = layer.self_attn.project_kv(h)
    k = apply_rope(k, positions, inv_freq)
    if prefix_k is not None and prefix_v is not None:
        b = x.shape[0]
        keys = torch.cat([prefix_k.expand(b, -1, -1, -1), k], dim=2)
        vals = torch.cat([prefix_v.expand(b, -1, -1, -1), v], dim=2)
    else:
        keys, vals = k, v
    x = x + layer.self_attn.attend(q, keys, vals, mask)
    return x + layer.ffn(layer.ffn_layer_norm(x)), k, v


class OneTowerLCM(nn.Module):
    ARCHITECTURE = ARCHITECTURE

    def __init__(self, cfg: OneTowerConfig):
        super().__init__()
        self.cfg = cfg
        lc = cfg.layer_config()
        self.frontend = OneTowerFrontend(cfg)
        self.embed_time = TimestepEncoder(lc)
        self.layers = nn.ModuleList([ContextLayer(lc) for _ in range(cfg.layers)])
        self.layer_norm = RMSNorm(cfg.model_dim)
        self.postnet = PostNet(cfg)
        self.register_buffer("rope_inv_freq", rope_inv_freq(cfg.head_dim, cfg.rope_theta), persistent=False)

    def empty_cache(self, batch: int = 1) -> Tuple[List[Tensor], List[Tensor]]:
        shape = (batch, self.cfg.heads, 0, self.cfg.head_dim)
        return [torch.zeros(shape) for _ in range(self.cfg.layers)], [torch.zeros(shape) for _ in range(self.cfg.layers)]

    def time_embedding(self, timesteps: Tensor) -> Tensor:
        """``embed_time`` (two_tower.TimestepEncoder), with its sinusoid built on the timesteps' device
        (same operations in the same order, so the same float32 values)."""
        enc = self.embed_time
        half = enc.dim // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(0, half, dtype=torch.float32, device=timesteps.device) / half)
        args = timesteps.to(torch.float32).unsqueeze(-1) * freqs
        return enc.fc2(F.silu(enc.fc1(torch.cat([torch.cos(args), torch.sin(args)], dim=-1))))

    def embed(self, x: Tensor, timesteps: Tensor) -> Tensor:
        """[B, N, E], int64 [B, N] → pre_linear([x ; t_emb]) [B, N, D]."""
        return self.frontend.pre_linear(torch.cat([x, self.time_embedding(timesteps)], dim=-1))

    def context(self, clean: Tensor, past_keys: Sequence[Tensor], past_values: Sequence[Tensor]
                ) -> Tuple[List[Tensor], List[Tensor]]:
        """contextualizer.onnx of a one-tower pack: normalized clean rows [B, T, E] after P cached rows →
        present keys/values [B, H, P+T, Dh] of every layer (clean rows carry t = 0, positions P…P+T−1,
        causal among clean rows)."""
        t = clean.shape[1]
        past_len = past_keys[0].shape[2]
        positions = torch.arange(t) + past_len
        allowed = torch.arange(past_len + t).unsqueeze(0) <= positions.unsqueeze(1)  # [T, P+T]
        mask = additive_mask(allowed)
        x = self.embed(clean, torch.zeros_like(clean[..., 0], dtype=torch.long))
        keys, values = [], []
        for layer, pk, pv in zip(self.layers, past_keys, past_values):
            h = layer.self_attn_layer_norm(x)
            q = apply_rope(layer.self_attn.project_q(h), positions, self.rope_inv_freq)
            k, v = layer.self_attn.project_kv(h)
            k = torch.cat([pk, apply_rope(k, positions, self.rope_inv_freq)], dim=2)
            v = torch.cat([pv, v], dim=2)
            x = x + layer.self_attn.attend(q, k, v, mask)
            x = x + layer.ffn(layer.ffn_layer_norm(x))
            keys.append(k)
            values.append(v)
        return keys, values

    def denoise(self, noisy: Tensor, timesteps: Tensor, context_keys: Sequence[Tensor], context_values: Sequence[Tensor],
                context_mask: Tensor) -> Tensor:
        """denoiser.onnx of a one-tower pack: noisy [B, E], timesteps int64 [B], context keys/values
        [1, H, P, Dh] (shared by the batch), context_mask float [B, P] (1 attend, 0 masked) → x0 [B, E].

        The noisy row sits at position P and attends to the unmasked context rows and itself.
        """
        p = context_keys[0].shape[2]
        positions = torch.arange(1) + p
        allowed = torch.cat([context_mask > 0.5, torch.ones_like(noisy[:, :1], dtype=torch.bool)], dim=1)  # [B, P+1]
        mask = additive_mask(allowed)[:, None, None, :]
        x = self.embed(noisy.unsqueeze(1), timesteps.unsqueeze(1))
        for layer, ck, cv in zip(self.layers, context_keys, context_values):
            x = _attend_layer(layer, x, positions, self.rope_inv_freq, ck, cv, mask)[0]
        return self.postnet.fc(self.layer_norm(x)).squeeze(1)

    def forward_train(self, clean: Tensor, noisy: Tensor, timesteps: Tensor, uncond: Optional[Tensor] = None) -> Tensor:
        """Whole documents: clean, noisy normalized [B, N, E] (x_0, x_t of every concept), timesteps int64 [B, N],
        uncond bool [B, N] (rows that see no context) → predicted x0 [B, N, E].

        Noisy row n predicts concept n from clean rows < n. Right-padded documents need no mask
        (causality keeps padding out of every real row); leave padded rows out of the loss.
        """
        b, n, _ = clean.shape
        dev = clean.device
        x = torch.cat([self.embed(clean, torch.zeros_like(timesteps)), self.embed(noisy, timesteps)], dim=1)  # [B, 2N, D]
        positions = torch.cat([torch.arange(n, device=dev), torch.arange(n, device=dev)])
        i = torch.arange(n, device=dev)
        clean_rows = torch.cat([i.unsqueeze(0) <= i.unsqueeze(1), torch.zeros(n, n, dtype=torch.bool, device=dev)], dim=1)  # [N, 2N]
        noisy_ctx = (i.unsqueeze(0) < i.unsqueeze(1)).unsqueeze(0).expand(b, n, n)  # [B, N, N]
        if uncond is not None:
            noisy_ctx = noisy_ctx & ~uncond.unsqueeze(-1)
        noisy_rows = torch.cat([noisy_ctx, torch.eye(n, dtype=torch.bool, device=dev).unsqueeze(0).expand(b, n, n)], dim=2)
        allowed = torch.cat([clean_rows.unsqueeze(0).expand(b, n, 2 * n), noisy_rows], dim=1)  # [B, 2N, 2N]
        mask = additive_mask(allowed).unsqueeze(1)
        for layer in self.layers:
            x = _attend_layer(layer, x, positions, self.rope_inv_freq, None, None, mask)[0]
        return self.postnet.fc(self.layer_norm(x[:, n:]))


def check_train_inference_consistency(model: OneTowerLCM, clean: Tensor, noisy: Tensor, timesteps: Tensor,
                                      uncond: Tensor) -> float:
    """Max |training form − inference pieces| for one document (B = 1): context in two chunks, then
    ``denoise`` of each noisy row against the first n cached rows (mask all 0 where ``uncond``)."""
    with torch.no_grad():
        ref = model.forward_train(clean, noisy, timesteps, uncond)[0]
        n = clean.shape[1]
        cut = max(1, n // 2)
        pk, pv = model.empty_cache(1)
        pk, pv = model.context(clean[:, :cut], pk, pv)
        keys, values = model.context(clean[:, cut:], pk, pv)
        worst = 0.0
        for i in range(n):
            ck = [k[:, :, :i] for k in keys]
            cv = [v[:, :, :i] for v in values]
            mask = torch.zeros(1, i) if bool(uncond[0, i]) else torch.ones(1, i)
            x0 = model.denoise(noisy[:, i], timesteps[:, i], ck, cv, mask)
            worst = max(worst, float((x0[0] - ref[i]).abs().max()))
        return worst


__all__ = ["ARCHITECTURE", "OneTowerConfig", "OneTowerLCM", "check_train_inference_consistency"]
