"""Markdown tables of a build's `sources.json`, for docs/data.md.

    /usr/bin/python3 recipe/data/report.py [path/to/sources.json] > /tmp/tables.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.common import DATA, SPLITS  # noqa: E402

KINDS = ("parallel", "mono", "docs", "summaries")


def _n(x: int) -> str:
    return f"{x:,}"


def _total(rows: Dict[str, Dict[str, int]], lang: str = "") -> int:
    return sum(sum(s.values()) for k, s in rows.items() if not lang or k == lang)


def _packages(src: Dict[str, Any]) -> str:
    pk: List[Dict[str, str]] = src["packages"]
    inst = [p for p in pk if p["kind"] == "installed"]
    rest = [p for p in pk if p["kind"] != "installed"]
    parts = []
    if inst:
        parts.append(f"{len(inst)} installed packages' catalogs")
    if len(rest) > 4:
        parts.append(f"{len(rest)} {rest[0]['kind']} packages ({rest[0]['name']} {rest[0]['version']}, …)")
    else:
        parts += [f"{p['kind']} `{p['name']}` {p['version']}" for p in rest]
    return "; ".join(parts)


def report(info: Dict[str, Any]) -> str:
    out: List[str] = []
    langs: List[str] = info["languages"]
    srcs = info["sources"]
    out.append(f"Built {info['built']} in {info['seconds'] / 60:.1f} min: `{info['command']}`\n")
    out.append("| source | packages | licence | extract s | build s | " + " | ".join(KINDS) + " |")
    out.append("|---|---|---|---:|---:|" + "---:|" * len(KINDS))
    for s in srcs:
        cells = [_n(_total(s["rows"].get(k, {}))) for k in KINDS]
        out.append(f"| {s['name']} | {_packages(s)} | {s['licence']} | {s['extract_seconds']:.0f} | {s['build_seconds']:.0f} | "
                   + " | ".join(cells) + " |")
    out.append("")
    out.append("Parallel pairs (English ↔ language) after cleaning, by source, and the split of the total:\n")
    names = [s["name"] for s in srcs if s["rows"].get("parallel")]
    out.append("| language | " + " | ".join(names) + " | total | train | valid | test |")
    out.append("|---|" + "---:|" * (len(names) + 4))
    tot = info["totals"].get("parallel", {})
    for lang in langs[1:]:
        cells = [_n(_total(s["rows"].get("parallel", {}), lang)) for s in srcs if s["rows"].get("parallel")]
        sp = tot.get(lang, {})
        out.append(f"| {lang} | " + " | ".join(cells) + f" | {_n(sum(sp.values()))} | "
                   + " | ".join(_n(sp.get(x, 0)) for x in SPLITS) + " |")
    out.append("")
    for kind in ("mono", "docs", "summaries"):
        tot = info["totals"].get(kind, {})
        out.append(f"`{kind}` rows per language (train / valid / test):\n")
        out.append("| language | train | valid | test | by source |")
        out.append("|---|---:|---:|---:|---|")
        for lang in langs:
            sp = tot.get(lang, {})
            if not sp:
                continue
            by = ", ".join(f"{s['name']} {_n(_total(s['rows'].get(kind, {}), lang))}" for s in srcs
                           if _total(s["rows"].get(kind, {}), lang))
            out.append(f"| {lang} | " + " | ".join(_n(sp.get(x, 0)) for x in SPLITS) + f" | {by} |")
        out.append("")
    out.append("Dropped rows by reason (per source and file):\n")
    out.append("| source | file | dropped (reason: rows) |")
    out.append("|---|---|---|")
    for s in srcs:
        for kind, reasons in s["dropped"].items():
            out.append(f"| {s['name']} | {kind} | " + ", ".join(f"{r}: {_n(n)}" for r, n in
                                                          sorted(reasons.items(), key=lambda x: -x[1])) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA / "sources.json"
    sys.stdout.write(report(json.loads(path.read_text(encoding="utf-8"))))
