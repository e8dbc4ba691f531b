"""Stage ``fragility``: measure the fragility of a sample of training concepts, and fit a predictor of it.

    /usr/bin/python3 recipe/run.py fragility [--set sample=20000] [--fresh]

Why (docs/variants.md, "Fragility-weighted loss"): the paper's fragility-weighted LCM loss weights every
target concept by ω = sigmoid(a·f/100 + b), f its fragility. Measuring f exactly takes one greedy decode of
the vector and one per noise level (six decodes per concept); an LCM run sees millions of distinct concepts, so
the exact form (``--set fragility_source=exact`` of the lcm stage, scores cached per vector) costs far more
than the training itself on these CPUs. This stage measures f exactly on a seeded sample of the training
documents' concepts (``sample``, default 20,000), holds ``holdout`` of them out, and fits a ridge regression of f
on the normalized vector and its square (2E + 1 features, closed form); the lcm stage's default
``fragility_source=predictor`` then weights every concept with the prediction, which costs one small matrix
product per batch. How well the predictor ranks held-out concepts (Pearson r, Spearman ρ, mean absolute error
against predicting the mean) is in ``runs/fragility/predictor.json`` and the log, so the weighting's fidelity
is a measured figure, not an assumption.

f is the recipe's stability form (train/lcm.py, ``FragilityCache``): 100 − mean chrF(decode(x̃), decode(x)),
x̃ = denormalize(√(1 − α)·normalize(x) + √α·ε) for α ∈ {0.1, 0.3, 0.5, 0.7, 0.9}, with the pack's decoder
(``sonar-decoder`` when it has run on the current encoder, else the sonar run's) in ``lang``. Scores are kept
in ``runs/fragility/scores.json`` as they are computed (every ``batch`` × 8 vectors), so a stopped run resumes
without redoing them.
"""
import dataclasses
import os
import shutil
import time
from typing import Any, Dict

import numpy as np
import torch

from .common import Work, log, read_json, write_json

STAGE = "fragility"
FEATURES = "[z, z², 1], z = normalize(x)"


@dataclasses.dataclass
class FragilityConfig:
    sample: int = 20_000  # concepts of the training documents scored exactly
    holdout: float = 0.1  # of them, kept out of the fit to measure the predictor
    ridge: float = 1.0  # L2 penalty of the regression (features are of order 1)
    samples_per_level: int = 1  # noise draws per α
    lang: str = "eng_Latn"  # the decoding language (vectors only: the training documents' text is not at hand)
    seed: int = 0
    batch: int = 64  # vectors scored per call (× 6 decodes each)


def features(z: np.ndarray) -> np.ndarray:
    """[z, z², 1] of normalized vectors [n, E] → [n, 2E + 1] (float64)."""
    z = np.asarray(z, np.float64)
    return np.concatenate([z, z * z, np.ones((z.shape[0], 1))], axis=1)


def _rank(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x), np.float64)
    r[order] = np.arange(len(x), dtype=np.float64)
    # ties get their mean rank
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=r)
    return sums[inv] / counts[inv]


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else float("nan")


