"""Reference concept generation loop, mirroring Meta's TwoTowerDiffusionLCMGenerator
(lcm/inference/two_tower_diffusion_lcm/generator.py) for one document.

For each new concept: the contextualizer has seen every concept so far
(normalized; its keys/values are cached), the denoiser cross-attends to
[zero row; contextualizer outputs] (conditional rows see all keys,
unconditional rows only key 0), ``ddim.sample_next`` runs the diffusion loop,
and the x̂0 is denormalized, appended and fed back (normalized) to the
contextualizer. The reference prefills all prompt rows but the last and then
feeds the last one: running them in one call is the same computation.

Stopping (reference ``finalize_step``): the k-th generated concept (k from 0)
may end the run by similarity only when k ≥ ``min_concepts`` (reference
``step_nr − prompt_len ≥ min_gen_len``): cos(x, end-of-text vector) ≥
``eot_threshold`` or cos(x, previous concept) ≥ ``repetition_threshold``; the
run always ends after ``max_concepts``. The stopping concept is kept in the
output, as the reference does by default (``trim_hypotheses=False``).
Cosines are taken in raw (denormalized) space, like the reference.

Randomness: one ``lcmref.rng.Rng`` for the whole run; ``ddim.sample_next``
draws each concept's noise from it, so the engine (same RNG, same order)
reproduces a run exactly.

The other LCM variants (docs/variants.md) run through the same loop:
``make_context`` picks the context of the model's architecture. One-Tower
(``OneTowerContext``) caches the clean rows' keys/values and runs the whole
tower for the noisy row at every denoising step; Base-LCM (``BaseContext``) is
deterministic: the next concept is the regression output after the last row,
no scheduler, no noise, nothing drawn from the RNG.
"""
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from .base_lcm import BaseLCM
from .ddim import DDIMScheduler, DenoiseFn, sample_next
from .one_tower import OneTowerLCM
from .quant_lcm import QuantLCM
from .quant_lcm import generate as quant_generate
from .rng import Rng
from .two_tower import SonarNormalizer, TwoTowerLCM

AnyLCM = Union[TwoTowerLCM, OneTowerLCM, BaseLCM, QuantLCM]


@dataclass
class GenerationOptions:
    """Sampling and stopping options; defaults are the paper's inference settings (LCM-SPEC.md)."""

    inference_steps: int = 40
    exact_spacing: bool = False  # False: reference "trailing" (stride floor(T/S)); True: exactly S steps
    guidance_scale: float = 3.0
    guidance_rescale: float = 0.7
    initial_noise_scale: float = 0.6
    epsilon_scaling: Optional[float] = 1.00045
    clip_noise: float = 100.0
    max_concepts: int = 64
    min_concepts: int = 1  # reference LCMGeneratorOptions.min_seq_len
    eot_threshold: Optional[float] = 0.9
    repetition_threshold: Optional[float] = None
    # Quant-LCM only (quant_lcm.sample_unit): softmax temperature per codebook (0: greedy) and top-k (0: all)
    temperature: float = 1.0
    top_k: int = 0

    def to_json(self) -> Dict[str, Any]:
        """camelCase, as the engine names them."""
        return {
            "inferenceSteps": self.inference_steps,
            "spacing": "trailing-exact" if self.exact_spacing else "trailing",
            "guidanceScale": self.guidance_scale,
            "guidanceRescale": self.guidance_rescale,
            "initialNoiseScale": self.initial_noise_scale,
            "epsilonScaling": self.epsilon_scaling,
            "clipNoise": self.clip_noise,
            "maxConcepts": self.max_concepts,
            "minConcepts": self.min_concepts,
            "eotThreshold": self.eot_threshold,
            "repetitionThreshold": self.repetition_threshold,
        }


@dataclass
class GenerationResult:
    vectors: Tensor  # [n, E] raw space, generated concepts only (the stopping one included)
    stop_reason: str  # "endOfText" | "repetition" | "maxConcepts"
    eot_cosines: List[Optional[float]] = field(default_factory=list)
    prev_cosines: List[Optional[float]] = field(default_factory=list)
    timesteps: List[int] = field(default_factory=list)
    seconds: float = 0.0


