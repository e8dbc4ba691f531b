"""Miniature checkpoints in each published format: real structure and key names, tiny sizes.

Deterministic (seeded torch generator, sorted keys). Written by ``write_all(out)``:

| file | format |
|---|---|
| ``fairseq2/sonar_text_encoder.pt`` | ``{"model": …}`` with fairseq2 names; final LayerNorm at model level (``layer_norm.*``) |
| ``fairseq2/sonar_text_decoder.pt`` | ``{"model": …}``, ``final_proj.weight`` tied to ``decoder_frontend.embed.weight`` |
| ``fairseq1/encoder.pt`` | ``{"state_dict": …, "embed_tokens": nn.Embedding}``: fairseq1 names and dictionary row order; the same weights as the fairseq2 encoder |
| ``hf/encoder/`` | ``config.json`` + ``model.safetensors`` of an ``M2M100Encoder`` (with ``embed_positions.weights``), ``tokenizer_config.json`` |
| ``hf/full/`` | ``config.json`` + ``pytorch_model.bin`` of an ``M2M100ForConditionalGeneration`` (``model.shared``, ``model.encoder.*``, ``model.decoder.*``, ``lm_head``) |
| ``lcm/model.pt`` | the LCM trainer's ``{"model": …}`` with ``sonar_normalizer.*``, ``encoder_frontend.pre_linear``, ``context_encoder.*``, ``denoiser.*`` (``Projection.fc``) |
| ``lcm/normalizer.pt`` | a separate ``SonarNormalizer`` checkpoint (``{"model": {"center", "scale"}}``) |
| ``tokenizer.model`` | the test SentencePiece model (NLLB conventions: ``<unk>`` 0, ``<s>`` 1, ``</s>`` 2) with an identity normalizer (drops the 240 kB NFKC table so the committed fixtures stay small) |

Vocabulary as NLLB's: ``pieces + 1`` (pad inserted at 0) ``+ 202`` language tags ``+ 3`` fairseq2
control symbols (``<MINED_DATA>`` …) = pieces + 206 rows, the real 256,000 + 206 = 256,206 scaled down.
"""
import json
import math
import os
from typing import Dict

import torch
from torch import Tensor, nn

from .checkpoints import save_safetensors
from .languages import CODES

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SPM = os.path.join(ROOT, "test", "fixtures", "tokenizer", "fixture.model")
SPM_PIECES = 2500

SONAR = {"dim": 16, "heads": 4, "layers": 2, "ffn": 32, "vocab": SPM_PIECES + 206, "max_seq_len": 64}
LCM = {"embed": 16, "dim": 24, "heads": 4, "context_layers": 2, "denoiser_layers": 2, "ffn": 48, "t_dim": 256}
SEED = 20250101


class _Init:
    """Seeded tensors with sizes that keep a random tiny transformer from collapsing (as make_tiny_pack.py does)."""

    def __init__(self, seed: int):
        self.g = torch.Generator().manual_seed(seed)

    def linear(self, out_dim: int, in_dim: int, gain: float = 3.0) -> Dict[str, Tensor]:
        return {"weight": torch.randn(out_dim, in_dim, generator=self.g) * (gain / math.sqrt(in_dim)),
                "bias": torch.randn(out_dim, generator=self.g) * 0.05}

    def norm(self, dim: int, bias: bool = True) -> Dict[str, Tensor]:
        out = {"weight": 1 + torch.randn(dim, generator=self.g) * 0.1}
        if bias:
            out["bias"] = torch.randn(dim, generator=self.g) * 0.05
        return out

    def embed(self, rows: int, dim: int) -> Tensor:
        return torch.randn(rows, dim, generator=self.g) * 0.1


def _put(state: Dict[str, Tensor], prefix: str, tensors: Dict[str, Tensor]) -> None:
    for k, v in tensors.items():
        state[f"{prefix}.{k}"] = v


