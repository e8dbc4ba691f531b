"""Builds each stage's settings (defaults → CUDA or smoke preset → ``--set``/``--steps``) and runs the stage.

``--set KEY=VALUE`` applies to the stage being run; with ``all``, write
``--set sonar.steps=50000`` to aim at one stage (an unprefixed key goes to
every stage that has it). Presets apply to new runs only: a resumed training
run keeps its saved settings apart from what this command line sets.
"""
import argparse
import dataclasses
from typing import Any, Dict, List, Sequence, Tuple

import torch

from . import embed as embed_stage
from . import evaluate as evaluate_stage
from . import export as export_stage
from . import fragility as fragility_stage
from . import lcm as lcm_stage
from . import normalizer as normalizer_stage
from . import sonar as sonar_stage
from . import sonar_decoder as sonar_decoder_stage
from . import sonar_quant as sonar_quant_stage
from . import tokenizer as tokenizer_stage
from .common import Work, apply_overrides, default_work, device_line, log, pick_device, set_precision, set_threads
from .loop import RunOptions, Trainer, prepare_run_dir, resume_config

CONFIGS: Dict[str, Any] = {
    "tokenizer": tokenizer_stage.TokenizerConfig,
    "sonar": sonar_stage.SonarTrainConfig,
    "embed": embed_stage.EmbedConfig,
    "normalizer": normalizer_stage.NormalizerConfig,
    "fragility": fragility_stage.FragilityConfig,
    "lcm": lcm_stage.LcmTrainConfig,
    "finetune": lcm_stage.LcmTrainConfig,
    "export": export_stage.ExportConfig,
    "evaluate": evaluate_stage.EvaluateConfig,
}

# Decoder stages: the encoder frozen, settings from the sonar run's own config (not CONFIGS).
DECODER_STAGES: Dict[str, Any] = {"sonar-decoder": sonar_decoder_stage, "sonar-quant": sonar_quant_stage}

# Bigger batches when a GPU is present (same code; bf16 autocast in the loop).
CUDA_PRESET: Dict[str, Dict[str, Any]] = {
    "sonar": {"batch_tokens": 32768, "max_len": 128, "pool_size": 40000, "eval_batch": 256},
    "embed": {"batch": 1024},
    "lcm": {"batch_concepts": 16384, "window": 128, "pool_size": 4000},
    "finetune": {"batch_concepts": 16384, "window": 128, "pool_size": 4000},
    "evaluate": {"batch": 256},
}

# Tiny shapes and step counts: the whole pipeline in a few minutes on two CPU cores (train/smoke.py).
SMOKE_PRESET: Dict[str, Dict[str, Any]] = {
    "tokenizer": {"vocab_pieces": 1500, "sample": 100_000, "min_lang_sentences": 10},
    "sonar": {"model_dim": 64, "enc_layers": 2, "dec_layers": 2, "heads": 4, "ffn_dim": 128, "max_positions": 130,
              "max_len": 48, "batch_tokens": 1024, "pool_size": 300, "steps": 60, "warmup": 10, "eval_every": 30,
              "eval_sentences": 8, "eval_translate": 4, "log_every": 10, "mse_weight": 0.1},
    "embed": {"batch": 64, "rows_per_shard": 7},
    "normalizer": {"max_vectors": 5000},
    "fragility": {"sample": 60, "batch": 16},
    "lcm": {"model_dim": 64, "heads": 4, "context_layers": 1, "denoiser_layers": 2, "ffn_dim": 128, "window": 16,
            "batch_concepts": 256, "pool_size": 64, "steps": 40, "warmup": 10, "eval_every": 20, "eval_positions": 4,
            "eval_docs": 8, "log_every": 10},
    "finetune": {"window": 24, "batch_concepts": 256, "pool_size": 64, "steps": 30, "warmup": 5, "eval_every": 15,
                 "eval_positions": 4, "eval_docs": 8, "log_every": 10},
    "evaluate": {"rt_sentences": 6, "tr_pairs": 3, "next_positions": 6, "consensus_samples": 2, "gen_docs": 2, "gen_concepts": 3,
                 "summaries": 2, "max_generated": 4},
}


def stage_overrides(stage: str, pairs: Sequence[str], cfg: Any) -> List[str]:
    """The ``--set`` pairs meant for ``stage`` (prefixed ``stage.`` or unprefixed and known to it)."""
    names = {f.name for f in dataclasses.fields(cfg)}
    out = []
    for p in pairs:
        key = p.split("=", 1)[0]
        if "." in key:
            prefix, rest = key.split(".", 1)
            if prefix == stage:
                out.append(rest + p[len(key):])
        elif key in names:
            out.append(p)
    return out


