"""Greedy and beam search over the lcmref SONAR decoder, with the engine's semantics, for the benchmark.

The rules are src/inference/sonar/search.ts (after fairseq2's
``BeamSearchSeq2SeqGenerator``, SONAR's default generator; docs/decoding.md):

- ``max_length`` counts new tokens with the closing eos; the token at that
  position is forced to eos. ``min_length`` (default 1) bans eos at new
  positions t < min_length − 1. ``banned`` ids are never generated.
- Log-probabilities are normalized over the whole vocabulary; bans come after.
- Greedy: argmax over the allowed ids (torch.argmax returns the first maximum,
  the engine's lowest-id tie rule); a row leaves the batch when it ends.
- Beam (k, length penalty lp, early stopping as fairseq2): per sentence the 2k
  best (row, token) candidates by cumulative log-probability; eos candidates
  ranked among the first k end with score (prompt log-prob + cum) /
  (prompt length − 1 + tokens + 1)^lp; the first k others continue; a sentence
  stops when k hypotheses have ended or at max_length.

Ties among equal candidate scores may be broken differently than the engine's
(torch.topk does not specify an order); with random float weights exact ties
do not occur, and the benchmark compares the tokens of both to show it.

Both run the decoder incrementally with its key/value cache (``SonarDecoder.step``),
gathering the cache rows of the hypotheses that continue, as the engine does.
"""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import torch
from torch import Tensor

from lcmref.sonar import SonarDecoder


@dataclass
class Hypothesis:
    tokens: List[int]  # generated ids, without prompt and eos
    score: float
    log_prob: float


def _start(decoder: SonarDecoder, vectors: Tensor, prompt: Sequence[int]) -> Tuple[Tensor, List[Tensor], List[Tensor], Tensor]:
    """Feed the prompt to every row: (last logits [B,V], cache keys, cache values, prompt log-prob [B] in float64)."""
    b = vectors.shape[0]
    ids = torch.tensor([list(prompt)] * b, dtype=torch.long)
    logits, keys, values = decoder.step(ids, vectors, *decoder.empty_cache(b))
    lp = torch.zeros(b, dtype=torch.float64)
    if len(prompt) > 1:  # fairseq2 counts log P(prompt[t] | prompt[:t]) for t ≥ 1 in every score
        logp = torch.log_softmax(logits[:, :-1].double(), dim=-1)
        lp = logp.gather(2, ids[:, 1:].unsqueeze(-1)).squeeze(-1).sum(dim=1)
    return logits[:, -1], keys, values, lp


def _ban_mask(vocab: int, banned: Sequence[int]) -> Tensor:
    allowed = torch.ones(vocab, dtype=torch.bool)
    if banned:
        allowed[torch.tensor(list(banned), dtype=torch.long)] = False
    return allowed


@torch.no_grad()
def greedy_search(decoder: SonarDecoder, vectors: Tensor, prompt: Sequence[int], eos: int, max_length: int,
                  banned: Sequence[int], min_length: int = 1) -> List[Hypothesis]:
    """Greedy decoding of each row of ``vectors`` [B, E]; one Hypothesis per row."""
    last, keys, values, _ = _start(decoder, vectors, prompt)
    vocab = last.shape[-1]
    allowed = _ban_mask(vocab, banned)
    b = vectors.shape[0]
    rows = list(range(b))  # sentence of each live row
    tokens: List[List[int]] = [[] for _ in range(b)]
    log_probs = [0.0] * b
    out: List[Hypothesis] = [Hypothesis([], 0.0, 0.0)] * b
    memory = vectors
    for t in range(max_length):
        allowed[eos] = t >= min_length - 1
        forced = t == max_length - 1
        lse = torch.logsumexp(last.double(), dim=-1)
        choice = torch.where(allowed, last, torch.tensor(float("-inf"))).argmax(dim=-1)
        keep: List[int] = []
        next_tokens: List[int] = []
        for r, sentence in enumerate(rows):
            token = eos if forced else int(choice[r])
            log_probs[sentence] += float(last[r, token]) - float(lse[r])
            if token == eos:
                out[sentence] = Hypothesis(tokens[sentence], log_probs[sentence] / (len(tokens[sentence]) + 1), log_probs[sentence])
            else:
                tokens[sentence].append(token)
                keep.append(r)
                next_tokens.append(token)
        if not keep:
            break
        if len(keep) != len(rows):
            index = torch.tensor(keep, dtype=torch.long)
            keys = [k.index_select(0, index) for k in keys]
            values = [v.index_select(0, index) for v in values]
            memory = memory.index_select(0, index)
        rows = [rows[r] for r in keep]
        logits, keys, values = decoder.step(torch.tensor(next_tokens).unsqueeze(1), memory, keys, values)
        last = logits[:, -1]
    return out


