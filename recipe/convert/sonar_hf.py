"""Hugging Face ports of SONAR in transformers' M2M100 format.

- encoder: ``cointegrated/SONAR_200_text_encoder`` (an ``M2M100Encoder``; keys ``embed_tokens``,
  ``layers.{i}.self_attn.{q,k,v,out}_proj``, ``fc1``/``fc2``, ``self_attn_layer_norm``,
  ``final_layer_norm``, ``layer_norm``), or the ``model.encoder.*`` half of a full model;
- decoder: an ``M2M100ForConditionalGeneration`` (``model.decoder.*``, ``model.shared``,
  ``lm_head``) whose cross-attention memory is the sentence vector as a length-1 sequence
  (e.g. ``mtmlt/sonar-nllb-200-1.3B``, which holds both towers).

Weights: ``model.safetensors`` or ``pytorch_model.bin`` in the folder; sizes and heads from its
``config.json`` (``d_model``, ``encoder_attention_heads``, ``max_position_embeddings`` …).

Token ids stay the HF port's own, which differ from fairseq2's in the first four rows: HF's
``NllbTokenizer`` has ``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3 and maps piece ``s`` to
``s + 1`` (``fairseq_offset``); language codes are ``sp_model_size + i + 1``. Rather than
permuting rows, the pack records that map (``tokenizer.ids``), which is why the map is data.
"""
import json
import os
from typing import Any, Dict, List, Optional, Tuple

from torch import Tensor

from lcmref.tokenizer import TokenizerIds
from .checkpoints import ConversionError, Rule, load_state_dict, remap
from .languages import CODES
from .sonar_common import SONAR_MAX_POSITIONS, SonarParts, build_decoder, build_encoder, check_sinusoids

# ---------------------------------------------------------------------------------------------
# MAPPING TABLES (transformers M2M100 name → recipe/lcmref/sonar.py name). M2M100 names are
# transformers' modeling_m2m100.py; the ports' exact file layout (prefixes, which tied copies
# are saved) was not readable here, so every layout below is accepted and checked.
# ---------------------------------------------------------------------------------------------
_L = r"(\d+)"
ENCODER_HF: List[Rule] = [
    (r"embed_tokens\.weight", r"encoder_frontend.embed.weight"),
    (rf"layers\.{_L}\.self_attn\.(q|k|v)_proj\.(weight|bias)", r"encoder.layers.\1.self_attn.\2_proj.\3"),
    (rf"layers\.{_L}\.self_attn\.out_proj\.(weight|bias)", r"encoder.layers.\1.self_attn.output_proj.\2"),
    (rf"layers\.{_L}\.self_attn_layer_norm\.(weight|bias)", r"encoder.layers.\1.self_attn_layer_norm.\2"),
    (rf"layers\.{_L}\.fc1\.(weight|bias)", r"encoder.layers.\1.ffn.inner_proj.\2"),
    (rf"layers\.{_L}\.fc2\.(weight|bias)", r"encoder.layers.\1.ffn.output_proj.\2"),
    (rf"layers\.{_L}\.final_layer_norm\.(weight|bias)", r"encoder.layers.\1.ffn_layer_norm.\2"),
    (r"layer_norm\.(weight|bias)", r"encoder.layer_norm.\1"),
]
DECODER_HF: List[Rule] = [
    (r"embed_tokens\.weight", r"decoder_frontend.embed.weight"),
    (rf"layers\.{_L}\.self_attn\.(q|k|v)_proj\.(weight|bias)", r"decoder.layers.\1.self_attn.\2_proj.\3"),
    (rf"layers\.{_L}\.self_attn\.out_proj\.(weight|bias)", r"decoder.layers.\1.self_attn.output_proj.\2"),
    (rf"layers\.{_L}\.self_attn_layer_norm\.(weight|bias)", r"decoder.layers.\1.self_attn_layer_norm.\2"),
    (rf"layers\.{_L}\.encoder_attn\.(q|k|v)_proj\.(weight|bias)", r"decoder.layers.\1.encoder_decoder_attn.\2_proj.\3"),
    (rf"layers\.{_L}\.encoder_attn\.out_proj\.(weight|bias)", r"decoder.layers.\1.encoder_decoder_attn.output_proj.\2"),
    (rf"layers\.{_L}\.encoder_attn_layer_norm\.(weight|bias)", r"decoder.layers.\1.encoder_decoder_attn_layer_norm.\2"),
    (rf"layers\.{_L}\.fc1\.(weight|bias)", r"decoder.layers.\1.ffn.inner_proj.\2"),
    (rf"layers\.{_L}\.fc2\.(weight|bias)", r"decoder.layers.\1.ffn.output_proj.\2"),
    (rf"layers\.{_L}\.final_layer_norm\.(weight|bias)", r"decoder.layers.\1.ffn_layer_norm.\2"),
    (r"layer_norm\.(weight|bias)", r"decoder.layer_norm.\1"),
    (r"lm_head\.weight", r"final_proj.weight"),  # tied to the embeddings in M2M100; checked
]
#: HF's special-token order (NllbTokenizer.fairseq_tokens_to_ids) and piece offset.
HF_TOKEN_IDS = TokenizerIds(pad=1, unk=3, bos=0, eos=2, pieceOffset=1, spmUnk=0, spmBos=1, spmEos=2)
# ---------------------------------------------------------------------------------------------


