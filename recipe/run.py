"""One command for every stage of the default pack recipe (docs/recipe.md, recipe/train/README.md).

    /usr/bin/python3 recipe/run.py <stage> [options]

Stages, in order: data, tokenizer, sonar, embed, normalizer,
fragility (only for a fragility-weighted lcm run: f measured on a sample, a predictor fitted), lcm, finetune,
sonar-decoder (the decoder trained on with the encoder frozen; any time after embed),
sonar-quant (Quant-LCM runs only: the decoder fine-tuned on quantized vectors),
export, evaluate; ``all`` runs tokenizer … evaluate (``--with-data`` puts
``data`` first; it skips sonar-quant unless the LCM run is a Quant-LCM). Training stages resume from ``$CS_WORK/runs/<stage>/last.pt``:
rerun the same command after a stop. ``CS_WORK`` defaults to
``~/.cache/concept-studio``; ``--work DIR`` overrides it.

    /usr/bin/python3 recipe/run.py all --smoke     # the test: every stage on synthetic data, tiny shapes,
                                                   # resume and signal checks, then the TS engine on the pack

Run from the repository root; this script puts recipe/ on sys.path.
"""
import argparse
import os
import subprocess
import sys
from typing import List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# OpenMP threads that wait passively: with the cores shared (another job running), spinning OpenMP
# threads made 2-thread training 12× slower than 1 thread here; passive waiting removed that
# (docs/recipe.md, "Compute"). Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

STAGES = ["data", "tokenizer", "sonar", "embed", "normalizer", "fragility", "lcm", "finetune", "sonar-decoder",
          "sonar-quant", "export", "evaluate"]


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="recipe/run.py", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("stage", choices=STAGES + ["all"], help="what to run")
    ap.add_argument("--work", help="work folder (default $CS_WORK or ~/.cache/concept-studio)")
    ap.add_argument("--smoke", action="store_true",
                    help="with `all`: the end-to-end test on a synthetic dataset in a temporary work folder; "
                         "with one stage: that stage with the smoke shapes (use with --work)")
    ap.add_argument("--keep", action="store_true", help="--smoke: keep the temporary work folder")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="default: cuda if present")
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                    help="training steps in bf16 autocast (default auto: on CUDA and on CPUs with AMX/AVX512-BF16)")
    ap.add_argument("--threads", type=int, default=2,
                    help="CPU threads for torch (default 2; 1 while other jobs share the cores: docs/recipe.md, Compute)")
    ap.add_argument("--steps", type=int, help="target step count of a training stage")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a stage setting (see recipe/train/README.md); repeatable")
    ap.add_argument("--fresh", action="store_true", help="move the stage's previous run aside and start over")
    ap.add_argument("--stop-after", type=int, help="stop this invocation after N training steps (resumable)")
    ap.add_argument("--max-minutes", type=float, help="stop this invocation after M minutes (resumable)")
    ap.add_argument("--out", help="export: pack folder (default resources/models/<name>)")
    ap.add_argument("--name", default="concept-studio-mini", help="export: pack name")
    ap.add_argument("--version", default="0.1.0", help="export: pack version")
    ap.add_argument("--with-data", action="store_true", help="all: run the data stage first")
    return ap


def run_data(args: argparse.Namespace, extra: List[str]) -> None:
    """The data stage is recipe/data/build.py (recipe/data/README.md); options after `data` go to it."""
    entry = os.path.join(HERE, "data", "build.py")
    if not os.path.exists(entry):
        raise SystemExit("recipe/data/build.py is missing; see docs/recipe.md, 'Data contract'")
    env = dict(os.environ, CS_WORK=args.work) if args.work else None
    subprocess.run([sys.executable, entry] + extra, env=env, check=True)


def main(argv: Optional[List[str]] = None) -> int:
    args, extra = parser().parse_known_args(argv)
    if extra and args.stage != "data":
        parser().error(f"unrecognized arguments: {' '.join(extra)}")
    if args.stage == "data":
        run_data(args, extra)
        return 0
    from train import stages  # noqa: E402 - after sys.path setup

    if args.smoke and args.stage == "all":
        from train import smoke

        return smoke.run(args)
    order = STAGES[1:] if args.stage == "all" else [args.stage]
    if args.stage == "all" and args.with_data:
        run_data(args, [])
    for stage in order:
        stages.run_stage(stage, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