def fit_ridge(x: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """w minimizing |features(x)·w − y|² + penalty·|w[:-1]|² (the bias unpenalized)."""
    phi = features(x)
    reg = penalty * np.eye(phi.shape[1])
    reg[-1, -1] = 0.0
    return np.linalg.solve(phi.T @ phi + reg, phi.T @ np.asarray(y, np.float64))


def holdout_metrics(pred: np.ndarray, true: np.ndarray, train_mean: float) -> Dict[str, float]:
    return {"n": int(len(true)), "pearson": _pearson(pred, true), "spearman": _pearson(_rank(pred), _rank(true)),
            "mae": float(np.abs(pred - true).mean()), "maeOfMean": float(np.abs(train_mean - true).mean()),
            "meanF": float(true.mean()), "stdF": float(true.std())}


class FragilityPredictor:
    """f̂(x) = clip(features(normalize(x))·w, 0, 100): the lcm stage's ``fragility_source=predictor``."""

    def __init__(self, weights: np.ndarray, center: np.ndarray, scale: np.ndarray):
        self.w, self.center, self.scale = np.asarray(weights, np.float64), center, scale

    @classmethod
    def load(cls, work: Work) -> "FragilityPredictor":
        from .lcm import load_normalizer

        path = os.path.join(work.runs, STAGE, "predictor.json")
        if not os.path.exists(path):
            raise SystemExit(f"{path} is missing: run `recipe/run.py fragility` first (it measures a sample and fits "
                             "the predictor), or train with `--set fragility_source=exact` (slow: six decodes per "
                             "distinct concept)")
        data = read_json(path)
        center, scale, sha = load_normalizer(work)
        if data.get("normalizerSha256") != sha:
            raise SystemExit(f"{path} was fitted under another normalizer: run `recipe/run.py fragility --fresh`")
        return cls(np.asarray(data["weights"]), center, scale)

    def scores(self, raw: np.ndarray) -> np.ndarray:
        z = (np.asarray(raw, np.float32) - self.center) / self.scale
        return np.clip(features(z) @ self.w, 0.0, 100.0).astype(np.float32)

    def save(self) -> None:  # the same interface as FragilityCache; nothing to keep
        pass


def sample_vectors(work: Work, n: int, seed: int) -> np.ndarray:
    """A seeded sample (without replacement) of ``n`` concept vectors of the embed stage's training documents."""
    from .embed import shards

    files = [path for path, _ in shards(work, "docs", "train")]
    if not files:
        raise SystemExit("no embed shards of docs.train: run `recipe/run.py embed` first")
    arrays = [np.load(p, mmap_mode="r") for p in files]
    sizes = np.array([a.shape[0] for a in arrays])
    total = int(sizes.sum())
    idx = np.sort(np.random.default_rng(seed).choice(total, min(n, total), replace=False))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    which = np.searchsorted(starts, idx, side="right") - 1
    return np.stack([np.asarray(arrays[k][i - starts[k]], np.float32) for k, i in zip(which, idx)])


def run(work: Work, cfg: FragilityConfig, fresh: bool) -> Dict[str, Any]:
    from .lcm import FragilityCache, LcmTrainConfig, load_normalizer
    from .sonar_decoder import pack_decoder

    out = os.path.join(work.runs, STAGE)
    if fresh and os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)
    if not 0.0 < cfg.holdout < 1.0:
        raise SystemExit(f"fragility: holdout must be between 0 and 1 (got {cfg.holdout})")
    center, scale, sha = load_normalizer(work)
    _, dinfo = pack_decoder(work, False)
    decoder_id = {"stage": dinfo["stage"], "step": int(dinfo["step"])}
    state_path = os.path.join(out, "state.json")
    if os.path.exists(state_path):
        prev = read_json(state_path)
        if prev.get("decoder") != decoder_id or prev.get("normalizerSha256") != sha:
            raise SystemExit(f"{out} was scored with decoder {prev.get('decoder')} under normalizer "
                             f"{str(prev.get('normalizerSha256'))[:12]}; now {decoder_id}, {sha[:12]}: rerun with --fresh")
    write_json(state_path, {"stage": STAGE, "finished": False, "decoder": decoder_id, "normalizerSha256": sha})
    vecs = sample_vectors(work, cfg.sample, cfg.seed)
    cache = FragilityCache(work, out, LcmTrainConfig(fragility_lang=cfg.lang, fragility_samples=cfg.samples_per_level),
                           path=os.path.join(out, "scores.json"))
    t0 = time.perf_counter()
    f = np.zeros(len(vecs), np.float32)
    chunk = cfg.batch * 8
    for start in range(0, len(vecs), chunk):
        f[start:start + chunk] = cache.scores(vecs[start:start + chunk])
        fresh_n = cache.new
        cache.save()
        if fresh_n:
            done = start + min(chunk, len(vecs) - start)
            rate = fresh_n / max(1e-9, time.perf_counter() - t0)
            log(f"[{STAGE}] {done}/{len(vecs)} scored ({rate:.1f} concepts/s; ≈ {(len(vecs) - done) / max(rate, 1e-9) / 60:.0f} "
                "min left)")
            t0 = time.perf_counter()
    z = (vecs - center) / scale
    perm = np.random.default_rng(cfg.seed + 1).permutation(len(vecs))
    n_test = max(1, int(round(cfg.holdout * len(vecs))))
    test, train = perm[:n_test], perm[n_test:]
    if len(train) < 2:
        raise SystemExit(f"fragility: {len(vecs)} scored concepts leave too few to fit; raise --set sample")
    w = fit_ridge(z[train], f[train], cfg.ridge)
    pred = np.clip(features(z[test]) @ w, 0.0, 100.0)
    metrics = holdout_metrics(pred, f[test].astype(np.float64), float(f[train].mean()))
    write_json(os.path.join(out, "predictor.json"), {
        "features": FEATURES, "weights": w.tolist(), "ridge": cfg.ridge, "trainN": int(len(train)), "heldOut": metrics,
        "normalizerSha256": sha, "decoder": dinfo["note"], "lang": cfg.lang, "seed": cfg.seed})
    log(f"[{STAGE}] f over {len(vecs)} concepts: mean {f.mean():.1f}, sd {f.std():.1f}; predictor on {n_test} held out: "
        f"Pearson {metrics['pearson']:.3f}, Spearman {metrics['spearman']:.3f}, MAE {metrics['mae']:.2f} "
        f"(predicting the mean: {metrics['maeOfMean']:.2f})")
    state: Dict[str, Any] = {"stage": STAGE, "finished": True, "decoder": decoder_id, "normalizerSha256": sha,
                             "scored": int(len(vecs)), "heldOut": metrics}
    write_json(state_path, state)
    return state

