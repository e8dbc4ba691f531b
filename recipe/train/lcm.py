"""Stages ``lcm`` and ``finetune``: train the Two-Tower diffusion LCM (recipe/lcmref/two_tower.py),
or, with ``--set architecture=base-mse|one-tower-diffusion|quant-discrete|quant-continuous``, the
Base-LCM, the One-Tower LCM or a Quant-LCM (docs/variants.md; recipe/lcmref/base_lcm.py,
one_tower.py, quant_lcm.py).

Quant-LCM: at the start of a fresh ``lcm`` run the RVQ codebooks are fitted (lcmref/rvq.py,
k-means level by level; ``rvq_levels`` × ``rvq_size`` units, ``rvq_iters`` Lloyd steps) on up to
``rvq_vectors`` normalized concept vectors of the embed stage's training documents and saved as
``runs/lcm/codebooks.pt`` (a resumed run reuses them; ``finetune`` takes the lcm run's). Each
batch is RVQ-encoded and every position gets one random level: cross-entropy on the unit there
(quant-discrete) or MSE on the residual (quant-continuous). Evaluation samples with
``quant_temperature``/``quant_top_k``.

Fragility-weighted loss (the paper's L_fragility, §2.5.1; ``--set fragility_a=a``, a ≠ 0, and
``--set fragility_b=b``; any architecture): each target concept's loss is weighted by
ω = sigmoid(a·f/100 + b), f its fragility in 0–100, as a weighted mean. The noise is the paper's
(src/inference/metrics/fragility.ts): x̃ = denormalize(√(1 − α)·normalize(x) + √α·ε), α ∈
FRAGILITY_NOISE (the midpoints of five strata of U[0, 1]), ``fragility_samples`` draws per level
(seeded per vector). Training sequences hold vectors only (no text), so f is the stability form:
100 − mean chrF(decode(x̃), decode(x)) with the SONAR stage's decoder, greedy, in
``fragility_lang`` (the app's score compares with the sentence itself). ``fragility_source=exact``
computes it once per distinct vector, cached in ``runs/<stage>/fragility.json`` (key: SHA-1 of the
float16 vector): six decodes per concept, far more than a training step costs on a CPU. The default,
``fragility_source=predictor``, uses the ``fragility`` stage's predictor instead (train/fragility.py: f
measured exactly on a sample of training concepts, a ridge regression on the normalized vector, its
held-out correlation reported).

Variants: same data loading, windows, batches, optimiser, checkpoints and resume. The
Base-LCM's loss is next-vector MSE in normalized space (the prediction at row n−1 against
row n, for every loss position n ≥ 1); the One-Tower LCM's is the Two-Tower objective
below (same schedule, timesteps, noise and 15% guidance dropout, which for One-Tower
hides every clean row from the noisy row). Their tower has ``layers`` layers (0: the
Two-Tower's context_layers + denoiser_layers, so the three designs get comparable depth).
The architecture is part of a run's shape: a resumed run cannot switch it.

Objective (LCM paper §2.3.3; LCM-SPEC.md "Training"): every position n of a
normalized concept sequence gets its own timestep t ~ U{0 … T−1} and noise
ε, x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε (cosine schedule, T = 100, betas rescaled to
zero terminal SNR: lcmref/ddim.py); the denoiser sees x_t, t and the
contextualizer outputs of positions < n (plus the zero key) and predicts x0;
loss = MSE(x̂0, x0) over the loss positions. 15% of positions see only the
zero key (classifier-free guidance dropout).

``finetune`` continues from the ``lcm`` stage's best weights on the
instruction sequences of lcm_data.py (loss on the targets only), with a lower
learning rate.

Every ``eval_every`` steps, on held-out sequences: ``valid_mse`` (fixed
timesteps and noise, every loss position; ``score`` = −valid_mse picks
``best.pt``), and the next-concept cosine of one full diffusion sample per
position (lcmref.ddim.sample_next, the paper's settings: 40 trailing steps,
guidance 3, rescale 0.7, initial noise 0.6, ε-scaling 1.00045) against the
baselines "repeat previous" and "mean of context", in raw space.
"""
import copy
import dataclasses
import os
import time
from typing import Any, Dict, List, Optional, Protocol, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

