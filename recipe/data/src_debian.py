"""Sources `ddtp` (Debian's translated package descriptions) and `handbook` (`debian-handbook`).

`ddtp`: apt's Translation-xx indexes (bookworm main), fetched by `apt-get update` into a separate lists
folder with `Acquire::Languages` overridden (apt here fetches no translations by default). Stanzas are
keyed by Description-md5, so a translation aligns with the English description of the same md5.
- `summaries`: synopsis line → long description (English for every package, other languages where
  translated); `docs`: long descriptions of ≥ 3 sentences;
- `parallel`: synopsis pairs and paragraph pairs (only when both sides have the same number of
  paragraphs/list items), cut into sentence pairs when both sides segment to the same count, else kept
  whole (the build drops pairs over 200 characters).

`handbook`: The Debian Administrator's Handbook, HTML per language (same file names); `docs` per section
page and language; `parallel` for pages whose languages have the same number of paragraphs.
"""

from __future__ import annotations

import re
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from data.clean import clean_text
from data.common import (ENG, RAW, JsonlWriter, SourceMeta, apt_download, deb_extract, deb_version,
                         extracted_path, locale_to_flores, log, meta_path, run, segment_many, write_json)

#: DDTP locale names of the candidate languages (Debian translates to pt_BR and pt separately).
DDTP_LOCALES = ("fr", "de", "es", "it", "pt_BR", "pt", "ru", "uk", "el", "zh_CN", "ja", "ko", "ar", "hi", "he")
LISTS = RAW / "apt-lists"


def fetch_translation_indexes() -> List[Path]:
    """`apt-get update` into $CS_WORK/raw/apt-lists with the Translation-xx indexes; returns their files."""
    (LISTS / "partial").mkdir(parents=True, exist_ok=True)
    if not list(LISTS.glob("*_main_i18n_Translation-en*")):
        run(["apt-get", "-o", f"Dir::State::Lists={LISTS}", "-o", f"Acquire::Languages={','.join(('en',) + DDTP_LOCALES)}",
             "-o", "APT::Sandbox::User=root", "update", "-qq"])
    # Only the main suite (bookworm), not -updates / -security, which translate a handful of packages.
    return sorted(p for p in LISTS.glob("*_dists_bookworm_main_i18n_Translation-*") if not p.name.endswith(".diff"))


def read_index(path: Path) -> Dict[str, Tuple[str, str, str]]:
    """md5 → (package, synopsis, long description with ' .' paragraph lines) from one Translation file."""
    text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", str(path)], capture_output=True, text=True,
                          check=True).stdout
    out: Dict[str, Tuple[str, str, str]] = {}
    for stanza in text.split("\n\n"):
        pkg = md5 = ""
        desc: List[str] = []
        for line in stanza.split("\n"):
            if line.startswith("Package: "):
                pkg = line[9:].strip()
            elif line.startswith("Description-md5: "):
                md5 = line[17:].strip()
            elif line.startswith("Description-"):
                desc = [line.split(": ", 1)[1] if ": " in line else ""]
            elif line.startswith(" ") and desc:
                desc.append(line)
        if pkg and md5 and desc:
            out[md5] = (pkg, desc[0].strip(), "\n".join(desc[1:]))
    return out


_BULLET = re.compile(r"^\s*(?:[*\-+o•]|\d+[.)])\s+")
_CJK_EDGE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def join_lines(lines: List[str]) -> str:
    """Join hard-wrapped lines: with a space, except between two CJK characters (Chinese and Japanese
    descriptions are wrapped inside words: "特\n徴" is one word, "特徴")."""
    out = ""
    for line in lines:
        if out and not (_CJK_EDGE.match(out[-1]) and _CJK_EDGE.match(line[0])):
            out += " "
        out += line
    return out



def units(long: str) -> List[str]:
    """Paragraphs and list items of a Debian long description, cleaned; verbatim (two-space) lines are dropped."""
    out: List[str] = []
    for para in re.split(r"\n \.[ \t]*(?:\n|$)", long):
        cur: List[str] = []
        for line in para.split("\n"):
            if not line.strip() or line.strip() == ".":
                continue
            if line.startswith("  ") and not _BULLET.match(line):
                continue  # preformatted (tables, commands): not prose
            if _BULLET.match(line):
                if cur:
                    out.append(join_lines(cur))
                cur = [_BULLET.sub("", line).strip()]
            else:
                cur.append(line.strip())
        if cur:
            out.append(join_lines(cur))
    return [t for t in (clean_text(u, markup=False) for u in out) if t]


