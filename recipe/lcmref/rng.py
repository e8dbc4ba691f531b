"""Seeded random numbers, bit-compatible with src/inference/rng.ts.

xoshiro128** seeded by splitmix32; uniform() builds a double from 53 bits of
two draws; normal() is Box-Muller using both outputs in turn. The engine and
the reference modules therefore draw the same diffusion noise for a seed.
"""
import math

import torch

M32 = 0xFFFFFFFF


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & M32


class Rng:
    def __init__(self, seed: int):
        if not (isinstance(seed, int) and 0 <= seed <= M32):
            raise ValueError(f"seed must be an integer from 0 to {M32}")
        s = seed
        words = []
        for _ in range(4):
            s = (s + 0x9E3779B9) & M32
            z = s
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            words.append((z ^ (z >> 16)) & M32)
        self.s = words
        self._spare = None

    def next_uint32(self) -> int:
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & M32, 7) * 9) & M32
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def uniform(self) -> float:
        a = self.next_uint32() >> 5
        b = self.next_uint32() >> 6
        return (a * 67108864 + b) / 9007199254740992

    def normal(self) -> float:
        if self._spare is not None:
            v, self._spare = self._spare, None
            return v
        u1 = 1.0 - self.uniform()
        u2 = self.uniform()
        r = math.sqrt(-2.0 * math.log(u1))
        theta = 2.0 * math.pi * u2
        self._spare = r * math.sin(theta)
        return r * math.cos(theta)

    def normal_tensor(self, *shape: int, scale: float = 1.0) -> torch.Tensor:
        """Row-major fill, float64 deviates times scale rounded to float32, as Rng.fillNormal does."""
        n = 1
        for d in shape:
            n *= d
        return torch.tensor([self.normal() * scale for _ in range(n)], dtype=torch.float64).to(torch.float32).reshape(shape)