from lcmref import ddim
from lcmref.base_lcm import BaseLCM, BaseLcmConfig
from lcmref.generate import BaseContext, GenerationOptions, make_context
from lcmref.one_tower import OneTowerConfig, OneTowerLCM
from lcmref.quant_lcm import VARIANTS as QUANT_VARIANTS, QuantContext, QuantLCM, QuantLcmConfig, quant_loss
from lcmref.rng import Rng
from lcmref.rvq import ResidualVQ, fit_rvq, reconstruction_error
from lcmref.two_tower import LcmConfig, SonarNormalizer, TwoTowerLCM

from . import embed as embed_stage
from .common import Work, apply_overrides, log, read_json, stage_state
from .forward import lcm_forward_train
from .lcm_data import InstructionBuilder, Sequence as Seq, ShardStore, doc_windows, eval_positions, window_sequence
from .loop import RunOptions, Trainer, load_weights, prepare_run_dir, resume_config
from .streams import MixedStream, PooledBatcher

SHAPE_KEYS = ("model_dim", "heads", "context_layers", "denoiser_layers", "ffn_dim", "embedding_dim", "architecture", "layers",
              "rvq_levels", "rvq_size", "schedule", "schedule_beta_start", "schedule_beta_end", "sigmoid_gamma",
              "sigmoid_delta", "zero_terminal_snr")
ARCHITECTURES = ("two-tower-diffusion", "one-tower-diffusion", "base-mse", *QUANT_VARIANTS)
FRAGILITY_NOISE = (0.1, 0.3, 0.5, 0.7, 0.9)  # α levels (src/inference/metrics/fragility.ts defaults)
SCHEDULE = ddim.ScheduleConfig(kind="cosine", train_steps=100, zero_terminal_snr=True)  # released LCM configs (default)
PAPER = GenerationOptions()  # the paper's inference settings (lcmref/generate.py)


@dataclasses.dataclass
class LcmTrainConfig:
    # shapes (docs/recipe.md, "Models and stages")
    architecture: str = "two-tower-diffusion"  # or one-tower-diffusion, base-mse (docs/variants.md)
    layers: int = 0  # one-tower / base-mse: the tower's layers (0: context_layers + denoiser_layers)
    embedding_dim: int = 0  # read from the SONAR run (its model_dim)
    model_dim: int = 256
    heads: int = 4
    context_layers: int = 2
    denoiser_layers: int = 4
    ffn_dim: int = 1024
    max_context: int = 4096
    # Quant-LCM (docs/variants.md): RVQ codebooks and evaluation sampling
    rvq_levels: int = 16
    rvq_size: int = 256
    rvq_iters: int = 10
    rvq_vectors: int = 20_000
    quant_temperature: float = 1.0
    quant_top_k: int = 0
    # the diffusion noise schedule (lcmref/ddim.py ScheduleConfig; docs/variants.md "Schedule study"): part of the
    # run's shape, so finetune inherits it and a resumed run cannot switch it; export writes it into the manifest
    schedule: str = "cosine"  # cosine | linear | quadratic | sigmoid
    schedule_beta_start: float = 0.0001  # linear / quadratic
    schedule_beta_end: float = 0.02
    sigmoid_gamma: float = 1.5  # sigmoid: ᾱ(t) ∝ sigmoid(δ − γ·logit(t)) (paper eq. 14)
    sigmoid_delta: float = 0.0
    zero_terminal_snr: bool = True
    # fragility-weighted loss ω = sigmoid(a·f/100 + b): fragility_a = 0 is off
    fragility_a: float = 0.0
    fragility_b: float = 0.0
    fragility_samples: int = 1
    fragility_lang: str = "eng_Latn"
    fragility_source: str = "predictor"  # predictor (runs/fragility, train/fragility.py) | exact (decoded, cached)
    # data and objective
    window: int = 64  # concepts per training sequence
    batch_concepts: int = 2048  # rows × longest row
    pool_size: int = 2000
    cfg_dropout: float = 0.15
    w_sum: float = 0.35  # finetune task mix
    w_exp: float = 0.35
    w_plain: float = 0.3
    # optimisation
    steps: int = 50_000
    lr: float = 3e-4
    lr_schedule: str = "cosine"
    warmup: int = 1000
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.95
    clip: float = 1.0
    # bookkeeping
    eval_every: int = 1000
    eval_docs: int = 64
    eval_positions: int = 36
    log_every: int = 20
    ckpt_minutes: float = 5.0
    seed: int = 1
    normalizer_sha256: str = ""  # set at the start; a resumed run refuses another normalizer
    fit_to_minutes: bool = False  # with --max-minutes: set the target step to what fits the time (train/loop.py)


