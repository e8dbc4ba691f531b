"""What a device run brings back, within the device tool's limits, and how it is read back here.

The tool returns at most 8 files from ``$OUT``, each at most 16 MiB and 64 MiB
together, named in letters, digits, ``.``, ``_`` and ``-`` (/work/.library/device/README.md).
A run writes, and rewrites after every stage (so a run killed at its limit
still returns the stages it finished):

- ``log.txt``: everything the run printed (train_on_device.sh tees it);
- ``summary.json``: the run's summary (stages, times, metrics, versions, the files below);
- ``runs.tar.xz``: the small files of every stage (``config.json``, ``state.json``,
  ``loss.tsv``, ``eval.tsv``, the tokenizer, the normalizer, the embedding
  specials and the test-split shards that ``evaluate`` reads);
- ``<stage>.pt.xz.NN``: one checkpoint (``best.pt``, else ``last.pt``): its
  model weights as float16 arrays in an ``.npz`` (tied tensors stored once)
  with step, metrics and config, xz-compressed, cut into parts of at most
  15 MiB: ``sonar`` (2 parts at the default shapes), ``lcm`` and ``finetune``
  (1 part each). ``lcm`` is dropped when ``finetune`` needs its room (export
  prefers the finetuned LCM).

float16 is enough to carry trained weights (≈ 3 significant digits; the
export and evaluation run in float32 after restore.py widens them). ``.npz``
rather than ``torch.save``: the device runs torch 2.x, this machine 1.13.
"""
import hashlib
import io
import inspect
import json
import lzma
import os
import re
import shutil
import tarfile
import tempfile
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch

PART_BYTES = 15 * 2**20
MAX_FILES = 8
MAX_FILE_BYTES = 16 * 2**20
MAX_TOTAL_BYTES = 64 * 2**20
NAME = re.compile(r"^[A-Za-z0-9._-]+$")


def torch_load(path_or_buffer: Any) -> Any:
    """``torch.load`` to the CPU with full unpickling (torch ≥ 2.6 defaults to weights_only; our files are ours)."""
    kwargs: Dict[str, Any] = {"map_location": "cpu"}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = False
    return torch.load(path_or_buffer, **kwargs)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compact_array(t: torch.Tensor) -> np.ndarray:
    """float16 when that keeps every value within 0.1% of the tensor's largest (else float32: a tensor of
    tiny values, e.g. AdaLN modulators still near their zero start, would fall into float16's subnormals)."""
    if not t.is_floating_point():
        return t.contiguous().numpy()
    t = t.float()
    h = t.to(torch.float16)
    top = float(t.abs().max()) if t.numel() else 0.0
    if top > 0 and not float((h.float() - t).abs().max()) <= 1e-3 * top:
        return t.contiguous().numpy()
    return h.contiguous().numpy()


def checkpoint_bytes(path: str) -> Tuple[bytes, Dict[str, Any]]:
    """A ``best.pt`` / ``last.pt`` as float16 arrays in an ``.npz``, xz-compressed, and what it holds.

    NumPy's format rather than ``torch.save``: the device's torch (2.x) and this machine's (1.13)
    need not read each other's pickles, while ``.npz`` is plain arrays. Tensors that share memory
    (the tied embeddings) are stored once; ``aliases`` names the others. ``compact_array`` says
    when a tensor stays float32.
    """
    ck = torch_load(path)
    metrics = ck.get("metrics")
    if metrics is None and isinstance(ck.get("best"), dict):
        metrics = ck["best"].get("metrics")
    arrays: Dict[str, np.ndarray] = {}
    aliases: Dict[str, str] = {}
    seen: Dict[Tuple[Any, ...], str] = {}
    for k, t in ck["model"].items():
        key = (t.data_ptr(), tuple(t.shape), tuple(t.stride()), t.dtype)
        if key in seen:
            aliases[k] = seen[key]
            continue
        seen[key] = k
        arrays[k] = compact_array(t.detach().cpu())
    meta = {"step": int(ck["step"]), "metrics": metrics or {}, "config": ck["config"],
            "source": os.path.basename(path), "dtype": "float16", "aliases": aliases}
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.frombuffer(json.dumps(meta, default=float).encode("utf-8"), dtype=np.uint8), **arrays)
    raw = buf.getvalue()
    data = lzma.compress(raw, preset=1)  # trained weights compress little; a fast preset keeps the run short
    return data, {"step": meta["step"], "source": meta["source"], "metrics": meta["metrics"], "rawBytes": len(raw)}


