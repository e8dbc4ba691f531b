"""Shared plumbing of the training stages: paths, devices, JSONL, atomic files, logs, progress, signals.

Layout (docs/recipe.md): ``$CS_WORK/data/`` holds the data contract's files,
``$CS_WORK/runs/<stage>/`` a stage's checkpoints (``last.pt``, ``best.pt``),
``config.json``, ``loss.tsv``, ``eval.tsv`` and ``state.json`` (steps, wall
time, device: what the export's provenance and the model card report).
``CS_WORK`` defaults to ``~/.cache/concept-studio``.
"""
import contextlib
import dataclasses
import json
import os
import random
import signal
import tempfile
from typing import Any, Dict, Iterator, Optional, Sequence, TypeVar

import numpy as np
import torch

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RECIPE = os.path.join(REPO, "recipe")
SPLITS = ("train", "valid", "test")


def default_work() -> str:
    """``$CS_WORK`` or ``~/.cache/concept-studio`` (outside the repo: checkpoints survive ``git clean``)."""
    return os.environ.get("CS_WORK") or os.path.join(os.path.expanduser("~"), ".cache", "concept-studio")


class Work:
    """The folders of one ``$CS_WORK``."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        self.data = os.path.join(self.root, "data")
        self.runs = os.path.join(self.root, "runs")

    def run_dir(self, stage: str) -> str:
        path = os.path.join(self.runs, stage)
        os.makedirs(path, exist_ok=True)
        return path

    def data_file(self, kind: str, split: str) -> str:
        return os.path.join(self.data, f"{kind}.{split}.jsonl")

    def require_data(self, kinds: Sequence[str], split: str = "train") -> None:
        missing = [self.data_file(k, split) for k in kinds if not os.path.exists(self.data_file(k, split))]
        if missing:
            raise SystemExit(
                "missing data files: " + ", ".join(missing) + "\nrun `/usr/bin/python3 recipe/run.py data` first "
                "(or `--smoke` for a synthetic dataset); the format is docs/recipe.md, 'Data contract'")

    def require_stage(self, stage: str, file: str, hint: Optional[str] = None) -> str:
        path = os.path.join(self.runs, stage, file)
        if not os.path.exists(path):
            raise SystemExit(f"{path} does not exist: run `/usr/bin/python3 recipe/run.py {hint or stage}` first")
        return path


# ---------------------------------------------------------------- JSON / JSONL / atomic writes

def read_jsonl(path: str, limit: Optional[int] = None) -> Iterator[Dict[str, Any]]:
    """Rows of a JSONL file (blank lines skipped); at most ``limit``."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        n = 0
        for line in f:
            if not line.strip():
                continue
            yield json.loads(line)
            n += 1
            if limit is not None and n >= limit:
                return


def write_jsonl(path: str, rows: Sequence[Dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def atomic_write_text(path: str, text: str) -> None:
    """Write to a temporary file in the same folder, then rename over ``path`` (never a torn file)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_json(path: str, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def atomic_torch_save(obj: Any, path: str) -> None:
    """torch.save to a temporary file, fsync, then rename (a kill mid-save leaves the old checkpoint)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pt")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_numpy_save(arr: np.ndarray, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npy")
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, arr)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ---------------------------------------------------------------- devices and threads

def pick_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda asked for, but torch sees no CUDA device")
    return torch.device(name)


def set_threads(threads: int) -> None:
    """CPU threads for torch's intra-op pool (docs/recipe.md, "Compute", says which count to use when)."""
    torch.set_num_threads(max(1, threads))


# Mixed precision of training steps: "auto" = bf16 autocast on CUDA, and on a CPU with native bf16 matrix
# instructions (AMX or AVX512-BF16), where oneDNN runs bf16 matmuls 10-20x faster than this torch's fp32 BLAS
# (docs/recipe.md, "Compute": 5.4 s → 0.53 s per 1,536-token SONAR step on these 2 cores); fp32 elsewhere.
# Weights, optimizer state and checkpoints stay float32 either way.
_PRECISION = {"mode": "fp32"}


