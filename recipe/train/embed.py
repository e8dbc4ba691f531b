"""Stage ``embed``: encode ``docs`` and ``summaries`` with the trained SONAR encoder into float16 shards.

``runs/embed/<kind>.<split>.<k>.npy`` holds the vectors [n, E] of rows
``k·rows_per_shard …`` of ``data/<kind>.<split>.jsonl``, in order;
``<kind>.<split>.<k>.json`` (written after the array: it is the shard's
"done" marker) indexes them: docs rows ``{doc, lang, start, n}``, summaries
rows ``{doc, lang, start, nDocument, nSummary}`` (document vectors, then
summary vectors). A rerun skips finished shards, so the stage resumes; shards
made by another SONAR checkpoint are refused (rerun with ``--fresh``).

``specials.json`` holds the vectors of the end-of-text sentence and the
instruction markers (eng_Latn), which the LCM stages add to sequences: the
engine encodes the same texts with the exported encoder.
"""
import dataclasses
import glob
import os
import shutil
import time
from typing import Any, Dict, Iterator, List, Tuple

import numpy as np
import torch

from . import sonar as sonar_stage
from . import tokenizer as tokstage
from .common import SPLITS, Work, atomic_numpy_save, log, read_json, read_jsonl, write_json
from .decode import encode_texts

KINDS = ("docs", "summaries")
EOT_TEXT = "End of text."  # LCM paper / reference generator: the stopping sentence
MARKERS = {"summarize": "[SUMMARY]:", "expand": "[EXPAND]:"}  # instruction markers (eng_Latn)
SPECIAL_LANG = "eng_Latn"


@dataclasses.dataclass
class EmbedConfig:
    batch: int = 256
    rows_per_shard: int = 2000
    max_tokens: int = 256  # capped by the encoder's positions; the segmenter's 200-character cap stays below


def _rows_sentences(kind: str, row: Dict[str, Any]) -> List[str]:
    return list(row["sentences"]) if kind == "docs" else [*row["document"], *row["summary"]]


def _chunks(path: str, size: int) -> Iterator[Tuple[int, List[Dict[str, Any]]]]:
    chunk: List[Dict[str, Any]] = []
    k = 0
    for row in read_jsonl(path):
        chunk.append(row)
        if len(chunk) == size:
            yield k, chunk
            chunk, k = [], k + 1
    if chunk:
        yield k, chunk


def run(work: Work, cfg: EmbedConfig, device: torch.device, fresh: bool) -> Dict[str, Any]:
    out = os.path.join(work.runs, "embed")
    if fresh and os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)
    encoder, _, scfg, info = sonar_stage.load_trained(work)
    encoder.to(device)
    tok, _ = tokstage.load(work)
    ident = {"checkpoint": os.path.relpath(info["checkpoint"], work.root), "step": info["step"]}
    state_path = os.path.join(out, "state.json")
    prev = read_json(state_path) if os.path.exists(state_path) else None
    max_tokens = min(cfg.max_tokens, scfg.max_positions - 2)
    t0 = time.perf_counter()
    wall_before = float(prev.get("wallSeconds", 0.0)) if prev else 0.0
    counts: Dict[str, int] = {}
    made = 0
    for kind in KINDS:
        for split in SPLITS:
            path = work.data_file(kind, split)
            if not os.path.exists(path):
                continue
            n_vec = 0
            for k, rows in _chunks(path, cfg.rows_per_shard):
                base = os.path.join(out, f"{kind}.{split}.{k:05d}")
                if os.path.exists(base + ".json"):
                    done = read_json(base + ".json")
                    if done.get("sonar") != ident:
                        raise SystemExit(f"{base}.json was made with SONAR {done.get('sonar')}, the current one is "
                                         f"{ident}; rerun `recipe/run.py embed --fresh` to re-encode")
                    n_vec += sum(r["n"] if kind == "docs" else r["nDocument"] + r["nSummary"] for r in done["rows"])
                    continue
                items: List[Tuple[str, str]] = []
                index = []
                for row in rows:
                    sents = _rows_sentences(kind, row)
                    entry: Dict[str, Any] = {"doc": row["doc"], "lang": row["lang"], "start": len(items)}
                    if kind == "docs":
                        entry["n"] = len(sents)
                    else:
                        entry["nDocument"], entry["nSummary"] = len(row["document"]), len(row["summary"])
                    items.extend((s, row["lang"]) for s in sents)
                    index.append(entry)
                vec = encode_texts(encoder, tok, items, max_tokens, cfg.batch, device) if items \
                    else torch.zeros(0, scfg.model_dim)
                atomic_numpy_save(vec.numpy().astype(np.float16), base + ".npy")
                write_json(base + ".json", {"rows": index, "sonar": ident})
                n_vec += len(items)
                made += 1
                rate = n_vec / max(1e-9, time.perf_counter() - t0)
                log(f"[embed] {kind}.{split} shard {k}: {len(items)} sentences ({rate:,.0f}/s)")
            counts[f"{kind}.{split}"] = n_vec
    specials = {EOT_TEXT: EOT_TEXT, **MARKERS}
    texts = list(dict.fromkeys(specials.values()))
    vec = encode_texts(encoder, tok, [(t, SPECIAL_LANG) for t in texts], max_tokens, cfg.batch, device)
    write_json(os.path.join(out, "specials.json"),
               {"lang": SPECIAL_LANG, "vectors": {t: vec[i].tolist() for i, t in enumerate(texts)}})
    wall = wall_before + time.perf_counter() - t0
    state = {"stage": "embed", "finished": True, "sonar": ident, "vectors": counts, "wallSeconds": round(wall, 1),
             "shardsMadeThisRun": made}
    write_json(state_path, state)
    log(f"[embed] {sum(counts.values())} vectors ({made} new shards) → {out}")
    return state


def shards(work: Work, kind: str, split: str) -> List[Tuple[str, List[Dict[str, Any]]]]:
    """(npy path, index rows) of every finished shard of ``kind.split``, in order."""
    out = []
    for j in sorted(glob.glob(os.path.join(work.runs, "embed", f"{kind}.{split}.*.json"))):
        out.append((j[:-5] + ".npy", read_json(j)["rows"]))
    return out


def specials(work: Work) -> Dict[str, np.ndarray]:
    """Raw vectors of "End of text." and the markers, by text."""
    data = read_json(work.require_stage("embed", "specials.json"))
    return {t: np.asarray(v, dtype=np.float32) for t, v in data["vectors"].items()}