def sonar_fairseq2(seed: int = SEED) -> Dict[str, Dict[str, Tensor]]:
    """fairseq2 state dicts of a SONAR encoder and decoder (names as the published checkpoints)."""
    c, init = SONAR, _Init(seed)
    d, f = c["dim"], c["ffn"]
    enc: Dict[str, Tensor] = {"encoder_frontend.embed.weight": init.embed(c["vocab"], d)}
    for i in range(c["layers"]):
        p = f"encoder.layers.{i}"
        for proj in ("q", "k", "v", "output"):
            _put(enc, f"{p}.self_attn.{proj}_proj", init.linear(d, d))
        _put(enc, f"{p}.self_attn_layer_norm", init.norm(d))
        _put(enc, f"{p}.ffn.inner_proj", init.linear(f, d))
        _put(enc, f"{p}.ffn.output_proj", init.linear(d, f))
        _put(enc, f"{p}.ffn_layer_norm", init.norm(d))
    _put(enc, "layer_norm", init.norm(d))
    embed = init.embed(c["vocab"], d)
    dec: Dict[str, Tensor] = {"decoder_frontend.embed.weight": embed, "final_proj.weight": embed}
    for i in range(c["layers"]):
        p = f"decoder.layers.{i}"
        for attn in ("self_attn", "encoder_decoder_attn"):
            for proj in ("q", "k", "v", "output"):
                _put(dec, f"{p}.{attn}.{proj}_proj", init.linear(d, d))
            _put(dec, f"{p}.{attn}_layer_norm", init.norm(d))
        _put(dec, f"{p}.ffn.inner_proj", init.linear(f, d))
        _put(dec, f"{p}.ffn.output_proj", init.linear(d, f))
        _put(dec, f"{p}.ffn_layer_norm", init.norm(d))
    _put(dec, "decoder.layer_norm", init.norm(d))
    return {"encoder": enc, "decoder": dec}


def fairseq1_from_fairseq2(enc: Dict[str, Tensor]) -> Dict[str, object]:
    """The same encoder as a fairseq1 dump: fairseq1 names, embedding rows in dictionary order (<s>, <pad>, </s>, <unk>)."""
    state: Dict[str, Tensor] = {"version": torch.tensor([3.0])}
    for k, v in enc.items():
        if k == "encoder_frontend.embed.weight":
            continue
        k = k.replace("encoder.layers.", "layers.").replace("self_attn.output_proj", "self_attn.out_proj")
        k = k.replace("ffn.inner_proj", "fc1").replace("ffn.output_proj", "fc2").replace("ffn_layer_norm", "final_layer_norm")
        state[k] = v
    fs2 = enc["encoder_frontend.embed.weight"]
    fs1 = fs2.clone()
    fs1[[1, 3, 0, 2]] = fs2[[0, 1, 2, 3]]  # inverse of SONAR loader's embeds[[0,1,2,3]] = embeds[[1,3,0,2]]
    emb = nn.Embedding(*fs1.shape)
    with torch.no_grad():
        emb.weight.copy_(fs1)
    return {"state_dict": state, "embed_tokens": emb}


def hf_sinusoids(rows: int, dim: int, padding_idx: int = 1) -> Tensor:
    """transformers' M2M100SinusoidalPositionalEmbedding.get_embedding (row p for position p, padding row zero)."""
    half = dim // 2
    emb = math.log(10000) / (half - 1)
    emb = torch.exp(torch.arange(half, dtype=torch.int64).float() * -emb)
    emb = torch.arange(rows, dtype=torch.int64).float().unsqueeze(1) * emb.unsqueeze(0)
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=1)
    emb[padding_idx, :] = 0
    return emb


