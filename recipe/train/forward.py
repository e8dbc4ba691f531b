"""Training-time forwards of the lcmref modules that also run on CUDA.

The reference modules build a few helper tensors (causal masks, position
indices, the timestep sinusoid's frequencies) on the CPU, which is right for
export and for the engine's fixtures but breaks when the weights live on a GPU.
These functions run the same layers (``EncoderLayer``, ``DecoderLayer``,
``ContextLayer``, ``DenoiserLayer``: the lcmref code itself) with those helper
tensors made on the input's device. ``check_against_reference`` proves, on
the CPU, that they give exactly the reference's outputs; ``--smoke`` runs it.
"""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from lcmref.sonar import SonarDecoder, SonarEncoder, additive_mask
from lcmref.two_tower import Denoiser, TwoTowerLCM


def _causal(new_len: int, past_len: int, device: torch.device) -> Tensor:
    q = torch.arange(new_len, device=device) + past_len
    k = torch.arange(past_len + new_len, device=device)
    return additive_mask(k.unsqueeze(0) <= q.unsqueeze(1))


def _embed(tower: torch.nn.Module, embed: torch.nn.Embedding, ids: Tensor, past_len: int) -> Tensor:
    positions = torch.arange(ids.shape[1], device=ids.device) + (past_len + 2)
    return embed(ids) * math.sqrt(tower.cfg.model_dim) + tower.pos_table[positions]


def encode(encoder: SonarEncoder, ids: Tensor, mask: Tensor) -> Tensor:
    """SonarEncoder.forward: mean-pooled sentence vectors [B, d]."""
    x = _embed(encoder, encoder.encoder_frontend.embed, ids, 0)
    key_mask = additive_mask(mask > 0)[:, None, None, :]
    for layer in encoder.encoder.layers:
        x = layer(x, key_mask)
    h = encoder.encoder.layer_norm(x)
    m = mask.to(h.dtype).unsqueeze(-1)
    return (h * m).sum(dim=1) / m.sum(dim=1)


def empty_cache(decoder: SonarDecoder, batch: int, device: torch.device) -> Tuple[List[Tensor], List[Tensor]]:
    shape = (batch, decoder.cfg.heads, 0, decoder.cfg.model_dim // decoder.cfg.heads)
    n = decoder.cfg.layers
    return [torch.zeros(shape, device=device) for _ in range(n)], [torch.zeros(shape, device=device) for _ in range(n)]


def decoder_step(decoder: SonarDecoder, ids: Tensor, emb: Tensor, past_k: Sequence[Tensor], past_v: Sequence[Tensor],
                 project: bool = True) -> Tuple[Tensor, List[Tensor], List[Tensor]]:
    """SonarDecoder.step: logits [B, T, V] of T new tokens after the cached P (``project=False``: the final
    states [B, T, D] before the output projection), and the grown cache."""
    past_len = past_k[0].shape[2]
    x = _embed(decoder, decoder.decoder_frontend.embed, ids, past_len)
    mask = _causal(ids.shape[1], past_len, ids.device)
    memory = emb.unsqueeze(1)
    keys, values = [], []
    for layer, pk, pv in zip(decoder.decoder.layers, past_k, past_v):
        x, k, v = layer(x, memory, pk, pv, mask)
        keys.append(k)
        values.append(v)
    h = decoder.decoder.layer_norm(x)
    return (decoder.final_proj(h) if project else h), keys, values


def decode_logits(decoder: SonarDecoder, ids: Tensor, emb: Tensor) -> Tensor:
    """SonarDecoder.forward (teacher forcing): logits [B, T, V]."""
    return decoder_step(decoder, ids, emb, *empty_cache(decoder, ids.shape[0], ids.device))[0]


def token_cross_entropy(decoder: SonarDecoder, ids: Tensor, emb: Tensor, labels: Tensor, ignore_index: int,
                        label_smoothing: float) -> Tensor:
    """Teacher-forced cross-entropy, the mean over the labelled positions (``labels != ignore_index``), as
    ``F.cross_entropy(decode_logits(...), labels, ignore_index=…)``, but the output projection (V·D per token,
    the decoder's largest product) and the softmax run on those positions only, not on the padding. The tied
    projection is applied as x · Eᵀ (F.linear), whose [N, V] result is contiguous for the softmax; the module's
    own (E · xᵀ)ᵀ form exists for the ONNX export (lcmref/sonar.py TiedProjection) and is the same product."""
    h = decoder_step(decoder, ids, emb, *empty_cache(decoder, ids.shape[0], ids.device), project=False)[0]
    keep = labels != ignore_index
    logits = F.linear(h[keep], decoder.final_proj.weight)
    return F.cross_entropy(logits.float(), labels[keep], label_smoothing=label_smoothing)


def _time_embedding(denoiser: Denoiser, timesteps: Tensor) -> Tensor:
    enc = denoiser.embed_time
    half = enc.dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(0, half, dtype=torch.float32, device=timesteps.device) / half)
    args = timesteps.to(torch.float32).unsqueeze(-1) * freqs
    return enc.fc2(F.silu(enc.fc1(torch.cat([torch.cos(args), torch.sin(args)], dim=-1))))