def schedule_of(cfg: Any) -> ddim.ScheduleConfig:
    """The run's noise schedule (T = 100 steps as the released LCMs); a config without the keys (runs from before
    they existed) gets the default cosine one."""
    g = lambda k, d: getattr(cfg, k, d) if not isinstance(cfg, dict) else cfg.get(k, d)  # noqa: E731
    sched = ddim.ScheduleConfig(kind=g("schedule", "cosine"), train_steps=SCHEDULE.train_steps,
                                beta_start=g("schedule_beta_start", SCHEDULE.beta_start),
                                beta_end=g("schedule_beta_end", SCHEDULE.beta_end),
                                sigmoid_gamma=g("sigmoid_gamma", SCHEDULE.sigmoid_gamma),
                                sigmoid_delta=g("sigmoid_delta", SCHEDULE.sigmoid_delta),
                                zero_terminal_snr=g("zero_terminal_snr", SCHEDULE.zero_terminal_snr))
    try:
        sched.validate()
    except ValueError as e:
        raise SystemExit(f"--set schedule…: {e}") from None
    return sched


FINETUNE_DEFAULTS: Dict[str, Any] = {"steps": 5000, "lr": 1e-4, "warmup": 200, "eval_every": 500}


def lcm_config(cfg: LcmTrainConfig) -> LcmConfig:
    return LcmConfig(embedding_dim=cfg.embedding_dim, model_dim=cfg.model_dim, heads=cfg.heads,
                     context_layers=cfg.context_layers, denoiser_layers=cfg.denoiser_layers, ffn_dim=cfg.ffn_dim,
                     max_context=cfg.max_context)


AnyLCM = Union[TwoTowerLCM, OneTowerLCM, BaseLCM, QuantLCM]


def tower_layers(cfg: LcmTrainConfig) -> int:
    return cfg.layers or cfg.context_layers + cfg.denoiser_layers


def new_model(cfg: LcmTrainConfig, rvq: Optional[ResidualVQ] = None) -> AnyLCM:
    """The module of ``cfg.architecture`` (uninitialised). A Quant-LCM without ``rvq`` gets zero codebooks of the
    configured shape (a checkpoint's ``codebooks`` buffer then fills them)."""
    if cfg.architecture not in ARCHITECTURES:
        raise SystemExit(f"--set architecture={cfg.architecture!r}: use one of {', '.join(ARCHITECTURES)}")
    if cfg.architecture == "base-mse":
        return BaseLCM(BaseLcmConfig(embedding_dim=cfg.embedding_dim, model_dim=cfg.model_dim, heads=cfg.heads,
                                     layers=tower_layers(cfg), ffn_dim=cfg.ffn_dim, max_context=cfg.max_context))
    if cfg.architecture == "one-tower-diffusion":
        return OneTowerLCM(OneTowerConfig(embedding_dim=cfg.embedding_dim, model_dim=cfg.model_dim, heads=cfg.heads,
                                          layers=tower_layers(cfg), ffn_dim=cfg.ffn_dim, max_context=cfg.max_context))
    if cfg.architecture in QUANT_VARIANTS:
        books = rvq or ResidualVQ(torch.zeros(cfg.rvq_levels, cfg.rvq_size, cfg.embedding_dim))
        return QuantLCM(QuantLcmConfig(embedding_dim=cfg.embedding_dim, model_dim=cfg.model_dim, heads=cfg.heads,
                                       context_layers=cfg.context_layers, head_layers=cfg.denoiser_layers,
                                       ffn_dim=cfg.ffn_dim, levels=cfg.rvq_levels, codebook_size=cfg.rvq_size,
                                       variant=cfg.architecture, max_context=cfg.max_context), books)
    return TwoTowerLCM(lcm_config(cfg))


def build_model(cfg: LcmTrainConfig, rvq: Optional[ResidualVQ] = None) -> AnyLCM:
    """Xavier-uniform matrices, zero biases, unit norms; AdaLN modulators zero (DiT: each block starts as identity)."""
    model = new_model(cfg, rvq)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "modulator" in name:
                p.zero_()
            elif p.dim() >= 2:
                nn.init.xavier_uniform_(p)
            elif name.endswith("layer_norm.weight"):
                p.fill_(1.0)
            else:
                p.zero_()
    return model


