"""A random-weight pack of REAL SONAR size, for GPU measurements (not for writing).

    /usr/bin/python3 -m recipe.convert real-size --out /data/packs/realsize [--fp16]
    /usr/bin/python3 -m recipe.convert real-size --out /tmp/realsize-small --reduced   # the builder, tested small

Real size: SONAR encoder and decoder 1024-d, 24 + 24 layers, 16 heads, FFN 8192, vocabulary
256,206 (the published sizes; ~3 GB fp32 per tower), 514 positions, ONNX external data. The LCM at
a small-but-real shape: 1024-d embeddings, D = 1024, 16 heads, 2 contextualizer + 4 denoiser
layers, SwiGLU 4096 (the paper's 1.6B is D 2048, 5 + 13 layers). The tokenizer is the test
SentencePiece model (2,500 pieces) with the 202 language tags after its pieces, so sentences
tokenize longer than with NLLB's 256k model; timings per token are what carry over.
Building the full size needs ~16 GB of RAM and several GB of disk; it is meant for the GPU machine.
"""
import os
import time

import torch

from lcmref.sonar import SonarConfig, SonarDecoder, SonarEncoder
from lcmref.tokenizer import TokenizerIds
from lcmref.two_tower import LcmConfig, SonarNormalizer, TwoTowerLCM

from .lcm_two_tower import LcmParts
from .miniature import write_tokenizer
from .pack import write_pack
from .sonar_common import SonarParts

REAL_SONAR = SonarConfig(vocab_size=256206, model_dim=1024, layers=24, heads=16, ffn_dim=8192, max_positions=514)
REAL_LCM = LcmConfig(embedding_dim=1024, model_dim=1024, heads=16, context_layers=2, denoiser_layers=4, ffn_dim=4096)
REDUCED_SONAR = SonarConfig(vocab_size=2706, model_dim=32, layers=2, heads=4, ffn_dim=64, max_positions=514)
REDUCED_LCM = LcmConfig(embedding_dim=32, model_dim=48, heads=4, context_layers=2, denoiser_layers=2, ffn_dim=96)


def build(out: str, reduced: bool = False, fp16: bool = False) -> None:
    t0 = time.perf_counter()
    sonar_cfg, lcm_cfg = (REDUCED_SONAR, REDUCED_LCM) if reduced else (REAL_SONAR, REAL_LCM)
    torch.manual_seed(0)
    with torch.no_grad():
        encoder, decoder, lcm = SonarEncoder(sonar_cfg).eval(), SonarDecoder(sonar_cfg).eval(), TwoTowerLCM(lcm_cfg).eval()
        for m in (encoder, decoder):  # embeddings at SONAR's scale so sqrt(d)·E is O(1)
            for p in m.parameters():
                if p.dim() == 2 and p.shape[0] == sonar_cfg.vocab_size:
                    p.normal_(0, sonar_cfg.model_dim ** -0.5)
    normalizer = SonarNormalizer(torch.zeros(lcm_cfg.embedding_dim), torch.ones(lcm_cfg.embedding_dim))
    os.makedirs(out, exist_ok=True)
    tok = os.path.join(out, ".tokenizer.model")
    write_tokenizer(tok)
    try:
        manifest = write_pack(
            out, sonar=SonarParts(encoder=encoder, decoder=decoder, ids=TokenizerIds(), vocab_size=sonar_cfg.vocab_size),
            lcm=LcmParts(lcm=lcm, normalizer=normalizer), tokenizer_model=tok,
            name="realsize-random" + ("-reduced" if reduced else ""),
            description="Random weights at real SONAR size, for GPU measurements only (the output is noise).",
            sources={"weights": "random (torch.manual_seed(0), default init)"}, fp16=fp16, external_data=True,
            card_extra="For throughput and latency measurements only: random weights, meaningless output.")
    finally:
        os.remove(tok)
    total = sum(f["bytes"] for f in manifest["files"])
    print(f"pack {out}: {len(manifest['files'])} files, {total / 1e9:.2f} GB, {time.perf_counter() - t0:.0f} s")
