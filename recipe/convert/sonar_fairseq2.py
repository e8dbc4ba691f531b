"""Meta's published SONAR text encoder / decoder checkpoints (fairseq2, and the older fairseq1 dumps).

Source: facebookresearch/SONAR sonar/models/sonar_text/{builder,loader}.py (read through the
code search corpus), fairseq2 src/fairseq2/models/nllb/tokenizer.py.

Two layouts exist:

- **fairseq2** (what ``sonar_text_encoder.pt`` / ``sonar_text_decoder.pt`` hold): ``{"model":
  state_dict}`` (or a bare state dict from fairseq2 ≥ 0.5) whose keys are already the names of
  recipe/lcmref/sonar.py, except the encoder's final LayerNorm, which is a model-level
  ``layer_norm`` (``SonarTextTransformerEncoderModel.layer_norm``; the encoder stack itself is
  built POST-norm and so has none), and the decoder's ``final_proj.weight``, a
  ``TiedProjection`` of the embeddings.
- **fairseq1** (``{"state_dict": …, "embed_tokens": nn.Embedding}``), converted by SONAR's own
  loader with the key maps copied into the tables below and the row permutation of the
  first four embeddings from fairseq1's dictionary order (``<s>`` 0, ``<pad>`` 1, ``</s>`` 2,
  ``<unk>`` 3) to fairseq2's (``<pad>`` 0, ``<unk>`` 1, ``<s>`` 2, ``</s>`` 3).

Token ids after conversion are fairseq2's: pad 0, unk 1, bos 2, eos 3, SentencePiece piece
``s`` → ``s + 1``, language tag ``i`` → ``spm_pieces + 1 + i`` (see ``languages``).
"""
from typing import Any, Dict, List, Optional, Tuple

from torch import Tensor

from lcmref.tokenizer import TokenizerIds
from .checkpoints import ConversionError, Rule, load_state_dict, remap, strip_prefix
from .sonar_common import SONAR_MAX_POSITIONS, SonarParts, build_decoder, build_encoder

# ---------------------------------------------------------------------------------------------
# MAPPING TABLES (source key regex → recipe/lcmref/sonar.py name). Confirmed from SONAR's
# sonar/models/sonar_text/loader.py and builder.py; nothing here is guessed except where marked.
# ---------------------------------------------------------------------------------------------
_LAYER = r"(\d+)"
ENCODER_FAIRSEQ2: List[Rule] = [
    (r"encoder_frontend\.embed\.weight", r"encoder_frontend.embed.weight"),
    (rf"encoder\.layers\.{_LAYER}\.self_attn\.(q|k|v|output)_proj\.(weight|bias)", r"encoder.layers.\1.self_attn.\2_proj.\3"),
    (rf"encoder\.layers\.{_LAYER}\.(self_attn_layer_norm|ffn_layer_norm)\.(weight|bias)", r"encoder.layers.\1.\2.\3"),
    (rf"encoder\.layers\.{_LAYER}\.ffn\.(inner_proj|output_proj)\.(weight|bias)", r"encoder.layers.\1.ffn.\2.\3"),
    (r"layer_norm\.(weight|bias)", r"encoder.layer_norm.\1"),  # model-level final LayerNorm
    (r"encoder\.layer_norm\.(weight|bias)", r"encoder.layer_norm.\1"),  # a PRE-norm stack's own (not in SONAR; both → error)
]
DECODER_FAIRSEQ2: List[Rule] = [
    (r"decoder_frontend\.embed\.weight", r"decoder_frontend.embed.weight"),
    (rf"decoder\.layers\.{_LAYER}\.(self_attn|encoder_decoder_attn)\.(q|k|v|output)_proj\.(weight|bias)", r"decoder.layers.\1.\2.\3_proj.\4"),
    (rf"decoder\.layers\.{_LAYER}\.(self_attn_layer_norm|encoder_decoder_attn_layer_norm|ffn_layer_norm)\.(weight|bias)", r"decoder.layers.\1.\2.\3"),
    (rf"decoder\.layers\.{_LAYER}\.ffn\.(inner_proj|output_proj)\.(weight|bias)", r"decoder.layers.\1.ffn.\2.\3"),
    (r"decoder\.layer_norm\.(weight|bias)", r"decoder.layer_norm.\1"),
    (r"final_proj\.weight", r"final_proj.weight"),  # TiedProjection: must equal the embeddings
]
# Buffers that carry no weights (fairseq2's sinusoidal/rotary tables, fairseq1 version markers).
IGNORED_FAIRSEQ2 = [r".*pos_encoder\.freqs", r"version", r".*\.version"]