def load_normalizer(work: Work) -> Tuple[np.ndarray, np.ndarray, str]:
    data = read_json(work.require_stage("normalizer", "normalizer.json"))
    sha = stage_state(work, "normalizer").get("sha256", "")
    return np.asarray(data["center"], np.float32), np.asarray(data["scale"], np.float32), sha


class FragilityScores(Protocol):
    """Fragility f (0–100) per raw vector: ``FragilityCache`` (exact) or train/fragility.py's predictor."""

    def scores(self, raw: np.ndarray) -> np.ndarray: ...

    def save(self) -> None: ...


class LcmTask:
    units = "concepts"
    loss_columns: List[str] = []

    def __init__(self, stage: str, work: Work, cfg: LcmTrainConfig, device: torch.device,
                 rvq: Optional[ResidualVQ] = None, fragility: Optional["FragilityScores"] = None):
        self.name, self.cfg, self.device = stage, cfg, device
        self.rvq, self.fragility = rvq, fragility
        self.center, self.scale, _ = load_normalizer(work)
        self.schedule = schedule_of(cfg)
        self.alphas_cumprod = ddim.DDIMScheduler(self.schedule).alphas_cumprod
        self._net: Optional[AnyLCM] = None
        if stage == "lcm":
            self.train_docs = ShardStore(work, "docs", "train")
            self.windows = doc_windows(self.train_docs, cfg.window)
            if len(self.windows) == 0:
                raise SystemExit("no training documents with 2+ concepts in runs/embed (docs.train)")
            log(f"[lcm] {len(self.train_docs)} documents, {len(self.windows)} windows of ≤ {cfg.window} concepts")
            valid = ShardStore(work, "docs", "valid")
            vwin = doc_windows(valid, cfg.window)
            firsts = [k for k in range(len(vwin)) if vwin[k][1] == 0][: cfg.eval_docs]
            self.eval_seqs = [window_sequence(valid, vwin, k) for k in firsts]
        else:
            spec = embed_stage.specials(work)
            self.builder = InstructionBuilder(ShardStore(work, "summaries", "train"), ShardStore(work, "docs", "train"),
                                              spec, cfg.window)
            vb = InstructionBuilder(ShardStore(work, "summaries", "valid"), ShardStore(work, "docs", "valid"), spec,
                                    cfg.window)
            half = max(1, cfg.eval_docs // 2)
            seqs = [vb.build(kind, i) for kind in ("sum", "exp") for i in range(min(half, len(vb.summaries)))]
            self.eval_seqs = [s for s in seqs if s is not None]
            log(f"[finetune] {len(self.builder.summaries)} summary/document pairs, {len(self.builder.docs)} documents")
        if not self.eval_seqs:
            log(f"[{stage}] warning: no held-out sequences; evaluation is skipped")
        self.eval_pos = eval_positions(self.eval_seqs, cfg.eval_positions, cfg.seed)

    def normalize(self, raw: np.ndarray) -> np.ndarray:
        return (raw - self.center) / self.scale

    def model(self) -> nn.Module:
        if self._net is None:
            self._net = build_model(self.cfg, self.rvq)
        return self._net

    def batches(self) -> PooledBatcher:
        cfg = self.cfg
        if self.name == "lcm":
            stream = MixedStream({"doc": len(self.windows)}, {"doc": 1.0}, cfg.seed)
            make = lambda _n, k, _r: window_sequence(self.train_docs, self.windows, k)  # noqa: E731
        else:
            b = self.builder
            stream = MixedStream({"sum": len(b.summaries), "exp": len(b.summaries), "plain": len(b.docs)},
                                 {"sum": cfg.w_sum, "exp": cfg.w_exp, "plain": cfg.w_plain}, cfg.seed)
            make = lambda n, k, _r: b.build(n, k)  # noqa: E731
        return PooledBatcher(stream, make, len, cfg.batch_concepts, cfg.pool_size, cfg.seed)

    def _tensors(self, batch: Sequence[Seq]) -> Tuple[Tensor, Tensor]:
        n = max(len(s) for s in batch)
        x = np.zeros((len(batch), n, self.cfg.embedding_dim), np.float32)
        m = np.zeros((len(batch), n), np.float32)
        for i, s in enumerate(batch):
            x[i, :len(s)] = self.normalize(s.raw)
            m[i, :len(s)] = s.target
            if self.fragility is not None:  # the paper's weight ω = sigmoid(a·f/100 + b) on the loss positions
                m[i, :len(s)] *= fragility_weight(self.fragility.scores(s.raw), self.cfg.fragility_a, self.cfg.fragility_b)
        return torch.from_numpy(x), torch.from_numpy(m)

    def _loss(self, x0: Tensor, mask: Tensor, gen: torch.Generator, uncond_p: float) -> Tensor:
        """Mean loss over the loss positions; ``mask`` holds each position's weight (0 = not in the loss)."""
        b, n, e = x0.shape
        t = torch.randint(0, self.schedule.train_steps, (b, n), generator=gen)
        eps = torch.randn(b, n, e, generator=gen)
        uncond = torch.rand(b, n, generator=gen) < uncond_p
        a = self.alphas_cumprod[t].unsqueeze(-1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        dev = self.device
        x0, mask = x0.to(dev), mask.to(dev)
        net = self._net
        if isinstance(net, QuantLCM):
            b, n, e = x0.shape
            codes = net.rvq.encode(x0.reshape(b * n, e).float(), fast=True).view(b, n, -1).to(dev)
            return quant_loss(net, x0, codes, gen, weights=mask)
        if isinstance(net, BaseLCM):
            # Next-vector regression: the output at row n−1 predicts row n (loss positions n ≥ 1; no noise is used).
            pred = net.forward_train(x0)[:, :-1]
            per = ((pred.float() - x0[:, 1:]) ** 2).mean(-1)
            m = mask[:, 1:]
            return (per * m).sum() / m.sum().clamp(min=1)
        if isinstance(net, OneTowerLCM):
            pred = net.forward_train(x0, xt.to(dev), t.to(dev), uncond.to(dev))
        else:
            pred = lcm_forward_train(net, x0, xt.to(dev), t.to(dev), uncond.to(dev))
        per = ((pred.float() - x0) ** 2).mean(-1)
        return (per * mask).sum() / mask.sum().clamp(min=1)

    def loss(self, batch: List[Seq], gen: torch.Generator) -> Tuple[Tensor, Dict[str, float], int]:
        x0, mask = self._tensors(batch)
        return self._loss(x0, mask, gen, self.cfg.cfg_dropout), {}, sum(len(s) for s in batch)

    def close(self) -> None:
        if self.fragility is not None:
            self.fragility.save()

    def evaluate(self, step: int) -> Dict[str, float]:
        if not self.eval_seqs:
            return {}
        net = self._net
        assert net is not None
        g = torch.Generator().manual_seed(12345)  # the same timesteps and noise at every evaluation
        total, count = 0.0, 0
        for start in range(0, len(self.eval_seqs), 16):
            x0, mask = self._tensors(self.eval_seqs[start:start + 16])
            total += float(self._loss(x0, mask, g, 0.0)) * float(mask.sum())
            count += float(mask.sum())
        if self.fragility is not None:
            self.fragility.save()
        # valid_mse: the loss (for a quant-discrete LCM, the cross-entropy at one random level per position).
        out = {"valid_mse": total / max(1.0, count)}
        cpu = net if self.device.type == "cpu" else copy.deepcopy(net).float().cpu()
        out.update(next_concept_cosines(cpu, self.center, self.scale, self.eval_seqs, self.eval_pos, self.cfg.seed,
                                        quant=(self.cfg.quant_temperature, self.cfg.quant_top_k),
                                        schedule=self.schedule))
        out["score"] = -out["valid_mse"]
        return out


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


@torch.no_grad()
def sample_next_raw(model: AnyLCM, normalizer: SonarNormalizer, context_raw: np.ndarray, seed: int,
                    opts: GenerationOptions = PAPER, quant: Tuple[float, int] = (1.0, 0),
                    schedule: ddim.ScheduleConfig = SCHEDULE, candidates: int = 1) -> np.ndarray:
    """One diffusion sample of the concept after ``context_raw`` [n, E] (raw space in and out), paper settings,
    under the schedule the model was trained with; for the Base-LCM its deterministic prediction; for a
    Quant-LCM one sample at (temperature, top-k) ``quant``. With ``candidates`` > 1: the mean of that many samples
    drawn in one batch (raw space; the Base-LCM's prediction is deterministic, so its mean is itself)."""
    if isinstance(model, QuantLCM):
        qctx = QuantContext(model)
        qctx.feed(normalizer.normalize(torch.from_numpy(context_raw)))
        z, _ = qctx.sample(candidates, Rng(seed), quant[0], quant[1])
        return normalizer.denormalize(z).mean(0).numpy()
    ctx = make_context(model)
    ctx.feed(normalizer.normalize(torch.from_numpy(context_raw)))
    if isinstance(ctx, BaseContext):
        return normalizer.denormalize(ctx.predict()).numpy()
    sched = ddim.DDIMScheduler(schedule)
    sched.set_timesteps(opts.inference_steps, exact=opts.exact_spacing)
    x0 = ddim.sample_next(ctx.denoise_fn(), sched, candidates=candidates, dim=model.cfg.embedding_dim, rng=Rng(seed),
                          guidance_scale=opts.guidance_scale, guidance_rescale=opts.guidance_rescale,
                          initial_noise_scale=opts.initial_noise_scale, epsilon_scaling=opts.epsilon_scaling,
                          clip_noise=opts.clip_noise)
    return normalizer.denormalize(x0).mean(0).numpy()


def next_concept_cosines(model: AnyLCM, center: np.ndarray, scale: np.ndarray, seqs: List[Seq],
                         positions: List[Tuple[int, int]], seed: int, quant: Tuple[float, int] = (1.0, 0),
                         schedule: ddim.ScheduleConfig = SCHEDULE, consensus: int = 0,
                         timed: bool = False) -> Dict[str, float]:
    """Mean cosine to the true next concept: LCM sample (``next_cos``), previous concept, mean of context; with
    ``consensus`` > 0 also of the mean of that many further samples (``consensus_cos``: a point estimate, as the
    baselines are; src/eval/nextSuite.ts reports the same). ``timed``: also ``next_ms``, the mean wall time of one
    single sample (its context fed, then sampled), the consensus draws not counted."""
    if not positions:
        return {}
    norm = SonarNormalizer(torch.from_numpy(center), torch.from_numpy(scale))
    was_training = model.training
    model.eval()
    got, agreed, prev, mean = [], [], [], []
    single_s = 0.0
    for k, (j, n) in enumerate(positions):
        raw = seqs[j].raw
        t0 = time.perf_counter()
        pred = sample_next_raw(model, norm, raw[:n], seed * 1000 + k, quant=quant, schedule=schedule)
        single_s += time.perf_counter() - t0
        got.append(cos(pred, raw[n]))
        if consensus > 0:
            avg = sample_next_raw(model, norm, raw[:n], seed * 1000 + 500_000 + k, quant=quant, schedule=schedule,
                                  candidates=consensus)
            agreed.append(cos(avg, raw[n]))
        prev.append(cos(raw[n - 1], raw[n]))
        mean.append(cos(raw[:n].mean(0), raw[n]))
    model.train(was_training)
    out = {"next_cos": float(np.mean(got)), "prev_cos": float(np.mean(prev)), "mean_cos": float(np.mean(mean))}
    if agreed:
        out["consensus_cos"] = float(np.mean(agreed))
    if timed:
        out["next_ms"] = single_s * 1000.0 / len(positions)
    return out


def run(stage: str, work: Work, cfg: LcmTrainConfig, pairs: Sequence[str], device: torch.device,
        opts: RunOptions) -> Dict[str, Any]:
    run_dir = work.run_dir(stage)
    prepare_run_dir(run_dir, opts.fresh)
    _, _, sha = load_normalizer(work)
    sonar_dim = int(read_json(work.require_stage("sonar", "config.json"))["model_dim"])
    init: Optional[Dict[str, Tensor]] = None
    fresh_run = not os.path.exists(os.path.join(run_dir, "last.pt"))
    if stage == "finetune" and fresh_run:
        base = os.path.join(work.runs, "lcm", "best.pt")
        if not os.path.exists(base):
            base = work.require_stage("lcm", "last.pt")
        init, base_cfg = load_weights(base)
        shapes = {k: base_cfg[k] for k in SHAPE_KEYS if k in base_cfg}  # runs from before a key existed: its default
        cfg = dataclasses.replace(cfg, **shapes)
        log(f"[finetune] starting from {base} (step {torch.load(base, map_location='cpu')['step']})")
    cfg = dataclasses.replace(cfg, embedding_dim=sonar_dim, normalizer_sha256=sha)
    cfg = resume_config(run_dir, cfg, pairs, SHAPE_KEYS, apply_overrides)
    if cfg.normalizer_sha256 != sha:
        raise SystemExit(f"{run_dir} was trained under another normalizer (runs/normalizer changed); "
                         f"start over with `recipe/run.py {stage} --fresh`")
    rvq: Optional[ResidualVQ] = None
    if cfg.architecture in QUANT_VARIANTS:
        rvq = codebooks(work, stage, run_dir, cfg)
    frag: Optional[FragilityScores] = None
    if cfg.fragility_a != 0:
        if cfg.fragility_source == "predictor":
            from .fragility import FragilityPredictor

            frag = FragilityPredictor.load(work)
        elif cfg.fragility_source == "exact":
            frag = FragilityCache(work, run_dir, cfg)
        else:
            raise SystemExit(f"--set fragility_source={cfg.fragility_source}: use predictor or exact")
    task = LcmTask(stage, work, cfg, device, rvq, frag)
    try:
        return Trainer(task, cfg, run_dir, device, opts, init_weights=init).run()
    finally:
        task.close()


def codebooks(work: Work, stage: str, run_dir: str, cfg: LcmTrainConfig) -> ResidualVQ:
    """The Quant-LCM's RVQ: ``runs/lcm/codebooks.pt`` if there is one (resume, finetune), else fitted now on the
    normalized vectors of the training documents (a seeded sample of ``rvq_vectors``) and saved there."""
    path = os.path.join(work.runs, "lcm", "codebooks.pt")
    if os.path.exists(path):
        books = torch.load(path, map_location="cpu")
        rvq = ResidualVQ(books["codebooks"])
        if (rvq.levels, rvq.size, rvq.dim) != (cfg.rvq_levels, cfg.rvq_size, cfg.embedding_dim):
            raise SystemExit(f"{path} holds {rvq.levels}×{rvq.size}×{rvq.dim} codebooks; this run wants "
                             f"{cfg.rvq_levels}×{cfg.rvq_size}×{cfg.embedding_dim}: start over with "
                             f"`recipe/run.py lcm --fresh` (it refits them)")
        return rvq
    if stage != "lcm":
        raise SystemExit("no RVQ codebooks in runs/lcm: run the lcm stage with the quant architecture first")
    center, scale, _ = load_normalizer(work)
    docs = ShardStore(work, "docs", "train")
    rows = np.concatenate([docs.doc(i) for i in range(len(docs))]) if len(docs) else np.zeros((0, cfg.embedding_dim))
    rng = np.random.default_rng(cfg.seed)
    if rows.shape[0] > cfg.rvq_vectors:
        rows = rows[np.sort(rng.choice(rows.shape[0], cfg.rvq_vectors, replace=False))]
    x = torch.from_numpy(((rows - center) / scale).astype(np.float32))
    if x.shape[0] < cfg.rvq_size:
        raise SystemExit(f"RVQ: {x.shape[0]} training vectors, fewer than rvq_size={cfg.rvq_size} units per codebook: "
                         f"use --set rvq_size=N with N ≤ {x.shape[0]}, or more data")
    log(f"[{stage}] fitting RVQ {cfg.rvq_levels}×{cfg.rvq_size} on {x.shape[0]} vectors ({cfg.rvq_iters} k-means steps)")
    rvq = fit_rvq(x, cfg.rvq_levels, cfg.rvq_size, iterations=cfg.rvq_iters, seed=cfg.seed)
    err = reconstruction_error(rvq, x)
    log(f"[{stage}] RVQ reconstruction MSE {err:.4f} per dim (variance of the vectors {float(x.var()):.4f})")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save({"codebooks": rvq.codebooks, "reconstruction_mse": err, "vectors": int(x.shape[0])}, path)
    return rvq


def perturb_paper(x: Tensor, alpha: float, center: np.ndarray, scale: np.ndarray, gen: torch.Generator) -> Tensor:
    """The paper's fragility noise for one raw vector: denormalize(√(1 − α)·normalize(x) + √α·ε)."""
    c, s = torch.from_numpy(center), torch.from_numpy(scale)
    z = (x - c) / s
    return ((1.0 - alpha) ** 0.5 * z + alpha ** 0.5 * torch.randn(x.shape[0], generator=gen)) * s + c


def fragility_weight(f: np.ndarray, a: float, b: float) -> np.ndarray:
    """The paper's ω(x) = sigmoid(a·fragility + b), fragility f in 0–100 taken as f/100."""
    return (1.0 / (1.0 + np.exp(-(a * np.asarray(f, np.float64) / 100.0 + b)))).astype(np.float32)


class FragilityCache:
    """Fragility f (0–100) of training vectors, computed once per distinct vector and kept in
    ``runs/<stage>/fragility.json`` (see the module docstring for the definition)."""

    def __init__(self, work: Work, run_dir: str, cfg: LcmTrainConfig, path: Optional[str] = None):
        from . import sonar as sonar_stage
        from . import tokenizer as tokstage
        from .sonar_decoder import pack_decoder

        self.cfg = cfg
        self.center, self.scale, _ = load_normalizer(work)
        self.path = path or os.path.join(run_dir, "fragility.json")
        self.values: Dict[str, float] = read_json(self.path) if os.path.exists(self.path) else {}
        self.new = 0
        _, _, scfg, _ = sonar_stage.load_trained(work)
        self.decoder, _ = pack_decoder(work, False)  # the decoder the pack ships, as the app's score uses
        self.tok = tokstage.load(work)[0]
        self.max_new = min(64, scfg.max_len)
        if cfg.fragility_lang not in self.tok.language_tokens:
            raise SystemExit(f"--set fragility_lang={cfg.fragility_lang}: the tokenizer has no such language tag "
                             f"(it has {', '.join(sorted(self.tok.language_tokens))})")

    @staticmethod
    def key(v: np.ndarray) -> str:
        import hashlib
        return hashlib.sha1(np.asarray(v, np.float16).tobytes()).hexdigest()

    def scores(self, raw: np.ndarray) -> np.ndarray:
        """f for each row of ``raw`` [n, E] (computing the missing ones in one decode batch)."""
        from .decode import decode_vectors
        from .metrics import sentence_chrf  # the recipe's chrF (selftested against the TypeScript one)

        def similarity(hyp: str, ref: str) -> float:  # as fragility.ts: an empty round trip scores 100 or 0
            return (100.0 if not hyp.strip() else 0.0) if not ref.strip() else sentence_chrf(hyp, ref)

        keys = [self.key(v) for v in raw]
        todo = [i for i, k in enumerate(keys) if k not in self.values]
        if todo:
            vecs, plan = [], []
            for i in todo:
                x = torch.from_numpy(np.asarray(raw[i], np.float32))
                vecs.append(x)
                g = torch.Generator().manual_seed(int(keys[i][:8], 16))  # seeded per vector: the same f every run
                for a in FRAGILITY_NOISE:
                    for _ in range(self.cfg.fragility_samples):
                        vecs.append(perturb_paper(x, a, self.center, self.scale, g))
                plan.append(1 + len(FRAGILITY_NOISE) * self.cfg.fragility_samples)
            texts = decode_vectors(self.decoder, self.tok, torch.stack(vecs), [self.cfg.fragility_lang] * len(vecs),
                                   self.max_new, 64)
            at = 0
            for i, n in zip(todo, plan):
                plain, noisy = texts[at], texts[at + 1:at + n]
                self.values[keys[i]] = 100.0 - float(np.mean([similarity(t, plain) for t in noisy]))
                at += n
            self.new += len(todo)
        return np.asarray([self.values[k] for k in keys], np.float32)

    def save(self) -> None:
        if self.new:
            from .common import write_json
            write_json(self.path, self.values)
            self.new = 0


def load_trained(work: Work) -> Tuple[AnyLCM, LcmTrainConfig, Dict[str, Any]]:
    """The finetuned LCM if there is one, else the base one (``best.pt``, else ``last.pt``), CPU, eval mode."""
    for stage in ("finetune", "lcm"):
        for which in ("best.pt", "last.pt"):
            path = os.path.join(work.runs, stage, which)
            if os.path.exists(path):
                ck = torch.load(path, map_location="cpu")
                names = {f.name for f in dataclasses.fields(LcmTrainConfig)}
                cfg = LcmTrainConfig(**{k: v for k, v in ck["config"].items() if k in names})
                model = new_model(cfg)  # a Quant-LCM's codebooks come with its state dict
                model.load_state_dict(ck["model"])
                model.eval()
                return model, cfg, {"stage": stage, "checkpoint": path, "step": ck["step"]}
    raise SystemExit("no LCM checkpoint in runs/finetune or runs/lcm: run the lcm stage first")
