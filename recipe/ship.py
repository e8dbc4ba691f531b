"""Ship a candidate pack as the app's bundled default, only when it measures better than the one shipped now.

    /usr/bin/python3 recipe/ship.py CANDIDATE --name NAME [--int8 encoder,decoder] [--limit N] [--force]

CANDIDATE is an exported, evaluated pack (``bash recipe/cpu/pack.sh`` writes it to ``$CS_WORK/candidate``).
In order (docs/recipe.md, "Shipping a pack"):

1. Verify the candidate (every file's size and hash, every graph through onnx.checker).
2. Stage the pack to ship under ``NAME``: with ``--int8 GRAPHS`` the int8 copy of those graphs
   (recipe/lcmref/quantize_pack.py), else the float32 pack as it is.
3. Measure it with the app's own engine and suites: ``node bin/lcm.mjs eval`` (resources/eval, greedy,
   ``--limit`` items per language) → ``docs/eval/NAME/``. With ``--int8`` the float32 candidate runs the
   round-trip, translation and next-concept suites too, and ``docs/eval/NAME/int8.json`` records both sides, so
   the quantization's cost is a measured figure (issue #3: "quantize if it helps, with the quality difference
   measured").
4. Compare with the pack shipped now (``resources/models/default.json`` → its ``docs/eval/<name>/report.json``):
   round-trip chrF, translation chrF from and into English, next-concept cosine. Refused when any of them is
   worse by more than ``--tolerance`` points (chrF; cosine × 100), or none is better, unless ``--force``.
5. Size: the shipped folder must stay under 100 MB (10^8 bytes).
6. Install: ``resources/models/NAME`` (replacing a folder of that name only with ``--force``) and
   ``resources/models/default.json`` = ``{"pack": NAME}``; ``docs/eval/NAME/ship.json`` records the comparison,
   ``docs/eval/NAME/targets.md`` the issue's quality targets, each PASS or MISS with its figure.
   ``--measure-only`` stops before installing (the figures, comparison and targets are printed).
   The installed pack's MODEL_CARD.md gets an "As shipped" section: these figures of these exact graphs, and the
   float32 → int8 figures when quantized (its manifest entry is updated to match).

It does not commit: review the report, update docs/quality.md, then commit the pack, its report and
default.json together. ``--models`` and ``--eval-dir`` point elsewhere (the smoke test ships into a
temporary folder).
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

MAX_BYTES = 100_000_000
# (label, path into report.json's suites, scale to points): the figures a new default must not lose.
FIGURES: List[Tuple[str, Tuple[str, ...], float]] = [
    ("round-trip chrF", ("roundtrip", "mean", "chrf"), 1.0),
    ("translation chrF from English", ("translate", "mean", "fromEnglish", "chrf"), 1.0),
    ("translation chrF into English", ("translate", "mean", "intoEnglish", "chrf"), 1.0),
    ("next-concept cosine × 100", ("next", "overall", "lcm"), 100.0),
]


def folder_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def figures(report: Dict[str, Any]) -> Dict[str, Optional[float]]:
    """The comparison figures of an ``lcm eval`` report.json (None where a suite did not run)."""
    out: Dict[str, Optional[float]] = {}
    for label, path, scale in FIGURES:
        node: Any = report.get("suites", {})
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        out[label] = float(node) * scale if isinstance(node, (int, float)) else None
    return out


def compare(new: Dict[str, Optional[float]], old: Dict[str, Optional[float]], tolerance: float
            ) -> Tuple[bool, List[str]]:
    """(better, lines): better when no figure drops by more than ``tolerance`` and at least one rises by more."""
    lines, worse, better = [], False, False
    for label in new:
        a, b = old.get(label), new[label]
        if a is None or b is None:
            lines.append(f"  {label}: shipped {a}, candidate {b} (not compared)")
            continue
        d = b - a
        worse |= d < -tolerance
        better |= d > tolerance
        lines.append(f"  {label}: shipped {a:.2f}, candidate {b:.2f} ({d:+.2f})")
    return better and not worse, lines


HUB = "eng_Latn"


def targets(report: Dict[str, Any]) -> List[Tuple[str, str, str, str]]:
    """Issue #3's quality targets against an ``lcm eval`` report: (what, measured, target, PASS/MISS) rows."""
    rows: List[Tuple[str, str, str, str]] = []
    su = report.get("suites", {})

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    if su.get("roundtrip", {}).get("status") == "ran":
        for r in su["roundtrip"]["languages"]:
            need = 60.0 if r["lang"] == HUB else 45.0
            rows.append((f"round-trip chrF {r['lang']} (n {r['n']})", f"{r['chrf']:.1f}", f"≥ {need:.0f}",
                         verdict(r["chrf"] >= need)))
    if su.get("translate", {}).get("status") == "ran":
        for r in su["translate"]["directions"]:
            rows.append((f"translation chrF {r['source']} → {r['target']} (n {r['n']})", f"{r['chrf']:.1f}", "≥ 30",
                         verdict(r["chrf"] >= 30.0)))
    if su.get("next", {}).get("status") == "ran":
        o = su["next"]["overall"]
        consensus = f" (mean of 8 samples {o['lcmConsensus']:.4f})" if isinstance(o.get("lcmConsensus"), (int, float)) else ""
        rows.append((f"next-concept cosine (n {o['n']})", f"{o['lcm']:.4f}{consensus}",
                     f"> repeat previous {o['previous']:.4f} and > mean of context {o['contextMean']:.4f}",
                     verdict(o["lcm"] > o["previous"] and o["lcm"] > o["contextMean"])))
        c = su["next"]["continuation"]
        for key in ("coherence", "rep4"):
            g, ref = c[key]["generated"], c[key]["reference"]
            rows.append((f"continuation {key} (generated; true continuation)",
                         f"{g:.4f}; {ref:.4f}" if g is not None and ref is not None else f"{g}; {ref}", "reported", "—"))
    if su.get("summarize", {}).get("status") == "ran":
        o = su["summarize"]["overall"]
        rows.append((f"summarization ROUGE-L (n {o['n']})", f"{o['model']['rougeL']:.4f}",
                     f"vs lead-k {o['lead']['rougeL']:.4f}", verdict(o["model"]["rougeL"] > o["lead"]["rougeL"])))
    if su.get("expand", {}).get("status") == "ran":
        o = su["expand"]["overall"]
        rows.append((f"expansion ROUGE-L (n {o['n']})", f"{o['model']['rougeL']:.4f}",
                     f"vs the summary itself {o['summary']['rougeL']:.4f}",
                     verdict(o["model"]["rougeL"] > o["summary"]["rougeL"])))
    return rows