def build_config(stage: str, args: argparse.Namespace, device: torch.device) -> Tuple[Any, List[str]]:
    """Defaults → finetune defaults → CUDA or smoke preset → --set / --steps; returns (config, the pairs applied)."""
    cfg = CONFIGS[stage]()
    if stage == "finetune":
        cfg = dataclasses.replace(cfg, **lcm_stage.FINETUNE_DEFAULTS)
    if device.type == "cuda":
        cfg = dataclasses.replace(cfg, **CUDA_PRESET.get(stage, {}))
    if args.smoke:
        cfg = dataclasses.replace(cfg, **SMOKE_PRESET.get(stage, {}))
    if hasattr(cfg, "threads"):
        cfg = dataclasses.replace(cfg, threads=args.threads)
    pairs = stage_overrides(stage, args.set, cfg)
    if args.steps is not None and hasattr(cfg, "steps"):
        pairs = pairs + [f"steps={args.steps}"]
    if args.stage != "all":
        unknown = [p for p in args.set if p not in pairs and not p.startswith(f"{stage}.")]
        if unknown:
            apply_overrides(cfg, unknown)  # raises with the list of known settings
    return apply_overrides(cfg, pairs), pairs


def run_stage(stage: str, args: argparse.Namespace) -> Any:
    work = Work(args.work or default_work())
    set_threads(args.threads)
    device = pick_device(args.device)
    set_precision(device, getattr(args, "precision", "auto"))
    opts = RunOptions(fresh=args.fresh, stop_after=args.stop_after, max_minutes=args.max_minutes,
                      deadline=getattr(args, "deadline", None))  # set by recipe/device/train_on_device.py
    if stage in DECODER_STAGES:  # their settings start from the sonar run's own (train/sonar_decoder.py)
        if stage == "sonar-quant" and args.stage == "all" and not sonar_quant_stage.applies(work):
            log("== sonar-quant: skipped (the LCM run is not a Quant-LCM)")
            return None
        log(f"== {stage} (work {work.root}; {device_line(device)})")
        pairs = [p[len(stage) + 1:] if p.startswith(f"{stage}.") else p for p in args.set
                 if args.stage != "all" or p.startswith(f"{stage}.")]
        return DECODER_STAGES[stage].train(work, pairs, smoke=args.smoke, steps=args.steps, fresh=args.fresh,
                                           device=device, opts=opts)
    cfg, pairs = build_config(stage, args, device)
    log(f"== {stage} (work {work.root}; {device_line(device)})")
    if stage == "tokenizer":
        return tokenizer_stage.run(work, cfg, args.fresh)
    if stage == "sonar":
        run_dir = work.run_dir("sonar")
        prepare_run_dir(run_dir, args.fresh)
        sha = str(tokenizer_stage.load(work)[1].get("sha256", ""))
        cfg = resume_config(run_dir, dataclasses.replace(cfg, tokenizer_sha256=sha), pairs, sonar_stage.SHAPE_KEYS,
                            apply_overrides)
        if cfg.tokenizer_sha256 != sha:
            raise SystemExit(f"{run_dir} was trained with another tokenizer; start over with "
                             "`recipe/run.py sonar --fresh` (and rerun the stages after it)")
        task = sonar_stage.SonarTask(work, cfg, device)
        return Trainer(task, cfg, run_dir, device, opts).run()
    if stage == "embed":
        return embed_stage.run(work, cfg, device, args.fresh)
    if stage == "normalizer":
        return normalizer_stage.run(work, cfg)
    if stage == "fragility":
        if args.stage == "all":
            lcm_cfg = build_config("lcm", args, device)[0]
            if not (lcm_cfg.fragility_a != 0 and lcm_cfg.fragility_source == "predictor"):
                log("== fragility: skipped (the lcm run has no fragility-weighted loss)")
                return None
        return fragility_stage.run(work, cfg, args.fresh)
    if stage in ("lcm", "finetune"):
        return lcm_stage.run(stage, work, cfg, pairs, device, opts)
    if stage == "export":
        return export_stage.run(work, cfg, args)
    if stage == "evaluate":
        return evaluate_stage.run(work, cfg, device)
    raise SystemExit(f"unknown stage {stage}")