def lcm_forward_train(model: TwoTowerLCM, clean: Tensor, noisy: Tensor, timesteps: Tensor,
                      uncond: Optional[Tensor] = None) -> Tensor:
    """TwoTowerLCM.forward_train: predicted x0 [B, N, E] of every position (see its docstring)."""
    b, n, _ = clean.shape
    dev = clean.device
    x = model.encoder_frontend.pre_linear(clean)
    positions = torch.arange(n, device=dev)
    mask = _causal(n, 0, dev)
    shape = (b, model.cfg.heads, 0, model.cfg.head_dim)
    for layer in model.context_encoder.layers:
        x, _, _ = layer(x, positions, model.rope_inv_freq, torch.zeros(shape, device=dev, dtype=x.dtype),
                        torch.zeros(shape, device=dev, dtype=x.dtype), mask)
    hidden = model.context_encoder.layer_norm(x)
    context = torch.cat([torch.zeros_like(hidden[:, :1]), hidden], dim=1)
    allowed = torch.arange(n + 1, device=dev).unsqueeze(0) <= torch.arange(n, device=dev).unsqueeze(1)
    allowed = allowed.unsqueeze(0).expand(b, n, n + 1)
    if uncond is not None:
        allowed = allowed & ~(uncond.unsqueeze(-1) & (torch.arange(n + 1, device=dev) > 0))
    cross_mask = additive_mask(allowed).unsqueeze(1)
    self_mask = additive_mask(torch.eye(n, dtype=torch.bool, device=dev))
    den = model.denoiser
    cross_k, cross_v = den.cross_kv(context)
    y = den.initial_proj(noisy)
    t_emb = _time_embedding(den, timesteps)
    for layer, k, v in zip(den.layers, cross_k, cross_v):
        y = layer(y, t_emb, self_mask, k, v, cross_mask)
    return den.final_proj(den.layer_norm(y))


def check_against_reference(encoder: SonarEncoder, decoder: SonarDecoder, lcm: TwoTowerLCM) -> float:
    """Max |these forwards − the lcmref forms| on random CPU inputs (expected 0: same operations)."""
    g = torch.Generator().manual_seed(0)
    v = encoder.cfg.vocab_size
    ids = torch.randint(4, v, (3, 7), generator=g)
    mask = torch.tensor([[1] * 7, [1] * 5 + [0] * 2, [1] * 3 + [0] * 4])
    worst = 0.0
    with torch.no_grad():
        e_ref, e = encoder(ids, mask), encode(encoder, ids, mask)
        worst = max(worst, float((e_ref - e).abs().max()))
        worst = max(worst, float((decoder(ids, e_ref) - decode_logits(decoder, ids, e_ref)).abs().max()))
        pk, pv = empty_cache(decoder, 3, ids.device)
        _, pk, pv = decoder_step(decoder, ids[:, :4], e_ref, pk, pv)
        inc = decoder_step(decoder, ids[:, 4:], e_ref, pk, pv)[0]
        worst = max(worst, float((decoder(ids, e_ref)[:, 4:] - inc).abs().max()))
        # The training loss on labelled positions only = cross-entropy over the full logits with ignore_index.
        labels = torch.where(mask.bool(), ids, torch.full_like(ids, -100))
        full = F.cross_entropy(decoder(ids, e_ref).reshape(-1, v), labels.reshape(-1), ignore_index=-100,
                               label_smoothing=0.1)
        worst = max(worst, abs(float(full - token_cross_entropy(decoder, ids, e_ref, labels, -100, 0.1))))
        dim = lcm.cfg.embedding_dim
        clean, noisy = torch.randn(2, 5, dim, generator=g), torch.randn(2, 5, dim, generator=g)
        t = torch.randint(0, 100, (2, 5), generator=g)
        unc = torch.rand(2, 5, generator=g) < 0.3
        worst = max(worst, float((lcm.forward_train(clean, noisy, t, unc) - lcm_forward_train(lcm, clean, noisy, t, unc))
                                 .abs().max()))
    return worst