class ConceptContext:
    """Contextualizer cache plus the denoiser's cross-attention keys/values of [zero; hidden rows]."""

    def __init__(self, model: TwoTowerLCM):
        self.model = model
        self.past_k, self.past_v = model.empty_cache(1)
        zero = torch.zeros(1, 1, model.cfg.model_dim)
        self.cross_k, self.cross_v = model.denoiser.cross_kv(zero)  # key 0: the projection biases

    @property
    def rows(self) -> int:
        """M = 1 + context rows."""
        return self.cross_k[0].shape[2]

    def feed(self, normalized: Tensor) -> None:
        """Append normalized concept vectors [T, E] (T may be 0)."""
        if normalized.shape[0] == 0:
            return
        hidden, self.past_k, self.past_v = self.model.contextualize(normalized.unsqueeze(0), self.past_k, self.past_v)
        k, v = self.model.denoiser.cross_kv(hidden)
        self.cross_k = [torch.cat([a, b], dim=2) for a, b in zip(self.cross_k, k)]
        self.cross_v = [torch.cat([a, b], dim=2) for a, b in zip(self.cross_v, v)]

    def denoise_fn(self) -> DenoiseFn:
        """Closure for ddim.sample_next: conditional and unconditional rows in one batch, as the engine does."""
        model, m = self.model, self.rows

        def denoise(latents: Tensor, timestep: int, with_uncond: bool) -> Tuple[Tensor, Optional[Tensor]]:
            n = latents.shape[0]
            cond = torch.ones(n, m)
            if not with_uncond:
                t = torch.full((n,), timestep, dtype=torch.long)
                return model.denoiser.denoise(latents, t, self.cross_k, self.cross_v, cond), None
            uncond = torch.zeros(n, m)
            uncond[:, 0] = 1.0
            t = torch.full((2 * n,), timestep, dtype=torch.long)
            x0 = model.denoiser.denoise(torch.cat([latents, latents]), t, self.cross_k, self.cross_v, torch.cat([cond, uncond]))
            return x0[:n], x0[n:]

        return denoise


class OneTowerContext:
    """One-Tower: per-layer keys/values of the clean rows (exact to cache: clean rows never see noisy ones)."""

    def __init__(self, model: OneTowerLCM):
        self.model = model
        self.keys, self.values = model.empty_cache(1)

    @property
    def rows(self) -> int:
        return self.keys[0].shape[2]

    def feed(self, normalized: Tensor) -> None:
        """Append normalized clean concept vectors [T, E] (T may be 0)."""
        if normalized.shape[0] == 0:
            return
        self.keys, self.values = self.model.context(normalized.unsqueeze(0), self.keys, self.values)

    def denoise_fn(self) -> DenoiseFn:
        """Conditional rows see every clean row, unconditional rows none (only themselves); one batch."""
        model, p = self.model, self.rows

        def denoise(latents: Tensor, timestep: int, with_uncond: bool) -> Tuple[Tensor, Optional[Tensor]]:
            n = latents.shape[0]
            cond = torch.ones(n, p)
            if not with_uncond:
                t = torch.full((n,), timestep, dtype=torch.long)
                return model.denoise(latents, t, self.keys, self.values, cond), None
            t = torch.full((2 * n,), timestep, dtype=torch.long)
            x0 = model.denoise(torch.cat([latents, latents]), t, self.keys, self.values, torch.cat([cond, torch.zeros(n, p)]))
            return x0[:n], x0[n:]

        return denoise


class BaseContext:
    """Base-LCM: the key/value cache and the prediction made after the last row (normalized)."""

    def __init__(self, model: BaseLCM):
        self.model = model
        self.keys, self.values = model.empty_cache(1)
        self.prediction: Optional[Tensor] = None

    def feed(self, normalized: Tensor) -> None:
        if normalized.shape[0] == 0:
            return
        pred, self.keys, self.values = self.model.step(normalized.unsqueeze(0), self.keys, self.values)
        self.prediction = pred[0, -1]

    def predict(self) -> Tensor:
        if self.prediction is None:
            raise ValueError("the Base-LCM predicts the concept after the last one it has seen: give at least one concept")
        return self.prediction


def make_context(model: AnyLCM) -> Union[ConceptContext, OneTowerContext, BaseContext]:
    """The generation context of the model's architecture."""
    if isinstance(model, BaseLCM):
        return BaseContext(model)
    if isinstance(model, OneTowerLCM):
        return OneTowerContext(model)
    return ConceptContext(model)


def _scheduler_ready(scheduler: Optional[DDIMScheduler], opts: GenerationOptions) -> List[int]:
    if scheduler is None:
        return []
    return [int(t) for t in scheduler.set_timesteps(opts.inference_steps, exact=opts.exact_spacing)]