@torch.no_grad()
def beam_search(decoder: SonarDecoder, vectors: Tensor, prompt: Sequence[int], eos: int, max_length: int,
                banned: Sequence[int], beam_size: int = 5, length_penalty: float = 1.0,
                min_length: int = 1) -> List[List[Hypothesis]]:
    """fairseq2 beam search (early stopping) for each row of ``vectors`` [B, E]; the ended hypotheses, best first."""
    last, keys, values, prompt_lp = _start(decoder, vectors, prompt)
    vocab = last.shape[-1]
    allowed = _ban_mask(vocab, banned)
    k = beam_size
    b = vectors.shape[0]
    ended: List[List[Hypothesis]] = [[] for _ in range(b)]
    # live hypotheses, grouped by sentence in order: (sentence, tokens, cumulative log-prob)
    live: List[Tuple[int, List[int], float]] = [(s, [], 0.0) for s in range(b)]
    memory = vectors
    neg_inf = torch.tensor(float("-inf"), dtype=torch.float64)
    for t in range(max_length):
        allowed[eos] = t >= min_length - 1
        forced = t == max_length - 1
        logp = torch.log_softmax(last.double(), dim=-1)
        cum = torch.tensor([h[2] for h in live], dtype=torch.float64).unsqueeze(1) + logp  # [rows, V]
        if forced:
            cand = torch.full_like(cum, float("-inf"))
            cand[:, eos] = cum[:, eos]
        else:
            cand = torch.where(allowed, cum, neg_inf)
        next_live: List[Tuple[int, List[int], float]] = []
        parents: List[int] = []
        a = 0
        while a < len(live):
            sentence = live[a][0]
            end = a
            while end < len(live) and live[end][0] == sentence:
                end += 1
            flat = cand[a:end].reshape(-1)
            n = min(2 * k, int(torch.isfinite(flat).sum()) if not forced else end - a)
            scores, idx = torch.topk(flat, n)
            continuing: List[Tuple[int, int, float]] = []
            for i in range(n):
                r, v, s = a + int(idx[i]) // vocab, int(idx[i]) % vocab, float(scores[i])
                if v != eos:
                    if len(continuing) < k:
                        continuing.append((r, v, s))
                elif i < k and len(ended[sentence]) < k:
                    toks = live[r][1]
                    length = len(prompt) - 1 + len(toks) + 1
                    ended[sentence].append(Hypothesis(toks, (float(prompt_lp[sentence]) + s) / length ** length_penalty, s))
            if not forced and len(ended[sentence]) < k:
                for r, v, s in continuing:
                    next_live.append((sentence, live[r][1] + [v], s))
                    parents.append(r)
            a = end
        if not next_live:
            break
        index = torch.tensor(parents, dtype=torch.long)
        keys = [x.index_select(0, index) for x in keys]
        values = [x.index_select(0, index) for x in values]
        memory = memory.index_select(0, index)
        logits, keys, values = decoder.step(torch.tensor([h[1][-1] for h in next_live]).unsqueeze(1), memory, keys, values)
        last = logits[:, -1]
        live = next_live
    return [sorted(h, key=lambda x: -x.score)[:k] for h in ended]
