"""Residual vector quantization (RVQ) of concept vectors, the Quant-LCM's codebooks (LCM paper §2.3.4).

A stack of L codebooks of K centroids each, fitted level by level with k-means: level 0
quantizes the vectors, level l quantizes what levels < l left over (the residual). A vector
is encoded greedily (at each level the nearest centroid of the current residual) and decoded
as the sum of its L centroids. The paper uses 64 codebooks of 8192 units over SONAR space;
the shape here is whatever the pack needs (docs/variants.md).

Space: the codebooks quantize *normalized* vectors (the pack's SONAR normalizer applied), the
space the LCM reads and writes; ``decode`` returns normalized vectors, the engine denormalizes.

Exactness contract with src/inference/lcm/rvq.ts:
- residuals and the decoded sum are float32, summed level by level in order (0, 1, …, L−1);
- the nearest centroid is chosen on float64 squared distances Σ_e (r_e − c_ke)², summed over
  e in order; ties go to the lowest index.

Fitting is deterministic for a seed: initialisation by a seeded permutation of the points
(the first K rows), then ``iterations`` Lloyd steps (assignment by ``nearest_fast``, one matrix
product); an empty cluster keeps its previous centroid.
"""
from typing import Optional

import numpy as np
import torch
from torch import Tensor


class ResidualVQ:
    """Codebooks [L, K, E] float32 (normalized space)."""

    def __init__(self, codebooks: Tensor):
        if codebooks.dim() != 3:
            raise ValueError(f"codebooks must be [levels, size, dim], got shape {tuple(codebooks.shape)}")
        self.codebooks = codebooks.to(torch.float32).contiguous()

    @property
    def levels(self) -> int:
        return self.codebooks.shape[0]

    @property
    def size(self) -> int:
        return self.codebooks.shape[1]

    @property
    def dim(self) -> int:
        return self.codebooks.shape[2]

    @staticmethod
    def nearest(residual: Tensor, book: Tensor) -> Tensor:
        """Index of the nearest centroid per row: float64 squared distance summed over e in order, lowest index on ties."""
        r = residual.to(torch.float64).numpy()
        c = book.to(torch.float64).numpy()
        n, k = r.shape[0], c.shape[0]
        dist = np.zeros((n, k), dtype=np.float64)
        for e in range(r.shape[1]):  # sequential sum over e, the order the engine uses
            diff = r[:, e:e + 1] - c[None, :, e]
            dist = dist + diff * diff
        return torch.from_numpy(np.argmin(dist, axis=1).astype(np.int64))  # argmin returns the first minimum

    @staticmethod
    def nearest_fast(residual: Tensor, book: Tensor) -> Tensor:
        """Nearest centroid by ‖r‖² − 2 r·c + ‖c‖² in float64 (one matrix product): for fitting and training, where
        a near-tie may go either way; ``nearest`` is the engine's exact rule."""
        r = residual.to(torch.float64)
        c = book.to(torch.float64).to(r.device)
        d = (r * r).sum(-1, keepdim=True) - 2 * r @ c.T + (c * c).sum(-1).unsqueeze(0)
        return d.argmin(dim=1).cpu()

    def encode(self, x: Tensor, levels: Optional[int] = None, fast: bool = False) -> Tensor:
        """Normalized vectors [N, E] → codes int64 [N, L] (greedy, level by level). ``fast``: ``nearest_fast``."""
        levels = self.levels if levels is None else levels
        residual = x.to(torch.float32).cpu().clone()
        codes = []
        pick = self.nearest_fast if fast else self.nearest
        for lvl in range(levels):
            idx = pick(residual, self.codebooks[lvl])
            codes.append(idx)
            residual = residual - self.codebooks[lvl][idx]
        return torch.stack(codes, dim=1) if codes else torch.zeros(x.shape[0], 0, dtype=torch.long)

    def decode(self, codes: Tensor) -> Tensor:
        """Codes [N, l] (l ≤ L, the first l levels) → sum of centroids [N, E] float32, added in level order."""
        out = torch.zeros(codes.shape[0], self.dim, dtype=torch.float32)
        for lvl in range(codes.shape[1]):
            out = out + self.codebooks[lvl][codes[:, lvl]]
        return out

    def partial_sums(self, codes: Tensor) -> Tensor:
        """Codes [N, L] → [N, L, E]: entry l is the sum of the centroids of levels < l (zero at l = 0)."""
        sums = [torch.zeros(codes.shape[0], self.dim, dtype=torch.float32)]
        for lvl in range(codes.shape[1] - 1):
            sums.append(sums[-1] + self.codebooks[lvl][codes[:, lvl]])
        return torch.stack(sums, dim=1)

    def quantize(self, x: Tensor) -> Tensor:
        """x → decode(encode(x)): what the decoder is fine-tuned on (paper: decoder on quantized inputs)."""
        return self.decode(self.encode(x))

    def to_bytes(self) -> bytes:
        """codebooks.bin: little-endian float32, row-major [L, K, E] (no header; the manifest gives the shape)."""
        return self.codebooks.numpy().astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, levels: int, size: int, dim: int) -> "ResidualVQ":
        want = levels * size * dim * 4
        if len(data) != want:
            raise ValueError(f"codebooks.bin has {len(data)} bytes; levels × size × dim × 4 = {want}")
        arr = np.frombuffer(data, dtype="<f4").reshape(levels, size, dim).copy()
        return cls(torch.from_numpy(arr))


def kmeans(x: Tensor, k: int, iterations: int, generator: torch.Generator) -> Tensor:
    """Lloyd's k-means on float32 rows [N, E] → centroids [k, E]; seeded initialisation by permutation."""
    n = x.shape[0]
    if n < k:
        raise ValueError(f"k-means needs at least k = {k} vectors, got {n}: use fewer units per codebook or more data")
    perm = torch.randperm(n, generator=generator)
    centroids = x[perm[:k]].clone()
    for _ in range(iterations):
        assign = ResidualVQ.nearest_fast(x, centroids)
        sums = torch.zeros(k, x.shape[1], dtype=torch.float64).index_add_(0, assign, x.to(torch.float64))
        counts = torch.bincount(assign, minlength=k)
        filled = counts > 0
        centroids[filled] = (sums[filled] / counts[filled].unsqueeze(1)).to(torch.float32)
    return centroids


def fit_rvq(x: Tensor, levels: int, size: int, iterations: int = 20, seed: int = 0) -> ResidualVQ:
    """Fit L codebooks of K units level by level on normalized vectors [N, E] (deterministic for a seed)."""
    if levels < 1 or size < 2:
        raise ValueError(f"RVQ needs levels ≥ 1 and size ≥ 2, got levels={levels}, size={size}")
    g = torch.Generator().manual_seed(seed)
    residual = x.to(torch.float32).clone()
    books = []
    for _ in range(levels):
        c = kmeans(residual, size, iterations, g)
        books.append(c)
        residual = residual - c[ResidualVQ.nearest_fast(residual, c)]
    return ResidualVQ(torch.stack(books))


def reconstruction_error(rvq: ResidualVQ, x: Tensor) -> float:
    """Mean squared error per dimension of decode(encode(x)) against x (normalized space)."""
    return float((rvq.quantize(x) - x.to(torch.float32)).pow(2).mean())


__all__ = ["ResidualVQ", "fit_rvq", "kmeans", "reconstruction_error"]