def _sample(ctx: Any, scheduler: Optional[DDIMScheduler], opts: GenerationOptions, rng: Rng, candidates: int) -> Tensor:
    """[candidates, E] normalized: the diffusion loop, or the Base-LCM's one deterministic prediction repeated."""
    if isinstance(ctx, BaseContext):
        return ctx.predict().unsqueeze(0).repeat(candidates, 1)
    assert scheduler is not None, "diffusion LCMs need a scheduler"
    return sample_next(
        ctx.denoise_fn(), scheduler, candidates=candidates, dim=ctx.model.cfg.embedding_dim, rng=rng,
        guidance_scale=opts.guidance_scale, guidance_rescale=opts.guidance_rescale,
        initial_noise_scale=opts.initial_noise_scale, epsilon_scaling=opts.epsilon_scaling, clip_noise=opts.clip_noise,
    )


def _cos(a: Tensor, b: Tensor) -> float:
    return float(F.cosine_similarity(a.reshape(1, -1), b.reshape(1, -1))[0])


@torch.no_grad()
def generate(
    model: AnyLCM, normalizer: SonarNormalizer, scheduler: Optional[DDIMScheduler], prompt: Tensor,
    opts: GenerationOptions, rng: Rng, eot_vector: Optional[Tensor] = None,
) -> GenerationResult:
    """Continue ``prompt`` (raw concept vectors [N, E]) until a stop criterion; see the module docstring."""
    if opts.max_concepts < 1:
        raise ValueError(f"max_concepts must be >= 1, got {opts.max_concepts}")
    start = time.perf_counter()
    if isinstance(model, QuantLCM):  # codebook units level by level, same stopping rules (quant_lcm.generate)
        q = quant_generate(model, normalizer, prompt, rng, temperature=opts.temperature, top_k=opts.top_k,
                           max_concepts=opts.max_concepts, min_concepts=opts.min_concepts, eot_vector=eot_vector,
                           eot_threshold=opts.eot_threshold, repetition_threshold=opts.repetition_threshold)
        return GenerationResult(q.vectors, q.stop_reason, q.eot_cosines, q.prev_cosines, [], time.perf_counter() - start)
    timesteps = _scheduler_ready(scheduler, opts)
    ctx = make_context(model)
    ctx.feed(normalizer.normalize(prompt))
    previous: Optional[Tensor] = prompt[-1] if prompt.shape[0] else None
    out: List[Tensor] = []
    eot_cos: List[Optional[float]] = []
    prev_cos: List[Optional[float]] = []
    reason = "maxConcepts"
    for k in range(opts.max_concepts):
        x = normalizer.denormalize(_sample(ctx, scheduler, opts, rng, 1))[0]
        out.append(x)
        e = _cos(x, eot_vector) if eot_vector is not None else None
        p = _cos(x, previous) if previous is not None else None
        eot_cos.append(e)
        prev_cos.append(p)
        if k >= opts.min_concepts:
            if opts.eot_threshold is not None and e is not None and e >= opts.eot_threshold:
                reason = "endOfText"
                break
            if opts.repetition_threshold is not None and p is not None and p >= opts.repetition_threshold:
                reason = "repetition"
                break
        if k + 1 >= opts.max_concepts:
            break
        ctx.feed(normalizer.normalize(x).unsqueeze(0))
        previous = x
    return GenerationResult(torch.stack(out), reason, eot_cos, prev_cos, timesteps, time.perf_counter() - start)


@torch.no_grad()
def regenerate(
    model: AnyLCM, normalizer: SonarNormalizer, scheduler: Optional[DDIMScheduler], prompt: Tensor,
    opts: GenerationOptions, rng: Rng, candidates: int,
) -> GenerationResult:
    """Several samples for ONE next concept in one batch: [candidates, E] raw, noise drawn row-major for all."""
    if candidates < 1:
        raise ValueError(f"candidates must be >= 1, got {candidates}")
    start = time.perf_counter()
    if isinstance(model, QuantLCM):
        q = quant_generate(model, normalizer, prompt, rng, temperature=opts.temperature, top_k=opts.top_k,
                           max_concepts=1, candidates=candidates)
        return GenerationResult(q.vectors, "candidates", seconds=time.perf_counter() - start)
    timesteps = _scheduler_ready(scheduler, opts)
    ctx = make_context(model)
    ctx.feed(normalizer.normalize(prompt))
    x = normalizer.denormalize(_sample(ctx, scheduler, opts, rng, candidates))
    return GenerationResult(x, "candidates", timesteps=timesteps, seconds=time.perf_counter() - start)
