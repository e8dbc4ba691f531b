"""Forward passes written against the SOURCE checkpoints' own key names and conventions.

These are what a converted pack is tested against. They do not use recipe/lcmref or the
converters' mapping tables: a wrong mapping (k and v swapped, the wrong final LayerNorm, the HF
special-token order, a Projection's ``fc``) makes the pack disagree with them. Each follows
the published code's conventions:

- fairseq2 SONAR: embeddings × √d + fairseq sinusoids from position 2, pre-LN layers, the
  model-level ``layer_norm``, masked mean; decoder logits through ``final_proj.weight``.
- transformers M2M100: ``position_ids = cumsum(mask)·mask + padding_idx`` looked up in
  ``embed_positions.weights`` (recomputed as transformers does when absent), q scaled after
  ``q_proj``, ``fc1``/``fc2``, ``final_layer_norm``, ``lm_head``.
- Meta's Two-Tower LCM: ``encoder_frontend.pre_linear``, RoPE on adjacent pairs, SwiGLU,
  RMSNorm (eps 1e-5), ``denoiser.initial_proj.fc``, DiT timestep embedding, AdaLN modulator
  chunks (self, cross, ffn) × (shift, scale, gate), zero row prepended as key 0.
"""
import math
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

S = Dict[str, Tensor]


def _lin(s: S, p: str, x: Tensor) -> Tensor:
    return F.linear(x, s[f"{p}.weight"], s.get(f"{p}.bias"))


def _ln(s: S, p: str, x: Tensor) -> Tensor:
    return F.layer_norm(x, (x.shape[-1],), s[f"{p}.weight"], s[f"{p}.bias"], 1e-5)


def _rms(s: S, p: str, x: Tensor) -> Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * s[f"{p}.weight"]


def fairseq_sinusoids(rows: int, dim: int) -> Tensor:
    half = dim // 2
    f = torch.exp(torch.arange(half, dtype=torch.float32) * -(math.log(10000.0) / (half - 1)))
    a = torch.arange(rows, dtype=torch.float32)[:, None] * f[None]
    return torch.cat([torch.sin(a), torch.cos(a)], 1)


