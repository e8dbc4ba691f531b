"""Build the data bundle a lent GPU trains from: a compact, xz-compressed sample of ``$CS_WORK/data``.

    /usr/bin/python3 recipe/device/bundle.py                  # → .device/bundle/ (≈ 35 MiB), from $CS_WORK
    /usr/bin/python3 recipe/device/bundle.py --tiny --out /tmp/tiny-bundle   # the CPU test's bundle (< 1 MiB)

The GPU machine has no network and receives only the working tree plus the
``carry`` paths (64 MiB in all, recipe/device/README.md), so the 830 MB of
cleaned corpora cannot travel. This script writes a sample in the data
contract's format (docs/recipe.md), one ``<kind>.<split>.jsonl.xz`` per file:

- ``parallel.train``: ``--pairs`` pairs, language-balanced: every language pair
  gets the same cap, set so that the caps sum to ``--pairs`` (a language with
  fewer pairs keeps all of them: water-filling); ``mono.train`` likewise per
  language (``--mono``). ``docs.train`` (``--docs``) and ``summaries.train``
  (``--summaries``) take per language a share ∝ n^0.5 (``--doc-alpha``), so
  English and Italian, most of the documents and of the test split, keep a
  larger part than the translated help pages. Rows are drawn uniformly within a group
  (``random.Random(seed, group)``) and kept in file order, which keeps a
  package's strings together and compresses better. ``doc`` of parallel and
  mono rows becomes the source name: the SONAR stage never reads it.
- ``valid``: the first ``--valid-mono`` mono rows per language and
  ``--valid-pairs`` rows per language pair, the first ``--valid-docs`` docs and
  ``--valid-summaries`` summaries (the stages' held-out evaluations read the
  first rows).
- ``test``: the first ``--test-docs`` rows of ``docs.test`` and
  ``--test-summaries`` of ``summaries.test``, unchanged. They are exact
  prefixes of the full files, so the test embeddings the device brings back
  line up with ``$CS_WORK/data`` here, where ``evaluate`` runs (restore.py).
  No mono / parallel test rows travel: the SONAR test suites read them here.
- ``sources.json`` as is; ``tokenizer/`` (tokenizer.model, tokenizer.json,
  state.json) from ``--tokenizer`` when it exists (else the device trains one);
  ``bundle.json``: counts, bytes and SHA-256 of every file and these settings.

Deterministic (seeded); fails when the bundle exceeds ``--max-mib``.
Runs from the repository root with /usr/bin/python3; needs no torch.
"""
import argparse
import hashlib
import json
import lzma
import os
import random
import shutil
import sys
import time
import zlib
from collections import defaultdict
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(REPO, ".device", "bundle")
TOKENIZER_FILES = ("tokenizer.model", "tokenizer.json", "state.json")


