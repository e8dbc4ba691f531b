"""The resumable training loop every training stage (sonar, lcm, finetune) runs.

A stage supplies a ``Task``: the model, a batch iterator with
``state_dict``/``load_state_dict`` (``streams.PooledBatcher``), a loss function
and an evaluation. The loop owns the rest:

- AdamW (no weight decay on biases, norms and other vectors), linear warmup
  then inverse-square-root or cosine decay (``LambdaLR``), gradient clipping;
- ``last.pt`` holds model, optimizer, scheduler, every RNG (the loop's own
  ``torch.Generator`` for noise and masks included), the batcher's position,
  step, tokens and accumulated wall time; it is written atomically every
  ``ckpt_minutes``, on SIGINT/SIGTERM and at the end, so rerunning the same
  command continues exactly where the last save left off;
- ``best.pt`` (model only) whenever the evaluation's ``score`` improves;
- ``loss.tsv`` every ``log_every`` steps, ``eval.tsv`` every ``eval_every``
  steps, ``state.json`` (what export's provenance reads), and a progress line
  with steps/s, tokens/s and the ETA to the target step;
- CUDA when present, and CPUs with AMX/AVX512-BF16: same code under bf16 autocast (common.set_precision);
- ``fit_to_minutes`` (a stage setting, off by default) with ``--max-minutes``: at every log
  line the target step becomes what the measured rate reaches in the time left (capped by
  the configured ``steps``), so a time-boxed run ends its LR schedule, and gets its final
  evaluation, at the limit (recipe/device/ uses it; such a run depends on the clock, so its
  resume is not bit-identical).
"""
import dataclasses
import math
import os
import shutil
import time
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Tuple

import torch
from torch import Tensor, nn

from .common import (StopFlag, Tsv, atomic_torch_save, autocast, device_line, fmt_duration, log, read_json, rng_state,
                     seed_all, set_rng_state, write_json)


@dataclasses.dataclass
class RunOptions:
    """Per-invocation switches (not part of the saved config)."""

    fresh: bool = False  # move an existing run aside and start over
    stop_after: Optional[int] = None  # stop this invocation after this many steps (resume later)
    max_minutes: Optional[float] = None  # stop this invocation after this much wall time
    deadline: Optional[float] = None  # time.time() by which this invocation stops (recipe/device/: stages in sequence)


class Task(Protocol):
    name: str
    units: str  # what "tokens" counts in the progress line (tok, concepts)
    loss_columns: Sequence[str]  # extra loss.tsv columns the loss returns

    def model(self) -> nn.Module: ...

    def batches(self) -> Any: ...

    def loss(self, batch: Any, gen: torch.Generator) -> Tuple[Tensor, Dict[str, float], int]: ...

    def evaluate(self, step: int) -> Dict[str, float]: ...


def lr_lambda(kind: str, warmup: int, steps: int, min_ratio: float) -> Callable[[int], float]:
    """Multiplier of the base LR at a step: linear warmup, then inverse sqrt (fairseq) or cosine to ``min_ratio``."""
    warmup = max(1, warmup)

    def f(step: int) -> float:
        s = step + 1
        if s <= warmup:
            return s / warmup
        if kind == "inverse_sqrt":
            return max(min_ratio, math.sqrt(warmup / s))
        if kind == "cosine":
            p = min(1.0, (s - warmup) / max(1, steps - warmup))
            return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * p))
        if kind == "constant":
            return 1.0
        raise ValueError(f"unknown LR schedule {kind!r} (inverse_sqrt, cosine, constant)")

    return f


