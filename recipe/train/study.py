"""The LCM studies of issue 8 (docs/variants.md "Schedule study" and "Comparison of the designs").

    cd recipe && /usr/bin/python3 -m train.study schedules|fragility [--work W] [--steps N] [--only NAME ...] [--smoke]
    cd recipe && /usr/bin/python3 -m train.study designs [--work W] [--steps N] [--finetune-steps N]
                                                         [--quant-decoder-steps N] [--only NAME ...] [--smoke]

Both train one LCM per variant on the same embeddings, with the same data order, seed and step count, and
compare them on the held-out test documents.

- ``schedules``: the Two-Tower LCM under each noise schedule (the ``lcm`` stage only): next-concept cosine
  against "repeat previous" and "mean of context", local coherence and REP-4 of generated continuations.
- ``fragility``: the Two-Tower LCM with plain MSE, and with the fragility-weighted loss weighting fragile concepts
  up and down (the ``lcm`` stage only; needs the ``fragility`` stage's predictor in W): the schedules' figures.
- ``designs``: Two-Tower, One-Tower, Base-LCM, Quant-LCM-d and Quant-LCM-c: the ``lcm`` and ``finetune`` stages
  (and, for the Quant-LCMs, ``sonar-quant``: the decoder fine-tuned on quantized vectors, as the paper does),
  then the evaluate stage's LCM suites, which add summarization and expansion ROUGE-L (with the lead-k and
  copy-the-summary baselines) and the PyTorch time per next concept.

Each variant gets its own work folder ``W/study/<study>/<name>/`` whose ``data`` and
``runs/{tokenizer,sonar,embed,normalizer}`` are links to W's (read only), so only the LCM-side runs differ;
every stage there resumes like any other run (rerun the same command after a stop). The table goes to
``W/study/<study>/report.{json,md}``. The runs' own validation loss is in the report but not comparable
across variants (each schedule draws its own noise levels; the designs have different losses).
"""
import argparse
import dataclasses
import os
import sys
import time
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import evaluate as evaluate_stage  # noqa: E402
from . import stages  # noqa: E402
from .common import Work, atomic_write_text, default_work, log, pick_device, read_json, set_threads, write_json  # noqa: E402
from .lcm import QUANT_VARIANTS  # noqa: E402

# The compared schedules: the default (cosine, as Meta's released LCMs), the quadratic of Ho et al. (β from
# 1e-4 to 0.02; eq. 13) and the paper's sigmoid(γ, δ) settings (eq. 14). All with T = 100 and betas rescaled to
# zero terminal SNR (lcmref/ddim.py), as the recipe's default: without it a 100-step quadratic schedule ends
# with ᾱ_T ≈ 0.48, far from noise, and sampling would start from a state the model never saw.
SCHEDULES: Dict[str, Dict[str, Any]] = {
    "cosine": {"schedule": "cosine"},
    "quadratic": {"schedule": "quadratic", "schedule_beta_start": 0.0001, "schedule_beta_end": 0.02},
    "sigmoid(1.5,-1)": {"schedule": "sigmoid", "sigmoid_gamma": 1.5, "sigmoid_delta": -1.0},
    "sigmoid(1.5,-2)": {"schedule": "sigmoid", "sigmoid_gamma": 1.5, "sigmoid_delta": -2.0},
    "sigmoid(0.8,-1)": {"schedule": "sigmoid", "sigmoid_gamma": 0.8, "sigmoid_delta": -1.0},
    "sigmoid(3.5,0)": {"schedule": "sigmoid", "sigmoid_gamma": 3.5, "sigmoid_delta": 0.0},
}
DESIGNS: Dict[str, Dict[str, Any]] = {
    "two-tower": {"architecture": "two-tower-diffusion"},
    "one-tower": {"architecture": "one-tower-diffusion"},
    "base-lcm": {"architecture": "base-mse"},
    "quant-lcm-d": {"architecture": "quant-discrete"},
    "quant-lcm-c": {"architecture": "quant-continuous"},
}
# The fragility-weighted loss (paper §2.5.1: ω = sigmoid(a·f + b); the paper gives no a, b nor the direction):
# plain MSE against weighting fragile concepts up (ω from 0.12 at f = 0 to 0.88 at f = 100) and down (the
# reverse). f comes from the fragility stage's predictor (train/fragility.py), which W must have.
FRAGILITY: Dict[str, Dict[str, Any]] = {
    "plain": {},
    "fragile-up": {"fragility_a": 4.0, "fragility_b": -2.0},
    "fragile-down": {"fragility_a": -4.0, "fragility_b": 2.0},
}
STUDIES = {"schedules": SCHEDULES, "designs": DESIGNS, "fragility": FRAGILITY}
# The paper's instruction-tuned 1.6B designs (coherence, ROUGE-L; the paper's Table for its §2 comparison, as
# quoted in shared/seeds/002): for orientation only: other data, 100× the parameters, another SONAR.
PAPER_DESIGNS = {"base-lcm": (0.482, 23.69), "quant-lcm": (0.847, 30.87), "one-tower": (0.968, 33.40),
                 "two-tower": (0.938, 33.64), "smaLLaMA (token LLM)": (0.984, 34.88)}
