"""The noise-schedule study (issue 8; LCM paper §2.3.3 and eq. 12–14; docs/variants.md "Schedule study").

    cd recipe && /usr/bin/python3 -m train.schedule_study [--work W] [--steps N] [--only NAME ...] [--smoke]

Trains one Two-Tower LCM per schedule on the same embeddings, with the same shapes, data order, seed and step
count, and compares their next-concept quality on the held-out test documents. Each schedule gets its own work
folder ``W/study/schedules/<name>/`` whose ``data`` and ``runs/{tokenizer,sonar,embed,normalizer}`` are links to
W's (read only), so only ``runs/lcm`` differs; the ``lcm`` stage there resumes like any other run (rerun the
same command after a stop). Then each model is evaluated with the evaluate stage's LCM suites
(train/evaluate.py, the paper's inference settings under the schedule the model was trained with): mean cosine
of one sample to the true next concept against "repeat previous" and "mean of context", local coherence and
REP-4 of generated continuations. The table goes to ``W/study/schedules/report.{json,md}``.

The validation x0-MSE each run logs is *not* comparable across schedules (each draws its timesteps from its
own noise levels), so the report leads with the next-concept cosine.
"""
import argparse
import dataclasses
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from . import evaluate as evaluate_stage  # noqa: E402
from . import stages  # noqa: E402
from .common import Work, atomic_write_text, default_work, log, pick_device, set_threads, write_json  # noqa: E402

# The compared schedules: the default (cosine, as Meta's released LCMs), the quadratic of Ho et al. (β from
# 1e-4 to 0.02; eq. 13) and the paper's sigmoid(γ, δ) settings (eq. 14). All with T = 100 and betas rescaled to
# zero terminal SNR (lcmref/ddim.py), as the recipe's default: without it a 100-step quadratic schedule ends
# with ᾱ_T ≈ 0.36, far from noise, and sampling would start from a state the model never saw.
SCHEDULES: Dict[str, Dict[str, Any]] = {
    "cosine": {"schedule": "cosine"},
    "quadratic": {"schedule": "quadratic", "schedule_beta_start": 0.0001, "schedule_beta_end": 0.02},
    "sigmoid(1.5,-1)": {"schedule": "sigmoid", "sigmoid_gamma": 1.5, "sigmoid_delta": -1.0},
    "sigmoid(1.5,-2)": {"schedule": "sigmoid", "sigmoid_gamma": 1.5, "sigmoid_delta": -2.0},
    "sigmoid(0.8,-1)": {"schedule": "sigmoid", "sigmoid_gamma": 0.8, "sigmoid_delta": -1.0},
    "sigmoid(3.5,0)": {"schedule": "sigmoid", "sigmoid_gamma": 3.5, "sigmoid_delta": 0.0},
}
SHARED_RUNS = ("tokenizer", "sonar", "embed", "normalizer")
# Only the LCM suites: no round trip (the SONAR is the same for all) and no instruction tasks (no finetune).
EVAL = dataclasses.replace(evaluate_stage.EvaluateConfig(), summaries=0)
SMOKE_EVAL = dataclasses.replace(EVAL, next_positions=6, gen_docs=2, gen_concepts=3)


def slug(name: str) -> str:
    return name.replace("(", "-").replace(")", "").replace(",", "_")


def variant_work(work: Work, name: str) -> Work:
    """W/study/schedules/<slug>: links to W's data and SONAR-side runs, its own runs/lcm."""
    root = os.path.join(work.root, "study", "schedules", slug(name))
    os.makedirs(os.path.join(root, "runs"), exist_ok=True)
    links = [("data", work.data)] + [(os.path.join("runs", s), os.path.join(work.runs, s)) for s in SHARED_RUNS]
    for rel, target in links:
        if not os.path.exists(target):
            raise SystemExit(f"{target} is missing: the study needs W's data and the {', '.join(SHARED_RUNS)} stages")
        path = os.path.join(root, rel)
        if not os.path.islink(path):
            os.symlink(target, path)
    return Work(root)


