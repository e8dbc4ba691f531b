"""Stage ``normalizer``: fit the robust scaler the LCM works under (LCM-SPEC.md, "Embedding normalizer").

center = per-dimension median, scale = IQR / 1.349 (the σ of a normal with
that inter-quartile range, so a Gaussian dimension gets scale ≈ σ), in
float64, on up to ``max_vectors`` sentence vectors of the train split's
documents and summaries (a seeded uniform sample when there are more).
Writes ``runs/normalizer/normalizer.json`` in the pack's format and its
SHA-256 in ``state.json``: the LCM stages refuse to resume under another one.
"""
import dataclasses
import hashlib
import os
import time
from typing import Any, Dict, List

import numpy as np

from . import embed as embed_stage
from .common import Work, log, write_json

IQR_TO_SIGMA = 1.3489795003921634  # 2·Φ⁻¹(0.75): a normal's inter-quartile range in σ
MIN_SCALE = 1e-6  # a constant dimension must not divide by zero


@dataclasses.dataclass
class NormalizerConfig:
    max_vectors: int = 200_000
    seed: int = 1


def fit(vectors: np.ndarray) -> Dict[str, List[float]]:
    """{"center": median, "scale": IQR/1.349} of vectors [n, E] (float64 statistics, float32 values)."""
    v = vectors.astype(np.float64)
    center = np.median(v, axis=0)
    q75, q25 = np.percentile(v, [75, 25], axis=0)
    scale = np.maximum((q75 - q25) / IQR_TO_SIGMA, MIN_SCALE)
    return {"center": center.astype(np.float32).tolist(), "scale": scale.astype(np.float32).tolist()}


def run(work: Work, cfg: NormalizerConfig) -> Dict[str, Any]:
    t0 = time.perf_counter()
    parts = embed_stage.shards(work, "docs", "train") + embed_stage.shards(work, "summaries", "train")
    if not parts:
        raise SystemExit("no train shards in runs/embed: run `/usr/bin/python3 recipe/run.py embed` first")
    arrays = [np.load(p, mmap_mode="r") for p, _ in parts]
    total = sum(a.shape[0] for a in arrays)
    rng = np.random.default_rng(cfg.seed)
    take = []
    for a in arrays:
        if total <= cfg.max_vectors:
            take.append(np.asarray(a, dtype=np.float32))
        else:
            k = int(round(cfg.max_vectors * a.shape[0] / total))
            idx = np.sort(rng.choice(a.shape[0], size=min(k, a.shape[0]), replace=False))
            take.append(np.asarray(a[idx], dtype=np.float32))
    vectors = np.concatenate(take)
    norm = fit(vectors)
    out = work.run_dir("normalizer")
    path = os.path.join(out, "normalizer.json")
    write_json(path, norm)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    scale = np.asarray(norm["scale"])
    state = {"stage": "normalizer", "finished": True, "vectors": int(vectors.shape[0]), "ofVectors": int(total),
             "sha256": digest, "wallSeconds": round(time.perf_counter() - t0, 1),
             "scaleMin": float(scale.min()), "scaleMedian": float(np.median(scale)), "scaleMax": float(scale.max())}
    write_json(os.path.join(out, "state.json"), state)
    log(f"[normalizer] fitted on {vectors.shape[0]} of {total} vectors; scale median {np.median(scale):.4g} "
        f"(min {scale.min():.4g}, max {scale.max():.4g}) → {path}")
    return state
