"""DDIM noise schedules, DDIM step, classifier-free guidance and the one-concept
diffusion loop of the Two-Tower diffusion LCM, in PyTorch.

This is the reference the TypeScript engine (src/inference/lcm/{schedule,ddim,
sampler}.ts) is checked against. It reproduces Meta's `large_concept_model`
code (lcm/nn/schedulers/ddim.py and
lcm/models/two_tower_diffusion_lcm/builder.py) operation by operation, in the
same dtypes, so that the float32 rounding is the same; docs/diffusion.md
explains every formula and the one deliberate deviation ("exact" spacing).

Import it with `recipe/` on `sys.path` (`import lcmref.ddim`), e.g. run
scripts as `cd recipe && /usr/bin/python3 -m fixtures.make_diffusion_fixtures`
or add `recipe/` to `sys.path` as the fixture script does.

Only η = 0 (deterministic DDIM) is provided: the released LCM inference
settings use `ddim_eta = 0`, and no clip_sample / thresholding (reference
defaults).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch import Tensor

from lcmref.rng import Rng

SCHEDULE_KINDS = ("cosine", "linear", "quadratic", "sigmoid")
PREDICTION_TYPES = ("sample", "epsilon")

# betas_for_alpha_bar caps every beta here (reference default `max_beta=0.999`,
# Nichol & Dhariwal 2021) so that the last step of a schedule whose ᾱ reaches 0
# is not singular.
MAX_BETA = 0.999
# The sigmoid schedule clamps t into [eps, 1 - eps] before the logit
# (reference `epsilon = 1e-32`).
SIGMOID_T_EPS = 1e-32


@dataclass
class ScheduleConfig:
    """The noise schedule (the pack's `lcm.schedule`).

    kind: "cosine" (reference `squaredcos_cap_v2`), "linear", "quadratic"
    (reference `scaled_linear` with exponent 2) or "sigmoid" (LCM paper eq. 14:
    ᾱ(t) = sigmoid(δ − γ·logit(t)); reference names γ `sigmoid_schedule_alpha`
    and δ `sigmoid_schedule_beta`).
    """

    kind: str = "cosine"
    train_steps: int = 100
    beta_start: float = 0.0001
    beta_end: float = 0.02
    sigmoid_gamma: float = 1.5
    sigmoid_delta: float = 0.0
    zero_terminal_snr: bool = True

    def validate(self) -> None:
        if self.kind not in SCHEDULE_KINDS:
            raise ValueError(f"schedule kind must be one of {SCHEDULE_KINDS}, got {self.kind!r}")
        if not (isinstance(self.train_steps, int) and self.train_steps >= 2):
            raise ValueError(f"train_steps must be an integer >= 2, got {self.train_steps!r}")
        if self.kind in ("linear", "quadratic"):
            if not (0 <= self.beta_start <= self.beta_end < 1):
                raise ValueError(
                    f"need 0 <= beta_start <= beta_end < 1, got {self.beta_start}, {self.beta_end}"
                )
        if self.kind == "sigmoid":
            if not (math.isfinite(self.sigmoid_gamma) and self.sigmoid_gamma > 0):
                raise ValueError(f"sigmoid_gamma must be finite and > 0, got {self.sigmoid_gamma}")
            if not math.isfinite(self.sigmoid_delta):
                raise ValueError(f"sigmoid_delta must be finite, got {self.sigmoid_delta}")


def _sigmoid(x: float) -> float:
    # math.exp raises on overflow where the reference's inputs never reach;
    # JavaScript's Math.exp returns Infinity there, so map overflow to 1/(1+inf) = 0.
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:
        return 0.0


def _alpha_bar_cosine(t: float) -> float:
    # squaredcos_cap_v2, s = 0.008 (Nichol & Dhariwal 2021), in float64.
    return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2


def _alpha_bar_sigmoid(t: float, gamma: float, delta: float) -> float:
    # The reference clamps a float32 tensor (torch.tensor(t)), so t is rounded to
    # float32 and the clamp bounds become float32(1e-32) = 1.0000000237e-32 and
    # float32(1 - 1e-32) = 1.0; x / (1 - x) is a float32 tensor division (inf at
    # t = 1), and only then log/exp run in float64.
    x = torch.clamp(torch.tensor(t, dtype=torch.float32), min=SIGMOID_T_EPS, max=1 - SIGMOID_T_EPS)
    ratio = float(x / (1 - x))
    return _sigmoid(delta - gamma * math.log(ratio))


def _betas_for_alpha_bar(train_steps: int, alpha_bar: Callable[[float], float]) -> Tensor:
    betas = []
    for i in range(train_steps):
        t1 = i / train_steps
        t2 = (i + 1) / train_steps
        betas.append(min(1 - alpha_bar(t2) / alpha_bar(t1), MAX_BETA))
    return torch.tensor(betas, dtype=torch.float32)


def rescale_zero_terminal_snr(betas: Tensor) -> Tensor:
    """Lin et al. 2023 (arXiv 2305.08891), Algorithm 1, in float32 as the reference.

    Shifts √ᾱ so the last one is 0 and rescales so the first is unchanged; ᾱ at
    the last training step becomes exactly 0 (the model sees pure noise there).
    """
    alphas = 1.0 - betas
    alphas_cumprod = torch.cumprod(alphas, dim=0)
    sqrt_ab = alphas_cumprod.sqrt()
    s0 = sqrt_ab[0].clone()
    s_last = sqrt_ab[-1].clone()
    sqrt_ab -= s_last
    sqrt_ab *= s0 / (s0 - s_last)
    ab = sqrt_ab ** 2
    alphas = torch.cat([ab[0:1], ab[1:] / ab[:-1]])
    return 1 - alphas


def linspace_f32(start: float, end: float, steps: int) -> Tensor:
    """torch.linspace(start, end, steps, dtype=float32) by its scalar formula, on every machine.

    step = (end − start)/(steps − 1) in float32; the first half is start + step·i,
    the second half end − step·(steps − 1 − i), one float32 rounding per operation
    (the formula of ATen's linspace kernel, and what CUDA computes). torch's CPU
    kernel takes a SIMD path whose rounding depends on the vector width (AVX2 vs
    AVX-512), differing by up to 2 ulp on some entries; pinning the scalar formula
    keeps the reference, and the TypeScript engine that matches it, machine
    independent. See docs/diffusion.md.
    """
    s = torch.tensor(start, dtype=torch.float32)
    e = torch.tensor(end, dtype=torch.float32)
    step = (e - s) / (steps - 1)
    idx = torch.arange(steps, dtype=torch.float32)
    low = s + step * idx
    high = e - step * (steps - 1 - idx)
    return torch.where(idx < steps // 2, low, high)


def make_betas(cfg: ScheduleConfig) -> Tensor:
    """The float32 betas [T] of a schedule, zero-terminal-SNR rescaled if asked."""
    cfg.validate()
    T = cfg.train_steps
    if cfg.kind == "linear":
        betas = linspace_f32(cfg.beta_start, cfg.beta_end, T)
    elif cfg.kind == "quadratic":
        # Reference "scaled_linear" with exponent 2: linspace of √β, squared in float32.
        betas = linspace_f32(cfg.beta_start ** 0.5, cfg.beta_end ** 0.5, T) ** 2.0
    elif cfg.kind == "cosine":
        betas = _betas_for_alpha_bar(T, _alpha_bar_cosine)
    else:
        gamma, delta = cfg.sigmoid_gamma, cfg.sigmoid_delta
        betas = _betas_for_alpha_bar(T, lambda t: _alpha_bar_sigmoid(t, gamma, delta))
    if cfg.zero_terminal_snr:
        betas = rescale_zero_terminal_snr(betas)
    return betas


def _check_steps(train_steps: int, steps: int) -> None:
    if not (isinstance(steps, int) and 1 <= steps <= train_steps):
        raise ValueError(f"inference steps must be an integer from 1 to train_steps={train_steps}, got {steps!r}")


def trailing_timesteps(train_steps: int, steps: int) -> List[int]:
    """The reference's "trailing" plan: torch.arange(T, 0, -T/S, dtype=long) - 1.

    With an integer dtype torch truncates the step, so the stride is floor(T/S)
    and the plan has ceil(T / floor(T/S)) entries (S = 40 of T = 100: 50 steps).
    """
    _check_steps(train_steps, steps)
    return [int(v) for v in torch.arange(train_steps, 0, -train_steps / steps, dtype=torch.long) - 1]


def exact_timesteps(train_steps: int, steps: int) -> List[int]:
    """Our "trailing-exact" plan: exactly S steps, t_i = round(T·(S − i)/S) − 1.

    Rounding is half to even on the exact rational (integer arithmetic), which is
    what diffusers' float `np.round(np.arange(T, 0, -T/S)) - 1` computes when no
    float error moves a value off a .5 tie.
    """
    _check_steps(train_steps, steps)
    out = []
    for i in range(steps):
        num = train_steps * (steps - i)
        q, r = divmod(num, steps)
        if 2 * r > steps or (2 * r == steps and q % 2 == 1):
            q += 1
        out.append(q - 1)
    return out


class DDIMScheduler:
    """DDIM (η = 0) over a ScheduleConfig; float32 throughout like the reference.

    Attributes: betas, alphas_cumprod (float32 [T]), final_alpha_cumprod (1.0,
    reference `set_alpha_to_one=True`), timesteps (LongTensor after set_timesteps).
    """

    def __init__(self, cfg: ScheduleConfig):
        self.cfg = cfg
        self.train_steps = cfg.train_steps
        self.betas = make_betas(cfg)
        self.alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.final_alpha_cumprod = torch.tensor(1.0)
        self.num_inference_steps: Optional[int] = None
        self.exact = False
        self.timesteps = torch.zeros(0, dtype=torch.long)
        self._prev: Dict[int, int] = {}

    def set_timesteps(self, steps: int, exact: bool = False) -> Tensor:
        """Choose the inference plan; returns (and stores) the timesteps, first = noisiest.

        exact=False is the reference ("trailing", integer stride floor(T/S));
        exact=True runs exactly `steps` steps (our "trailing-exact").
        """
        _check_steps(self.train_steps, steps)
        self.num_inference_steps = steps
        self.exact = exact
        plan = exact_timesteps(self.train_steps, steps) if exact else trailing_timesteps(self.train_steps, steps)
        self.timesteps = torch.tensor(plan, dtype=torch.long)
        if exact:
            self._prev = {t: (plan[i + 1] if i + 1 < len(plan) else -1) for i, t in enumerate(plan)}
        else:
            stride = self.train_steps // steps
            self._prev = {t: t - stride for t in plan}
        return self.timesteps

    def prev_timestep(self, timestep: int) -> int:
        """The timestep a step from `timestep` lands on (negative: past the end, ᾱ_prev = 1)."""
        if self.num_inference_steps is None:
            raise ValueError("call set_timesteps before stepping")
        t = int(timestep)
        if not self.exact:
            # Reference: t - T // S for any t, whether or not it is in the plan.
            return t - self.train_steps // self.num_inference_steps
        if t not in self._prev:
            raise ValueError(f"timestep {t} is not in the exact plan {self.timesteps.tolist()}")
        return self._prev[t]

    def _alpha_prod(self, timestep: int) -> Tensor:
        return self.alphas_cumprod[timestep] if timestep >= 0 else self.final_alpha_cumprod

    def step(
        self,
        model_output: Tensor,
        timestep: int,
        sample: Tensor,
        prediction_type: str = "sample",
        epsilon_scaling: Optional[float] = None,
    ) -> Tuple[Tensor, Tensor]:
        """One DDIM step x_t -> x_prev (η = 0). Returns (prev_sample, pred_original_sample).

        prediction_type "sample": model_output is x̂0; "epsilon": it is ε̂.
        epsilon_scaling λ (Ning et al. 2023, arXiv 2308.15321) divides ε̂ after
        x̂0 has been derived, exactly where the reference does it.
        """
        if prediction_type not in PREDICTION_TYPES:
            raise ValueError(f"prediction_type must be one of {PREDICTION_TYPES}, got {prediction_type!r}")
        t = int(timestep)
        prev_t = self.prev_timestep(t)
        alpha_prod_t = self.alphas_cumprod[t]
        alpha_prod_t_prev = self._alpha_prod(prev_t)
        beta_prod_t = 1 - alpha_prod_t
        if prediction_type == "epsilon":
            pred_original_sample = (sample - beta_prod_t ** 0.5 * model_output) / alpha_prod_t ** 0.5
            pred_epsilon = model_output
        else:
            pred_original_sample = model_output
            pred_epsilon = (sample - alpha_prod_t ** 0.5 * pred_original_sample) / beta_prod_t ** 0.5
        if epsilon_scaling is not None:
            pred_epsilon = pred_epsilon / epsilon_scaling
        # η = 0: σ_t = 0, so the direction coefficient is √(1 − ᾱ_prev).
        pred_sample_direction = (1 - alpha_prod_t_prev) ** 0.5 * pred_epsilon
        prev_sample = alpha_prod_t_prev ** 0.5 * pred_original_sample + pred_sample_direction
        return prev_sample, pred_original_sample

    def get_epsilon(self, model_output: Tensor, sample: Tensor, timestep: int) -> Tensor:
        """ε̂ implied by an x̂0 prediction at `timestep`: (x_t − √ᾱ_t·x̂0)/√(1 − ᾱ_t)."""
        alpha_prod_t = self.alphas_cumprod[int(timestep)]
        beta_prod_t = 1 - alpha_prod_t
        return (sample - alpha_prod_t ** 0.5 * model_output) / beta_prod_t ** 0.5


def apply_cfg(cond_eps: Tensor, uncond_eps: Tensor, guidance_scale: float, guidance_rescale: float) -> Tensor:
    """Classifier-free guidance with rescale (Lin et al. 2023, Algorithm 2), per row.

    ε_g = ε_u + g·(ε_c − ε_u); φ = r·std(ε_c)/std(ε_g) + (1 − r); returns φ·ε_g.
    std is over the last dimension, unbiased (torch default), kept as [.., 1].
    """
    guided = uncond_eps + guidance_scale * (cond_eps - uncond_eps)
    std_cond = cond_eps.std(dim=-1, keepdim=True)
    std_guided = guided.std(dim=-1, keepdim=True)
    factor = std_cond / std_guided
    factor = guidance_rescale * factor + (1 - guidance_rescale)
    return factor * guided


DenoiseFn = Callable[[Tensor, int, bool], Tuple[Tensor, Optional[Tensor]]]


def sample_next(
    denoise: DenoiseFn,
    scheduler: DDIMScheduler,
    *,
    candidates: int,
    dim: int,
    rng: Rng,
    guidance_scale: float,
    guidance_rescale: float,
    initial_noise_scale: float,
    epsilon_scaling: Optional[float],
    clip_noise: float,
) -> Tensor:
    """Run the diffusion loop for one concept; returns x̂0 [candidates, dim] (normalized space).

    denoise(latents [n, dim] float32, timestep, with_uncond) returns
    (x0_cond [n, dim], x0_uncond [n, dim] or None); with_uncond is True on every
    step when guidance_scale != 1 (the reference batches both on every step).
    The noise is `rng.normal_tensor(candidates, dim, scale=initial_noise_scale)`,
    row-major, clamped to ±clip_noise. Assumes set_timesteps was called.
    """
    if scheduler.num_inference_steps is None:
        raise ValueError("call scheduler.set_timesteps before sample_next")
    if not guidance_scale >= 1:
        raise ValueError(f"guidance_scale must be >= 1 (1 = no guidance), got {guidance_scale}")
    guided = guidance_scale != 1.0
    last_train_step = scheduler.train_steps - 1
    latents = rng.normal_tensor(candidates, dim, scale=initial_noise_scale).clamp(-clip_noise, clip_noise)
    pred_original: Optional[Tensor] = None
    for t_tensor in scheduler.timesteps:
        t = int(t_tensor)
        x0_cond, x0_uncond = denoise(latents, t, guided)
        if not guided:
            latents, pred_original = scheduler.step(x0_cond, t, latents, "sample", epsilon_scaling)
        elif t == last_train_step:
            # Reference: at the max diffusion step (ᾱ = 0 with zero terminal SNR) ε
            # from x̂0 is just x_t, so step with the conditional x̂0 directly.
            latents, pred_original = scheduler.step(x0_cond, t, latents, "sample", epsilon_scaling)
        else:
            if x0_uncond is None:
                raise ValueError("denoise returned no unconditional prediction while guidance is on")
            eps_cond = scheduler.get_epsilon(x0_cond, latents, t)
            eps_uncond = scheduler.get_epsilon(x0_uncond, latents, t)
            eps = apply_cfg(eps_cond, eps_uncond, guidance_scale, guidance_rescale)
            latents, pred_original = scheduler.step(eps, t, latents, "epsilon", epsilon_scaling)
        latents = latents.clamp(-clip_noise, clip_noise)
    assert pred_original is not None
    return pred_original