def stage_args(args: argparse.Namespace, work: Work, settings: Dict[str, Any]) -> argparse.Namespace:
    return argparse.Namespace(
        stage="lcm", work=work.root, smoke=args.smoke, fresh=False, stop_after=None, max_minutes=None,
        steps=args.steps, set=[f"{k}={v}" for k, v in settings.items()] + list(args.set), device=args.device,
        precision=args.precision, threads=args.threads)


def last_eval(work: Work) -> Dict[str, float]:
    """The last row of runs/lcm/eval.tsv (the run's own validation figures)."""
    path = os.path.join(work.runs, "lcm", "eval.tsv")
    with open(path, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    head, last = rows[0], rows[-1]
    return {k: float(v) for k, v in zip(head, last)}


def markdown(rows: List[Dict[str, Any]], steps: Optional[int]) -> str:
    out = ["# Noise-schedule study (Two-Tower LCM)", "",
           f"Same shapes, data, seed and {steps or 'default'} steps per schedule; held-out test documents; paper "
           "inference settings (40 trailing DDIM steps, guidance 3, rescale 0.7) under each model's own schedule. "
           "Next concept: mean cosine of one sample to the true next concept (baselines: repeat previous, mean of "
           "context). Coherence: mean cosine of generated concepts n and n+2. The valid x0-MSE is each run's own "
           "and not comparable across schedules.", "",
           "| schedule | steps | next-concept cos | repeat previous | mean of context | coherence | REP-4 | valid x0-MSE |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        m = r["results"]
        out.append(f"| {r['name']} | {r['step']} | {m.get('test_next_cos', float('nan')):.4f} | "
                   f"{m.get('test_prev_cos', float('nan')):.4f} | {m.get('test_mean_cos', float('nan')):.4f} | "
                   f"{m.get('gen_coherence', float('nan')):.4f} | {m.get('gen_rep4', float('nan')):.3f} | "
                   f"{r['valid'].get('valid_mse', float('nan')):.4f} |")
    return "\n".join(out) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", help="work folder with the data, tokenizer, sonar, embed and normalizer stages done")
    ap.add_argument("--steps", type=int, help="LCM steps per schedule (default: the lcm stage's)")
    ap.add_argument("--only", nargs="*", choices=list(SCHEDULES), help="a subset of the schedules")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="more lcm stage settings")
    ap.add_argument("--smoke", action="store_true", help="the lcm stage's smoke shapes (a smoke work folder)")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    set_threads(args.threads)
    work = Work(args.work or default_work())
    device = pick_device(args.device)
    rows = []
    for name in args.only or list(SCHEDULES):
        vw = variant_work(work, name)
        t0 = time.perf_counter()
        state = stages.run_stage("lcm", stage_args(args, vw, SCHEDULES[name]))
        results = evaluate_stage._lcm_suites(vw, SMOKE_EVAL if args.smoke else EVAL, device)  # noqa: SLF001
        valid = last_eval(vw)
        rows.append({"name": name, "settings": SCHEDULES[name], "step": int(valid.get("step", 0)), "valid": valid,
                     "results": results, "seconds": round(time.perf_counter() - t0, 1),
                     "finished": bool(state and state.get("finished"))})
        log(f"[study] {name}: next_cos {results.get('test_next_cos', float('nan')):.4f} "
            f"(prev {results.get('test_prev_cos', float('nan')):.4f}, mean {results.get('test_mean_cos', float('nan')):.4f})")
    out = os.path.join(work.root, "study", "schedules")
    write_json(os.path.join(out, "report.json"), {"steps": args.steps, "rows": rows})
    atomic_write_text(os.path.join(out, "report.md"), markdown(rows, args.steps))
    log(f"[study] report → {out}/report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