def default_work() -> str:
    return os.environ.get("CS_WORK") or os.path.join(os.path.expanduser("~"), ".cache", "concept-studio")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="data folder (default $CS_WORK/data)")
    ap.add_argument("--tokenizer", help="tokenizer run folder to carry (default $CS_WORK/runs/tokenizer; "
                                        "'none': the device trains one)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="bundle folder (default .device/bundle, git-ignored)")
    # Defaults: ≈ 36 MiB with the measured xz sizes (≈ 28 B per pair, 26 per mono sentence, 200 per
    # document, 120 per summary row), leaving the repository's ≈ 9 MB inside the 64 MiB that travels.
    ap.add_argument("--pairs", type=int, default=800_000, help="parallel.train rows, one cap per language pair")
    ap.add_argument("--mono", type=int, default=150_000, help="mono.train rows, one cap per language")
    ap.add_argument("--docs", type=int, default=38_000, help="docs.train rows, per language ∝ n^--doc-alpha")
    ap.add_argument("--summaries", type=int, default=30_000, help="summaries.train rows, likewise")
    ap.add_argument("--doc-alpha", type=float, default=0.5,
                    help="docs / summaries per language ∝ n^alpha (0: one cap for all; 1: a uniform sample)")
    ap.add_argument("--valid-mono", type=int, default=300)
    ap.add_argument("--valid-pairs", type=int, default=150)
    ap.add_argument("--valid-docs", type=int, default=300)
    ap.add_argument("--valid-summaries", type=int, default=200)
    ap.add_argument("--test-docs", type=int, default=400)
    ap.add_argument("--test-summaries", type=int, default=200)
    ap.add_argument("--tiny", action="store_true",
                    help="a bundle for the CPU test of the whole cycle (a few thousand rows; README.md)")
    ap.add_argument("--max-mib", type=float, default=40.0, help="fail above this size (default 40)")
    ap.add_argument("--xz-preset", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    return ap


TINY = {"pairs": 3000, "mono": 1500, "docs": 150, "summaries": 200, "valid_mono": 40, "valid_pairs": 15,
        "valid_docs": 30, "valid_summaries": 30, "test_docs": 40, "test_summaries": 20}


def log(msg: str) -> None:
    print(msg, flush=True)


def quotas(counts: Dict[str, int], total: int, alpha: float) -> Dict[str, int]:
    """Rows per group: min(n, floor(s·n^alpha)) with the largest s whose sum is ≤ ``total``.

    alpha 0 is water-filling (one cap for every group; a smaller group keeps all its rows),
    alpha 1 a uniform sample; 0.5 is the temperature the SONAR stage samples languages with.
    """
    if sum(counts.values()) <= total:
        return dict(counts)

    def take(s: float) -> Dict[str, int]:
        return {g: min(n, int(s * n ** alpha)) for g, n in counts.items()}

    lo, hi = 0.0, float(max(counts.values()))
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sum(take(mid).values()) <= total else (lo, mid)
    return take(lo)


def compact(row: Dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def read_rows(path: str) -> List[Dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def balanced_sample(path: str, key: Callable[[Dict[str, Any]], str], total: int, seed: int,
                    alpha: float = 0.0) -> Tuple[List[Dict[str, Any]], Dict[str, int]]:
    """Up to ``total`` rows of a JSONL file, ``quotas`` per group, uniform within a group, in file order.
    Holds the raw lines, not parsed rows (parallel.train is 1.4M rows)."""
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    groups: Dict[str, List[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        groups[key(json.loads(line))].append(i)
    quota = quotas({g: len(v) for g, v in groups.items()}, total, alpha)
    keep: List[int] = []
    kept: Dict[str, int] = {}
    for g in sorted(groups):
        idx, cap = groups[g], quota[g]
        pick = idx if len(idx) <= cap else random.Random(seed * 1_000_003 + zlib.crc32(g.encode())).sample(idx, cap)
        keep.extend(pick)
        kept[g] = len(pick)
    keep.sort()
    return [json.loads(lines[i]) for i in keep], kept


def first_per_group(rows: List[Dict[str, Any]], key: Callable[[Dict[str, Any]], str], n: int) -> List[Dict[str, Any]]:
    seen: Dict[str, int] = defaultdict(int)
    out = []
    for r in rows:
        k = key(r)
        if seen[k] < n:
            seen[k] += 1
            out.append(r)
    return out


def pair_key(r: Dict[str, Any]) -> str:
    return "|".join(sorted(r["pair"]))


def lang_key(r: Dict[str, Any]) -> str:
    return str(r["lang"])


def strip_doc(r: Dict[str, Any]) -> Dict[str, Any]:
    """Parallel / mono rows: ``doc`` becomes the source (SONAR training never reads it; ids compress badly)."""
    out = dict(r)
    out["doc"] = str(r.get("source", "bundle"))
    return out


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_xz(out: str, name: str, rows: List[Dict[str, Any]], preset: int) -> Dict[str, Any]:
    text = "".join(compact(r) + "\n" for r in rows).encode("utf-8")
    path = os.path.join(out, name + ".jsonl.xz")
    with open(path + ".tmp", "wb") as f:
        f.write(lzma.compress(text, preset=preset))
    os.replace(path + ".tmp", path)
    info = {"file": os.path.basename(path), "rows": len(rows), "rawBytes": len(text), "bytes": os.path.getsize(path),
            "sha256": sha256_file(path)}
    log(f"  {info['file']}: {len(rows):,} rows, {len(text) / 2**20:.1f} MiB → {info['bytes'] / 2**20:.2f} MiB")
    return info


def build(args: argparse.Namespace) -> Dict[str, Any]:
    data = os.path.abspath(args.data or os.path.join(default_work(), "data"))
    tok_dir: Optional[str] = args.tokenizer or os.path.join(default_work(), "runs", "tokenizer")
    if tok_dir == "none":
        tok_dir = None
    if args.tiny:
        for k, v in TINY.items():
            setattr(args, k, v)
    for kind in ("parallel", "mono", "docs", "summaries"):
        for split in ("train", "valid", "test"):
            if kind in ("parallel", "mono") and split == "test":
                continue
            if not os.path.exists(os.path.join(data, f"{kind}.{split}.jsonl")):
                raise SystemExit(f"{data}/{kind}.{split}.jsonl is missing: run `/usr/bin/python3 recipe/run.py data` "
                                 "first, or point --data at a data folder (docs/recipe.md, 'Data contract')")
    out = os.path.abspath(args.out)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    t0 = time.perf_counter()
    files: List[Dict[str, Any]] = []
    groups: Dict[str, Dict[str, int]] = {}
    p = args.xz_preset

    log(f"bundle from {data} → {out}")
    sample, groups["parallel.train"] = balanced_sample(os.path.join(data, "parallel.train.jsonl"), pair_key,
                                                       args.pairs, args.seed)
    files.append(write_xz(out, "parallel.train", [strip_doc(r) for r in sample], p))
    rows = read_rows(os.path.join(data, "parallel.valid.jsonl"))
    files.append(write_xz(out, "parallel.valid", [strip_doc(r) for r in first_per_group(rows, pair_key,
                                                                                            args.valid_pairs)], p))
    sample, groups["mono.train"] = balanced_sample(os.path.join(data, "mono.train.jsonl"), lang_key, args.mono,
                                                   args.seed)
    files.append(write_xz(out, "mono.train", [strip_doc(r) for r in sample], p))
    rows = read_rows(os.path.join(data, "mono.valid.jsonl"))
    files.append(write_xz(out, "mono.valid", [strip_doc(r) for r in first_per_group(rows, lang_key, args.valid_mono)],
                          p))
    for kind, total, nvalid, ntest in (("docs", args.docs, args.valid_docs, args.test_docs),
                                       ("summaries", args.summaries, args.valid_summaries, args.test_summaries)):
        sample, groups[f"{kind}.train"] = balanced_sample(os.path.join(data, f"{kind}.train.jsonl"), lang_key,
                                                          total, args.seed, args.doc_alpha)
        files.append(write_xz(out, f"{kind}.train", sample, p))
        files.append(write_xz(out, f"{kind}.valid", read_rows(os.path.join(data, f"{kind}.valid.jsonl"))[:nvalid], p))
        files.append(write_xz(out, f"{kind}.test", read_rows(os.path.join(data, f"{kind}.test.jsonl"))[:ntest], p))
    extra: List[str] = []
    if os.path.exists(os.path.join(data, "sources.json")):
        shutil.copyfile(os.path.join(data, "sources.json"), os.path.join(out, "sources.json"))
        extra.append("sources.json")
    tokenizer: Optional[Dict[str, Any]] = None
    if tok_dir and os.path.exists(os.path.join(tok_dir, "tokenizer.json")):
        os.makedirs(os.path.join(out, "tokenizer"))
        for name in TOKENIZER_FILES:
            if os.path.exists(os.path.join(tok_dir, name)):
                shutil.copyfile(os.path.join(tok_dir, name), os.path.join(out, "tokenizer", name))
                extra.append(f"tokenizer/{name}")
        with open(os.path.join(tok_dir, "tokenizer.json"), encoding="utf-8") as f:
            spec = json.load(f)
        tokenizer = {"from": os.path.abspath(tok_dir), "sha256": spec.get("sha256"), "vocabSize": spec.get("vocabSize"),
                     "languages": spec.get("languages")}
        log(f"  tokenizer/: {tok_dir} (vocabSize {spec.get('vocabSize')}, {len(spec.get('languages', []))} languages)")
    else:
        log("  no tokenizer carried: the device trains one (slower; see README.md)")
    total = sum(f["bytes"] for f in files) + sum(os.path.getsize(os.path.join(out, e)) for e in extra)
    manifest = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "data": data, "seed": args.seed, "tiny": bool(args.tiny),
        "settings": {k: getattr(args, k) for k in ("pairs", "mono", "docs", "summaries", "doc_alpha", "valid_mono",
                                                   "valid_pairs", "valid_docs", "valid_summaries", "test_docs",
                                                   "test_summaries")},
        "files": files, "extra": extra, "groups": groups, "tokenizer": tokenizer, "bytes": total,
        # restore.py checks that the test prefixes still match the data folder evaluate reads.
        "testPrefix": {k: {"rows": f["rows"], "sha256": prefix_sha(os.path.join(data, f"{k}.jsonl"), f["rows"])}
                       for f in files for k in [f["file"][: -len(".jsonl.xz")]] if k.endswith(".test")},
    }
    with open(os.path.join(out, "bundle.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
    mib = total / 2**20
    log(f"bundle: {mib:.1f} MiB in {len(files) + len(extra) + 1} files ({time.perf_counter() - t0:.0f} s) → {out}")
    if mib > args.max_mib:
        raise SystemExit(f"the bundle is {mib:.1f} MiB, over --max-mib {args.max_mib}: lower --pairs / --docs "
                         "(the working tree and the carried paths must stay under 64 MiB together)")
    return manifest


def prefix_sha(path: str, rows: int) -> str:
    """SHA-256 of the first ``rows`` non-blank lines of a JSONL file as re-serialized by this script."""
    h = hashlib.sha256()
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            if n >= rows:
                break
            h.update((compact(json.loads(line)) + "\n").encode("utf-8"))
            n += 1
    return h.hexdigest()


def main(argv: Optional[List[str]] = None) -> int:
    build(parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
