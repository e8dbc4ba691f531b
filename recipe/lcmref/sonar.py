"""SONAR text encoder and decoder, as LCM-SPEC.md describes Meta's fairseq2 code.

Parameter names follow fairseq2's SONAR checkpoints (``encoder_frontend.embed``,
``encoder.layers.{i}.self_attn.q_proj`` …) so real weights can be loaded with
``load_state_dict`` later. Both towers are pre-LN transformers (LayerNorm eps
1e-5), attention with bias and 1/sqrt(Dh) scaling, ReLU FFN, dropout 0.

- Embeddings are scaled by sqrt(d) and summed with fairseq's sinusoidal table:
  position p = 2 + index (fairseq's pad_idx 1 puts the first position at 2),
  row p = [sin(p·f_k) | cos(p·f_k)], f_k = exp(−ln(1e4)·k/(d/2 − 1)).
- Encoder: ids ``[lang] pieces… </s>``, right-padded with pad 0; sentence
  vector = masked mean over every non-pad state after the final LayerNorm
  (tag and </s> included), not L2-normalized.
- Decoder: causal self-attention with a key/value cache (new tokens sit at
  positions 2+P…), cross-attention to a memory of length 1 (the sentence
  vector; decoder model dim == embedding dim), logits = final_proj(LN(h)) with
  final_proj tied to the token embeddings.

``SonarDecoder.forward`` is the full-sequence (training) form and
``SonarDecoder.step`` the incremental one that decoder.onnx exports; both run
the same layer code, and ``check_decoder_incremental`` proves they agree.
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LAYER_NORM_EPS = 1e-5  # fairseq2 standard LayerNorm default


@dataclass(frozen=True)
class SonarConfig:
    """Shape of one SONAR tower (the manifest's ``sonar.encoder`` / ``sonar.decoder``)."""

    vocab_size: int
    model_dim: int
    layers: int
    heads: int
    ffn_dim: int
    max_positions: int

    def __post_init__(self) -> None:
        if self.model_dim % self.heads:
            raise ValueError(f"model_dim {self.model_dim} is not divisible by heads {self.heads}")
        if self.model_dim % 2 or self.model_dim < 4:
            raise ValueError("the sinusoidal table needs an even model_dim of at least 4")


def sinusoidal_table(max_positions: int, dim: int) -> Tensor:
    """fairseq's SinusoidalPositionalEmbedding table [max_positions, dim], float32, row p for position p."""
    half = dim // 2
    step = math.log(10000.0) / (half - 1)  # fairseq divides by (half − 1), not half
    freqs = torch.exp(torch.arange(half, dtype=torch.float32) * -step)
    args = torch.arange(max_positions, dtype=torch.float32).unsqueeze(1) * freqs.unsqueeze(0)
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def additive_mask(allowed: Tensor) -> Tensor:
    """0 where ``allowed`` is true, −inf elsewhere (float32), to add to attention scores."""
    return torch.zeros_like(allowed, dtype=torch.float32).masked_fill(~allowed, float("-inf"))


def causal_mask(new_len: int, past_len: int) -> Tensor:
    """[T, P+T] additive mask: new token j (absolute P+j) sees keys 0…P+j."""
    q_pos = torch.arange(new_len) + past_len
    k_pos = torch.arange(past_len + new_len)
    return additive_mask(k_pos.unsqueeze(0) <= q_pos.unsqueeze(1))


class MultiheadAttention(nn.Module):
    """fairseq2 StandardMultiheadAttention: biased q/k/v/output projections, scores scaled by 1/sqrt(Dh)."""

    def __init__(self, model_dim: int, heads: int, kv_dim: Optional[int] = None):
        super().__init__()
        kv_dim = kv_dim or model_dim
        self.heads = heads
        self.head_dim = model_dim // heads
        self.q_proj = nn.Linear(model_dim, model_dim)
        self.k_proj = nn.Linear(kv_dim, model_dim)
        self.v_proj = nn.Linear(kv_dim, model_dim)
        self.output_proj = nn.Linear(model_dim, model_dim)

    def split_heads(self, x: Tensor) -> Tensor:
        """[B, T, D] → [B, H, T, Dh]."""
        b, t, _ = x.shape
        return x.reshape(b, t, self.heads, self.head_dim).transpose(1, 2)

    def project_q(self, x: Tensor) -> Tensor:
        return self.split_heads(self.q_proj(x))

    def project_kv(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Keys and values [B, H, T, Dh] of the rows of ``x`` (position-wise)."""
        return self.split_heads(self.k_proj(x)), self.split_heads(self.v_proj(x))

    def attend(self, q: Tensor, k: Tensor, v: Tensor, mask: Optional[Tensor]) -> Tensor:
        """softmax(q·kᵀ/sqrt(Dh) + mask)·v, heads merged, then output_proj. q [B,H,T,Dh], k/v [B|1,H,S,Dh]."""
        scores = torch.matmul(q * (self.head_dim ** -0.5), k.transpose(-1, -2))
        if mask is not None:
            scores = scores + mask
        out = torch.matmul(torch.softmax(scores, dim=-1), v)
        b, _, t, _ = out.shape
        return self.output_proj(out.transpose(1, 2).reshape(b, t, self.heads * self.head_dim))


class ReluFeedForward(nn.Module):
    """fairseq2 StandardFeedForwardNetwork: output_proj(relu(inner_proj(x)))."""

    def __init__(self, model_dim: int, ffn_dim: int):
        super().__init__()
        self.inner_proj = nn.Linear(model_dim, ffn_dim)
        self.output_proj = nn.Linear(ffn_dim, model_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.output_proj(F.relu(self.inner_proj(x)))


class Embedding(nn.Module):
    """Holds ``embed`` so that state-dict keys read ``encoder_frontend.embed.weight``."""

    def __init__(self, vocab_size: int, model_dim: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, model_dim)


class SonarTower(nn.Module):
    """Shared front end of both towers: token embedding × sqrt(d) plus fairseq sinusoids from position 2 + ``past_len``."""

    cfg: SonarConfig

    def _init_positions(self, cfg: SonarConfig) -> None:
        self.register_buffer("pos_table", sinusoidal_table(cfg.max_positions, cfg.model_dim), persistent=False)

    def _embed(self, embed: nn.Embedding, input_ids: Tensor, past_len: int) -> Tensor:
        positions = torch.arange(input_ids.shape[1]) + (past_len + 2)
        return embed(input_ids) * math.sqrt(self.cfg.model_dim) + self.pos_table[positions]


class EncoderLayer(nn.Module):
    def __init__(self, cfg: SonarConfig):
        super().__init__()
        self.self_attn_layer_norm = nn.LayerNorm(cfg.model_dim, eps=LAYER_NORM_EPS)
        self.self_attn = MultiheadAttention(cfg.model_dim, cfg.heads)
        self.ffn_layer_norm = nn.LayerNorm(cfg.model_dim, eps=LAYER_NORM_EPS)
        self.ffn = ReluFeedForward(cfg.model_dim, cfg.ffn_dim)

    def forward(self, x: Tensor, key_mask: Tensor) -> Tensor:
        h = self.self_attn_layer_norm(x)
        k, v = self.self_attn.project_kv(h)
        x = x + self.self_attn.attend(self.self_attn.project_q(h), k, v, key_mask)
        return x + self.ffn(self.ffn_layer_norm(x))


class TransformerStack(nn.Module):
    """``layers`` + final ``layer_norm`` (the fairseq2 ``encoder`` / ``decoder`` submodule)."""

    def __init__(self, layers: List[nn.Module], model_dim: int):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.layer_norm = nn.LayerNorm(model_dim, eps=LAYER_NORM_EPS)


class SonarEncoder(SonarTower):
    """SONAR text encoder: ids → mean-pooled sentence vector."""

    def __init__(self, cfg: SonarConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder_frontend = Embedding(cfg.vocab_size, cfg.model_dim)
        self.encoder = TransformerStack([EncoderLayer(cfg) for _ in range(cfg.layers)], cfg.model_dim)
        self._init_positions(cfg)

    def states(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """Token states [B, T, d] after the final LayerNorm (padded rows are meaningless)."""
        x = self._embed(self.encoder_frontend.embed, input_ids, 0)
        key_mask = additive_mask(attention_mask > 0)[:, None, None, :]
        for layer in self.encoder.layers:
            x = layer(x, key_mask)
        return self.encoder.layer_norm(x)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """input_ids, attention_mask int64 [B, T] (right padding) → sentence_embedding [B, d]."""
        h = self.states(input_ids, attention_mask)
        m = attention_mask.to(h.dtype).unsqueeze(-1)
        return (h * m).sum(dim=1) / m.sum(dim=1)


class DecoderLayer(nn.Module):
    def __init__(self, cfg: SonarConfig):
        super().__init__()
        d = cfg.model_dim
        self.self_attn_layer_norm = nn.LayerNorm(d, eps=LAYER_NORM_EPS)
        self.self_attn = MultiheadAttention(d, cfg.heads)
        self.encoder_decoder_attn_layer_norm = nn.LayerNorm(d, eps=LAYER_NORM_EPS)
        self.encoder_decoder_attn = MultiheadAttention(d, cfg.heads)
        self.ffn_layer_norm = nn.LayerNorm(d, eps=LAYER_NORM_EPS)
        self.ffn = ReluFeedForward(d, cfg.ffn_dim)

    def forward(self, x: Tensor, memory: Tensor, past_k: Tensor, past_v: Tensor, mask: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        h = self.self_attn_layer_norm(x)
        k, v = self.self_attn.project_kv(h)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        x = x + self.self_attn.attend(self.self_attn.project_q(h), k, v, mask)
        h = self.encoder_decoder_attn_layer_norm(x)
        mk, mv = self.encoder_decoder_attn.project_kv(memory)
        x = x + self.encoder_decoder_attn.attend(self.encoder_decoder_attn.project_q(h), mk, mv, None)
        x = x + self.ffn(self.ffn_layer_norm(x))
        return x, k, v


class TiedProjection(nn.Module):
    """``final_proj``: logits = x · Eᵀ with E the token embedding (no bias).

    Computed as (E · xᵀ)ᵀ so that the exported graph multiplies by the embedding
    initializer itself: ``x @ E.t()`` makes the ONNX exporter fold a transposed
    copy of E into the graph, doubling the decoder's size (1 GB more at SONAR size).
    """

    def __init__(self, weight: nn.Parameter):
        super().__init__()
        self.weight = weight

    def forward(self, x: Tensor) -> Tensor:
        b, t, d = x.shape
        return torch.matmul(self.weight, x.reshape(b * t, d).t()).t().reshape(b, t, self.weight.shape[0])


class SonarDecoder(SonarTower):
    """SONAR text decoder conditioned on a sentence vector (memory of length 1)."""

    def __init__(self, cfg: SonarConfig):
        super().__init__()
        self.cfg = cfg
        self.decoder_frontend = Embedding(cfg.vocab_size, cfg.model_dim)
        self.decoder = TransformerStack([DecoderLayer(cfg) for _ in range(cfg.layers)], cfg.model_dim)
        self.final_proj = TiedProjection(self.decoder_frontend.embed.weight)
        self._init_positions(cfg)

    def empty_cache(self, batch: int) -> Tuple[List[Tensor], List[Tensor]]:
        """Past keys/values of length 0 for every layer ([B, H, 0, Dh])."""
        shape = (batch, self.cfg.heads, 0, self.cfg.model_dim // self.cfg.heads)
        return [torch.zeros(shape) for _ in range(self.cfg.layers)], [torch.zeros(shape) for _ in range(self.cfg.layers)]

    def step(
        self, input_ids: Tensor, sentence_embedding: Tensor, past_keys: Sequence[Tensor], past_values: Sequence[Tensor]
    ) -> Tuple[Tensor, List[Tensor], List[Tensor]]:
        """Incremental form (decoder.onnx): T new tokens after P cached → logits [B,T,V], present keys/values [B,H,P+T,Dh].

        The past length is read from the cache's shape, so P = 0 works.
        """
        past_len = past_keys[0].shape[2]
        x = self._embed(self.decoder_frontend.embed, input_ids, past_len)
        mask = causal_mask(input_ids.shape[1], past_len)
        memory = sentence_embedding.unsqueeze(1)
        keys: List[Tensor] = []
        values: List[Tensor] = []
        for layer, pk, pv in zip(self.decoder.layers, past_keys, past_values):
            x, k, v = layer(x, memory, pk, pv, mask)
            keys.append(k)
            values.append(v)
        return self.final_proj(self.decoder.layer_norm(x)), keys, values

    def forward(self, input_ids: Tensor, sentence_embedding: Tensor) -> Tensor:
        """Full-sequence (teacher-forced, training) form: logits [B, T, V]. Right padding is harmless (causal)."""
        past_k, past_v = self.empty_cache(input_ids.shape[0])
        return self.step(input_ids, sentence_embedding, past_k, past_v)[0]


def greedy_decode(
    decoder: SonarDecoder, sentence_embedding: Tensor, prompt: Sequence[int], eos: int, max_new_tokens: int, banned: Sequence[int]
) -> List[int]:
    """Greedy incremental decoding of one sentence vector [E] from ``prompt``; returns the new ids (eos included if reached).

    ``banned`` ids get −inf logits (the pad id: the reference never emits it).
    """
    emb = sentence_embedding.reshape(1, -1)
    past_k, past_v = decoder.empty_cache(1)
    ids = torch.tensor([list(prompt)], dtype=torch.long)
    out: List[int] = []
    with torch.no_grad():
        for _ in range(max_new_tokens):
            logits, past_k, past_v = decoder.step(ids, emb, past_k, past_v)
            last = logits[0, -1].clone()
            last[list(banned)] = float("-inf")
            tok = int(torch.argmax(last))
            out.append(tok)
            if tok == eos:
                break
            ids = torch.tensor([[tok]], dtype=torch.long)
    return out


def check_decoder_incremental(decoder: SonarDecoder, input_ids: Tensor, sentence_embedding: Tensor, split: int) -> float:
    """Max |full − incremental| logits when feeding ``input_ids[:, :split]`` then one token at a time."""
    with torch.no_grad():
        full = decoder(input_ids, sentence_embedding)
        past_k, past_v = decoder.empty_cache(input_ids.shape[0])
        parts = []
        logits, past_k, past_v = decoder.step(input_ids[:, :split], sentence_embedding, past_k, past_v)
        parts.append(logits)
        for j in range(split, input_ids.shape[1]):
            logits, past_k, past_v = decoder.step(input_ids[:, j : j + 1], sentence_embedding, past_k, past_v)
            parts.append(logits)
        return float((full - torch.cat(parts, dim=1)).abs().max())