def cpu_has_native_bf16() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def set_precision(device: torch.device, choice: str = "auto") -> str:
    """Resolves --precision (auto, fp32, bf16) for `device` and makes it the process's training precision."""
    if choice not in ("auto", "fp32", "bf16"):
        raise SystemExit(f"--precision must be auto, fp32 or bf16, got {choice!r}")
    if choice == "auto":
        choice = "bf16" if device.type == "cuda" or cpu_has_native_bf16() else "fp32"
    _PRECISION["mode"] = choice
    return choice


def autocast(device: torch.device) -> Any:
    """The context a training step's forward pass runs in (bf16 autocast or nothing)."""
    if _PRECISION["mode"] == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def device_line(device: torch.device) -> str:
    mode = "bf16 autocast" if _PRECISION["mode"] == "bf16" else "float32"
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)}), {mode}"
    return f"cpu, {torch.get_num_threads()} thread(s), {mode}"


# ---------------------------------------------------------------- configs

C = TypeVar("C")


def apply_overrides(cfg: C, pairs: Sequence[str]) -> C:
    """``key=value`` strings onto a dataclass (value parsed as the field's type)."""
    changes: Dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(cfg)}  # type: ignore[arg-type]
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"--set expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        if key not in fields:
            raise SystemExit(f"--set {key}: not a setting of this stage; known: {', '.join(sorted(fields))}")
        current = getattr(cfg, key)
        if isinstance(current, bool):
            changes[key] = value.lower() in ("1", "true", "yes", "on")
        elif isinstance(current, int):
            changes[key] = int(value)
        elif isinstance(current, float):
            changes[key] = float(value)
        else:
            changes[key] = value
    return dataclasses.replace(cfg, **changes)  # type: ignore[type-var]


# ---------------------------------------------------------------- RNG state

def rng_state() -> Dict[str, Any]:
    """Every global RNG a stage may touch (python, numpy, torch CPU and CUDA)."""
    state: Dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------- logs and progress

class Tsv:
    """Append-only TSV with a header; on resume, rows past the resumed step are dropped (they were not saved)."""

    def __init__(self, path: str, columns: Sequence[str], keep_until_step: Optional[int]):
        self.path = path
        self.columns = list(columns)
        if keep_until_step is None or not os.path.exists(path):
            atomic_write_text(path, "\t".join(self.columns) + "\n")
        else:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
            kept = [lines[0]] + [l for l in lines[1:] if l and int(l.split("\t")[0]) <= keep_until_step]
            atomic_write_text(path, "\n".join(kept) + "\n")

    def add(self, row: Dict[str, Any]) -> None:
        vals = []
        for c in self.columns:
            v = row.get(c, "")
            vals.append(f"{v:.6g}" if isinstance(v, float) else str(v))
        with open(self.path, "a", encoding="utf-8") as f:
            f.write("\t".join(vals) + "\n")


def fmt_duration(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "?"
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def log(msg: str) -> None:
    print(msg, flush=True)


class StopFlag:
    """SIGINT / SIGTERM set ``requested``; the loop saves and exits at the next step. A second SIGINT aborts."""

    def __init__(self) -> None:
        self.requested = False
        self._old: Dict[int, Any] = {}

    def __enter__(self) -> "StopFlag":
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        log(f"\n{signal.Signals(signum).name}: stopping after this step and saving a checkpoint "
            "(press Ctrl-C again to abort without saving)")

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def stage_state(work: Work, stage: str) -> Dict[str, Any]:
    """``runs/<stage>/state.json`` or {}."""
    path = os.path.join(work.runs, stage, "state.json")
    return read_json(path) if os.path.exists(path) else {}




def word_count(text: str) -> int:
    """Words, with Han / kana / Thai text (no spaces) counted as one word per two characters."""
    spaced = len(text.split())
    dense = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" or "\u0e00" <= ch <= "\u0e7f")
    return max(spaced, spaced - 1 + (dense + 1) // 2) if dense else spaced
