"""The `data` stage of the default-pack recipe: fetch, extract, clean, deduplicate and split offline text.

Run from the repository root with Debian's Python (puts `recipe/` on sys.path itself):

    /usr/bin/python3 recipe/data/build.py [--sources a,b] [--languages fra_Latn,...] [--max-per-source N] [--force]
    /usr/bin/python3 recipe/data/build.py --selftest      # cleaning rules on built-in examples (seconds)
    /usr/bin/python3 recipe/data/build.py --survey        # usable pairs per candidate language, per source

Writes `$CS_WORK/data/{parallel,mono,docs,summaries}.{train,valid,test}.jsonl` and `sources.json`
(docs/recipe.md, "Data contract"; docs/data.md has the measured run). Extraction of each source is cached in
`$CS_WORK/raw/extracted/<source>.jsonl` (its resume marker; `--force` redoes it); the build pass after it
(clean, language id, dedup, split, write) always reruns over all selected sources, in order, because
deduplication keeps the first document that holds a text.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.clean import MAX_CHARS, clean_text, dedup_key, letter_share, mono_reason, normalize, pair_reason, word_count  # noqa: E402
from data.common import (CANDIDATES, DATA, ENG, SPLITS, TMP, JsonlWriter, digest, extracted_path, fasttext_label,  # noqa: E402
                         log, meta_path, npm_unpack, read_jsonl, split_of, write_json, CS_WORK, REPO)

#: Sources in order of value (docs/data.md): earlier sources win deduplication.
SOURCE_ORDER = ("gettext", "lo-ui", "lo-help", "ddtp", "handbook", "sotu", "moby-dick", "brown", "pydoc")
#: English + the languages chosen by the measured counts (docs/data.md, "Languages").
DEFAULT_LANGUAGES = ("fra_Latn", "deu_Latn", "spa_Latn", "ita_Latn", "por_Latn", "rus_Cyrl", "ukr_Cyrl", "ell_Grek",
                     "zho_Hans", "jpn_Jpan", "kor_Hang", "hin_Deva", "arb_Arab", "heb_Hebr")
#: Bounds on disk and on imbalance: at most this many rows per English–xx pair, and per mono language
#: and source (per source, so that English prose from documents is not crowded out by UI strings).
CAP_PAIR = 300_000
CAP_MONO = 150_000
#: Documents need this many sentences to teach next-concept prediction anything.
MIN_DOC_SENTENCES = 3
#: A document is kept when at least this share of its sentences (of ≥ 3 words) pass language id.
DOC_LANGID_SHARE = 0.8
#: fastText decision: the expected label must be among the top 3, and no other label may be this sure.
LANGID_TOP = 3
LANGID_OTHER_MAX = 0.9


def extractor(name: str, languages: List[str]) -> Callable[[bool], None]:
    """The extraction function of a source (imported lazily so --selftest needs none of them)."""
    if name == "gettext":
        from data.src_gettext import extract_gettext
        return extract_gettext
    if name == "lo-ui":
        from data.src_gettext import extract_lo_ui
        return lambda force: extract_lo_ui(languages, force)
    if name == "lo-help":
        from data.src_lohelp import extract_lo_help
        return lambda force: extract_lo_help(languages, force)
    if name == "ddtp":
        from data.src_debian import extract_ddtp
        return lambda force: extract_ddtp(languages, force)
    if name == "handbook":
        from data.src_debian import extract_handbook
        return lambda force: extract_handbook(languages, force)
    from data.src_english import EXTRACTORS
    for n, fn in EXTRACTORS:
        if n == name:
            return fn
    raise SystemExit(f"unknown source {name!r}; known: {', '.join(SOURCE_ORDER)}")


# ---------------------------------------------------------------------------------------------------
# Language identification

class LangId:
    """fastText lid.176 over many texts at once, through recipe/data/langid.mjs."""

    def __init__(self) -> None:
        self.pkg = npm_unpack("fasttext.wasm.js")

    def run(self, texts: List[str]) -> List[List[Tuple[str, float]]]:
        """Top-3 (label, probability) per text."""
        if not texts:
            return []
        TMP.mkdir(parents=True, exist_ok=True)
        src, dst = TMP / "langid.in.txt", TMP / "langid.out.tsv"
        with src.open("w", encoding="utf-8") as f:
            for t in texts:
                f.write(t.replace("\n", " ") + "\n")
        subprocess.run(["node", str(REPO / "recipe" / "data" / "langid.mjs"), str(self.pkg["dir"]), str(src), str(dst)],
                       check=True, capture_output=True, text=True)
        out = []
        for line in dst.read_text(encoding="utf-8").splitlines():
            cells = line.split()
            out.append([(cells[i], float(cells[i + 1])) for i in range(0, len(cells), 2)])
        src.unlink()
        dst.unlink()
        if len(out) != len(texts):
            raise RuntimeError(f"langid returned {len(out)} rows for {len(texts)} texts")
        return out


def langid_ok(top: List[Tuple[str, float]], lang: str) -> bool:
    """Expected language among the top 3 and no other language ≥ 0.9 sure."""
    want = fasttext_label(lang)
    labels = [label for label, _p in top[:LANGID_TOP]]
    if want not in labels:
        return False
    return not (labels[0] != want and top[0][1] >= LANGID_OTHER_MAX)


# ---------------------------------------------------------------------------------------------------
# The build pass

class Counts:
    """rows[kind][lang][split] and dropped[kind][reason] of one source."""

    def __init__(self) -> None:
        self.rows: Dict[str, Dict[str, Dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        self.dropped: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def keep(self, kind: str, lang: str, split: str) -> None:
        self.rows[kind][lang][split] += 1

    def drop(self, kind: str, reason: str, n: int = 1) -> None:
        self.dropped[kind][reason] += n

    def to_json(self) -> Dict[str, Any]:
        return {"rows": {k: {lang: dict(s) for lang, s in sorted(v.items())} for k, v in self.rows.items()},
                "dropped": {k: dict(sorted(v.items())) for k, v in self.dropped.items()}}


class Builder:
    """Cleans, checks language, deduplicates and splits the sources' rows into the data files."""

    def __init__(self, languages: List[str], max_per_source: int, cap_pair: int, cap_mono: int) -> None:
        self.languages = languages
        self.all_langs = set(languages) | {ENG}
        self.max_per_source = max_per_source
        self.cap_pair, self.cap_mono = cap_pair, cap_mono
        self.langid = LangId()
        self.writers = {(kind, split): JsonlWriter(DATA / f"{kind}.{split}.jsonl")
                        for kind in ("parallel", "mono", "docs", "summaries") for split in SPLITS}
        self.seen: Dict[str, set] = {k: set() for k in ("parallel", "mono", "docs", "summaries")}
        self.owner: Dict[bytes, str] = {}  # sentence-level text (lang + dedup key) → split of its first document
        self.pair_count: Dict[str, int] = defaultdict(int)
        self.mono_count: Dict[Tuple[str, str], int] = defaultdict(int)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()

    def _claim(self, lang: str, text: str, split: str) -> bool:
        """Record that `text` lives in `split`; False if it already lives in another split (would leak)."""
        key = digest(lang + "\t" + dedup_key(text))
        have = self.owner.setdefault(key, split)
        return have == split

    def _mono(self, counts: Counts, doc: str, source: str, lang: str, text: str, split: str) -> None:
        if mono_reason(text, lang):
            return  # not counted as a drop: mono is a by-product of parallel rows and documents
        key = digest(lang + "\t" + dedup_key(text))
        if key in self.seen["mono"]:
            return
        if self.mono_count[(lang, source)] >= self.cap_mono:
            counts.drop("mono", "cap")
            return
        if not self._claim(lang, text, split):
            counts.drop("mono", "cross_split")
            return
        self.seen["mono"].add(key)
        self.mono_count[(lang, source)] += 1
        self.writers[("mono", split)].write({"doc": doc, "source": source, "lang": lang, "text": text})
        counts.keep("mono", lang, split)

    def build_source(self, source: str) -> Dict[str, Any]:
        t0 = time.time()
        counts = Counts()
        path = extracted_path(source)
        pairs: List[Tuple[str, str, str, str]] = []       # doc, lang, eng, text
        docs: List[Tuple[str, str, List[str]]] = []       # doc, lang, sentences
        sums: List[Tuple[str, str, List[str], List[str]]] = []  # doc, lang, summary, document
        for n, row in enumerate(read_jsonl(path)):
            if self.max_per_source and n >= self.max_per_source:
                break
            lang = row["lang"]
            if lang not in self.all_langs:
                continue
            if row["t"] == "p":
                eng, text = clean_text(row["eng"], interior="mark"), clean_text(row["text"], interior="mark")
                reason = pair_reason(eng, text, lang)
                if reason:
                    counts.drop("parallel", reason)
                else:
                    pairs.append((row["doc"], lang, eng, text))
            elif row["t"] == "d":
                sents = self._doc_sentences(row["sentences"], lang, counts, "docs")
                if len(sents) >= MIN_DOC_SENTENCES:
                    docs.append((row["doc"], lang, sents))
                else:
                    counts.drop("docs", "too_few_sentences")
            elif row["t"] == "s":
                summary = self._doc_sentences(row["summary"], lang, counts, "summaries")
                document = self._doc_sentences(row["document"], lang, counts, "summaries")
                if not summary or len(document) < 2:
                    counts.drop("summaries", "too_short")
                elif max(len(x) for x in summary) > MAX_CHARS:
                    counts.drop("summaries", "summary_too_long")  # synopses are not segmented: keep the 200 cap
                else:
                    sums.append((row["doc"], lang, summary, document))
        log(f"{source}: cleaned → {len(pairs)} pairs, {len(docs)} docs, {len(sums)} summaries; language id …")
        verdict = self._langid(pairs, docs, sums)

        for doc, lang, eng, text in pairs:
            if not (verdict[(ENG, eng)] and verdict[(lang, text)]):
                counts.drop("parallel", "langid")
                continue
            split = split_of(doc)
            key = digest(f"{lang}\t{dedup_key(eng)}\t{dedup_key(text)}")
            if key in self.seen["parallel"]:
                counts.drop("parallel", "duplicate")
                continue
            if self.pair_count[lang] >= self.cap_pair:
                counts.drop("parallel", "cap")
                continue
            if not (self._claim(ENG, eng, split) and self._claim(lang, text, split)):
                counts.drop("parallel", "cross_split")
                continue
            self.seen["parallel"].add(key)
            self.pair_count[lang] += 1
            self.writers[("parallel", split)].write({"doc": doc, "source": source, "pair": {ENG: eng, lang: text}})
            counts.keep("parallel", lang, split)
            self._mono(counts, doc, source, ENG, eng, split)
            self._mono(counts, doc, source, lang, text, split)

        for doc, lang, sents in docs:
            if not self._doc_passes(lang, sents, verdict):
                counts.drop("docs", "langid")
                continue
            key = digest(lang + "\t" + "\n".join(dedup_key(s) for s in sents))
            if key in self.seen["docs"]:
                counts.drop("docs", "duplicate")
                continue
            self.seen["docs"].add(key)
            split = split_of(doc)
            self.writers[("docs", split)].write({"doc": doc, "source": source, "lang": lang, "sentences": sents})
            counts.keep("docs", lang, split)
            for s in sents:
                if verdict.get((lang, s), False):
                    self._mono(counts, doc, source, lang, s, split)

        for doc, lang, summary, document in sums:
            if not (self._doc_passes(lang, summary, verdict) and self._doc_passes(lang, document, verdict)):
                counts.drop("summaries", "langid")
                continue
            key = digest(lang + "\t" + "\n".join(dedup_key(s) for s in summary + ["\x00"] + document))
            if key in self.seen["summaries"]:
                counts.drop("summaries", "duplicate")
                continue
            self.seen["summaries"].add(key)
            split = split_of(doc)
            self.writers[("summaries", split)].write(
                {"doc": doc, "source": source, "lang": lang, "document": document, "summary": summary})
            counts.keep("summaries", lang, split)
        result = counts.to_json()
        result["build_seconds"] = round(time.time() - t0, 1)
        log(f"{source}: built in {result['build_seconds']} s")
        return result

    @staticmethod
    def _doc_sentences(raw: List[str], lang: str, counts: Counts, kind: str) -> List[str]:
        """A document's sentences, normalized; mostly non-letter ones (code, tables) dropped and counted."""
        out = []
        for s in raw:
            s = normalize(s)
            if not s:
                continue
            if letter_share(s, lang) < 0.5:
                counts.drop(kind, "sentence_non_letters")
                continue
            out.append(s)
        return out

    def _doc_passes(self, lang: str, sents: List[str], verdict: Dict[Tuple[str, str], bool]) -> bool:
        checked = [verdict[(lang, s)] for s in sents if (lang, s) in verdict]
        return not checked or sum(checked) >= DOC_LANGID_SHARE * len(checked)

    def _langid(self, pairs: List[Tuple[str, str, str, str]], docs: List[Tuple[str, str, List[str]]],
                sums: List[Tuple[str, str, List[str], List[str]]]) -> Dict[Tuple[str, str], bool]:
        """Verdict per (lang, text) for every pair side and every document sentence of ≥ 3 words."""
        todo: Dict[Tuple[str, str], None] = {}
        for _doc, lang, eng, text in pairs:
            todo[(ENG, eng)] = None
            todo[(lang, text)] = None
        for _doc, lang, sents in docs:
            for s in sents:
                if word_count(s, lang) >= 3:
                    todo[(lang, s)] = None
        for _doc, lang, summary, document in sums:
            for s in summary + document:
                if word_count(s, lang) >= 3:
                    todo[(lang, s)] = None
        keys = list(todo)
        tops = self.langid.run([t for _l, t in keys])
        return {k: langid_ok(top, k[0]) for k, top in zip(keys, tops)}