ENCODER_FAIRSEQ1: List[Rule] = [
    (r"embed_tokens\.weight", r"encoder_frontend.embed.weight"),
    (rf"layers\.{_LAYER}\.self_attn\.(q|k|v)_proj\.(weight|bias)", r"encoder.layers.\1.self_attn.\2_proj.\3"),
    (rf"layers\.{_LAYER}\.self_attn\.out_proj\.(weight|bias)", r"encoder.layers.\1.self_attn.output_proj.\2"),
    (rf"layers\.{_LAYER}\.self_attn_layer_norm\.(weight|bias)", r"encoder.layers.\1.self_attn_layer_norm.\2"),
    (rf"layers\.{_LAYER}\.fc1\.(weight|bias)", r"encoder.layers.\1.ffn.inner_proj.\2"),
    (rf"layers\.{_LAYER}\.fc2\.(weight|bias)", r"encoder.layers.\1.ffn.output_proj.\2"),
    (rf"layers\.{_LAYER}\.final_layer_norm\.(weight|bias)", r"encoder.layers.\1.ffn_layer_norm.\2"),
    (r"layer_norm\.(weight|bias)", r"encoder.layer_norm.\1"),
]
DECODER_FAIRSEQ1: List[Rule] = [
    (r"embed_tokens\.weight", r"decoder_frontend.embed.weight"),
    (rf"layers\.{_LAYER}\.self_attn\.(q|k|v)_proj\.(weight|bias)", r"decoder.layers.\1.self_attn.\2_proj.\3"),
    (rf"layers\.{_LAYER}\.self_attn\.out_proj\.(weight|bias)", r"decoder.layers.\1.self_attn.output_proj.\2"),
    (rf"layers\.{_LAYER}\.self_attn_layer_norm\.(weight|bias)", r"decoder.layers.\1.self_attn_layer_norm.\2"),
    (rf"layers\.{_LAYER}\.encoder_attn\.(q|k|v)_proj\.(weight|bias)", r"decoder.layers.\1.encoder_decoder_attn.\2_proj.\3"),
    (rf"layers\.{_LAYER}\.encoder_attn\.out_proj\.(weight|bias)", r"decoder.layers.\1.encoder_decoder_attn.output_proj.\2"),
    (rf"layers\.{_LAYER}\.encoder_attn_layer_norm\.(weight|bias)", r"decoder.layers.\1.encoder_decoder_attn_layer_norm.\2"),
    (rf"layers\.{_LAYER}\.fc1\.(weight|bias)", r"decoder.layers.\1.ffn.inner_proj.\2"),
    (rf"layers\.{_LAYER}\.fc2\.(weight|bias)", r"decoder.layers.\1.ffn.output_proj.\2"),
    (rf"layers\.{_LAYER}\.final_layer_norm\.(weight|bias)", r"decoder.layers.\1.ffn_layer_norm.\2"),
    (r"layer_norm\.(weight|bias)", r"decoder.layer_norm.\1"),
    (r"output_projection\.weight", r"final_proj.weight"),
]
IGNORED_FAIRSEQ1 = [r"version", r"embed_positions\._float_tensor", r"embed_positions\.weights?"]

