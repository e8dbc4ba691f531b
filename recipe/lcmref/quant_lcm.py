"""Quant-LCM (LCM paper §2.3.4): the next concept as residual-vector-quantization units.

Meta released no Quant-LCM code; this follows the paper's text (docs/variants.md says where
we chose). The concept vectors are quantized by an RVQ of L codebooks (``rvq.ResidualVQ``,
normalized space). The model is the Two-Tower's two towers (``two_tower`` blocks):

- the contextualizer (``encoder_frontend`` + ``context_encoder``): causal, rotary, over the
  normalized context concepts; its outputs are the memory of the head;
- the head (``head``, the Two-Tower ``Denoiser`` class): input row = ``initial_proj`` of the
  *partial sum* s_l = Σ_{j<l} c_j (the centroids chosen at the levels before l; zero at
  l = 0), conditioned through AdaLN on the codebook level l (the DiT timestep encoder with the
  level in place of the diffusion timestep); cross-attention to [zero row; context rows].

Two variants (``QuantLcmConfig.variant``):

- ``quant-discrete`` (Quant-LCM-d): logits over the K units of codebook l,
  logits_k = ⟨final_proj(h), c_{l,k}⟩ (the output is tied to the codebook, so the head has
  no L×K×D output layer); trained with cross-entropy against the unit RVQ chose.
- ``quant-continuous`` (Quant-LCM-c): the head predicts the continuous residual
  r̂ = x − s_l (MSE); a unit is then chosen by its distance, score_k = −‖r̂ − c_{l,k}‖².

Sampling (both): per level, scores / temperature, top-k, softmax, one uniform draw per row
(``sample_unit``); temperature 0 is greedy (argmax, nothing drawn). After the L levels the
concept is s_L, the sum of its L centroids (normalized), denormalized by the caller.

The head graph (``denoiser.onnx`` of a quant pack) takes the context rows themselves and
prepends the zero row inside (the pack format's loader knows two LCM graph roles for this
design; docs/variants.md); the keys/values of the context rows are projected per call.
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .rng import Rng
from .rvq import ResidualVQ
from .sonar import additive_mask
from .two_tower import ContextEncoder, Denoiser, Frontend, LcmConfig, SonarNormalizer, causal_layers, empty_kv, rope_inv_freq

VARIANTS = ("quant-discrete", "quant-continuous")


@dataclass(frozen=True)
class QuantLcmConfig:
    """Shape of the Quant-LCM (the manifest's ``lcm.contextualizer``, ``lcm.denoiser``, ``lcm.codebooks``)."""

    embedding_dim: int
    model_dim: int
    heads: int
    context_layers: int
    head_layers: int
    ffn_dim: int
    levels: int
    codebook_size: int
    variant: str = "quant-discrete"
    max_context: int = 4096
    rope_theta: float = 10000.0
    level_dim: int = 64  # sinusoid width of the level embedding (the Two-Tower's timestepDim)

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        self.lcm_config()  # checks the head shape

    def lcm_config(self) -> LcmConfig:
        return LcmConfig(embedding_dim=self.embedding_dim, model_dim=self.model_dim, heads=self.heads,
                         context_layers=self.context_layers, denoiser_layers=self.head_layers, ffn_dim=self.ffn_dim,
                         max_context=self.max_context, rope_theta=self.rope_theta, timestep_dim=self.level_dim)

    @property
    def head_dim(self) -> int:
        return self.model_dim // self.heads

    @property
    def denoiser_layers(self) -> int:
        """The head's layers under the Two-Tower's name (the recipe's model card reads that)."""
        return self.head_layers


class QuantLCM(nn.Module):
    def __init__(self, cfg: QuantLcmConfig, rvq: ResidualVQ):
        super().__init__()
        if (rvq.levels, rvq.size, rvq.dim) != (cfg.levels, cfg.codebook_size, cfg.embedding_dim):
            raise ValueError(f"codebooks are {rvq.levels}×{rvq.size}×{rvq.dim}; the config wants "
                             f"{cfg.levels}×{cfg.codebook_size}×{cfg.embedding_dim}")
        self.cfg = cfg
        self.ARCHITECTURE = cfg.variant
        lc = cfg.lcm_config()
        self.encoder_frontend = Frontend(lc)
        self.context_encoder = ContextEncoder(lc)
        self.head = Denoiser(lc)
        self.register_buffer("codebooks", rvq.codebooks.clone())  # [L, K, E], not trained
        self.register_buffer("rope_inv_freq", rope_inv_freq(cfg.head_dim, cfg.rope_theta), persistent=False)

    @property
    def discrete(self) -> bool:
        return self.cfg.variant == "quant-discrete"

    @property
    def rvq(self) -> ResidualVQ:
        return ResidualVQ(self.codebooks)

    def empty_cache(self, batch: int) -> Tuple[List[Tensor], List[Tensor]]:
        return empty_kv(self.cfg, batch, self.cfg.context_layers)

    def contextualize(self, embeddings: Tensor, past_keys: Sequence[Tensor], past_values: Sequence[Tensor]
                      ) -> Tuple[Tensor, List[Tensor], List[Tensor]]:
        """contextualizer.onnx: normalized [B, T, E] after P cached rows → hidden [B, T, D], present [B, H, P+T, Dh]."""
        x, keys, values = causal_layers(self.context_encoder.layers, self.encoder_frontend.pre_linear(embeddings),
                                        self.rope_inv_freq, past_keys, past_values)
        return self.context_encoder.layer_norm(x), keys, values

    def _output(self, y: Tensor, levels: Tensor) -> Tensor:
        """Head output y [..., E] at levels [...] → logits [..., K] (discrete) or the residual y (continuous)."""
        if not self.discrete:
            return y
        books = self.codebooks[levels]  # [..., K, E]
        return torch.matmul(books, y.unsqueeze(-1)).squeeze(-1)

    def head_step(self, partial: Tensor, level: Tensor, context: Tensor) -> Tensor:
        """The head on partial sums [B, E] (normalized), level int64 [B] and context rows [1, P, D]
        (contextualizer outputs; P may be 0) → logits [B, K] or residual [B, E].

        The head cross-attends to [zero row; context] (the zero row's keys are the projection biases,
        so an empty context works); every row sees every key. The pack splits this in two graphs, as
        the Two-Tower's denoiser: ``head_context`` (denoiser_context.onnx, each context row's cross
        keys/values, computed once per row) and ``head_from_kv`` (denoiser.onnx, once per level).
        """
        rows = torch.cat([torch.zeros(1, 1, self.cfg.model_dim, dtype=context.dtype, device=context.device), context], dim=1)
        return self.head_from_kv(partial, level, *self.head_context(rows))

    def head_context(self, rows: Tensor) -> Tuple[List[Tensor], List[Tensor]]:
        """denoiser_context.onnx of a quant pack: rows [1, T, D] → per-layer cross keys/values [1, H, T, Dh]
        (position-wise: the engine projects the zero row once, then each context row as it arrives)."""
        return self.head.cross_kv(rows)

    def head_from_kv(self, partial: Tensor, level: Tensor, cross_k: Sequence[Tensor], cross_v: Sequence[Tensor]
                     ) -> Tensor:
        """denoiser.onnx of a quant pack: partial [B, E], level [B], cross keys/values [1, H, M, Dh] of
        [zero row; context] → logits [B, K] or residual [B, E]."""
        y = self.head.run(partial.unsqueeze(1), level.unsqueeze(1), None, cross_k, cross_v, None).squeeze(1)
        return self._output(y, level)

    def forward_train(self, clean: Tensor, partial: Tensor, levels: Tensor) -> Tensor:
        """Whole documents: clean normalized [B, N, E] (the contextualizer's input), partial [B, N, E] = s_l of
        each position's concept at its level, levels int64 [B, N] → logits [B, N, K] or residuals [B, N, E].
        Position n's head sees [zero; hidden rows < n] (as the Two-Tower's denoiser)."""
        b, n, _ = clean.shape
        past_k, past_v = self.empty_cache(b)
        hidden = self.contextualize(clean, [k.to(clean) for k in past_k], [v.to(clean) for v in past_v])[0]
        context = torch.cat([torch.zeros_like(hidden[:, :1]), hidden], dim=1)
        dev = clean.device
        allowed = (torch.arange(n + 1, device=dev).unsqueeze(0) <= torch.arange(n, device=dev).unsqueeze(1))
        cross_mask = additive_mask(allowed.unsqueeze(0).expand(b, n, n + 1)).unsqueeze(1)
        self_mask = additive_mask(torch.eye(n, dtype=torch.bool, device=dev))
        ck, cv = self.head.cross_kv(context)
        y = self.head.run(partial, levels, self_mask, ck, cv, cross_mask)
        return self._output(y, levels)


def training_targets(model: QuantLCM, clean: Tensor, codes: Tensor, generator: torch.Generator
                     ) -> Tuple[Tensor, Tensor, Tensor]:
    """One random level per position: (levels [B, N], partial sums [B, N, E], targets).

    ``codes`` [B, N, L] are the RVQ codes of ``clean``. Targets: the unit at that level (int64 [B, N],
    discrete) or the residual clean − partial ([B, N, E], continuous).
    """
    b, n, L = codes.shape
    levels = torch.randint(0, L, (b, n), generator=generator).to(clean.device)
    books = model.codebooks  # [L, K, E]
    chosen = books[torch.arange(L, device=clean.device).view(1, 1, L).expand(b, n, L), codes]  # [B, N, L, E]
    below = (torch.arange(L, device=clean.device).view(1, 1, L) < levels.unsqueeze(-1)).to(clean.dtype)
    partial = (chosen * below.unsqueeze(-1)).sum(dim=2)
    if model.discrete:
        return levels, partial, codes.gather(2, levels.unsqueeze(-1)).squeeze(-1)
    return levels, partial, clean - partial


def quant_loss(model: QuantLCM, clean: Tensor, codes: Tensor, generator: torch.Generator,
               lengths: Optional[Tensor] = None, weights: Optional[Tensor] = None) -> Tensor:
    """Cross-entropy (discrete) or MSE (continuous) at one random level per concept, mean over real positions.

    ``weights`` [B, N] (optional): a per-concept weight, e.g. its fragility (docs/variants.md).
    """
    levels, partial, target = training_targets(model, clean, codes, generator)
    out = model.forward_train(clean, partial, levels)
    if model.discrete:
        per = F.cross_entropy(out.reshape(-1, out.shape[-1]), target.reshape(-1), reduction="none").view(target.shape)
    else:
        per = (out - target).pow(2).mean(dim=-1)
    b, n = per.shape
    valid = torch.ones(b, n, device=clean.device) if lengths is None else (
        torch.arange(n, device=clean.device).unsqueeze(0) < lengths.unsqueeze(1)).to(per.dtype)
    w = valid if weights is None else valid * weights
    return (per * w).sum() / w.sum().clamp(min=1e-8)


def check_train_inference_consistency(model: QuantLCM, clean: Tensor, partial: Tensor, levels: Tensor) -> float:
    """Max |training form − inference pieces| for one document [1, N, E]: contextualize in two chunks, then
    ``head_step`` per position with the context rows before it."""
    with torch.no_grad():
        ref = model.forward_train(clean, partial, levels)[0]
        n = clean.shape[1]
        cut = max(1, n // 2)
        pk, pv = model.empty_cache(1)
        h1, pk, pv = model.contextualize(clean[:, :cut], pk, pv)
        h2 = model.contextualize(clean[:, cut:], pk, pv)[0]
        hidden = torch.cat([h1, h2], dim=1)
        worst = 0.0
        for i in range(n):
            out = model.head_step(partial[:, i], levels[:, i], hidden[:, :i])
            worst = max(worst, float((out[0] - ref[i]).abs().max()))
        return worst


# ----------------------------------------------------------------------------------------------------------
# Sampling and generation (bit-compatible with src/inference/lcm/quantLcm.ts)


def unit_scores(model: QuantLCM, out: Tensor, level: int) -> List[List[float]]:
    """Per row, the K scores the sampler ranks: the logits (discrete) or −‖r̂ − c_{l,k}‖² summed in float64
    over e in order (continuous)."""
    rows = out.to(torch.float32).tolist()
    if model.discrete:
        return rows
    book = model.codebooks[level].tolist()
    scores = []
    for r in rows:
        s = []
        for c in book:
            acc = 0.0
            for a, b in zip(r, c):
                d = a - b
                acc += d * d
            s.append(-acc)
        scores.append(s)
    return scores


def sample_unit(scores: Sequence[float], temperature: float, top_k: int, rng: Rng) -> int:
    """One unit from K scores. Order by score (ties: lower index first); temperature 0: the first, nothing drawn;
    otherwise keep the top_k first (0 or ≥ K: all), weights exp((s − s_max)/T) in float64, one
    ``rng.uniform()`` u, the first unit whose running sum exceeds u·Σ (the last if rounding leaves none)."""
    if temperature < 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a finite number ≥ 0, got {temperature}")
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    if temperature == 0:
        return order[0]
    keep = order[:top_k] if 0 < top_k < len(order) else order
    top = scores[keep[0]]
    weights = [math.exp((scores[i] - top) / temperature) for i in keep]
    total = 0.0
    for w in weights:
        total += w
    u = rng.uniform() * total
    acc = 0.0
    for i, w in zip(keep, weights):
        acc += w
        if u < acc:
            return i
    return keep[-1]


class QuantContext:
    """The contextualizer's key/value cache and its output rows (the head's memory)."""

    def __init__(self, model: QuantLCM):
        self.model = model
        self.keys, self.values = model.empty_cache(1)
        self.hidden = torch.zeros(1, 0, model.cfg.model_dim)

    def feed(self, normalized: Tensor) -> None:
        if normalized.shape[0] == 0:
            return
        h, self.keys, self.values = self.model.contextualize(normalized.unsqueeze(0), self.keys, self.values)
        self.hidden = torch.cat([self.hidden, h], dim=1)

    def sample(self, candidates: int, rng: Rng, temperature: float, top_k: int) -> Tuple[Tensor, Tensor]:
        """(normalized vectors [C, E], codes [C, L]); draws level by level, candidate by candidate."""
        m = self.model
        partial = torch.zeros(candidates, m.cfg.embedding_dim)
        codes = torch.zeros(candidates, m.cfg.levels, dtype=torch.long)
        for lvl in range(m.cfg.levels):
            out = m.head_step(partial, torch.full((candidates,), lvl, dtype=torch.long), self.hidden)
            scores = unit_scores(m, out, lvl)
            for b in range(candidates):
                k = sample_unit(scores[b], temperature, top_k, rng)
                codes[b, lvl] = k
                partial[b] = partial[b] + m.codebooks[lvl, k]
        return partial, codes


@dataclass
class QuantRun:
    vectors: Tensor  # [n, E] raw, generated concepts (the stopping one included)
    codes: List[List[List[int]]]  # per concept: [candidates][L]
    stop_reason: str
    eot_cosines: List[Optional[float]]
    prev_cosines: List[Optional[float]]


def _cos(a: Tensor, b: Tensor) -> float:
    return float(F.cosine_similarity(a.reshape(1, -1), b.reshape(1, -1))[0])


@torch.no_grad()
def generate(model: QuantLCM, normalizer: SonarNormalizer, prompt: Tensor, rng: Rng, *, temperature: float,
             top_k: int, max_concepts: int, min_concepts: int = 1, eot_vector: Optional[Tensor] = None,
             eot_threshold: Optional[float] = None, repetition_threshold: Optional[float] = None,
             candidates: int = 1) -> QuantRun:
    """Continue ``prompt`` (raw [N, E]); ``candidates`` > 1: that many samples of ONE next concept (regenerate)."""
    ctx = QuantContext(model)
    ctx.feed(normalizer.normalize(prompt))
    if candidates > 1:
        z, codes = ctx.sample(candidates, rng, temperature, top_k)
        return QuantRun(normalizer.denormalize(z), [codes.tolist()], "candidates", [], [])
    previous = prompt[-1] if prompt.shape[0] else None
    out: List[Tensor] = []
    all_codes: List[List[List[int]]] = []
    eot_cos: List[Optional[float]] = []
    prev_cos: List[Optional[float]] = []
    reason = "maxConcepts"
    for k in range(max_concepts):
        z, codes = ctx.sample(1, rng, temperature, top_k)
        x = normalizer.denormalize(z)[0]
        out.append(x)
        all_codes.append(codes.tolist())
        e = _cos(x, eot_vector) if eot_vector is not None else None
        p = _cos(x, previous) if previous is not None else None
        eot_cos.append(e)
        prev_cos.append(p)
        if k >= min_concepts:
            if eot_threshold is not None and e is not None and e >= eot_threshold:
                reason = "endOfText"
                break
            if repetition_threshold is not None and p is not None and p >= repetition_threshold:
                reason = "repetition"
                break
        if k + 1 >= max_concepts:
            break
        ctx.feed(normalizer.normalize(x).unsqueeze(0))
        previous = x
    return QuantRun(torch.stack(out), all_codes, reason, eot_cos, prev_cos)


__all__ = ["VARIANTS", "QuantLcmConfig", "QuantLCM", "QuantContext", "quant_loss", "training_targets",
           "check_train_inference_consistency", "sample_unit", "unit_scores", "generate"]
