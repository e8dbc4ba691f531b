"""Write a pack with the default pack's SHAPES and random weights, for speed measurement only.

No default pack exists until the training recipe has run (issue 3), but speed
depends on shapes, not on weight values: this pack has the shapes the default
pack is trained with and measures what the engine will do with it.

- ``--preset gpu`` (default): recipe/device/train_on_device.py ``GPU_SETTINGS``, the
  run that makes the default pack: SONAR d 256, 6 encoder + 4 decoder layers,
  4 heads, FFN 1024, 256 positions; Two-Tower LCM E = D = 256, 2 + 2 layers,
  4 heads, SwiGLU 1024.
- ``--preset cpu``: the CPU recipe's defaults (recipe/train/sonar.py, lcm.py):
  SONAR 4 + 3 layers, LCM 2 + 4 layers, otherwise the same.

Tokenizer: the recipe's trained one (``$CS_WORK/runs/tokenizer``, 12,000
pieces, vocabulary 12,016) when present, else the 2,500-piece fixture
tokenizer with the vocabulary padded to 12,016 rows (the decoder's softmax and
output projection cost what the real one does; sentences are cut into a few
more pieces). MODEL_CARD.md and the manifest's provenance say which.

Weights: torch.manual_seed(0); linear weights N(0, 1/fan_in), biases and norm
offsets N(0, 0.02²), token embeddings N(0, 1/d): activations stay of order 1
(no overflow, no denormals, which would make the timing meaningless).
Normalizer: median and IQR/1.349 of the encoder vectors of 512 corpus lines.

Run from the repository root (``npm run bench`` does it when the pack is missing):

    /usr/bin/python3 recipe/bench/make_shape_pack.py [--preset gpu|cpu] [--out .bench/packs/default-shape]
"""
import argparse
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "recipe"))

from lcmref.export_pack import export_pack, manifest_fields, verify_pack  # noqa: E402
from lcmref.sonar import SonarConfig, SonarDecoder, SonarEncoder  # noqa: E402
from lcmref.tokenizer import PackTokenizer, TokenizerIds  # noqa: E402
from lcmref.two_tower import LcmConfig, SonarNormalizer, TwoTowerLCM  # noqa: E402

SEED = 0
VOCAB = 12016  # 12,000 pieces + pad/unk/bos/eos + 15 tags, rounded up to × 8 (recipe/train/tokenizer.py)
PRESETS: Dict[str, Dict[str, int]] = {
    "gpu": {"enc_layers": 6, "dec_layers": 4, "context_layers": 2, "denoiser_layers": 2},
    "cpu": {"enc_layers": 4, "dec_layers": 3, "context_layers": 2, "denoiser_layers": 4},
}
MODEL_DIM, HEADS, FFN, MAX_POSITIONS, DECODER_MAX_LENGTH = 256, 4, 1024, 258, 128
FIXTURE_TOKENIZER = os.path.join(ROOT, "test", "fixtures", "tokenizer", "fixture.model")
CORPUS = os.path.join(ROOT, "test", "fixtures", "tokenizer", "corpus.txt")
FIXTURE_LANGUAGES = [("eng_Latn", "English"), ("fra_Latn", "French"), ("deu_Latn", "German"), ("rus_Cyrl", "Russian"),
                     ("zho_Hans", "Chinese (Simplified)"), ("jpn_Jpan", "Japanese"),
                     ("arb_Arab", "Modern Standard Arabic"), ("hin_Deva", "Hindi")]


def find_tokenizer() -> Tuple[str, Dict[str, Any], str]:
    """(tokenizer.model path, its id spec as the manifest wants it, a line saying which) for the pack."""
    work = os.environ.get("CS_WORK") or os.path.join(os.path.expanduser("~"), ".cache", "concept-studio")
    tdir = os.path.join(work, "runs", "tokenizer")
    spec_path, model_path = os.path.join(tdir, "tokenizer.json"), os.path.join(tdir, "tokenizer.model")
    if os.path.exists(spec_path) and os.path.exists(model_path):
        with open(spec_path, encoding="utf-8") as f:
            spec = json.load(f)
        if spec.get("vocabSize") == VOCAB:
            langs = [(c, spec["names"][c]) for c in spec["languages"]]
            return model_path, {"ids": spec["ids"], "languageTokens": spec["languageTokens"], "languages": langs}, \
                f"the recipe's trained tokenizer ({spec.get('pieces')} pieces, sha256 {spec.get('sha256', '?')[:12]}…)"
    tags = {code: 2501 + i for i, (code, _) in enumerate(FIXTURE_LANGUAGES)}
    ids = TokenizerIds().to_json()
    return FIXTURE_TOKENIZER, {"ids": ids, "languageTokens": tags, "languages": FIXTURE_LANGUAGES}, \
        f"the 2,500-piece fixture tokenizer (no trained tokenizer in {tdir}), vocabulary padded to {VOCAB}"