#: fairseq1 dictionary order (<s>, <pad>, </s>, <unk>) → fairseq2 (<pad>, <unk>, <s>, </s>):
#: new rows [0, 1, 2, 3] are old rows [1, 3, 0, 2] (SONAR loader.py).
FAIRSEQ1_TO_FAIRSEQ2_ROWS = [1, 3, 0, 2]
# ---------------------------------------------------------------------------------------------


def _permute_specials(t: Tensor) -> Tensor:
    t = t.clone()
    t[[0, 1, 2, 3]] = t[FAIRSEQ1_TO_FAIRSEQ2_ROWS]
    return t


def _legacy_state(state: Dict[str, Tensor], extras: Dict[str, Any], prefix: str) -> Dict[str, Tensor]:
    """fairseq1 dumps: optional ``encoder.``/``decoder.`` prefix; embeddings possibly stored as a module object."""
    state = strip_prefix(state, [prefix])
    if "embed_tokens.weight" not in state and hasattr(extras.get("embed_tokens"), "weight"):
        state = {**state, "embed_tokens.weight": extras["embed_tokens"].weight.detach()}
    for k in ("embed_tokens.weight", "output_projection.weight"):
        if k in state:
            state[k] = _permute_specials(state[k])
    return state


def _load(path: str, kind: str) -> Tuple[Dict[str, Tensor], Dict[str, Any], bool]:
    state, extras = load_state_dict(path)
    fairseq2 = f"{kind}_frontend.embed.weight" in state
    return state, extras, fairseq2


def convert_encoder(path: str, heads: Optional[int] = None, max_positions: int = SONAR_MAX_POSITIONS):
    """Published SONAR text encoder checkpoint → ``SonarEncoder`` (returns the module and the layout found)."""
    state, extras, fairseq2 = _load(path, "encoder")
    if fairseq2:
        mapped = remap(state, ENCODER_FAIRSEQ2, path, IGNORED_FAIRSEQ2)
    else:
        mapped = remap(_legacy_state(state, extras, "encoder."), ENCODER_FAIRSEQ1, path, IGNORED_FAIRSEQ1)
    return build_encoder(mapped, path, heads, max_positions), ("fairseq2" if fairseq2 else "fairseq1")


def convert_decoder(path: str, heads: Optional[int] = None, max_positions: int = SONAR_MAX_POSITIONS):
    """Published SONAR text decoder checkpoint → ``SonarDecoder``."""
    state, extras, fairseq2 = _load(path, "decoder")
    if fairseq2:
        mapped = remap(state, DECODER_FAIRSEQ2, path, IGNORED_FAIRSEQ2)
    else:
        mapped = remap(_legacy_state(state, extras, "decoder."), DECODER_FAIRSEQ1, path, IGNORED_FAIRSEQ1)
    return build_decoder(mapped, path, heads, max_positions), ("fairseq2" if fairseq2 else "fairseq1")


def convert(encoder_path: str, decoder_path: str, heads: Optional[int] = None,
            max_positions: int = SONAR_MAX_POSITIONS) -> SonarParts:
    """Both towers; the vocabulary must agree between them."""
    encoder, enc_layout = convert_encoder(encoder_path, heads, max_positions)
    decoder, dec_layout = convert_decoder(decoder_path, heads, max_positions)
    if encoder.cfg.vocab_size != decoder.cfg.vocab_size or encoder.cfg.model_dim != decoder.cfg.model_dim:
        raise ConversionError(f"{encoder_path} ({encoder.cfg.vocab_size}×{encoder.cfg.model_dim}) and {decoder_path} "
                              f"({decoder.cfg.vocab_size}×{decoder.cfg.model_dim}) do not share a vocabulary and width; "
                              "pass the encoder and decoder of the same SONAR release")
    return SonarParts(encoder=encoder, decoder=decoder, ids=TokenizerIds(), vocab_size=encoder.cfg.vocab_size,
                      notes={"encoderLayout": enc_layout, "decoderLayout": dec_layout, "tokenIds": "fairseq2 (pad 0, unk 1, bos 2, eos 3)"})