def param_groups(model: nn.Module, weight_decay: float) -> List[Dict[str, Any]]:
    """Decay matrices only (biases, norm weights and other vectors are not decayed)."""
    decay, no_decay, seen = [], [], set()
    for _, p in model.named_parameters():
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        (decay if p.dim() >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def prepare_run_dir(run_dir: str, fresh: bool) -> None:
    """``--fresh``: move the old run to ``<dir>.old-<time>`` (never delete work)."""
    if fresh and os.path.exists(os.path.join(run_dir, "last.pt")):
        aside = f"{run_dir}.old-{time.strftime('%Y%m%d-%H%M%S')}"
        shutil.move(run_dir, aside)
        os.makedirs(run_dir)
        log(f"--fresh: moved the previous run to {aside}")


def resume_config(run_dir: str, cfg: Any, overrides: Sequence[str], shape_keys: Sequence[str],
                  apply: Callable[[Any, Sequence[str]], Any]) -> Any:
    """The config to run with: when resuming, the saved one with this command's ``--set``/``--steps`` applied.

    Presets (``--smoke``, CUDA batch sizes) apply only to new runs; changing a shape on resume is
    refused, since the checkpoint could not be loaded into it.
    """
    path = os.path.join(run_dir, "config.json")
    if not (os.path.exists(path) and os.path.exists(os.path.join(run_dir, "last.pt"))):
        return cfg
    names = {f.name for f in dataclasses.fields(cfg)}
    saved = type(cfg)(**{k: v for k, v in read_json(path).items() if k in names})
    merged = apply(saved, overrides)
    changed = [k for k in shape_keys if getattr(merged, k) != getattr(saved, k)]
    if changed:
        raise SystemExit(f"{run_dir} holds a run with other shapes ({', '.join(changed)}); "
                         "resume without changing them, or start over with --fresh")
    return merged


class Trainer:
    """Runs a Task to ``cfg.steps`` with checkpoints, logs, evaluation and clean stops (module docstring)."""

    def __init__(self, task: Task, cfg: Any, run_dir: str, device: torch.device, opts: RunOptions,
                 init_weights: Optional[Dict[str, Tensor]] = None):
        self.task, self.cfg, self.run_dir, self.device, self.opts = task, cfg, run_dir, device, opts
        seed_all(cfg.seed)  # the initial weights; a resumed run then loads every RNG state from the checkpoint
        self.model = task.model().to(device)
        if init_weights is not None:
            self.model.load_state_dict(init_weights)
        self.opt = torch.optim.AdamW(param_groups(self.model, cfg.weight_decay), lr=cfg.lr,
                                     betas=(cfg.beta1, cfg.beta2), eps=1e-8)
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, lr_lambda(cfg.lr_schedule, cfg.warmup, cfg.steps,
                                                                           cfg.min_lr_ratio))
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.batches = task.batches()
        self.step = 0
        self.tokens = 0
        self.wall = 0.0
        self.best: Optional[Dict[str, Any]] = None
        self.last_eval_step = -1
        self.resumed_at: Optional[int] = None  # the step a resumed run continued from (log rows after it are dropped)
        self.last_path = os.path.join(run_dir, "last.pt")
        self.best_path = os.path.join(run_dir, "best.pt")
        self.autocast = lambda: autocast(device)  # common.set_precision decided bf16 or fp32

    # -------------------------------------------------------------- checkpoints

    def _save(self) -> None:
        atomic_torch_save({
            "model": self.model.state_dict(), "optimizer": self.opt.state_dict(), "scheduler": self.sched.state_dict(),
            "rng": rng_state(), "gen": self.gen.get_state(), "batches": self.batches.state_dict(),
            "step": self.step, "tokens": self.tokens, "wall": self.wall, "best": self.best,
            "last_eval_step": self.last_eval_step, "config": dataclasses.asdict(self.cfg),
        }, self.last_path)

    def _load(self) -> None:
        # CPU first: RNG states must stay CPU tensors; load_state_dict moves weights and optimizer state
        # to the parameters' device.
        ck = torch.load(self.last_path, map_location="cpu")
        self.model.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["optimizer"])
        self.sched.load_state_dict(ck["scheduler"])
        # The target step may have been raised on the command line: rebuild the schedule's function.
        fn = lr_lambda(self.cfg.lr_schedule, self.cfg.warmup, self.cfg.steps, self.cfg.min_lr_ratio)
        self.sched.lr_lambdas = [fn] * len(self.opt.param_groups)
        set_rng_state(ck["rng"])
        self.gen.set_state(ck["gen"])
        self.batches.load_state_dict(ck["batches"])
        self.step, self.tokens, self.wall = ck["step"], ck["tokens"], ck["wall"]
        self.best, self.last_eval_step = ck["best"], ck["last_eval_step"]
        log(f"[{self.task.name}] resumed from {self.last_path} at step {self.step} ({fmt_duration(self.wall)} trained)")

    def _fit_steps(self, cap: int, invoked: float, start_step: int, eval_seconds: float) -> None:
        """``fit_to_minutes``: the target step that the rate so far reaches by the time limit (module docstring)."""
        assert self.opts.max_minutes is not None
        elapsed = time.perf_counter() - invoked
        done = self.step - start_step
        if done < 10 or elapsed <= 0:
            return
        budget = 60.0 * self.opts.max_minutes
        left = max(0.0, budget - elapsed - eval_seconds - 0.02 * budget)  # room for the final evaluation
        target = min(cap, self.step + max(1, int(done / elapsed * left)))
        if target != self.cfg.steps:
            self.cfg = dataclasses.replace(self.cfg, steps=target)
            fn = lr_lambda(self.cfg.lr_schedule, self.cfg.warmup, self.cfg.steps, self.cfg.min_lr_ratio)
            self.sched.lr_lambdas = [fn] * len(self.opt.param_groups)

    def _write_state(self, finished: bool) -> None:
        write_json(os.path.join(self.run_dir, "state.json"), {
            "stage": self.task.name, "step": self.step, "targetSteps": self.cfg.steps, "finished": finished,
            "wallSeconds": round(self.wall, 1), "tokens": self.tokens, "units": self.task.units,
            "device": device_line(self.device), "best": self.best,
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
        })

    # -------------------------------------------------------------- evaluation

    def _evaluate(self, eval_tsv: List[Optional[Tsv]]) -> None:
        self.model.eval()
        t0 = time.perf_counter()
        with torch.no_grad():
            metrics = self.task.evaluate(self.step)
        self.model.train()
        self.last_eval_step = self.step
        if eval_tsv[0] is None:  # made at the first evaluation, when its columns are known
            path = os.path.join(self.run_dir, "eval.tsv")
            eval_tsv[0] = Tsv(path, ["step", *sorted(metrics)], self.resumed_at if os.path.exists(path) else None)
        eval_tsv[0].add({"step": self.step, **metrics})
        shown = " ".join(f"{k} {v:.3f}" for k, v in sorted(metrics.items()))
        log(f"[{self.task.name}] eval step {self.step}: {shown} ({time.perf_counter() - t0:.1f} s)")
        score = metrics.get("score")
        if score is not None and (self.best is None or score > self.best["score"]):
            self.best = {"step": self.step, "score": score, "metrics": metrics}
            atomic_torch_save({"model": self.model.state_dict(), "step": self.step, "metrics": metrics,
                               "config": dataclasses.asdict(self.cfg)}, self.best_path)
            log(f"[{self.task.name}] new best score {score:.3f} → {self.best_path}")

    # -------------------------------------------------------------- the loop

    def run(self) -> Dict[str, Any]:
        cfg = self.cfg
        if self.opts.deadline is not None:  # the same as --max-minutes, counted from now
            left = (self.opts.deadline - time.time()) / 60.0
            mm = left if self.opts.max_minutes is None else min(self.opts.max_minutes, left)
            self.opts = dataclasses.replace(self.opts, max_minutes=mm)
        resumed = os.path.exists(self.last_path)
        if resumed:
            self._load()
            self.resumed_at = self.step
        write_json(os.path.join(self.run_dir, "config.json"), dataclasses.asdict(cfg))
        n_params = sum(p.numel() for p in {id(p): p for p in self.model.parameters()}.values())
        log(f"[{self.task.name}] {n_params / 1e6:.2f}M parameters on {device_line(self.device)}; "
            f"target {cfg.steps} steps, checkpoint every {cfg.ckpt_minutes} min → {self.run_dir}")
        loss_tsv = Tsv(os.path.join(self.run_dir, "loss.tsv"),
                       ["step", "loss", *self.task.loss_columns, "lr", "steps_per_s", "tokens_per_s", "wall_s"],
                       self.step if resumed else None)
        eval_tsv: List[Optional[Tsv]] = [None]
        if not resumed and os.path.exists(os.path.join(self.run_dir, "eval.tsv")):
            os.remove(os.path.join(self.run_dir, "eval.tsv"))
        start_step = self.step
        fit = bool(getattr(cfg, "fit_to_minutes", False)) and self.opts.max_minutes is not None
        cap_steps, eval_seconds = cfg.steps, 0.0
        invoked = started = time.perf_counter()
        last_ckpt = started
        window = {"t": started, "steps": 0, "tokens": 0, "loss": 0.0, "extras": {}}
        self.model.train()
        reason = "target reached"
        with StopFlag() as stop:
            while self.step < cfg.steps:
                if stop.requested:
                    reason = "signal"
                    break
                if self.opts.stop_after is not None and self.step - start_step >= self.opts.stop_after:
                    reason = f"--stop-after {self.opts.stop_after}"
                    break
                if self.opts.max_minutes is not None and time.perf_counter() - invoked > 60 * self.opts.max_minutes:
                    reason = f"--max-minutes {self.opts.max_minutes}"
                    break
                batch = next(self.batches)
                with self.autocast():
                    loss, extras, ntok = self.task.loss(batch, self.gen)
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.clip > 0:
                    nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip)
                self.opt.step()
                self.sched.step()
                self.step += 1
                self.tokens += ntok
                window["steps"] += 1
                window["tokens"] += ntok
                window["loss"] += float(loss.detach())
                for k, v in extras.items():
                    window["extras"][k] = window["extras"].get(k, 0.0) + v
                now = time.perf_counter()
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    dt = max(1e-9, now - window["t"])
                    sps, tps = window["steps"] / dt, window["tokens"] / dt
                    n = window["steps"]
                    row = {"step": self.step, "loss": window["loss"] / n, "lr": self.sched.get_last_lr()[0],
                           "steps_per_s": sps, "tokens_per_s": tps, "wall_s": self.wall + now - started,
                           **{k: v / n for k, v in window["extras"].items()}}
                    loss_tsv.add(row)
                    eta = (cfg.steps - self.step) / sps if sps > 0 else float("inf")
                    log(f"[{self.task.name}] step {self.step}/{cfg.steps} loss {row['loss']:.4f} "
                        + "".join(f"{k} {row[k]:.4f} " for k in self.task.loss_columns if k in row)
                        + f"lr {row['lr']:.2e} | {sps:.2f} steps/s {tps:,.0f} {self.task.units}/s | "
                        f"ETA {fmt_duration(eta)}")
                    window = {"t": now, "steps": 0, "tokens": 0, "loss": 0.0, "extras": {}}
                    if fit:
                        self._fit_steps(cap_steps, invoked, start_step, eval_seconds)
                        cfg = self.cfg
                if cfg.eval_every and self.step % cfg.eval_every == 0:
                    t_eval = time.perf_counter()
                    self._evaluate(eval_tsv)
                    eval_seconds = time.perf_counter() - t_eval
                    window["t"] += eval_seconds  # keep evaluation out of steps/s
                if time.perf_counter() - last_ckpt > 60 * cfg.ckpt_minutes:
                    self.wall += time.perf_counter() - started
                    started = time.perf_counter()
                    self._save()
                    last_ckpt = time.perf_counter()
                    log(f"[{self.task.name}] checkpoint step {self.step} → {self.last_path}")
            finished = self.step >= cfg.steps
            timed_out = fit and reason.startswith("--max-minutes")  # fit_to_minutes ends with an evaluation too
            if (finished or timed_out) and self.last_eval_step != self.step and cfg.eval_every:
                self._evaluate(eval_tsv)
            self.wall += time.perf_counter() - started
            self._save()
            if fit:
                write_json(os.path.join(self.run_dir, "config.json"), dataclasses.asdict(self.cfg))
            self._write_state(finished)
        log(f"[{self.task.name}] stopped at step {self.step}/{cfg.steps} ({reason}); checkpoint saved. "
            + ("Done." if finished else "Rerun the same command to resume."))
        return {"step": self.step, "finished": finished, "best": self.best}


def load_weights(path: str) -> Tuple[Dict[str, Tensor], Dict[str, Any]]:
    """(model state_dict, config dict) of a ``best.pt`` or ``last.pt``."""
    ck = torch.load(path, map_location="cpu")
    return ck["model"], ck["config"]