def targets_markdown(name: str, report: Dict[str, Any]) -> str:
    rows = targets(report)
    misses = sum(1 for r in rows if r[3] == "MISS")
    head = [f"# Quality targets of {name} (issue #3)", "",
            f"From `{report.get('command', 'lcm eval')}` (held-out test split, resources/eval; greedy decoding). "
            f"{len(rows) - misses - sum(1 for r in rows if r[3] == '—')} targets met, {misses} missed.", "",
            "| what | measured | target | verdict |", "|---|---|---|---|"]
    return "\n".join(head + [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]) + "\n"


def append_to_card(pack: str, section: str) -> None:
    """Appends ``section`` to the pack's model card and updates its manifest entry (size, hash)."""
    from recipe.lcmref.export_pack import file_entry

    path = os.path.join(pack, "manifest.json")
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    card = manifest.get("modelCard", "MODEL_CARD.md")
    with open(os.path.join(pack, card), "a", encoding="utf-8") as f:
        f.write("\n" + section)
    manifest["files"] = [file_entry(pack, card) if e["path"] == card else e for e in manifest["files"]]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")


def card_section(name: str, report: Dict[str, Any], int8: Optional[Dict[str, Any]]) -> str:
    """The model card's "as shipped" part: the app engine's figures of these exact graphs (and the int8 cost)."""
    lines = ["## As shipped (recipe/ship.py)", "",
             "Measured with the app's own engine on the shipped graphs (the command is below). The figures above "
             "this section come from the recipe's PyTorch evaluation of the float32 model.", ""]
    if int8:
        lines += [f"Graphs {', '.join(int8['graphs'])} are int8 (recipe/lcmref/quantize_pack.py). Same suites, same "
                  "limit, float32 → int8:", "", "| figure | float32 | int8 |", "|---|---|---|"]
        for label, v in int8["int8"].items():
            a = int8["float32"].get(label)
            lines.append(f"| {label} | {'n/a' if a is None else f'{a:.2f}'} | {'n/a' if v is None else f'{v:.2f}'} |")
        lines.append("")
    body = targets_markdown(name, report).split("\n", 2)[2]  # without its title
    return "\n".join(lines) + "\n" + body


