"""Training-step speed of the default shapes on this machine (docs/recipe.md, "Compute").

Runs full training steps (forward, backward, AdamW) of the ``sonar`` and
``lcm`` stages' default models on batches shaped like real ones (random
tokens / vectors: speed does not depend on the values) and prints seconds per
step, steps/s and tokens (concepts)/s for each thread count and precision
asked for (``bf16``: the forward pass under bf16 autocast, as ``--precision
bf16`` trains; on CPUs with AMX/AVX512-BF16 oneDNN runs it natively).

    cd recipe && /usr/bin/python3 -m train.bench --threads 1 2 --precision fp32 bf16 --seconds 40
    cd recipe && /usr/bin/python3 -m train.bench --encode ~/.cache/concept-studio --threads 1 --precision bf16

``--encode WORK`` instead times the embed stage's encoding (train/decode.py ``encode_texts``, batches of 256)
with WORK's trained SONAR encoder on up to 3,000 sentences of WORK's valid documents.
"""
import argparse
import contextlib
import os
import sys
import time
from typing import List, Optional

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as recipe/run.py

import torch  # noqa: E402

from .forward import encode, lcm_forward_train, token_cross_entropy  # noqa: E402
from .lcm import LcmTrainConfig, build_model  # noqa: E402
from .loop import param_groups  # noqa: E402
from .sonar import IGNORE, SonarAutoencoder, SonarTrainConfig  # noqa: E402


def _autocast(precision: str):  # noqa: ANN202
    return torch.autocast(device_type="cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()


def bench_sonar(seconds: float, vocab: int, mean_len: int, precision: str = "fp32") -> str:
    cfg = SonarTrainConfig()
    net = SonarAutoencoder(cfg, vocab)
    opt = torch.optim.AdamW(param_groups(net, cfg.weight_decay), lr=1e-4)
    rows = cfg.batch_tokens // mean_len
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(4, vocab, (rows, mean_len), generator=g)
    mask = torch.ones_like(ids)
    labels = ids.clone()
    labels[:, 0] = IGNORE
    params = sum(p.numel() for p in {id(p): p for p in net.parameters()}.values())
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < 3:
        with _autocast(precision):  # the sonar stage's loss (train/sonar.py SonarTask.loss)
            loss = token_cross_entropy(net.decoder, ids, encode(net.encoder, ids, mask), labels, IGNORE, 0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
    dt = (time.perf_counter() - start) / steps
    return (f"sonar {params / 1e6:.1f}M params (d {cfg.model_dim}, {cfg.enc_layers}+{cfg.dec_layers} layers, "
            f"vocab {vocab}), batch {rows}×{mean_len} tokens: {dt:.2f} s/step, {1 / dt:.2f} steps/s, "
            f"{2 * rows * mean_len / dt:,.0f} tok/s")


def bench_lcm(seconds: float, dim: int, precision: str = "fp32") -> str:
    cfg = LcmTrainConfig(embedding_dim=dim)
    model = build_model(cfg)
    opt = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=1e-4)
    rows = cfg.batch_concepts // cfg.window
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(rows, cfg.window, dim, generator=g)
    params = sum(p.numel() for p in model.parameters())
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < 3:
        t = torch.randint(0, 100, (rows, cfg.window), generator=g)
        noisy = torch.randn(rows, cfg.window, dim, generator=g)
        with _autocast(precision):
            pred = lcm_forward_train(model, x0, noisy, t, torch.rand(rows, cfg.window, generator=g) < 0.15)
        loss = ((pred.float() - x0) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
    dt = (time.perf_counter() - start) / steps
    return (f"lcm {params / 1e6:.1f}M params (D {cfg.model_dim}, {cfg.context_layers}+{cfg.denoiser_layers} layers), "
            f"batch {rows}×{cfg.window} concepts: {dt:.2f} s/step, {1 / dt:.2f} steps/s, "
            f"{rows * cfg.window / dt:,.0f} concepts/s")


def bench_encode(work_dir: str, precision: str, sentences: int = 3000) -> str:
    """Sentences/s of the embed stage's encoding with the trained encoder of ``work_dir``."""
    import json

    from . import sonar as sonar_stage
    from . import tokenizer as tokstage
    from .common import Work
    from .decode import encode_texts

    work = Work(work_dir)
    encoder, _, _, info = sonar_stage.load_trained(work)
    tok, _ = tokstage.load(work)
    rows: List[tuple] = []
    with open(work.data_file("docs", "valid"), encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            rows.extend((s, row["lang"]) for s in row["sentences"])
            if len(rows) >= sentences:
                break
    rows = rows[:sentences]
    with _autocast(precision):
        t = time.perf_counter()
        encode_texts(encoder, tok, rows, 256, 256, torch.device("cpu"))
        dt = time.perf_counter() - t
    return f"encode {len(rows)} sentences (sonar step {info['step']}): {len(rows) / dt:,.0f} sentences/s"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--precision", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    ap.add_argument("--seconds", type=float, default=30.0, help="per model, thread count and precision")
    ap.add_argument("--vocab", type=int, default=12016, help="12,000 pieces + specials and tags, × 8")
    ap.add_argument("--mean-len", type=int, default=24, help="tokens per sentence (tag and </s> included)")
    ap.add_argument("--encode", metavar="WORK", help="time the embed stage's encoding with WORK's trained encoder")
    args = ap.parse_args(argv)
    for n in args.threads:
        if args.encode:
            torch.set_num_threads(n)
            for precision in args.precision:
                print(f"threads {n}, {precision}: {bench_encode(os.path.expanduser(args.encode), precision)}", flush=True)
            continue
        torch.set_num_threads(n)
        for precision in args.precision:
            torch.manual_seed(0)
            print(f"threads {n}, {precision}: {bench_sonar(args.seconds, args.vocab, args.mean_len, precision)}", flush=True)
            print(f"threads {n}, {precision}: {bench_lcm(args.seconds, SonarTrainConfig().model_dim, precision)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