def _pairs(out: JsonlWriter, doc: str, lang: str, eng_units: List[str], xx_units: List[str],
           eng_sents: List[List[str]], xx_sents: List[List[str]]) -> None:
    """Parallel rows for aligned units: sentence pairs when the counts match, else the whole unit."""
    for eu, xu, es, xs in zip(eng_units, xx_units, eng_sents, xx_sents):
        if len(es) == len(xs) and len(es) > 1:
            for a, b in zip(es, xs):
                out.write({"t": "p", "doc": doc, "lang": lang, "eng": a, "text": b})
        else:
            out.write({"t": "p", "doc": doc, "lang": lang, "eng": eu, "text": xu})


def extract_ddtp(languages: List[str], force: bool = False, max_packages: int = 0) -> None:
    """Write the `ddtp` extraction."""
    path = extracted_path("ddtp")
    if path.exists() and not force:
        return
    t0 = time.time()
    meta = SourceMeta("ddtp", "package descriptions under each package's licence (DFSG-free, Debian main); "
                              "translations by the Debian Description Translation Project")
    files = fetch_translation_indexes()
    by_locale: Dict[str, Path] = {}
    for f in files:
        loc = f.name.rsplit("Translation-", 1)[1].split(".")[0].replace("%5f", "_")
        by_locale[loc] = f
    if "en" not in by_locale:
        raise RuntimeError(f"no Translation-en in {LISTS}: apt-get update failed?")
    release = next(LISTS.glob("*_dists_bookworm_InRelease"), None)
    date = ""
    if release:
        m = re.search(r"^Date: (.+)$", release.read_text(errors="replace"), re.M)
        date = m.group(1) if m else ""
    meta.packages.append({"kind": "apt-index", "name": "bookworm main i18n Translation-*", "version": date})
    english = read_index(by_locale["en"])
    md5s = sorted(english)[:max_packages] if max_packages else sorted(english)
    langs: Dict[str, Dict[str, Tuple[str, str, str]]] = {}
    for loc in DDTP_LOCALES:  # pt_BR before pt: FLORES' por_Latn is Brazilian Portuguese
        if loc not in by_locale:
            continue
        f = by_locale[loc]
        lang = locale_to_flores(loc)
        if lang not in languages:
            continue
        idx = read_index(f)
        merged = langs.setdefault(lang, {})
        for k, v in idx.items():
            merged.setdefault(k, v)
        meta.notes.append(f"Translation-{loc}: {len(idx)} descriptions → {lang}")

    # Units per (lang, md5), then one segmentation run for all of them.
    texts: Dict[Tuple[str, str], Tuple[str, List[str]]] = {}
    for md5 in md5s:
        _pkg, syn, long = english[md5]
        texts[(ENG, md5)] = (clean_text(syn, markup=False), units(long))
    for lang, idx in langs.items():
        for md5 in md5s:
            if md5 in idx:
                _pkg, syn, long = idx[md5]
                texts[(lang, md5)] = (clean_text(syn, markup=False), units(long))
    keys = [(key, k) for key, (_s, us) in texts.items() for k in range(len(us))]
    log(f"ddtp: segmenting {len(keys)} paragraphs")
    segs = segment_many([{"lang": key[0], "text": texts[key][1][k]} for key, k in keys], "ddtp")
    sents: Dict[Tuple[str, str], List[List[str]]] = {key: [] for key in texts}
    for (key, _k), s in zip(keys, segs):
        sents[key].append(s or [])

    out = JsonlWriter(path)
    for (lang, md5), (syn, us) in texts.items():
        doc = f"ddtp:{english[md5][0]}"
        flat = [s for ss in sents[(lang, md5)] for s in ss]
        if syn and len(flat) >= 2:
            out.write({"t": "s", "doc": doc, "lang": lang, "summary": [syn], "document": flat})
        if len(flat) >= 3:
            out.write({"t": "d", "doc": doc, "lang": lang, "sentences": flat})
        if lang == ENG:
            continue
        esyn, eus = texts[(ENG, md5)]
        out.write({"t": "p", "doc": doc, "lang": lang, "eng": esyn, "text": syn})
        if len(eus) == len(us):
            _pairs(out, doc, lang, eus, us, sents[(ENG, md5)], sents[(lang, md5)])
    out.close()
    meta.seconds = time.time() - t0
    write_json(meta_path("ddtp"), meta.to_json())
    log(f"ddtp: {out.rows} rows in {meta.seconds:.0f} s")