def run_eval(pack: str, out: str, limit: int, suites: Optional[str] = None) -> Dict[str, Any]:
    cmd = ["node", os.path.join(REPO, "bin", "lcm.mjs"), "eval", "--pack", pack, "--out", out, "--limit", str(limit),
           "--seed", "0"]
    if suites:
        cmd += ["--suites", suites]
    print("$ " + " ".join(os.path.relpath(c, REPO) if c.startswith(REPO) else c for c in cmd), flush=True)
    res = subprocess.run(cmd, cwd=REPO)
    if res.returncode != 0:
        raise SystemExit(f"lcm eval failed on {pack} (exit {res.returncode}); fix that before shipping")
    with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
        return json.load(f)


def shipped(models: str, eval_dir: str) -> Tuple[Optional[str], Optional[Dict[str, Any]]]:
    """(name, report) of the pack default.json names now; (None, None) when nothing is shipped."""
    marker = os.path.join(models, "default.json")
    if not os.path.exists(marker):
        return None, None
    with open(marker, encoding="utf-8") as f:
        name = json.load(f)["pack"]
    path = os.path.join(eval_dir, name, "report.json")
    if not os.path.exists(path):
        raise SystemExit(f"the shipped pack {name} has no evaluation at {path}: run `node bin/lcm.mjs eval --pack "
                         f"{os.path.join(models, name)} --out {os.path.dirname(path)}` first, so there is something "
                         "to compare with")
    with open(path, encoding="utf-8") as f:
        return name, json.load(f)