def survey(languages: List[str]) -> None:
    """Print usable parallel pairs per language and source, from the last build's sources.json."""
    path = DATA / "sources.json"
    if not path.exists():
        raise SystemExit(f"{path} does not exist: run the build first (it counts pairs after cleaning)")
    info = json.loads(path.read_text(encoding="utf-8"))
    names = [s["name"] for s in info["sources"]]
    print("lang      " + " ".join(f"{n:>9}" for n in names) + "     total")
    for lang in languages:
        cells = [sum(s["rows"].get("parallel", {}).get(lang, {}).values()) for s in info["sources"]]
        print(f"{lang:9} " + " ".join(f"{c:9d}" for c in cells) + f" {sum(cells):9d}")


# ---------------------------------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sources", default=",".join(SOURCE_ORDER), help="comma list, in order of precedence")
    ap.add_argument("--languages", default=",".join(DEFAULT_LANGUAGES), help="FLORES-200 codes besides eng_Latn")
    ap.add_argument("--max-per-source", type=int, default=0, help="read at most N extracted rows per source (0: all)")
    ap.add_argument("--cap-pair", type=int, default=CAP_PAIR)
    ap.add_argument("--cap-mono", type=int, default=CAP_MONO)
    ap.add_argument("--force", action="store_true", help="redo the extraction of the selected sources")
    ap.add_argument("--extract-only", action="store_true")
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--survey", action="store_true")
    args = ap.parse_args(argv)
    if args.selftest:
        from data.selftest import selftest
        selftest()
        return 0
    languages = [lang for lang in args.languages.split(",") if lang and lang != ENG]
    bad = [lang for lang in languages if lang not in CANDIDATES]
    if bad:
        raise SystemExit(f"--languages: {bad} not among the candidates {CANDIDATES} (add them to CANDIDATES and the source tables)")
    if args.survey:
        survey(languages)
        return 0
    sources = [s for s in args.sources.split(",") if s]
    t0 = time.time()
    for s in sources:
        t = time.time()
        extractor(s, languages)(args.force)
        if time.time() - t > 1:
            log(f"extracted {s} in {time.time() - t:.0f} s")
    if args.extract_only:
        return 0
    builder = Builder(languages, args.max_per_source, args.cap_pair, args.cap_mono)
    results = []
    for s in sources:
        meta = json.loads(meta_path(s).read_text(encoding="utf-8"))
        results.append({**meta, **builder.build_source(s)})
    builder.close()
    totals: Dict[str, Dict[str, Dict[str, int]]] = {}
    for r in results:
        for kind, langs in r["rows"].items():
            for lang, splits in langs.items():
                for split, n in splits.items():
                    totals.setdefault(kind, {}).setdefault(lang, {}).setdefault(split, 0)
                    totals[kind][lang][split] += n
    write_json(DATA / "sources.json", {
        "command": ("/usr/bin/python3 recipe/data/build.py " + " ".join(sys.argv[1:] if argv is None else argv)).strip(),
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(time.time() - t0, 1),
        "cs_work": str(CS_WORK), "languages": [ENG, *languages], "split": "sha1(doc) % 100: <96 train, <98 valid, else test",
        "langid": {"model": f"fastText lid.176 (npm fasttext.wasm.js {builder.langid.pkg['version']})",
                   "rule": f"expected label in top {LANGID_TOP} and no other label ≥ {LANGID_OTHER_MAX}; documents keep "
                           f"if ≥ {DOC_LANGID_SHARE:.0%} of sentences of ≥ 3 words pass"},
        "sources": results, "totals": totals,
    })
    log(f"done in {time.time() - t0:.0f} s; {DATA}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
