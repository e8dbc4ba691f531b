"""SentencePiece ids to model ids, as the pack's ``tokenizer.ids`` map says.

SONAR (fairseq2) reserves pad 0, unk 1, bos 2, eos 3 and shifts every other
SentencePiece id by +1; language tags ``__eng_Latn__`` … follow the pieces
(LCM-SPEC.md, "SONAR text encoder and decoder"). The Hugging Face port orders
the specials differently, which is why the map is data (docs/model-pack.md,
"Token ids") and this helper reads it rather than hard-coding it. The engine's
TypeScript tokenizer must agree with ``encode_for_encoder`` here; the fixture
test/fixtures/reference/tiny/tokens.json pins that.
"""
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence

import sentencepiece as spm


@dataclass(frozen=True)
class TokenizerIds:
    """Mirror of ``TokenizerIds`` in src/inference/pack/types.ts (field names as in the manifest)."""

    pad: int = 0
    unk: int = 1
    bos: int = 2
    eos: int = 3
    pieceOffset: int = 1  # noqa: N815 - manifest field name
    spmUnk: int = 0  # noqa: N815
    spmBos: int = 1  # noqa: N815
    spmEos: int = 2  # noqa: N815

    def to_json(self) -> Dict[str, int]:
        """The manifest's ``tokenizer.ids`` object."""
        return asdict(self)


class PackTokenizer:
    """A SentencePiece model plus the pack's id map and language tags."""

    def __init__(self, model_file: str, ids: TokenizerIds, language_tokens: Dict[str, int], vocab_size: int):
        self.sp = spm.SentencePieceProcessor(model_file=model_file)
        self.ids = ids
        self.language_tokens = dict(language_tokens)
        self.vocab_size = vocab_size
        top = max([self.to_model_id(self.sp.get_piece_size() - 1), *self.language_tokens.values(), *asdict(ids).values()])
        if top >= vocab_size:
            raise ValueError(f"id {top} does not fit a vocabulary of {vocab_size}; raise vocab_size")
        self._tag_ids = {v: k for k, v in self.language_tokens.items()}

    def to_model_id(self, spm_id: int) -> int:
        """Map one SentencePiece id to a model id."""
        i = self.ids
        if spm_id == i.spmUnk:
            return i.unk
        if spm_id == i.spmBos:
            return i.bos
        if spm_id == i.spmEos:
            return i.eos
        return spm_id + i.pieceOffset

    def to_spm_id(self, model_id: int) -> Optional[int]:
        """Inverse of ``to_model_id`` for pieces; None for pad, specials, language tags and padding rows."""
        i = self.ids
        if model_id in (i.pad, i.unk, i.bos, i.eos) or model_id in self._tag_ids:
            return None
        s = model_id - i.pieceOffset
        if s < 0 or s >= self.sp.get_piece_size() or s in (i.spmUnk, i.spmBos, i.spmEos):
            return None
        return s

    def lang_id(self, lang: str) -> int:
        """Model id of the tag ``__lang__``."""
        if lang not in self.language_tokens:
            raise KeyError(f"language {lang!r} has no tag; known: {sorted(self.language_tokens)}")
        return self.language_tokens[lang]

    def pieces(self, text: str) -> List[int]:
        """Model ids of the text's pieces (no tag, no </s>)."""
        return [self.to_model_id(s) for s in self.sp.encode(text)]

    def encode_for_encoder(self, text: str, lang: str, max_tokens: Optional[int] = None) -> List[int]:
        """Encoder input ``[lang] pieces… </s>``, pieces truncated so the whole fits ``max_tokens``."""
        body = self.pieces(text)
        if max_tokens is not None:
            body = body[: max(0, max_tokens - 2)]
        return [self.lang_id(lang), *body, self.ids.eos]

    def decoder_prompt(self, lang: str) -> List[int]:
        """Decoder prompt ``</s> [lang]`` (LCM-SPEC.md)."""
        return [self.ids.eos, self.lang_id(lang)]

    def decode(self, model_ids: Sequence[int]) -> str:
        """Text of generated ids; stops at </s>, skips tags and specials."""
        out: List[int] = []
        for m in model_ids:
            if m == self.ids.eos:
                break
            s = self.to_spm_id(int(m))
            if s is not None:
                out.append(s)
        return self.sp.decode(out)