def _heads(x: Tensor, h: int) -> Tensor:
    b, t, d = x.shape
    return x.reshape(b, t, h, d // h).transpose(1, 2)


def _attend(q: Tensor, k: Tensor, v: Tensor, mask: Optional[Tensor]) -> Tensor:
    scores = q @ k.transpose(-1, -2)
    if mask is not None:
        scores = scores + mask
    out = torch.softmax(scores, -1) @ v
    b, h, t, dh = out.shape
    return out.transpose(1, 2).reshape(b, t, h * dh)


def _mha(s: S, p: str, xq: Tensor, xkv: Tensor, heads: int, mask: Optional[Tensor], out: str, q_scale_after: bool) -> Tensor:
    dh = xq.shape[-1] // heads
    q = _lin(s, f"{p}.q_proj", xq)
    q = q * dh ** -0.5 if q_scale_after else q
    k, v = _lin(s, f"{p}.k_proj", xkv), _lin(s, f"{p}.v_proj", xkv)
    return _lin(s, f"{p}.{out}", _attend(_heads(q, heads), _heads(k, heads), _heads(v, heads), mask))


def _neg(allowed: Tensor) -> Tensor:
    return torch.zeros(allowed.shape).masked_fill(~allowed, float("-inf"))


def _causal(t: int) -> Tensor:
    return _neg(torch.arange(t)[None, :] <= torch.arange(t)[:, None])


# ---------------------------------------------------------------- fairseq2 SONAR
def fairseq2_encode(s: S, ids: Tensor, mask: Tensor, heads: int) -> Tensor:
    d = s["encoder_frontend.embed.weight"].shape[1]
    x = s["encoder_frontend.embed.weight"][ids] * math.sqrt(d) + fairseq_sinusoids(ids.shape[1] + 2, d)[2:]
    km = _neg(mask.bool())[:, None, None, :]
    i = 0
    while f"encoder.layers.{i}.ffn_layer_norm.weight" in s:
        p = f"encoder.layers.{i}"
        h = _ln(s, f"{p}.self_attn_layer_norm", x)
        x = x + _mha(s, f"{p}.self_attn", h, h, heads, km, "output_proj", True)
        x = x + _lin(s, f"{p}.ffn.output_proj", F.relu(_lin(s, f"{p}.ffn.inner_proj", _ln(s, f"{p}.ffn_layer_norm", x))))
        i += 1
    x = _ln(s, "layer_norm", x)
    m = mask.float()[..., None]
    return (x * m).sum(1) / m.sum(1)


def fairseq2_logits(s: S, ids: Tensor, emb: Tensor, heads: int) -> Tensor:
    """Teacher-forced decoder logits [B, T, V] for prompt+tokens ``ids`` and sentence vectors ``emb``."""
    e = s["decoder_frontend.embed.weight"]
    d = e.shape[1]
    x = e[ids] * math.sqrt(d) + fairseq_sinusoids(ids.shape[1] + 2, d)[2:]
    mem = emb[:, None, :]
    cm = _causal(ids.shape[1])
    i = 0
    while f"decoder.layers.{i}.ffn_layer_norm.weight" in s:
        p = f"decoder.layers.{i}"
        h = _ln(s, f"{p}.self_attn_layer_norm", x)
        x = x + _mha(s, f"{p}.self_attn", h, h, heads, cm, "output_proj", True)
        h = _ln(s, f"{p}.encoder_decoder_attn_layer_norm", x)
        x = x + _mha(s, f"{p}.encoder_decoder_attn", h, mem, heads, None, "output_proj", True)
        x = x + _lin(s, f"{p}.ffn.output_proj", F.relu(_lin(s, f"{p}.ffn.inner_proj", _ln(s, f"{p}.ffn_layer_norm", x))))
        i += 1
    return _ln(s, "decoder.layer_norm", x) @ s["final_proj.weight"].t()


# ---------------------------------------------------------------- transformers M2M100
def _hf_positions(s: S, prefix: str, ids: Tensor, pad: int, d: int, past: int = 0) -> Tensor:
    mask = (ids != pad).int()
    pos = (torch.cumsum(mask, 1) + past) * mask + pad
    key = f"{prefix}embed_positions.weights"
    table = s[key] if key in s else fairseq_sinusoids(int(pos.max()) + 1, d)
    return table[pos]


def _hf_layer(s: S, p: str, x: Tensor, heads: int, self_mask: Optional[Tensor], mem: Optional[Tensor]) -> Tensor:
    h = _ln(s, f"{p}.self_attn_layer_norm", x)
    x = x + _mha(s, f"{p}.self_attn", h, h, heads, self_mask, "out_proj", True)
    if mem is not None:
        h = _ln(s, f"{p}.encoder_attn_layer_norm", x)
        x = x + _mha(s, f"{p}.encoder_attn", h, mem, heads, None, "out_proj", True)
    return x + _lin(s, f"{p}.fc2", F.relu(_lin(s, f"{p}.fc1", _ln(s, f"{p}.final_layer_norm", x))))


def hf_encode(s: S, ids: Tensor, mask: Tensor, heads: int, prefix: str = "", pad: int = 1) -> Tensor:
    """Mean-pooled M2M100Encoder output (the ports' documented usage)."""
    e = s[f"{prefix}embed_tokens.weight"] if f"{prefix}embed_tokens.weight" in s else s["model.shared.weight"]
    d = e.shape[1]
    x = e[ids] * math.sqrt(d) + _hf_positions(s, prefix, ids, pad, d)
    km = _neg(mask.bool())[:, None, None, :]
    i = 0
    while f"{prefix}layers.{i}.fc1.weight" in s:
        x = _hf_layer(s, f"{prefix}layers.{i}", x, heads, km, None)
        i += 1
    x = _ln(s, f"{prefix}layer_norm", x)
    m = mask.float()[..., None]
    return (x * m).sum(1) / m.sum(1)


def hf_logits(s: S, ids: Tensor, emb: Tensor, heads: int, pad: int = 1) -> Tensor:
    """M2M100ForConditionalGeneration logits with encoder_outputs = the sentence vector as a length-1 sequence."""
    e = s.get("model.decoder.embed_tokens.weight", s["model.shared.weight"])
    d = e.shape[1]
    x = e[ids] * math.sqrt(d) + _hf_positions(s, "model.decoder.", ids, pad, d)
    mem = emb[:, None, :]
    i = 0
    while f"model.decoder.layers.{i}.fc1.weight" in s:
        x = _hf_layer(s, f"model.decoder.layers.{i}", x, heads, _causal(ids.shape[1]), mem)
        i += 1
    return _ln(s, "model.decoder.layer_norm", x) @ s.get("lm_head.weight", e).t()


# ---------------------------------------------------------------- Meta Two-Tower LCM
def _rope(x: Tensor, theta: float) -> Tensor:
    b, h, t, dh = x.shape
    inv = 1.0 / (theta ** (torch.arange(0, dh, 2, dtype=torch.float32) / dh))
    ang = torch.arange(t, dtype=torch.float32)[:, None] * inv[None]
    xc = torch.view_as_complex(x.float().reshape(b, h, t, dh // 2, 2).contiguous())
    return torch.view_as_real(xc * torch.polar(torch.ones_like(ang), ang)).reshape(b, h, t, dh)


def _swiglu(s: S, p: str, x: Tensor) -> Tensor:
    return _lin(s, f"{p}.output_proj", F.silu(_lin(s, f"{p}.gate_proj", x)) * _lin(s, f"{p}.inner_proj", x))


def lcm_contextualize(s: S, emb: Tensor, heads: int, theta: float = 10000.0) -> Tensor:
    """Context tower over normalized vectors [B, T, E] → [B, T, D] (causal, RoPE from position 0)."""
    x = _lin(s, "encoder_frontend.pre_linear", emb)
    t = emb.shape[1]
    i = 0
    while f"context_encoder.layers.{i}.ffn_layer_norm.weight" in s:
        p = f"context_encoder.layers.{i}.self_attn"
        h = _rms(s, f"context_encoder.layers.{i}.self_attn_layer_norm", x)
        dh = x.shape[-1] // heads
        q = _rope(_heads(_lin(s, f"{p}.q_proj", h), heads), theta) * dh ** -0.5
        k = _rope(_heads(_lin(s, f"{p}.k_proj", h), heads), theta)
        v = _heads(_lin(s, f"{p}.v_proj", h), heads)
        x = x + _lin(s, f"{p}.output_proj", _attend(q, k, v, _causal(t)))
        x = x + _swiglu(s, f"context_encoder.layers.{i}.ffn", _rms(s, f"context_encoder.layers.{i}.ffn_layer_norm", x))
        i += 1
    return _rms(s, "context_encoder.layer_norm", x)


def lcm_denoise(s: S, noisy: Tensor, timesteps: Tensor, context: Tensor, cross_mask: Tensor, heads: int) -> Tensor:
    """One denoiser call per row: noisy [B, E], timesteps [B], context [M, D] with row 0 the zero key,
    cross_mask [B, M] (1 attend) → predicted x0 [B, E]."""
    half = s["denoiser.embed_time.fc1.weight"].shape[1] // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(0, half, dtype=torch.float32) / half)
    args = timesteps[:, None].float() * freqs[None]
    t_emb = _lin(s, "denoiser.embed_time.fc2", F.silu(_lin(s, "denoiser.embed_time.fc1", torch.cat([torch.cos(args), torch.sin(args)], -1))))
    x = _lin(s, "denoiser.initial_proj.fc", noisy)[:, None, :]  # [B, 1, D]
    t_emb = t_emb[:, None, :]
    ctx = context[None].expand(noisy.shape[0], -1, -1)
    cm = _neg(cross_mask > 0.5)[:, None, None, :]
    i = 0
    while f"denoiser.layers.{i}.modulator.fc.weight" in s:
        p = f"denoiser.layers.{i}"
        mods: List[Tensor] = list(_lin(s, f"{p}.modulator.fc", F.silu(t_emb)).chunk(3, -1))
        (ss, sc, sg), (cs, cc, cg), (fs, fc, fg) = [m.chunk(3, -1) for m in mods]
        h = _rms(s, f"{p}.self_attn_layer_norm", x) * (1 + sc) + ss
        x = x + sg * _mha(s, f"{p}.self_attn", h, h, heads, None, "output_proj", True)
        h = _rms(s, f"{p}.cross_attention_layer_norm", x) * (1 + cc) + cs
        x = x + cg * _mha(s, f"{p}.cross_attention", h, ctx, heads, cm, "output_proj", True)
        h = _rms(s, f"{p}.ffn_layer_norm", x) * (1 + fc) + fs
        x = x + fg * _swiglu(s, f"{p}.ffn", h)
        i += 1
    return _lin(s, "denoiser.final_proj.fc", _rms(s, "denoiser.layer_norm", x))[:, 0]


def greedy(logits_fn, emb: Tensor, prompt: List[int], eos: int, steps: int, banned: List[int]) -> List[int]:
    """Greedy decoding by re-running the teacher-forced logits (no cache: independent of the graphs' cache)."""
    ids = list(prompt)
    out: List[int] = []
    for _ in range(steps):
        last = logits_fn(torch.tensor([ids]), emb[None])[0, -1].clone()
        last[banned] = float("-inf")
        tok = int(torch.argmax(last))
        out.append(tok)
        if tok == eos:
            break
        ids.append(tok)
    return out
