"""Source `lo-help`: LibreOffice's help pages (`libreoffice-help-xx`, HTML), many-way parallel.

Every paragraph and heading of a help page carries an id (`par_id3155920`, `hd_id3155177`) that is the
same in every language's copy of the page, so paragraphs align exactly. Each page gives:
- `docs`: the page's paragraphs in order, segmented, per language (English included);
- `parallel`: English ↔ xx paragraph pairs, pivoted through English; a paragraph is cut into sentence
  pairs when both sides segment into the same number of sentences, else kept whole (the build drops it
  if it is longer than 200 characters).
The document id is the page path (`lo-help:text/swriter/guide/text_centervert.html`) in every language.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from data.clean import clean_text
from data.common import (ENG, JsonlWriter, SourceMeta, apt_download, deb_extract, deb_version, extracted_path,
                         log, meta_path, segment_many, write_json)
from data.src_gettext import LO_CODES

_ID = re.compile(r"^(?:par|hd)_id\w+$")
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6"}


class _HelpParser(HTMLParser):
    """Collects (id, text) of every `<p|hN id="par_id…|hd_id…">` in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: List[Tuple[str, str]] = []
        self._id: Optional[str] = None
        self._tag = ""
        self._depth = 0
        self._buf: List[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "br" and self._id:
            self._buf.append(" ")
        if self._id is not None:
            if tag == self._tag:
                self._depth += 1
            return
        ident = dict(attrs).get("id") or ""
        if tag in _BLOCKS and _ID.match(ident):
            self._id, self._tag, self._depth, self._buf = ident, tag, 1, []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if self._id is not None and tag == self._tag:
            self._depth -= 1
            if self._depth == 0:
                self.items.append((self._id, "".join(self._buf)))
                self._id = None

    def handle_data(self, data: str) -> None:
        if self._id is not None and not self._skip:
            self._buf.append(data)


def read_page(path: Path) -> List[Tuple[str, str]]:
    """(id, cleaned text) of a help page's paragraphs, in order; empty texts dropped."""
    parser = _HelpParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    items = [(i, clean_text(t, markup=False)) for i, t in parser.items]
    return [(i, t) for i, t in items if t]


def _help_root(root: Path) -> Optional[Path]:
    """The language folder under usr/share/libreoffice/help of an extracted help package."""
    base = root / "usr" / "share" / "libreoffice" / "help"
    dirs = [d for d in base.iterdir() if d.is_dir() and d.name != "media"] if base.exists() else []
    return dirs[0] if len(dirs) == 1 else None


def extract_lo_help(languages: List[str], force: bool = False, max_pages: int = 0) -> None:
    """Write the `lo-help` extraction: docs per language and English-pivoted parallel paragraphs."""
    path = extracted_path("lo-help")
    if path.exists() and not force:
        return
    t0 = time.time()
    meta = SourceMeta("lo-help", "MPL-2.0 (LibreOffice help)")
    wanted = {lang: LO_CODES[lang] for lang in languages if lang in LO_CODES}
    debs = apt_download(["libreoffice-help-en-us", *(f"libreoffice-help-{c}" for c in wanted.values())])
    if "libreoffice-help-en-us" not in debs:
        raise RuntimeError("libreoffice-help-en-us could not be downloaded: is `apt-get update` done?")
    roots: Dict[str, Path] = {}
    for lang, code in [(ENG, "en-us"), *wanted.items()]:
        pkg = f"libreoffice-help-{code}"
        if pkg not in debs:
            meta.notes.append(f"{pkg}: not in Debian (no help pages for {lang})")
            continue
        root = _help_root(deb_extract(debs[pkg]))
        if root is None:
            meta.notes.append(f"{pkg}: no help folder")
            continue
        roots[lang] = root
        meta.packages.append({"kind": "deb", "name": pkg, "version": deb_version(debs[pkg])})
    pages = sorted(p.relative_to(roots[ENG]).as_posix() for p in roots[ENG].rglob("*.html") if "text/" in p.as_posix())
    if max_pages:
        pages = pages[:max_pages]
    log(f"lo-help: {len(pages)} pages × {len(roots)} languages")

    # Read every page in every language, then segment all paragraphs in one Node run.
    paras: Dict[Tuple[str, str], List[Tuple[str, str]]] = {}
    for lang, root in roots.items():
        for rel in pages:
            page = root / rel
            if page.exists():
                paras[(lang, rel)] = read_page(page)
    keys = [(lang, rel, k) for (lang, rel), items in paras.items() for k in range(len(items))]
    segs = segment_many([{"lang": lang, "text": paras[(lang, rel)][k][1]} for lang, rel, k in keys], "lo-help")
    sentences: Dict[Tuple[str, str, int], List[str]] = {key: s or [] for key, s in zip(keys, segs)}

    out = JsonlWriter(path)
    for (lang, rel), items in sorted(paras.items()):
        doc = f"lo-help:{rel}"
        sents = [s for k in range(len(items)) for s in sentences[(lang, rel, k)]]
        if sents:
            out.write({"t": "d", "doc": doc, "lang": lang, "sentences": sents})
        if lang == ENG or (ENG, rel) not in paras:
            continue
        eng_items = paras[(ENG, rel)]
        eng_ids = [i for i, _ in eng_items]
        xx_ids = [i for i, _ in items]
        eng_count, xx_count = Counter(eng_ids), Counter(xx_ids)
        xx_index = {i: k for k, i in enumerate(xx_ids) if xx_count[i] == 1}
        for ke, (ident, etext) in enumerate(eng_items):
            if eng_count[ident] != 1 or ident not in xx_index:
                continue
            kx = xx_index[ident]
            es, xs = sentences[(ENG, rel, ke)], sentences[(lang, rel, kx)]
            if len(es) == len(xs) and len(es) > 1:
                for a, b in zip(es, xs):
                    out.write({"t": "p", "doc": doc, "lang": lang, "eng": a, "text": b})
            else:
                out.write({"t": "p", "doc": doc, "lang": lang, "eng": etext, "text": items[kx][1]})
    out.close()
    meta.seconds = time.time() - t0
    write_json(meta_path("lo-help"), meta.to_json())
    log(f"lo-help: {out.rows} rows in {meta.seconds:.0f} s")