def init_random(module: torch.nn.Module, dim: int) -> None:
    """The weights described in the module docstring, drawn from the global torch RNG in parameter order."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("embed.weight"):
                p.normal_(0.0, dim ** -0.5)
            elif "layer_norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.02 * torch.randn_like(p))
            elif p.dim() == 1:
                p.normal_(0.0, 0.02)
            else:
                p.normal_(0.0, p.shape[1] ** -0.5)


def fit_normalizer(encoder: SonarEncoder, tok: PackTokenizer, langs: List[str]) -> SonarNormalizer:
    """Robust scaler (median, IQR/1.349) on the encoder vectors of 512 corpus lines, tags in turn."""
    with open(CORPUS, encoding="utf-8") as f:
        lines = [l.strip() for l in f if len(l.strip()) > 20][:512]
    rows = []
    for start in range(0, len(lines), 64):
        batch = [tok.encode_for_encoder(s, langs[(start + i) % len(langs)], MAX_POSITIONS - 2)
                 for i, s in enumerate(lines[start:start + 64])]
        width = max(len(r) for r in batch)
        ids = torch.tensor([r + [tok.ids.pad] * (width - len(r)) for r in batch])
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in batch])
        with torch.no_grad():
            rows.append(encoder(ids, mask))
    vecs = torch.cat(rows).double().numpy()
    q75, q25 = np.percentile(vecs, [75, 25], axis=0)
    scale = np.maximum((q75 - q25) / 1.3489795003921634, 1e-6)
    return SonarNormalizer(torch.tensor(np.median(vecs, axis=0), dtype=torch.float32), torch.tensor(scale, dtype=torch.float32))


def model_card(preset: str, shapes: Dict[str, int], tokenizer_line: str, command: str) -> str:
    return f"""# bench-{preset}-shape (random weights, for speed measurement only)

This pack has the shapes of the default pack ({preset} preset) and **random
weights**. It encodes, decodes and generates nothing meaningful; it exists so
that `npm run bench` can measure the engine at the default pack's size before
the trained pack exists (speed depends on shapes, not on weight values).

- Made by `{command}` (torch.manual_seed({SEED})).
- SONAR encoder/decoder: d = {MODEL_DIM}, {shapes['enc_layers']} + {shapes['dec_layers']} layers, {HEADS} heads,
  FFN {FFN}, vocabulary {VOCAB}, {MAX_POSITIONS - 2} positions.
- Two-Tower LCM: E = D = {MODEL_DIM}, {shapes['context_layers']} contextualizer + {shapes['denoiser_layers']} denoiser
  layers, {HEADS} heads, SwiGLU {FFN}.
- Tokenizer: {tokenizer_line}.
- Data and training compute: none. Licence: same as the repository.
"""


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="gpu")
    ap.add_argument("--out", help="pack folder (default: .bench/packs/default-shape, or cpu-shape for --preset cpu)")
    args = ap.parse_args(argv)
    out = os.path.abspath(args.out or os.path.join(ROOT, ".bench", "packs", f"{'default' if args.preset == 'gpu' else 'cpu'}-shape"))
    shapes = PRESETS[args.preset]
    t0 = time.perf_counter()
    torch.manual_seed(SEED)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    tok_path, spec, tok_line = find_tokenizer()
    enc = SonarEncoder(SonarConfig(VOCAB, MODEL_DIM, shapes["enc_layers"], HEADS, FFN, MAX_POSITIONS))
    dec = SonarDecoder(SonarConfig(VOCAB, MODEL_DIM, shapes["dec_layers"], HEADS, FFN, MAX_POSITIONS))
    lcm = TwoTowerLCM(LcmConfig(embedding_dim=MODEL_DIM, model_dim=MODEL_DIM, heads=HEADS,
                                context_layers=shapes["context_layers"], denoiser_layers=shapes["denoiser_layers"],
                                ffn_dim=FFN, max_context=4096))
    for m in (enc, dec, lcm):
        init_random(m, MODEL_DIM)
        m.eval()
    tok = PackTokenizer(tok_path, TokenizerIds(**spec["ids"]), spec["languageTokens"], VOCAB)
    normalizer = fit_normalizer(enc, tok, [c for c, _ in spec["languages"]])
    command = f"/usr/bin/python3 recipe/bench/make_shape_pack.py --preset {args.preset}"
    fields = manifest_fields(
        name=f"bench-{args.preset}-shape", version="0.0.0",
        description="Random weights with the default pack's shapes, for speed measurement only.",
        languages=spec["languages"], tokenizer_ids=spec["ids"], vocab_size=VOCAB, language_tokens=spec["languageTokens"],
        encoder=enc, decoder=dec, decoder_max_length=DECODER_MAX_LENGTH, lcm=lcm,
        # The paper's inference settings and the recipe's schedule, as recipe/train/export.py writes them.
        schedule={"kind": "cosine", "trainSteps": 100, "betaStart": 0.0001, "betaEnd": 0.02, "sigmoidGamma": 1.5,
                  "sigmoidDelta": 0.0, "zeroTerminalSnr": True, "predictionType": "sample"},
        sampling={"inferenceSteps": 40, "spacing": "trailing", "guidanceScale": 3.0, "guidanceRescale": 0.7,
                  "initialNoiseScale": 0.6, "epsilonScaling": 1.00045, "clipNoise": 100.0},
        stopping={"endOfText": {"text": "End of text.", "lang": "eng_Latn", "threshold": 0.9},
                  "repetitionThreshold": None, "maxConcepts": 64},
        instructions={"summarize": {"marker": "[SUMMARY]:", "lang": "eng_Latn"},
                      "expand": {"marker": "[EXPAND]:", "lang": "eng_Latn"}},
    )
    manifest = export_pack(out, encoder=enc, decoder=dec, lcm=lcm, normalizer=normalizer, tokenizer_model=tok_path,
                           manifest=fields, model_card=model_card(args.preset, shapes, tok_line, command),
                           provenance={"createdBy": command, "command": command, "weights": f"random, seed {SEED}",
                                       "seed": SEED, "tokenizer": tok_line})
    problems = verify_pack(out)
    if problems:
        print("the written pack fails verification:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    size = sum(f["bytes"] for f in manifest["files"])
    print(f"pack {os.path.relpath(out, ROOT)}: {len(manifest['files'])} files, {size / 2 ** 20:.1f} MiB, "
          f"tokenizer: {tok_line}; {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