def stage(candidate: str, dest: str, name: str, int8: Optional[List[str]]) -> None:
    """The pack to ship at ``dest``: the int8 copy of ``int8`` graphs, else a copy renamed ``name``."""
    if int8:
        from recipe.lcmref.quantize_pack import quantize_pack

        quantize_pack(candidate, dest, int8, name)
        return
    shutil.copytree(candidate, dest)
    path = os.path.join(dest, "manifest.json")
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    manifest["name"] = name
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidate", help="the exported, evaluated pack folder")
    ap.add_argument("--name", required=True, help="the shipped pack's name and folder (letters, digits, - and _)")
    ap.add_argument("--int8", help="comma-separated graphs to ship as int8 (encoder, decoder, contextualizer, "
                    "denoiser); measured against the float32 pack")
    ap.add_argument("--limit", type=int, default=50, help="items per language and suite for lcm eval (default 50)")
    ap.add_argument("--tolerance", type=float, default=0.5, help="points a figure may drop (default 0.5)")
    ap.add_argument("--force", action="store_true", help="ship even when not better; replace a folder of that name")
    ap.add_argument("--measure-only", action="store_true", help="stage, measure, compare and print the targets; "
                    "install nothing")
    ap.add_argument("--models", default=os.path.join(REPO, "resources", "models"), help="the bundled packs folder")
    ap.add_argument("--eval-dir", default=os.path.join(REPO, "docs", "eval"), help="where evaluation reports go")
    args = ap.parse_args(argv)

    from recipe.lcmref.export_pack import verify_pack

    if not args.name.replace("-", "").replace("_", "").isalnum():
        raise SystemExit(f"--name {args.name!r}: use letters, digits, '-' and '_' only (it is a folder name)")
    candidate = os.path.abspath(args.candidate)
    if not os.path.exists(os.path.join(candidate, "manifest.json")):
        raise SystemExit(f"{candidate} is not a pack folder (no manifest.json); export one with recipe/run.py export")
    problems = verify_pack(candidate)
    if problems:
        raise SystemExit(f"{candidate} fails verification:\n  " + "\n  ".join(problems))
    target = os.path.join(args.models, args.name)
    if os.path.exists(target) and not args.force:
        raise SystemExit(f"{target} exists: choose another --name, or --force to replace it")
    old_name, old_report = shipped(args.models, args.eval_dir)
    int8 = [g.strip() for g in args.int8.split(",") if g.strip()] if args.int8 else None

    os.makedirs(args.models, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cs-ship-") as tmp:  # not in models/: the app would list a stray pack
        staged = os.path.join(tmp, args.name)
        stage(candidate, staged, args.name, int8)
        problems = verify_pack(staged)
        if problems:
            raise SystemExit("the staged pack fails verification:\n  " + "\n  ".join(problems))
        size = folder_bytes(staged)
        if size >= MAX_BYTES:
            raise SystemExit(f"the pack is {size / 1e6:.1f} MB; the bundled default must stay under "
                             f"{MAX_BYTES / 1e6:.0f} MB: ship int8 graphs (--int8 encoder,decoder) or smaller shapes")
        report_dir = os.path.join(args.eval_dir, args.name)
        report = run_eval(staged, os.path.join(tmp, "eval"), args.limit)
        new = figures(report)
        record: Dict[str, Any] = {"shippedAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                                  "command": " ".join(["recipe/ship.py", *(argv if argv is not None else sys.argv[1:])]),
                                  "bytes": size, "figures": new, "int8": None, "replaces": None}
        if int8:
            fp32 = run_eval(candidate, os.path.join(tmp, "eval-fp32"), args.limit, "roundtrip,translate,next")
            record["int8"] = {"graphs": int8, "float32": figures(fp32), "int8": new}
            print("int8 vs float32 (same suites, same limit):")
            for label in new:
                a, b = record["int8"]["float32"][label], new[label]
                both = a is not None and b is not None
                print(f"  {label}: " + (f"float32 {a:.2f}, int8 {b:.2f} ({b - a:+.2f})" if both else f"float32 {a}, int8 {b}"))
        print(targets_markdown(args.name, report))
        if old_report is not None:
            better, lines = compare(new, figures(old_report), args.tolerance)
            print(f"candidate {args.name} vs shipped {old_name}:")
            print("\n".join(lines))
            record["replaces"] = {"name": old_name, "figures": figures(old_report), "better": better}
            if not better and not args.force and not args.measure_only:
                raise SystemExit(f"not shipped: {args.name} does not beat {old_name} (no figure better by more than "
                                 f"{args.tolerance} without one worse by more); --force ships it anyway")
        if args.measure_only:
            print(f"measured only: nothing installed ({size / 1e6:.1f} MB staged)")
            return 0
        where = {staged: os.path.relpath(target, REPO), os.path.join(tmp, "eval"): os.path.relpath(report_dir, REPO)}
        shown = str(report.get("command", "lcm eval"))
        for a, b in where.items():  # the installed pack and report, not the staging copies
            shown = shown.replace(a, b)
        append_to_card(staged, card_section(args.name, {**report, "command": shown}, record["int8"]))
        problems = verify_pack(staged)
        if problems:
            raise SystemExit("the staged pack fails verification after its card was updated:\n  " + "\n  ".join(problems))
        partial = os.path.join(args.models, f".{args.name}.partial")  # dot folders are not listed as packs
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(staged, partial)
        if os.path.exists(target):
            shutil.rmtree(target)
        os.replace(partial, target)
        if os.path.exists(report_dir):
            shutil.rmtree(report_dir)
        shutil.copytree(os.path.join(tmp, "eval"), report_dir)
        for fname in ("report.md", "report.json"):  # name the installed, byte-identical pack, not the staging copy
            path = os.path.join(report_dir, fname)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            text = text.replace(staged, os.path.relpath(target, REPO)).replace(os.path.join(tmp, "eval"),
                                                                               os.path.relpath(report_dir, REPO))
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        with open(os.path.join(report_dir, "targets.md"), "w", encoding="utf-8") as f:
            f.write(targets_markdown(args.name, json.load(open(os.path.join(report_dir, "report.json"), encoding="utf-8"))))
        if int8:
            with open(os.path.join(report_dir, "int8.json"), "w", encoding="utf-8") as f:
                json.dump(record["int8"], f, indent=2)
                f.write("\n")
    with open(os.path.join(report_dir, "ship.json"), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2, ensure_ascii=False)
        f.write("\n")
    tmp_marker = os.path.join(args.models, "default.json.partial")
    with open(tmp_marker, "w", encoding="utf-8") as f:
        json.dump({"pack": args.name}, f)
        f.write("\n")
    os.replace(tmp_marker, os.path.join(args.models, "default.json"))
    print(f"shipped {args.name} ({size / 1e6:.1f} MB) → {target}; default.json names it; report → {report_dir}")
    print("next: copy the report's figures into docs/quality.md, then commit the pack, the report and default.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