def sonar_hf(seed: int = SEED + 1) -> Dict[str, Dict[str, Tensor]]:
    """M2M100 state dicts: a bare ``M2M100Encoder`` and a full ``M2M100ForConditionalGeneration``."""
    c, init = SONAR, _Init(seed)
    d, f = c["dim"], c["ffn"]
    table = hf_sinusoids(c["max_seq_len"] + 2, d)

    def layer(state: Dict[str, Tensor], p: str, cross: bool) -> None:
        for proj in ("q", "k", "v", "out"):
            _put(state, f"{p}.self_attn.{proj}_proj", init.linear(d, d))
        _put(state, f"{p}.self_attn_layer_norm", init.norm(d))
        if cross:
            for proj in ("q", "k", "v", "out"):
                _put(state, f"{p}.encoder_attn.{proj}_proj", init.linear(d, d))
            _put(state, f"{p}.encoder_attn_layer_norm", init.norm(d))
        _put(state, f"{p}.fc1", init.linear(f, d))
        _put(state, f"{p}.fc2", init.linear(d, f))
        _put(state, f"{p}.final_layer_norm", init.norm(d))

    encoder: Dict[str, Tensor] = {"embed_tokens.weight": init.embed(c["vocab"], d), "embed_positions.weights": table}
    for i in range(c["layers"]):
        layer(encoder, f"layers.{i}", cross=False)
    _put(encoder, "layer_norm", init.norm(d))
    shared = init.embed(c["vocab"], d)
    full: Dict[str, Tensor] = {"model.shared.weight": shared, "lm_head.weight": shared,
                               "model.decoder.embed_tokens.weight": shared, "model.decoder.embed_positions.weights": table}
    # The full model's encoder half differs from the bare encoder: the converter must take only the decoder from it.
    full["model.encoder.embed_tokens.weight"] = shared
    for i in range(c["layers"]):
        layer(full, f"model.encoder.layers.{i}", cross=False)
        layer(full, f"model.decoder.layers.{i}", cross=True)
    _put(full, "model.encoder.layer_norm", init.norm(d))
    _put(full, "model.decoder.layer_norm", init.norm(d))
    return {"encoder": encoder, "full": full}


def hf_config() -> Dict[str, object]:
    c = SONAR
    return {"architectures": ["M2M100ForConditionalGeneration"], "model_type": "m2m_100", "d_model": c["dim"],
            "encoder_layers": c["layers"], "decoder_layers": c["layers"], "encoder_attention_heads": c["heads"],
            "decoder_attention_heads": c["heads"], "encoder_ffn_dim": c["ffn"], "decoder_ffn_dim": c["ffn"],
            "vocab_size": c["vocab"], "max_position_embeddings": c["max_seq_len"], "scale_embedding": True,
            "activation_function": "relu", "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
            "decoder_start_token_id": 2}


def lcm_state(seed: int = SEED + 2) -> Dict[str, Tensor]:
    """The LCM trainer's state dict of a Two-Tower model (with its SonarNormalizer buffers)."""
    c, init = LCM, _Init(seed)
    e, d, f = c["embed"], c["dim"], c["ffn"]
    s: Dict[str, Tensor] = {"sonar_normalizer.center": torch.randn(e, generator=init.g) * 0.05,
                            "sonar_normalizer.scale": 0.5 + torch.rand(e, generator=init.g)}
    _put(s, "encoder_frontend.pre_linear", init.linear(d, e, 1.2))
    for i in range(c["context_layers"]):
        p = f"context_encoder.layers.{i}"
        for proj in ("q", "k", "v", "output"):
            _put(s, f"{p}.self_attn.{proj}_proj", init.linear(d, d, 1.2))
        _put(s, f"{p}.self_attn_layer_norm", init.norm(d, bias=False))
        for proj, (o, i_) in {"gate_proj": (f, d), "inner_proj": (f, d), "output_proj": (d, f)}.items():
            _put(s, f"{p}.ffn.{proj}", init.linear(o, i_, 1.2))
        _put(s, f"{p}.ffn_layer_norm", init.norm(d, bias=False))
    _put(s, "context_encoder.layer_norm", init.norm(d, bias=False))
    _put(s, "denoiser.initial_proj.fc", init.linear(d, e, 1.2))
    _put(s, "denoiser.embed_time.fc1", init.linear(d, c["t_dim"], 1.2))
    _put(s, "denoiser.embed_time.fc2", init.linear(d, d, 1.2))
    for i in range(c["denoiser_layers"]):
        p = f"denoiser.layers.{i}"
        for attn in ("self_attn", "cross_attention"):
            for proj in ("q", "k", "v", "output"):
                _put(s, f"{p}.{attn}.{proj}_proj", init.linear(d, d, 1.2))
            _put(s, f"{p}.{attn}_layer_norm", init.norm(d, bias=False))
        for proj, (o, i_) in {"gate_proj": (f, d), "inner_proj": (f, d), "output_proj": (d, f)}.items():
            _put(s, f"{p}.ffn.{proj}", init.linear(o, i_, 1.2))
        _put(s, f"{p}.ffn_layer_norm", init.norm(d, bias=False))
        _put(s, f"{p}.modulator.fc", init.linear(9 * d, d, 0.5))  # the trainer zero-inits these; random here so they matter
    _put(s, "denoiser.layer_norm", init.norm(d, bias=False))
    _put(s, "denoiser.final_proj.fc", init.linear(e, d, 1.2))
    return s


