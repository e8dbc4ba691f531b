"""Assemble converted SONAR towers and a Two-Tower LCM into a model pack (docs/model-pack.md).

The graphs are exported by recipe/lcmref/export_pack.py, the same code that writes the fixture
packs, so a converted pack is exactly as valid as they are. ``fp16=True`` then rewrites every
graph with ``fp16.convert_file`` (float32 inputs and outputs, float16 inside) and rewrites the
manifest's file list; ``provenance.precision`` records which variant a pack is.
"""
import json
import os
from typing import Any, Dict, Optional

import sentencepiece as spm

from lcmref.ddim import ScheduleConfig
from lcmref.export_pack import export_pack, file_entry, manifest_fields
from lcmref.generate import GenerationOptions
from lcmref.tokenizer import PackTokenizer
from .checkpoints import ConversionError
from .fp16 import convert_file
from .languages import LANGUAGES, language_tag_ids
from .lcm_two_tower import LcmParts
from .sonar_common import SONAR_MAX_LENGTH, SonarParts

GRAPHS = ("encoder.onnx", "decoder.onnx", "contextualizer.onnx", "denoiser_context.onnx", "denoiser.onnx")


def schedule_json(kind: str = "cosine", train_steps: int = 100) -> Dict[str, Any]:
    """The released LCM configs' schedule (cosine, T = 100, zero terminal SNR; LCM-SPEC.md)."""
    s = ScheduleConfig(kind=kind, train_steps=train_steps, zero_terminal_snr=True)
    return {"kind": s.kind, "trainSteps": s.train_steps, "betaStart": s.beta_start, "betaEnd": s.beta_end,
            "sigmoidGamma": s.sigmoid_gamma, "sigmoidDelta": s.sigmoid_delta, "zeroTerminalSnr": s.zero_terminal_snr,
            "predictionType": "sample"}


def sampling_json() -> Dict[str, Any]:
    """The paper's inference settings (S 40 trailing, g 3, r 0.7, noise 0.6, λ 1.00045, clip 100)."""
    keep = ("inferenceSteps", "spacing", "guidanceScale", "guidanceRescale", "initialNoiseScale", "epsilonScaling", "clipNoise")
    return {k: v for k, v in GenerationOptions().to_json().items() if k in keep}


def tokenizer_for(sonar: SonarParts, tokenizer_model: str) -> PackTokenizer:
    """The pack's tokenizer: the SentencePiece model, the format's id map, NLLB language tags after the pieces."""
    if not os.path.exists(tokenizer_model):
        raise ConversionError(f"{tokenizer_model}: no such SentencePiece model (SONAR's is the NLLB-200 "
                              "sentencepiece.source.256000.model; HF ports ship sentencepiece.bpe.model)")
    try:
        pieces = spm.SentencePieceProcessor(model_file=tokenizer_model).get_piece_size()
    except Exception as e:  # noqa: BLE001 - sentencepiece raises RuntimeError/OSError
        raise ConversionError(f"{tokenizer_model}: not a SentencePiece model ({e})") from e
    tags = language_tag_ids(pieces)
    try:
        return PackTokenizer(tokenizer_model, sonar.ids, tags, sonar.vocab_size)
    except ValueError as e:
        raise ConversionError(f"{tokenizer_model} ({pieces} pieces) + 202 language tags do not fit the checkpoints' "
                              f"{sonar.vocab_size}-row vocabulary ({e}); is this the tokenizer of these weights?") from e


def model_card(name: str, sources: Dict[str, str], fp16: bool, extra: str) -> str:
    lines = [f"# {name}", "", "Converted with `/usr/bin/python3 -m recipe.convert` (docs/converters.md) from:", ""]
    lines += [f"- {k}: `{v}`" for k, v in sources.items()]
    lines += ["", f"Precision: {'float16 weights and activations, float32 inputs/outputs' if fp16 else 'float32'}.",
              "", "Licence: that of the source weights (SONAR: CC-BY-NC-4.0).", ""]
    if extra:
        lines += [extra, ""]
    return "\n".join(lines)


def write_pack(out_dir: str, *, sonar: SonarParts, lcm: LcmParts, tokenizer_model: str, name: str,
               description: str, sources: Dict[str, str], fp16: bool = False, external_data: bool = False,
               version: str = "1.0.0", schedule: Optional[Dict[str, Any]] = None, decoder_max_length: int = SONAR_MAX_LENGTH,
               card_extra: str = "", provenance: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Write the pack folder; returns the manifest."""
    if sonar.encoder is None or sonar.decoder is None:
        raise ConversionError("a pack needs both SONAR towers (encoder and decoder)")
    if sonar.encoder.cfg.model_dim != lcm.lcm.cfg.embedding_dim:
        raise ConversionError(f"the LCM works on {lcm.lcm.cfg.embedding_dim}-d vectors but SONAR makes "
                              f"{sonar.encoder.cfg.model_dim}-d ones; pass an LCM trained on this SONAR space")
    tok = tokenizer_for(sonar, tokenizer_model)
    max_len = min(decoder_max_length, sonar.decoder.cfg.max_positions - 4)
    fields = manifest_fields(
        name=name, version=version, description=description, languages=LANGUAGES, tokenizer_ids=sonar.ids.to_json(),
        vocab_size=sonar.vocab_size, language_tokens=tok.language_tokens, encoder=sonar.encoder, decoder=sonar.decoder,
        decoder_max_length=max_len, lcm=lcm.lcm, schedule=schedule or schedule_json(), sampling=sampling_json(),
        stopping={"endOfText": {"text": "End of text.", "lang": "eng_Latn", "threshold": 0.9},
                  "repetitionThreshold": None, "maxConcepts": 64},
        instructions={"summarize": {"marker": "[SUMMARY]:", "lang": "eng_Latn"},
                      "expand": {"marker": "[EXPAND]:", "lang": "eng_Latn"}},
    )
    prov = {"createdBy": "recipe/convert", "precision": "fp16" if fp16 else "fp32",
            **{f"source.{k}": v for k, v in sources.items()}, **{f"note.{k}": v for k, v in {**sonar.notes, **lcm.notes}.items()},
            **(provenance or {})}
    manifest = export_pack(out_dir, encoder=sonar.encoder, decoder=sonar.decoder, lcm=lcm.lcm, normalizer=lcm.normalizer,
                           tokenizer_model=tokenizer_model, manifest=fields,
                           model_card=model_card(name, sources, fp16, card_extra), provenance=prov,
                           external_data=external_data)
    if fp16:
        manifest = to_fp16(out_dir, manifest, external_data)
    return manifest


def to_fp16(out_dir: str, manifest: Dict[str, Any], external_data: bool) -> Dict[str, Any]:
    """Rewrite every graph of a written fp32 pack as fp16 and refresh the manifest's file list."""
    names = [f["path"] for f in manifest["files"] if not f["path"].endswith((".onnx", ".onnx.data"))]
    for graph in GRAPHS:
        src = os.path.join(out_dir, graph)
        tmp = os.path.join(out_dir, f".fp32-{graph}")
        os.replace(src, tmp)  # its external data (if any) stays at <graph>.onnx.data, where the moved graph still points
        try:
            names += convert_file(tmp, src, external_data)  # loads everything before replacing <graph>.onnx.data
        finally:
            os.remove(tmp)
    manifest = {**manifest, "files": [file_entry(out_dir, n) for n in sorted(names)]}
    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return manifest

