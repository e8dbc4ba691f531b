"""Deterministic, resumable example streams and length-bucketed batches.

``MixedStream`` holds named sub-streams (e.g. ``translate:eng_Latn-fra_Latn``,
``ae:fra_Latn``), each walking a fresh permutation of its items every epoch;
a draw picks a sub-stream by weight, then that sub-stream's next item. Its
whole state is one counter per sub-stream.

``PooledBatcher`` turns draws into batches: it draws a pool of examples,
sorts them by length and packs them under a token budget (rows × longest row,
the padded size the model really computes), then shuffles the batches. Each
pool's randomness comes from ``random.Random(seed, pool index)``, so the
batcher's state is (pool index, batches already served, sub-stream counters at
the pool's start): a resumed run rebuilds the same pool and continues with the
same next batch, exactly as if it had never stopped.
"""
import itertools
import random
import zlib
from typing import Any, Callable, Dict, Generic, List, Optional, Sequence, Tuple, TypeVar

import numpy as np

E = TypeVar("E")


class MixedStream:
    """Weighted draws over named sub-streams of ``sizes[name]`` items (see the module docstring)."""

    def __init__(self, sizes: Dict[str, int], weights: Dict[str, float], seed: int):
        names = [n for n in sorted(sizes) if sizes[n] > 0 and weights.get(n, 0.0) > 0]
        if not names:
            raise ValueError("no sub-stream has both items and a positive weight; check the data and the task weights")
        self.names = names
        self.sizes = {n: sizes[n] for n in names}
        self.weights = [float(weights[n]) for n in names]
        # random.choices accumulates the weights on every call; passing the sums draws exactly the same
        # (it computes list(accumulate(weights)) itself) without that cost, a quarter of a GPU run's batching
        self.cum_weights = list(itertools.accumulate(self.weights))
        self.seed = seed
        self.cursors: Dict[str, int] = {n: 0 for n in names}
        self._perm: Dict[str, Tuple[int, np.ndarray]] = {}

    def _permutation(self, name: str, epoch: int) -> np.ndarray:
        cached = self._perm.get(name)
        if cached is None or cached[0] != epoch:
            key = [self.seed, zlib.crc32(name.encode("utf-8")), epoch]
            cached = (epoch, np.random.default_rng(key).permutation(self.sizes[name]))
            self._perm[name] = cached
        return cached[1]

    def draw(self, rng: random.Random) -> Tuple[str, int]:
        """(sub-stream, item index); advances that sub-stream's counter."""
        name = rng.choices(self.names, cum_weights=self.cum_weights)[0]
        count = self.cursors[name]
        epoch, i = divmod(count, self.sizes[name])
        self.cursors[name] = count + 1
        return name, int(self._permutation(name, epoch)[i])


class PooledBatcher(Generic[E]):
    """Length-bucketed batches over a ``MixedStream`` (see the module docstring)."""

    def __init__(
        self, stream: MixedStream, make: Callable[[str, int, random.Random], Optional[E]], length: Callable[[E], int],
        budget: int, pool_size: int, seed: int, max_rows: int = 1 << 30,
    ):
        if budget < 1 or pool_size < 1:
            raise ValueError("budget and pool_size must be positive")
        self.stream = stream
        self.make = make
        self.length = length
        self.budget = budget
        self.pool_size = pool_size
        self.seed = seed
        self.max_rows = max_rows
        self.pool_index = -1
        self.batch_in_pool = 0
        self.cursors_at_pool_start: Dict[str, int] = dict(stream.cursors)
        self._batches: List[List[E]] = []
        self.skipped = 0  # draws that produced no example (too long, empty …)

    def _build(self) -> None:
        rng = random.Random(self.seed * 1_000_003 + self.pool_index)
        self.cursors_at_pool_start = dict(self.stream.cursors)
        examples: List[Tuple[int, int, E]] = []
        attempts = 0
        while len(examples) < self.pool_size:
            attempts += 1
            if attempts > 20 * self.pool_size + 1000:
                raise RuntimeError("the data produced almost no usable examples (all too long or empty?)")
            name, idx = self.stream.draw(rng)
            ex = self.make(name, idx, rng)
            if ex is None:
                self.skipped += 1
                continue
            examples.append((self.length(ex), len(examples), ex))
        examples.sort(key=lambda e: (e[0], e[1]))
        batches: List[List[E]] = []
        cur: List[E] = []
        longest = 0
        for n, _, ex in examples:
            if cur and ((len(cur) + 1) * max(longest, n) > self.budget or len(cur) >= self.max_rows):
                batches.append(cur)
                cur, longest = [], 0
            cur.append(ex)
            longest = max(longest, n)
        if cur:
            batches.append(cur)
        rng.shuffle(batches)
        self._batches = batches

    def __iter__(self) -> "PooledBatcher[E]":
        return self

    def __next__(self) -> List[E]:
        if self.pool_index < 0 or self.batch_in_pool >= len(self._batches):
            self.pool_index += 1
            self.batch_in_pool = 0
            self._build()
        batch = self._batches[self.batch_in_pool]
        self.batch_in_pool += 1
        return batch

    def state_dict(self) -> Dict[str, Any]:
        return {"pool_index": self.pool_index, "batch_in_pool": self.batch_in_pool,
                "cursors": dict(self.cursors_at_pool_start)}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.pool_index = int(state["pool_index"])
        if self.pool_index < 0:
            return
        unknown = set(state["cursors"]) - set(self.stream.cursors)
        if unknown:
            raise SystemExit(f"the checkpoint's data streams {sorted(unknown)} are not in the data any more; "
                             "the data changed since the run started: resume is not exact, start with --fresh")
        self.stream.cursors.update({k: int(v) for k, v in state["cursors"].items()})
        self._build()
        self.batch_in_pool = int(state["batch_in_pool"])


def language_weights(counts: Dict[str, int], alpha: float) -> Dict[str, float]:
    """Temperature sampling over languages (XLM, Conneau & Lample 2019): p ∝ n^alpha, normalized."""
    raw = {k: float(v) ** alpha for k, v in counts.items() if v > 0}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}


def pad_rows(rows: Sequence[Sequence[int]], pad: int, fill: Optional[int] = None) -> Tuple[List[List[int]], List[List[int]]]:
    """Right-pad int rows to the longest; returns (padded rows, attention mask)."""
    t = max(len(r) for r in rows)
    value = pad if fill is None else fill
    return ([list(r) + [value] * (t - len(r)) for r in rows], [[1] * len(r) + [0] * (t - len(r)) for r in rows])