def _sorted(state: Dict[str, Tensor]) -> Dict[str, Tensor]:
    return {k: state[k] for k in sorted(state)}


def write_all(out: str) -> Dict[str, str]:
    """Write every miniature checkpoint under ``out``; returns {name: path}."""
    paths = {k: os.path.join(out, v) for k, v in {
        "fairseq2Encoder": "fairseq2/sonar_text_encoder.pt", "fairseq2Decoder": "fairseq2/sonar_text_decoder.pt",
        "fairseq1Encoder": "fairseq1/encoder.pt", "hfEncoder": "hf/encoder", "hfFull": "hf/full",
        "lcm": "lcm/model.pt", "normalizer": "lcm/normalizer.pt", "tokenizer": "tokenizer.model"}.items()}
    for sub in ("fairseq2", "fairseq1", "hf/encoder", "hf/full", "lcm"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    fs2 = sonar_fairseq2()
    torch.save({"model": _sorted(fs2["encoder"]), "model_key": "model"}, paths["fairseq2Encoder"])
    dec = _sorted(fs2["decoder"])
    dec["final_proj.weight"] = dec["decoder_frontend.embed.weight"]  # one storage, as a tied module saves it
    torch.save({"model": dec, "model_key": "model"}, paths["fairseq2Decoder"])
    torch.save(fairseq1_from_fairseq2(fs2["encoder"]), paths["fairseq1Encoder"])
    hf = sonar_hf()
    save_safetensors(hf["encoder"], os.path.join(paths["hfEncoder"], "model.safetensors"))
    full = _sorted(hf["full"])
    for k in ("lm_head.weight", "model.decoder.embed_tokens.weight", "model.encoder.embed_tokens.weight"):
        full[k] = full["model.shared.weight"]
    torch.save(full, os.path.join(paths["hfFull"], "pytorch_model.bin"))
    for folder in (paths["hfEncoder"], paths["hfFull"]):
        with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as fh:
            json.dump(hf_config(), fh, indent=2)
    # NllbTokenizer's added tokens (a few, enough for the converter's cross-check).
    added = {str(SPM_PIECES + 1 + i): {"content": code, "special": True} for i, code in enumerate(CODES) if code in ("eng_Latn", "fra_Latn", "zho_Hans")}
    with open(os.path.join(paths["hfEncoder"], "tokenizer_config.json"), "w", encoding="utf-8") as fh:
        json.dump({"tokenizer_class": "NllbTokenizer", "added_tokens_decoder": added}, fh, indent=2)
    lcm = lcm_state()
    torch.save({"model": _sorted(lcm), "model_key": "model"}, paths["lcm"])
    norm_g = torch.Generator().manual_seed(SEED + 3)
    e = LCM["embed"]
    torch.save({"model": {"center": torch.randn(e, generator=norm_g) * 0.05, "scale": 0.5 + torch.rand(e, generator=norm_g)}},
               paths["normalizer"])
    write_tokenizer(paths["tokenizer"])
    return paths


def write_tokenizer(path: str) -> None:
    """test/fixtures/tokenizer/fixture.model with normalizer ``identity`` (same pieces and ids, 31 kB instead of 269 kB)."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    m = pb.ModelProto()
    with open(SPM, "rb") as f:
        m.ParseFromString(f.read())
    m.normalizer_spec.name = "identity"
    m.normalizer_spec.precompiled_charsmap = b""
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
