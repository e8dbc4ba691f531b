"""Rebuild ``$CS_WORK/runs/<stage>/`` here from the files a device run brought back, for export and evaluate.

    /usr/bin/python3 recipe/device/restore.py --from /work/.device/<files_at> --work ~/.cache/concept-studio-gpu
    /usr/bin/python3 recipe/run.py export   --work ~/.cache/concept-studio-gpu --out /tmp/pack
    /usr/bin/python3 recipe/run.py evaluate --work ~/.cache/concept-studio-gpu

From ``--from`` (the folder the device tool copied ``$OUT`` to; outbox.py lists its files):

- ``runs.tar.xz`` → ``<work>/runs/<stage>/``: ``config.json``, ``state.json``,
  ``loss.tsv``, ``eval.tsv`` of every stage, the tokenizer, the normalizer,
  the embedding specials and the test-split shards (what ``evaluate`` reads);
- ``<stage>.pt.xz.NN`` (sonar, lcm, finetune) → ``<work>/runs/<stage>/best.pt``
  in the training loop's ``best.pt`` form (model, step, metrics, config), the
  float16 weights widened to float32. ``export``, ``evaluate``, ``embed`` and
  ``finetune`` read ``best.pt`` first. No ``last.pt`` is made: the optimizer
  state stays on the device (too large to bring back), so training cannot
  resume from these runs; a new run there starts over (``--fresh``).
- ``<work>/data``: when missing, a symbolic link to ``--data`` (default
  ``$CS_WORK/data``, the full data): the SONAR test suites read its mono and
  parallel test files, the LCM suites the test shards above, which cover the
  first rows of ``docs.test`` / ``summaries.test`` (bundle.py); restore checks
  that these rows are the ones the device embedded. The embed folder is thus
  partial: rerun ``recipe/run.py embed --fresh`` before any LCM training here.

A stage folder that already holds files is refused (``--force`` moves it to
``<stage>.old-<time>``, as ``--fresh`` does; never do that to a run in
progress). Runs with /usr/bin/python3 (torch 1.13) from the repository root.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import outbox as ob  # noqa: E402

CHECKPOINTS = ("sonar", "lcm", "finetune")


def default_work() -> str:
    return os.environ.get("CS_WORK") or os.path.join(os.path.expanduser("~"), ".cache", "concept-studio")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="src", required=True, help="the folder the device run's files came back to")
    ap.add_argument("--work", required=True, help="the work folder to restore into (e.g. ~/.cache/concept-studio-gpu)")
    ap.add_argument("--data", default=os.path.join(default_work(), "data"),
                    help="data folder to link as <work>/data when that is missing (default $CS_WORK/data)")
    ap.add_argument("--force", action="store_true", help="move stage folders that hold files aside first")
    return ap


def log(msg: str) -> None:
    print(msg, flush=True)


def prefix_sha(path: str, rows: int) -> str:
    """bundle.py's prefix_sha: SHA-256 of the first ``rows`` rows, re-serialized compactly."""
    h = hashlib.sha256()
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            if n >= rows:
                break
            h.update((json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
            n += 1
    return h.hexdigest()


def check_data(work: str, data: str, summary: Dict[str, Any], force: bool) -> None:
    """Link ``work/data`` when missing; check that its test files start with the rows the device embedded."""
    dest = os.path.join(work, "data")
    if not os.path.exists(dest):
        if not os.path.isdir(data):
            raise SystemExit(f"{dest} is missing and --data {data} is not a folder: pass --data (the full data the "
                             "bundle was built from)")
        os.symlink(os.path.abspath(data), dest)
        log(f"data: {dest} → {os.path.abspath(data)}")
    prefixes = (summary.get("bundle") or {}).get("testPrefix") or {}
    for name, want in prefixes.items():
        path = os.path.join(dest, f"{name}.jsonl")
        got = prefix_sha(path, int(want["rows"])) if os.path.exists(path) else "(missing)"
        if got != want["sha256"]:
            msg = (f"{path}: its first {want['rows']} rows are not the ones the device embedded (bundle.py test "
                   "prefix), so evaluate's LCM suites would pair vectors with other texts")
            if not force:
                raise SystemExit(msg + "; point --data at the data the bundle came from (or --force)")
            log("warning: " + msg)


def make_room(run_dir: str, force: bool) -> None:
    if os.path.isdir(run_dir) and os.listdir(run_dir):
        if not force:
            raise SystemExit(f"{run_dir} already holds files; restore into another --work, or --force to move it "
                             "aside (never while a run there is in progress)")
        aside = f"{run_dir}.old-{time.strftime('%Y%m%d-%H%M%S')}"
        shutil.move(run_dir, aside)
        log(f"moved {run_dir} → {aside}")


def restore(src: str, work: str, data: str, force: bool) -> Dict[str, Any]:
    src, work = os.path.abspath(src), os.path.abspath(os.path.expanduser(work))
    summary_path = os.path.join(src, "summary.json")
    summary: Dict[str, Any] = json.load(open(summary_path, encoding="utf-8")) if os.path.exists(summary_path) else {}
    archive = os.path.join(src, "runs.tar.xz")
    if not os.path.exists(archive):
        raise SystemExit(f"{archive} is missing: is --from the folder the device run's files came back to?")
    os.makedirs(work, exist_ok=True)
    check_data(work, data, summary, force)  # before anything is written: a mismatch stops here
    runs = os.path.join(work, "runs")
    os.makedirs(runs, exist_ok=True)
    restored: Dict[str, List[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ob.extract_runs(archive, tmp)
        got = os.path.join(tmp, "runs")
        stages = sorted(os.listdir(got)) if os.path.isdir(got) else []
        weights = {n: ob.read_checkpoint(src, n, ((summary.get("files") or {}).get(n) or {}).get("sha256"))
                   for n in CHECKPOINTS}
        for stage in sorted(set(stages) | {n for n, ck in weights.items() if ck is not None}):
            make_room(os.path.join(runs, stage), force)
        for stage in stages:
            shutil.copytree(os.path.join(got, stage), os.path.join(runs, stage), dirs_exist_ok=True)
            restored[stage] = sorted(os.listdir(os.path.join(runs, stage)))
    for name, ck in weights.items():
        if ck is None:
            continue
        run_dir = os.path.join(runs, name)
        os.makedirs(run_dir, exist_ok=True)
        best = {"model": ck["model"], "step": ck["step"], "metrics": ck.get("metrics") or {}, "config": ck["config"]}
        tmp_path = os.path.join(run_dir, ".tmp-best.pt")
        torch.save(best, tmp_path)
        os.replace(tmp_path, os.path.join(run_dir, "best.pt"))
        restored.setdefault(name, []).append(f"best.pt (step {ck['step']}, from the device's {ck.get('source')})")
    for stage, files in restored.items():
        log(f"restored runs/{stage}: {', '.join(files)}")
    if weights.get("finetune") is None and weights.get("lcm") is None:
        log("warning: no LCM weights came back; export needs runs/lcm or runs/finetune")
    if weights.get("sonar") is None:
        log("warning: no SONAR weights came back; export and evaluate need runs/sonar")
    log(f"next:\n  /usr/bin/python3 recipe/run.py export --work {work} --out <pack folder>\n"
        f"  /usr/bin/python3 recipe/run.py evaluate --work {work}")
    return {"work": work, "restored": restored}


def main(argv: Optional[List[str]] = None) -> int:
    a = parser().parse_args(argv)
    restore(a.src, a.work, a.data, a.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