class _ParaParser(HTMLParser):
    """Texts of DocBook `<div class="para">` blocks in order (nested ones become their own blocks; `<pre>` skipped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paras: List[str] = []
        self._divs: List[bool] = []  # per open <div>: is it a para
        self._buf: List[str] = []
        self._skip = 0

    def _flush(self) -> None:
        text = clean_text("".join(self._buf), markup=False)
        if text:
            self.paras.append(text)
        self._buf = []

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        if tag in ("pre", "script", "style"):
            self._skip += 1
        elif tag == "div":
            is_para = (dict(attrs).get("class") or "") == "para"
            if is_para and any(self._divs):
                self._flush()
            self._divs.append(is_para)
        elif tag == "br":
            self._buf.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("pre", "script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag == "div" and self._divs:
            if self._divs.pop():
                self._flush()

    def handle_data(self, data: str) -> None:
        if any(self._divs) and not self._skip:
            self._buf.append(data)


def read_handbook_page(path: Path) -> List[str]:
    parser = _ParaParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser.paras


def extract_handbook(languages: List[str], force: bool = False) -> None:
    """Write the `handbook` extraction (debian-handbook HTML)."""
    path = extracted_path("handbook")
    if path.exists() and not force:
        return
    t0 = time.time()
    meta = SourceMeta("handbook", "GPL-2+ or CC-BY-SA-3.0 (The Debian Administrator's Handbook)")
    debs = apt_download(["debian-handbook"])
    if "debian-handbook" not in debs:
        raise RuntimeError("debian-handbook could not be downloaded")
    meta.packages.append({"kind": "deb", "name": "debian-handbook", "version": deb_version(debs["debian-handbook"])})
    html_root = deb_extract(debs["debian-handbook"]) / "usr" / "share" / "doc" / "debian-handbook" / "html"
    roots: Dict[str, Path] = {}
    for d in sorted(html_root.iterdir()):
        lang = locale_to_flores(d.name)
        if lang == ENG or lang in languages:
            roots.setdefault(lang, d)
    meta.notes.append("languages: " + ", ".join(f"{lang}={d.name}" for lang, d in roots.items()))
    pages = sorted(p.name for p in roots[ENG].glob("*.html") if p.name != "index.html")
    paras: Dict[Tuple[str, str], List[str]] = {}
    for lang, root in roots.items():
        for name in pages:
            if (root / name).exists():
                paras[(lang, name)] = read_handbook_page(root / name)
    keys = [(key, k) for key, ps in paras.items() for k in range(len(ps))]
    log(f"handbook: segmenting {len(keys)} paragraphs")
    segs = segment_many([{"lang": key[0], "text": paras[key][k]} for key, k in keys], "handbook")
    sents: Dict[Tuple[str, str], List[List[str]]] = {key: [] for key in paras}
    for (key, _k), s in zip(keys, segs):
        sents[key].append(s or [])
    out = JsonlWriter(path)
    aligned = 0
    for (lang, name), ps in sorted(paras.items()):
        doc = f"handbook:{name}"
        flat = [s for ss in sents[(lang, name)] for s in ss]
        if flat:
            out.write({"t": "d", "doc": doc, "lang": lang, "sentences": flat})
        if lang != ENG and (ENG, name) in paras and len(paras[(ENG, name)]) == len(ps):
            aligned += 1
            _pairs(out, doc, lang, paras[(ENG, name)], ps, sents[(ENG, name)], sents[(lang, name)])
    meta.notes.append(f"{aligned} translated pages had as many paragraphs as English and gave parallel rows")
    out.close()
    meta.seconds = time.time() - t0
    write_json(meta_path("handbook"), meta.to_json())
    log(f"handbook: {out.rows} rows in {meta.seconds:.0f} s")