def read_config(path: str) -> Dict[str, Any]:
    """config.json next to the weights (folder or file), {} if there is none."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    p = os.path.join(folder, "config.json")
    if not os.path.exists(p):
        return {}
    with open(p, encoding="utf-8") as f:
        return json.load(f)


def _check_config(cfg: Dict[str, Any], source: str) -> None:
    act = cfg.get("activation_function", "relu")
    if act != "relu":
        raise ConversionError(f"{source}: config.json activation_function is {act!r}; SONAR (and pack format 1) use relu")
    if cfg.get("scale_embedding") is False:
        raise ConversionError(f"{source}: config.json has scale_embedding false; SONAR scales token embeddings by sqrt(d)")


def _max_positions(cfg: Dict[str, Any], fallback: int) -> int:
    # M2M100SinusoidalPositionalEmbedding holds max_position_embeddings + offset 2 rows.
    return int(cfg["max_position_embeddings"]) + 2 if "max_position_embeddings" in cfg else fallback


def _split_tower(state: Dict[str, Tensor], tower: str, source: str) -> Tuple[Dict[str, Tensor], Optional[Tensor], Optional[Tensor]]:
    """The keys of one tower with its prefix removed, plus the shared embedding and lm_head if saved."""
    shared = state.get("model.shared.weight", state.get("shared.weight"))
    lm_head = state.get("lm_head.weight")
    for prefix in (f"model.{tower}.", f"{tower}."):
        sub = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if sub:
            return sub, shared, lm_head
    if tower == "encoder" and any(k.startswith("layers.") for k in state):  # a bare M2M100Encoder
        return dict(state), shared, lm_head
    raise ConversionError(f"{source}: no `{tower}` weights (looked for `model.{tower}.*`, `{tower}.*`"
                          f"{', bare M2M100Encoder keys' if tower == 'encoder' else ''}); is this an M2M100 SONAR port?")


def _positions(sub: Dict[str, Tensor], source: str, prefix: str) -> None:
    for key in ("embed_positions.weights", "embed_positions.weight"):
        if key in sub:
            check_sinusoids(sub.pop(key), source, prefix + key, first_position=2)


def convert_encoder(path: str, heads: Optional[int] = None):
    cfg = read_config(path)
    _check_config(cfg, path)
    state, _ = load_state_dict(path)
    sub, shared, _ = _split_tower(state, "encoder", path)
    _positions(sub, path, "encoder.")
    if "embed_tokens.weight" not in sub and shared is not None:
        sub["embed_tokens.weight"] = shared
    mapped = remap(sub, ENCODER_HF, path)
    return build_encoder(mapped, path, heads or cfg.get("encoder_attention_heads"), _max_positions(cfg, SONAR_MAX_POSITIONS))


def convert_decoder(path: str, heads: Optional[int] = None):
    cfg = read_config(path)
    _check_config(cfg, path)
    state, _ = load_state_dict(path)
    sub, shared, lm_head = _split_tower(state, "decoder", path)
    _positions(sub, path, "decoder.")
    if "embed_tokens.weight" not in sub:
        if shared is None:
            raise ConversionError(f"{path}: neither `model.decoder.embed_tokens.weight` nor `model.shared.weight`; "
                                  "the decoder's token embeddings are missing")
        sub["embed_tokens.weight"] = shared
    if lm_head is not None:
        sub["lm_head.weight"] = lm_head
    mapped = remap(sub, DECODER_HF, path)
    return build_decoder(mapped, path, heads or cfg.get("decoder_attention_heads"), _max_positions(cfg, SONAR_MAX_POSITIONS))


def check_language_ids(path: str, tag_ids: Dict[str, int]) -> int:
    """Cross-check computed language ids with tokenizer_config.json's added tokens, where the port has them.

    Returns how many ids were checked (0 when the folder has no such file).
    """
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    p = os.path.join(folder, "tokenizer_config.json")
    if not os.path.exists(p):
        return 0
    with open(p, encoding="utf-8") as f:
        added = json.load(f).get("added_tokens_decoder", {})
    by_content = {v.get("content"): int(k) for k, v in added.items() if isinstance(v, dict)}
    checked = 0
    for code in CODES:
        for content in (code, f"__{code}__"):
            if content in by_content:
                if by_content[content] != tag_ids[code]:
                    raise ConversionError(f"{p}: {content} has id {by_content[content]}, but the NLLB order gives "
                                          f"{tag_ids[code]}; this port's vocabulary is not the NLLB-200 one")
                checked += 1
    return checked


def convert(encoder_path: str, decoder_path: str, heads: Optional[int] = None) -> SonarParts:
    encoder = convert_encoder(encoder_path, heads)
    decoder = convert_decoder(decoder_path, heads)
    if encoder.cfg.model_dim != decoder.cfg.model_dim or encoder.cfg.vocab_size != decoder.cfg.vocab_size:
        raise ConversionError(f"{encoder_path} and {decoder_path} differ in width or vocabulary; pass one SONAR port's towers")
    return SonarParts(encoder=encoder, decoder=decoder, ids=HF_TOKEN_IDS, vocab_size=encoder.cfg.vocab_size,
                      notes={"encoderLayout": "transformers M2M100", "decoderLayout": "transformers M2M100",
                             "tokenIds": "Hugging Face NLLB (bos 0, pad 1, eos 2, unk 3)"})