SHARED_RUNS = ("tokenizer", "sonar", "embed", "normalizer")
OPTIONAL_RUNS = ("sonar-decoder", "fragility")  # linked when W has them: the decoder evaluate uses, the predictor
NAN = float("nan")


def slug(name: str) -> str:
    return name.replace("(", "-").replace(")", "").replace(",", "_")


def variant_work(work: Work, study: str, name: str) -> Work:
    """W/study/<study>/<slug>: links to W's data and SONAR-side runs, its own LCM-side runs."""
    root = os.path.join(work.root, "study", study, slug(name))
    os.makedirs(os.path.join(root, "runs"), exist_ok=True)
    links = [("data", work.data)] + [(os.path.join("runs", s), os.path.join(work.runs, s)) for s in SHARED_RUNS]
    links += [(os.path.join("runs", s), os.path.join(work.runs, s)) for s in OPTIONAL_RUNS
              if os.path.exists(os.path.join(work.runs, s))]
    for rel, target in links:
        if not os.path.exists(target):
            raise SystemExit(f"{target} is missing: the study needs W's data and the {', '.join(SHARED_RUNS)} stages")
        path = os.path.join(root, rel)
        if not os.path.islink(path):
            os.symlink(target, path)
    return Work(root)


def stage_args(args: argparse.Namespace, work: Work, stage: str, settings: Dict[str, Any],
               steps: Optional[int]) -> argparse.Namespace:
    """``--set`` for ``stage``: the variant's settings (LCM stages), then the user's pairs that are unprefixed
    (LCM stages) or prefixed ``<stage>.`` (stripped)."""
    lcm_side = stage in ("lcm", "finetune")
    pairs = [f"{k}={v}" for k, v in settings.items()] if lcm_side else []
    for p in args.set:
        if p.startswith(f"{stage}."):
            pairs.append(p[len(stage) + 1:])
        elif lcm_side and "." not in p.split("=", 1)[0]:
            pairs.append(p)
    return argparse.Namespace(
        stage=stage, work=work.root, smoke=args.smoke, fresh=False, stop_after=None, max_minutes=None, steps=steps,
        set=pairs, device=args.device, precision=args.precision, threads=args.threads)


