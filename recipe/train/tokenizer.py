"""Stage ``tokenizer``: a SentencePiece unigram model on a language-balanced sample, and the pack's id map.

Sample: every text of ``mono``, ``parallel`` (both sides), ``docs`` and
``summaries`` (train split) counts for its language; each language keeps at
most ``sample / languages`` sentences (uniform, seeded), so English's larger
share of the data does not crowd out the other scripts' pieces.

SentencePiece settings: unigram, ``nmt_nfkc`` normalization, unk 0, bos 1,
eos 2, no pad (pad and the +1 shift are the pack's id map, as fairseq2 SONAR),
character coverage 0.9995 (the SentencePiece recommendation for CJK-rich
data). Default 12,000 pieces: a 256-wide model's output projection (V·d
multiply-adds per target token) is the decoder's largest cost on a CPU, and
12k still gives every listed script its common characters plus frequent words
and affixes (see docs/recipe.md, "Models and stages").

Writes ``runs/tokenizer/tokenizer.model`` and ``tokenizer.json``: the
languages (English first, then by code), their tag ids (after the pieces), the
id map and ``vocabSize`` (rounded up to a multiple of 8).
"""
import dataclasses
import hashlib
import os
import random
import re
import time
from collections import Counter
from typing import Dict, Iterator, Tuple

import sentencepiece as spm

from lcmref.tokenizer import PackTokenizer, TokenizerIds

from .common import REPO, Work, log, read_json, read_jsonl, write_json

IDS = TokenizerIds(pad=0, unk=1, bos=2, eos=3, pieceOffset=1, spmUnk=0, spmBos=1, spmEos=2)
HUB = "eng_Latn"


@dataclasses.dataclass
class TokenizerConfig:
    vocab_pieces: int = 12000
    sample: int = 1_000_000  # sentences in the balanced sample (SentencePiece's input_sentence_size)
    min_lang_sentences: int = 1000  # a language needs this many training sentences to get a tag
    character_coverage: float = 0.9995
    seed: int = 1
    threads: int = 2


def texts_by_language(work: Work, split: str = "train") -> Iterator[Tuple[str, str]]:
    """(lang, text) of every sentence in the data contract's files of ``split``."""
    for row in read_jsonl(work.data_file("mono", split)):
        yield row["lang"], row["text"]
    for row in read_jsonl(work.data_file("parallel", split)):
        for lang, text in row["pair"].items():
            yield lang, text
    for row in read_jsonl(work.data_file("docs", split)):
        for s in row["sentences"]:
            yield row["lang"], s
    for row in read_jsonl(work.data_file("summaries", split)):
        for s in [*row["document"], *row["summary"]]:
            yield row["lang"], s


def file_sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def language_names() -> Dict[str, str]:
    """FLORES-200 code → English name, read from src/shared/languages.ts (the one table the app uses)."""
    with open(os.path.join(REPO, "src", "shared", "languages.ts"), encoding="utf-8") as f:
        src = f.read()
    return {code: name for code, name in re.findall(r"\['([a-z]{3}_[A-Z][a-z]{3})', '([^']*)'", src)}


def round_up(n: int, multiple: int = 8) -> int:
    return (n + multiple - 1) // multiple * multiple


def run(work: Work, cfg: TokenizerConfig, fresh: bool = False) -> Dict[str, object]:
    out = work.run_dir("tokenizer")
    if not fresh and os.path.exists(os.path.join(out, "tokenizer.json")):
        log(f"[tokenizer] {out}/tokenizer.model exists; kept (every later stage depends on it: "
            "--fresh retrains it, and then sonar must start over too)")
        return read_json(os.path.join(out, "tokenizer.json"))
    work.require_data(["mono", "parallel"])
    t0 = time.perf_counter()
    counts: Counter = Counter()
    for lang, _ in texts_by_language(work):
        counts[lang] += 1
    known = language_names()
    unknown = sorted(l for l in counts if l not in known)
    if unknown:
        raise SystemExit(f"the data has language codes that are not SONAR codes: {unknown} (fix the data stage)")
    langs = sorted(l for l, n in counts.items() if n >= cfg.min_lang_sentences)
    if HUB not in langs:
        raise SystemExit(f"{HUB} (the hub) has fewer than {cfg.min_lang_sentences} sentences; check the data")
    langs = [HUB] + [l for l in langs if l != HUB]
    cap = max(1, cfg.sample // len(langs))
    rng = random.Random(cfg.seed)
    sample_path = os.path.join(out, "sample.txt")
    kept: Counter = Counter()
    with open(sample_path, "w", encoding="utf-8") as f:
        for lang, text in texts_by_language(work):
            if lang in langs and rng.random() < cap / counts[lang]:
                f.write(text.replace("\n", " ") + "\n")
                kept[lang] += 1
    log(f"[tokenizer] {len(langs)} languages, sample {sum(kept.values())} sentences "
        f"({', '.join(f'{l} {kept[l]}' for l in langs)})")
    prefix = os.path.join(out, "tokenizer")
    spm.SentencePieceTrainer.train(
        input=sample_path, model_prefix=prefix, vocab_size=cfg.vocab_pieces, model_type="unigram",
        character_coverage=cfg.character_coverage, normalization_rule_name="nmt_nfkc",
        unk_id=IDS.spmUnk, bos_id=IDS.spmBos, eos_id=IDS.spmEos, pad_id=-1,
        input_sentence_size=cfg.sample, shuffle_input_sentence=True, num_threads=cfg.threads,
        hard_vocab_limit=False,  # a small (smoke) corpus gets fewer pieces instead of an error
        minloglevel=2,
    )
    if os.path.exists(prefix + ".vocab"):
        os.remove(prefix + ".vocab")
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    pieces = sp.get_piece_size()
    first_tag = pieces - 1 + IDS.pieceOffset + 1  # the last piece's model id + 1
    tags = {l: first_tag + i for i, l in enumerate(langs)}
    vocab = round_up(first_tag + len(langs))
    spec = {"languages": langs, "names": {l: known[l] for l in langs}, "languageTokens": tags, "ids": IDS.to_json(),
            "vocabSize": vocab, "pieces": pieces, "sampleSentences": dict(kept), "dataSentences": dict(counts),
            "config": dataclasses.asdict(cfg)}
    write_json(os.path.join(out, "tokenizer.json"), spec)
    PackTokenizer(prefix + ".model", IDS, tags, vocab)  # validates the id map
    spec["sha256"] = file_sha256(prefix + ".model")
    write_json(os.path.join(out, "tokenizer.json"), spec)
    os.remove(sample_path)
    wall = time.perf_counter() - t0
    write_json(os.path.join(out, "state.json"), {"stage": "tokenizer", "finished": True, "wallSeconds": round(wall, 1),
                                                 "pieces": pieces, "vocabSize": vocab, "languages": langs})
    log(f"[tokenizer] {pieces} pieces, {len(langs)} tags from id {first_tag}, vocabSize {vocab} "
        f"({wall:.0f} s) → {prefix}.model")
    return spec


def load(work: Work) -> Tuple[PackTokenizer, Dict[str, object]]:
    """The trained tokenizer with the pack's id map, and its spec (tokenizer.json)."""
    spec_path = work.require_stage("tokenizer", "tokenizer.json")
    spec = read_json(spec_path)
    tok = PackTokenizer(os.path.join(work.runs, "tokenizer", "tokenizer.model"), TokenizerIds(**spec["ids"]),
                        spec["languageTokens"], spec["vocabSize"])
    return tok, spec
