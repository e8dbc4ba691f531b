"""Concept sequences for the LCM stages, read from the ``embed`` shards (memory-mapped float16).

``lcm``: windows of up to ``window`` consecutive concepts of a document
(documents longer than that are cut into consecutive windows), loss on
every position.

``finetune`` (LCM paper §2.5 / LCM-SPEC.md "Instruction format"), three kinds:

- ``sum``: ``[document…, "[SUMMARY]:", summary…, "End of text."]``, the
  document truncated to fit the window;
- ``exp``: ``[summary…, "[EXPAND]:", document…, "End of text."]``; a document
  that does not fit is truncated and then has no "End of text." (it did not end);
- ``plain``: the last ``window − 1`` concepts of a document + "End of text."
  (so that stopping is learnt on ordinary text too).

In ``sum`` and ``exp`` the loss covers only the target (after the marker, the
end-of-text concept included); ``plain`` trains every position. Every vector
here is raw SONAR space; ``Sequence.normalized`` applies the normalizer.
"""
import random
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from . import embed as embed_stage
from .common import Work


@dataclass
class Sequence:
    raw: np.ndarray  # [L, E] float32
    target: np.ndarray  # [L] bool: positions in the loss

    def __len__(self) -> int:
        return self.raw.shape[0]


class ShardStore:
    """The shards of one ``kind.split``: rows with their vectors, read lazily through memory maps."""

    def __init__(self, work: Work, kind: str, split: str):
        self.kind = kind
        self.arrays: List[np.ndarray] = []
        self.rows: List[Tuple[int, Dict]] = []  # (array index, index row)
        for i, (npy, rows) in enumerate(embed_stage.shards(work, kind, split)):
            self.arrays.append(np.load(npy, mmap_mode="r"))
            self.rows.extend((i, r) for r in rows)

    def __len__(self) -> int:
        return len(self.rows)

    def doc(self, i: int) -> np.ndarray:
        a, r = self.rows[i]
        n = r["n"] if self.kind == "docs" else r["nDocument"]
        return np.asarray(self.arrays[a][r["start"]:r["start"] + n], dtype=np.float32)

    def summary(self, i: int) -> np.ndarray:
        a, r = self.rows[i]
        s = r["start"] + r["nDocument"]
        return np.asarray(self.arrays[a][s:s + r["nSummary"]], dtype=np.float32)

    def length(self, i: int) -> int:
        r = self.rows[i][1]
        return r["n"] if self.kind == "docs" else r["nDocument"]


def doc_windows(store: ShardStore, window: int) -> np.ndarray:
    """[K, 3] int64 rows (doc index, start, end) of every window with at least 2 concepts."""
    out = []
    for i in range(len(store)):
        n = store.length(i)
        for s in range(0, n, window):
            if min(n, s + window) - s >= 2:
                out.append((i, s, min(n, s + window)))
    return np.asarray(out, dtype=np.int64).reshape(-1, 3)


class InstructionBuilder:
    """Builds the finetune sequences (module docstring) from summaries and docs stores."""

    def __init__(self, summaries: ShardStore, docs: ShardStore, specials: Dict[str, np.ndarray], window: int):
        self.summaries, self.docs, self.window = summaries, docs, window
        self.eot = specials[embed_stage.EOT_TEXT][None]
        self.mark = {"sum": specials[embed_stage.MARKERS["summarize"]][None],
                     "exp": specials[embed_stage.MARKERS["expand"]][None]}

    def build(self, kind: str, i: int) -> Optional[Sequence]:
        w = self.window
        if kind == "plain":
            d = self.docs.doc(i)[-(w - 1):]
            if len(d) < 1:
                return None
            return Sequence(np.concatenate([d, self.eot]), np.ones(len(d) + 1, dtype=bool))
        doc, summ = self.summaries.doc(i), self.summaries.summary(i)
        if len(doc) == 0 or len(summ) == 0:
            return None
        if kind == "sum":
            keep = min(len(doc), w - 2 - len(summ))
            if keep < 1:
                return None
            parts = [doc[:keep], self.mark["sum"], summ, self.eot]
            src = keep + 1
        else:
            room = w - 1 - len(summ)  # after summary + marker
            if room < 1:
                return None
            ended = len(doc) + 1 <= room
            body = doc if ended else doc[:room]
            parts = [summ, self.mark["exp"], body] + ([self.eot] if ended else [])
            src = len(summ) + 1
        raw = np.concatenate(parts)
        target = np.zeros(len(raw), dtype=bool)
        target[src:] = True
        return Sequence(raw, target)


def window_sequence(store: ShardStore, windows: np.ndarray, k: int) -> Sequence:
    i, s, e = (int(x) for x in windows[k])
    raw = store.doc(i)[s:e]
    return Sequence(raw, np.ones(len(raw), dtype=bool))


def eval_positions(seqs: List[Sequence], count: int, seed: int) -> List[Tuple[int, int]]:
    """Up to ``count`` (sequence, position ≥ 1) pairs on target positions, spread over the sequences (seeded)."""
    cands = [(j, n) for j, s in enumerate(seqs) for n in range(1, len(s)) if s.target[n]]
    rng = random.Random(seed)
    rng.shuffle(cands)
    return sorted(cands[:count])