def last_eval(work: Work, stage: str) -> Dict[str, float]:
    """The last row of runs/<stage>/eval.tsv (the run's own validation figures)."""
    with open(os.path.join(work.runs, stage, "eval.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    return {k: float(v) for k, v in zip(rows[0], rows[-1])}


def run_variant(args: argparse.Namespace, work: Work, study: str, name: str, settings: Dict[str, Any]
                ) -> Dict[str, Any]:
    t0 = time.perf_counter()
    stages.run_stage("lcm", stage_args(args, work, "lcm", settings, args.steps))
    last = "lcm"
    if study == "designs":
        stages.run_stage("finetune", stage_args(args, work, "finetune", settings, args.finetune_steps))
        last = "finetune"
        if settings["architecture"] in QUANT_VARIANTS:
            stages.run_stage("sonar-quant", stage_args(args, work, "sonar-quant", {}, args.quant_decoder_steps))
    base = evaluate_stage.EvaluateConfig()
    cfg = dataclasses.replace(base, summaries=0) if study != "designs" else base
    if args.smoke:
        cfg = dataclasses.replace(cfg, next_positions=6, gen_docs=2, gen_concepts=3, summaries=min(cfg.summaries, 2),
                                  max_generated=4)
    results = evaluate_stage._lcm_suites(work, cfg, pick_device(args.device))  # noqa: SLF001
    valid = last_eval(work, last)
    config = read_json(os.path.join(work.runs, last, "config.json"))
    row = {"name": name, "settings": settings, "stage": last, "step": int(valid.get("step", 0)), "valid": valid,
           "results": results, "seconds": round(time.perf_counter() - t0, 1),
           "lcmSteps": int(last_eval(work, "lcm").get("step", 0)), "architecture": config.get("architecture")}
    predictor = os.path.join(work.runs, "fragility", "predictor.json")
    if study == "fragility" and os.path.exists(predictor):
        m = read_json(predictor)["heldOut"]
        row["fragilityPredictor"] = (f"{m['n']} held-out concepts, Pearson {m['pearson']:.3f}, Spearman "
                                     f"{m['spearman']:.3f}, MAE {m['mae']:.2f} (predicting the mean {m['maeOfMean']:.2f})")
    return row


def _f(m: Dict[str, float], key: str, digits: int) -> str:
    v = m.get(key, NAN)
    return "n/a" if v != v else f"{v:.{digits}f}"


def markdown(study: str, rows: List[Dict[str, Any]], args: argparse.Namespace) -> str:
    head = [f"# LCM study: {study}", "",
            f"Same embeddings, data order and seed for every variant; `lcm` {args.steps or 'default'} steps"
            + (f", `finetune` {args.finetune_steps or 'default'} steps" if study == "designs" else "")
            + "; held-out test documents; the paper's inference settings (diffusion: 40 trailing DDIM steps, "
            "guidance 3, rescale 0.7) under each model's own schedule. Next concept: mean cosine of one sample to "
            "the true next concept (baselines: repeat previous, mean of context); mean of samples: of the mean of "
            "8 samples per position, a point estimate as the baselines are. Coherence: mean cosine of "
            "generated concepts n and n+2. The valid loss is each run's own and not comparable across variants.",
            ""]
    if study in ("schedules", "fragility"):
        if study == "fragility" and rows:
            head += [f"f from the fragility stage's predictor: {rows[-1].get('fragilityPredictor', 'n/a')}", ""]
        first = "schedule" if study == "schedules" else "loss"
        head += [f"| {first} | steps | next-concept cos | mean of samples | repeat previous | mean of context | "
                 "coherence | REP-4 | valid x0-MSE |", "|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            m = r["results"]
            head.append(f"| {r['name']} | {r['step']} | {_f(m, 'test_next_cos', 4)} | {_f(m, 'test_consensus_cos', 4)} | "
                        f"{_f(m, 'test_prev_cos', 4)} | {_f(m, 'test_mean_cos', 4)} | {_f(m, 'gen_coherence', 4)} | "
                        f"{_f(m, 'gen_rep4', 3)} | {_f(r['valid'], 'valid_mse', 4)} |")
        return "\n".join(head) + "\n"
    head += ["| design | lcm + finetune steps | next-concept cos | mean of samples | repeat previous | mean of context | "
             "coherence | REP-4 | summary ROUGE-L | lead-k | expansion ROUGE-L | summary copy | ms / next concept |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        m = r["results"]
        head.append(f"| {r['name']} | {r['lcmSteps']} + {r['step']} | {_f(m, 'test_next_cos', 4)} | "
                    f"{_f(m, 'test_consensus_cos', 4)} | {_f(m, 'test_prev_cos', 4)} | {_f(m, 'test_mean_cos', 4)} | {_f(m, 'gen_coherence', 4)} | "
                    f"{_f(m, 'gen_rep4', 3)} | {_f(m, 'sum_rougeL', 4)} | {_f(m, 'sum_lead_rougeL', 4)} | "
                    f"{_f(m, 'exp_rougeL', 4)} | {_f(m, 'exp_copy_rougeL', 4)} | {_f(m, 'next_ms', 1)} |")
    head += ["", "The paper's instruction-tuned 1.6B models, for orientation (its own data and SONAR; coherence, "
             "ROUGE-L ×100):", "", "| design | coherence | ROUGE-L |", "|---|---|---|"]
    head += [f"| {k} | {c:.3f} | {r:.2f} |" for k, (c, r) in PAPER_DESIGNS.items()]
    return "\n".join(head) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("study", choices=list(STUDIES))
    ap.add_argument("--work", help="work folder with the data, tokenizer, sonar, embed and normalizer stages done")
    ap.add_argument("--steps", type=int, help="lcm steps per variant (default: the lcm stage's)")
    ap.add_argument("--finetune-steps", type=int, help="designs: finetune steps per variant")
    ap.add_argument("--quant-decoder-steps", type=int, help="designs: sonar-quant steps for each Quant-LCM")
    ap.add_argument("--only", nargs="*", help="a subset of the variants")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="more stage settings: unprefixed for lcm and finetune, or <stage>.KEY=VALUE")
    ap.add_argument("--smoke", action="store_true", help="the stages' smoke shapes (a smoke work folder)")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    variants = STUDIES[args.study]
    unknown = [n for n in args.only or [] if n not in variants]
    if unknown:
        ap.error(f"unknown {args.study}: {', '.join(unknown)} (choose from {', '.join(variants)})")
    set_threads(args.threads)
    work = Work(args.work or default_work())
    rows = []
    for name in args.only or list(variants):
        row = run_variant(args, variant_work(work, args.study, name), args.study, name, variants[name])
        rows.append(row)
        m = row["results"]
        log(f"[study] {name}: next_cos {m.get('test_next_cos', NAN):.4f} (prev {m.get('test_prev_cos', NAN):.4f}, "
            f"mean {m.get('test_mean_cos', NAN):.4f})")
    out = os.path.join(work.root, "study", args.study)
    write_json(os.path.join(out, "report.json"), {"study": args.study, "steps": args.steps, "rows": rows})
    atomic_write_text(os.path.join(out, "report.md"), markdown(args.study, rows, args))
    log(f"[study] report → {out}/report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