class Outbox:
    """The files of ``$OUT``: written atomically, kept within the tool's limits (module docstring)."""

    def __init__(self, folder: str):
        self.folder = os.path.abspath(folder)
        os.makedirs(self.folder, exist_ok=True)
        self.artifacts: Dict[str, Dict[str, Any]] = {}

    def files(self) -> Dict[str, int]:
        return {n: os.path.getsize(os.path.join(self.folder, n)) for n in sorted(os.listdir(self.folder))
                if os.path.isfile(os.path.join(self.folder, n))}

    def write(self, name: str, data: bytes) -> None:
        if not NAME.match(name) or len(data) > MAX_FILE_BYTES:
            raise ValueError(f"{name}: not a name or size the device tool returns")
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix="tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(self.folder, name))

    def remove_artifact(self, name: str) -> None:
        for n in list(self.files()):
            if n.startswith(f"{name}.pt.xz."):
                os.remove(os.path.join(self.folder, n))
        self.artifacts.pop(name, None)

    def room(self, new_files: int, new_bytes: int, replacing: Iterable[str] = ()) -> bool:
        files = {n: b for n, b in self.files().items() if not any(n.startswith(f"{r}.pt.xz.") for r in replacing)}
        # 24 KiB slack each for log.txt / summary.json growing after this write
        return len(files) + new_files <= MAX_FILES and sum(files.values()) + new_bytes + 2**20 <= MAX_TOTAL_BYTES

    def put_checkpoint(self, name: str, path: str, evictable: Iterable[str] = ()) -> Dict[str, Any]:
        """``<name>.pt.xz.NN`` from a checkpoint; drops ``evictable`` artifacts (in order) if the limits need it."""
        data, info = checkpoint_bytes(path)
        parts = [data[i:i + PART_BYTES] for i in range(0, len(data), PART_BYTES)] or [b""]
        for victim in [None, *evictable]:
            if victim is not None and victim in self.artifacts:
                self.remove_artifact(victim)
            if self.room(len(parts), len(data), replacing=[name]):
                break
        else:
            raise RuntimeError(f"{name}: {len(parts)} parts, {len(data) / 2**20:.1f} MiB do not fit the 8 files / "
                               "64 MiB the device tool returns")
        self.remove_artifact(name)
        names = [f"{name}.pt.xz.{i:02d}" for i in range(len(parts))]
        for n, part in zip(names, parts):
            self.write(n, part)
        info.update({"parts": names, "bytes": len(data), "sha256": sha256_bytes(data), "from": path})
        self.artifacts[name] = info
        return info

    def put_runs(self, runs: str, include: Iterable[Tuple[str, str]]) -> int:
        """``runs.tar.xz`` of (path under ``runs``, name in the archive) pairs that exist; returns its bytes."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:xz", preset=6) as tar:
            for rel, arc in include:
                p = os.path.join(runs, rel)
                if os.path.isfile(p):
                    tar.add(p, arcname=arc)
        self.write("runs.tar.xz", buf.getvalue())
        return len(buf.getvalue())

    def put_json(self, name: str, data: Any) -> None:
        self.write(name, (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))


# ---------------------------------------------------------------- reading back (restore.py)

def read_checkpoint(folder: str, name: str, expect_sha256: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """The checkpoint ``name`` from its parts in ``folder``, float32 (None when no part is there)."""
    parts = sorted(n for n in os.listdir(folder) if re.fullmatch(re.escape(name) + r"\.pt\.xz\.\d\d", n))
    if not parts:
        return None
    expected = [f"{name}.pt.xz.{i:02d}" for i in range(len(parts))]
    if parts != expected:
        raise SystemExit(f"{folder}: the parts of {name} are {parts}, expected {expected} (a part is missing)")
    data = b"".join(open(os.path.join(folder, p), "rb").read() for p in parts)
    if expect_sha256 and sha256_bytes(data) != expect_sha256:
        raise SystemExit(f"{folder}: {name}'s parts do not match the SHA-256 in summary.json (a torn copy?)")
    with np.load(io.BytesIO(lzma.decompress(data)), allow_pickle=False) as z:
        meta = json.loads(bytes(z["__meta__"]).decode("utf-8"))
        model: Dict[str, torch.Tensor] = {}
        for k in z.files:
            if k != "__meta__":
                a = z[k]
                model[k] = torch.from_numpy(a.astype(np.float32) if a.dtype == np.float16 else a.copy())
    for alias, target in meta["aliases"].items():
        model[alias] = model[target]
    return {"model": model, "step": meta["step"], "metrics": meta["metrics"], "config": meta["config"],
            "source": meta["source"]}


def extract_runs(archive: str, dest: str) -> List[str]:
    """Unpack ``runs.tar.xz`` into ``dest`` (refusing paths that leave it); returns the member names."""
    names = []
    with tarfile.open(archive, "r:xz") as tar:
        for m in tar.getmembers():
            target = os.path.normpath(os.path.join(dest, m.name))
            if not m.isfile() or not target.startswith(os.path.abspath(dest) + os.sep):
                raise SystemExit(f"{archive}: unexpected member {m.name!r}")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            src = tar.extractfile(m)
            assert src is not None
            with open(target, "wb") as f:
                shutil.copyfileobj(src, f)
            names.append(m.name)
    return names
