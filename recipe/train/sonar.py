"""Stage ``sonar``: train the SONAR-style encoder and decoder (recipe/lcmref/sonar.py), SONAR's way.

Every example goes through the bottleneck: the encoder's mean-pooled vector
of ``[src_lang] pieces… </s>`` is the decoder's only memory, and the decoder
is teacher-forced on ``</s> [tgt_lang] pieces…`` to predict ``pieces… </s>``
(the tag is given at inference, so it is not a target). Tasks (SONAR paper,
Duquenne et al. 2023, §3):

- ``tr``: translation of a parallel pair, direction drawn 50/50 per example
  (pairs pivot through English, so this is en→xx and xx→en);
- ``ae``: auto-encoding of a sentence (mono text and both sides of pairs);
- ``dae``: denoising auto-encoding: pieces dropped (``dae_drop``), replaced by
  ``<unk>`` (``dae_mask``) and shuffled locally (each moves < ``dae_shuffle``
  places; Lample et al. 2018's noise);
- optional ``mse_weight`` × MSE between the two sides' vectors of a
  translation pair (SONAR's cross-lingual alignment term).

Languages are sampled with temperature (p ∝ n^``lang_alpha``) inside each task.
Cross-entropy with label smoothing 0.1; AdamW; warmup + inverse sqrt. Encoder
and decoder share one embedding matrix (``tie_encoder_decoder``), which is
also the decoder's output projection (lcmref ties that one already); the
export writes the same matrix into both graphs.

Every ``eval_every`` steps: greedy round-trip chrF on up to ``eval_sentences``
held-out (valid) sentences of 5–25 words per language, translation chrF en→xx
and xx→en on ``eval_translate`` pairs per language; ``score`` = mean
round-trip chrF picks ``best.pt``.
"""
import dataclasses
import os
import random
import time
from collections import defaultdict
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lcmref.sonar import SonarConfig, SonarDecoder, SonarEncoder
from lcmref.tokenizer import PackTokenizer

from . import tokenizer as tokstage
from .common import Work, log, read_jsonl, word_count
from .decode import decode_vectors, encode_ids
from .forward import encode, token_cross_entropy
from .metrics import corpus_chrf
from .streams import MixedStream, PooledBatcher, language_weights, pad_rows

IGNORE = -100
SHAPE_KEYS = ("model_dim", "enc_layers", "dec_layers", "heads", "ffn_dim", "max_positions", "tie_encoder_decoder")


@dataclasses.dataclass
class SonarTrainConfig:
    # shapes (docs/recipe.md, "Models and stages", says why these)
    model_dim: int = 256
    enc_layers: int = 4
    dec_layers: int = 3
    heads: int = 4
    ffn_dim: int = 1024
    max_positions: int = 258  # positions 2…257: sentences up to 256 tokens in the exported graphs
    tie_encoder_decoder: bool = True
    # data
    max_len: int = 64  # tokens per training sequence, tag and </s> included; longer sentences are skipped
    batch_tokens: int = 2048  # rows × longest row per batch
    pool_size: int = 4000  # examples sorted together for length bucketing
    w_tr: float = 0.5
    w_ae: float = 0.2
    w_dae: float = 0.3
    lang_alpha: float = 0.5
    dae_drop: float = 0.1
    dae_mask: float = 0.1
    dae_shuffle: int = 3
    mse_weight: float = 0.0
    label_smoothing: float = 0.1
    # optimisation
    steps: int = 100_000
    lr: float = 1e-3
    lr_schedule: str = "inverse_sqrt"
    warmup: int = 2000
    min_lr_ratio: float = 0.0
    weight_decay: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.98
    clip: float = 1.0
    # bookkeeping
    eval_every: int = 1000
    eval_sentences: int = 100
    eval_translate: int = 20
    eval_batch: int = 64
    log_every: int = 20
    ckpt_minutes: float = 5.0
    seed: int = 1
    tokenizer_sha256: str = ""  # set at the start; a resumed run refuses another tokenizer
    # speed options (off by default; recipe/device/ turns them on for a lent GPU)
    pretokenize_threads: int = 0  # > 0: tokenize every training sentence once at the start (SentencePiece's own
    #                               threads); the per-example call is the data pipeline's largest cost on a GPU
    fit_to_minutes: bool = False  # with --max-minutes: set the target step to what fits the time (train/loop.py)


class SonarAutoencoder(nn.Module):
    """Encoder + decoder trained together; ``encoder``/``decoder`` keep lcmref's parameter names."""

    def __init__(self, cfg: SonarTrainConfig, vocab_size: int):
        super().__init__()
        enc = SonarConfig(vocab_size, cfg.model_dim, cfg.enc_layers, cfg.heads, cfg.ffn_dim, cfg.max_positions)
        dec = SonarConfig(vocab_size, cfg.model_dim, cfg.dec_layers, cfg.heads, cfg.ffn_dim, cfg.max_positions)
        self.encoder = SonarEncoder(enc)
        self.decoder = SonarDecoder(dec)
        init_transformer(self, cfg.model_dim)
        if cfg.tie_encoder_decoder:
            self.encoder.encoder_frontend.embed.weight = self.decoder.decoder_frontend.embed.weight


def init_transformer(module: nn.Module, dim: int) -> None:
    """fairseq's transformer init: Xavier-uniform matrices, zero biases, embeddings N(0, 1/d) (× √d in forward)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("embed.weight"):
                p.normal_(0.0, dim ** -0.5)
                p[0].zero_()  # pad
            elif p.dim() >= 2:
                nn.init.xavier_uniform_(p)
            elif "layer_norm" in name and name.endswith("weight"):
                p.fill_(1.0)
            else:
                p.zero_()


def load_text_data(work: Work, split: str, langs: List[str]
                   ) -> Tuple[Dict[str, List[str]], Dict[str, List[Tuple[str, str]]]]:
    """Sentences by language (mono + both sides of pairs) and pairs by ``a|b`` (a, b in the tokenizer's languages)."""
    keep = set(langs)
    sentences: Dict[str, List[str]] = defaultdict(list)
    pairs: Dict[str, List[Tuple[str, str]]] = defaultdict(list)
    for row in read_jsonl(work.data_file("mono", split)):
        if row["lang"] in keep:
            sentences[row["lang"]].append(row["text"])
    for row in read_jsonl(work.data_file("parallel", split)):
        items = sorted((l, t) for l, t in row["pair"].items() if l in keep)
        for l, t in items:
            sentences[l].append(t)
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                pairs[f"{items[i][0]}|{items[j][0]}"].append((items[i][1], items[j][1]))
    return dict(sentences), dict(pairs)


def pretokenize(tok: PackTokenizer, sentences: Dict[str, List[str]], threads: int) -> Dict[str, List[int]]:
    """``tok.pieces(text)`` of every distinct sentence, encoded in one batch on ``threads`` SentencePiece threads."""
    t0 = time.perf_counter()
    texts = list(dict.fromkeys(t for rows in sentences.values() for t in rows))
    to_model = [tok.to_model_id(s) for s in range(tok.sp.get_piece_size())]
    ids = tok.sp.encode(texts, num_threads=threads)
    cache = {t: [to_model[s] for s in row] for t, row in zip(texts, ids)}
    log(f"[sonar] pretokenized {len(cache):,} sentences on {threads} thread(s) in {time.perf_counter() - t0:.1f} s")
    return cache


class SonarTask:
    name = "sonar"
    units = "tok"

    def __init__(self, work: Work, cfg: SonarTrainConfig, device: torch.device):
        self.cfg, self.device = cfg, device
        self.tok, spec = tokstage.load(work)
        self.langs: List[str] = list(spec["languages"])
        self.vocab = int(spec["vocabSize"])
        self.loss_columns = ["ce", "mse"] if cfg.mse_weight > 0 else ["ce"]
        self.sentences, self.pairs = load_text_data(work, "train", self.langs)
        log(f"[sonar] train data: {sum(map(len, self.sentences.values()))} sentences, "
            f"{sum(map(len, self.pairs.values()))} pairs over {len(self.langs)} languages")
        self._net: Optional[SonarAutoencoder] = None
        self._cache: Optional[Dict[str, List[int]]] = None
        if cfg.pretokenize_threads > 0:
            self._cache = pretokenize(self.tok, self.sentences, cfg.pretokenize_threads)
        self._build_eval(work)

    # ------------------------------------------------------------------ data

    def model(self) -> nn.Module:
        if self._net is None:
            self._net = SonarAutoencoder(self.cfg, self.vocab)
        return self._net

    def batches(self) -> PooledBatcher:
        cfg = self.cfg
        sizes: Dict[str, int] = {}
        weights: Dict[str, float] = {}
        pair_w = language_weights({k: len(v) for k, v in self.pairs.items()}, cfg.lang_alpha)
        sent_w = language_weights({k: len(v) for k, v in self.sentences.items()}, cfg.lang_alpha)
        for key, w in pair_w.items():
            sizes[f"tr:{key}"] = len(self.pairs[key])
            weights[f"tr:{key}"] = cfg.w_tr * w
        for lang, w in sent_w.items():
            for task, tw in (("ae", cfg.w_ae), ("dae", cfg.w_dae)):
                sizes[f"{task}:{lang}"] = len(self.sentences[lang])
                weights[f"{task}:{lang}"] = tw * w
        stream = MixedStream(sizes, weights, cfg.seed)
        return PooledBatcher(stream, self._example, lambda ex: max(len(ex["enc"]), len(ex["dec"])),
                             cfg.batch_tokens, cfg.pool_size, cfg.seed)

    def _pieces(self, text: str) -> Optional[List[int]]:
        cached = self._cache.get(text) if self._cache is not None else None
        p = cached if cached is not None else self.tok.pieces(text)
        return p if 0 < len(p) <= self.cfg.max_len - 2 else None

    def _noise(self, pieces: List[int], rng: random.Random) -> List[int]:
        cfg = self.cfg
        out = []
        for p in pieces:
            r = rng.random()
            if r < cfg.dae_drop:
                continue
            out.append(self.tok.ids.unk if r < cfg.dae_drop + cfg.dae_mask else p)
        if not out:
            out = [pieces[rng.randrange(len(pieces))]]
        keys = [i + rng.uniform(0, cfg.dae_shuffle) for i in range(len(out))]
        return [p for _, p in sorted(zip(keys, out), key=lambda kv: kv[0])]

    def _example(self, name: str, idx: int, rng: random.Random) -> Optional[Dict[str, Any]]:
        task, key = name.split(":", 1)
        if task == "tr":
            a, b = key.split("|")
            ta, tb = self.pairs[key][idx]
            (sl, st), (tl, tt) = ((a, ta), (b, tb)) if rng.random() < 0.5 else ((b, tb), (a, ta))
        else:
            sl = tl = key
            st = tt = self.sentences[key][idx]
        src, tgt = self._pieces(st), self._pieces(tt)
        if src is None or tgt is None:
            return None
        if task == "dae":
            src = self._noise(src, rng)
        eos = self.tok.ids.eos
        ex = {"enc": [self.tok.lang_id(sl), *src, eos], "dec": [eos, self.tok.lang_id(tl), *tgt],
              "labels": [IGNORE, *tgt, eos], "pair": None}
        if task == "tr" and self.cfg.mse_weight > 0:
            ex["pair"] = [self.tok.lang_id(tl), *tgt, eos]
        return ex

    # ------------------------------------------------------------------ loss

    def tensors(self, batch: List[Dict[str, Any]]) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """A batch's encoder ids and mask, decoder ids and labels (IGNORE on padding), padded, on the device."""
        enc, enc_mask = pad_rows([e["enc"] for e in batch], self.tok.ids.pad)
        dec, _ = pad_rows([e["dec"] for e in batch], self.tok.ids.pad)
        labels, _ = pad_rows([e["labels"] for e in batch], self.tok.ids.pad, fill=IGNORE)
        t = lambda x: torch.tensor(x, dtype=torch.long, device=self.device)  # noqa: E731
        return t(enc), t(enc_mask), t(dec), t(labels)

    def loss(self, batch: List[Dict[str, Any]], gen: torch.Generator) -> Tuple[Tensor, Dict[str, float], int]:
        dev, net = self.device, self._net
        assert net is not None
        enc, enc_mask, dec, labels = self.tensors(batch)
        t = lambda x: torch.tensor(x, dtype=torch.long, device=dev)  # noqa: E731
        emb = encode(net.encoder, enc, enc_mask)
        ce = token_cross_entropy(net.decoder, dec, emb, labels, IGNORE, self.cfg.label_smoothing)
        extras = {"ce": float(ce.detach())}
        loss = ce
        rows = [i for i, e in enumerate(batch) if e["pair"] is not None]
        if self.cfg.mse_weight > 0:
            mse = torch.zeros((), device=dev)
            if rows:
                other, other_mask = pad_rows([batch[i]["pair"] for i in rows], self.tok.ids.pad)
                mse = F.mse_loss(emb[rows].float(), encode(net.encoder, t(other), t(other_mask)).float())
            loss = loss + self.cfg.mse_weight * mse
            extras["mse"] = float(mse.detach())
        ntok = sum(len(e["enc"]) + len(e["dec"]) for e in batch)
        return loss, extras, ntok

    # ------------------------------------------------------------------ evaluation

    def _build_eval(self, work: Work) -> None:
        """Held-out sentences (valid split): round trips per language, and en↔xx pairs."""
        cfg = self.cfg
        sentences, pairs = load_text_data(work, "valid", self.langs)
        self.eval_rt: Dict[str, List[str]] = {}
        for lang in self.langs:
            ok = [s for s in dict.fromkeys(sentences.get(lang, [])) if 5 <= word_count(s) <= 25 and self._pieces(s)]
            if ok:
                self.eval_rt[lang] = ok[: cfg.eval_sentences]
        self.eval_tr: Dict[str, List[Tuple[str, str]]] = {}
        for key, rows in pairs.items():
            a, b = key.split("|")
            if tokstage.HUB not in (a, b):
                continue
            xx = b if a == tokstage.HUB else a
            ok = [(ta, tb) if a == tokstage.HUB else (tb, ta) for ta, tb in rows if self._pieces(ta) and self._pieces(tb)]
            if ok:
                self.eval_tr[xx] = ok[: cfg.eval_translate]
        if not self.eval_rt:
            log("[sonar] warning: no held-out sentences of 5–25 words in the valid split; round-trip chrF is skipped")

    def evaluate(self, step: int) -> Dict[str, float]:
        net = self._net
        assert net is not None
        return evaluate_sonar(net.encoder, net.decoder, self.tok, self.eval_rt, self.eval_tr, self.cfg.max_len,
                              self.cfg.eval_batch, self.device)


def evaluate_sonar(encoder: SonarEncoder, decoder: SonarDecoder, tok: PackTokenizer, rt: Dict[str, List[str]],
                   tr: Dict[str, List[Tuple[str, str]]], max_len: int, batch: int, device: torch.device
                   ) -> Dict[str, float]:
    """Round-trip chrF per language (``rt_<lang>``), translation chrF (``tr_<src>><tgt>``), means, ``score``."""
    out: Dict[str, float] = {}
    max_new = min(max_len, decoder.cfg.max_positions - 4)  # prompt (2) + new tokens must fit the positions
    for lang, texts in rt.items():
        vec = encode_ids(encoder, [tok.encode_for_encoder(s, lang, max_len) for s in texts], batch, device)
        hyp = decode_vectors(decoder, tok, vec, [lang] * len(texts), max_new, batch)
        out[f"rt_{lang}"] = corpus_chrf(hyp, texts)
    hub = tokstage.HUB
    for xx, rows in tr.items():
        for src_l, tgt_l, src, ref in ((hub, xx, [r[0] for r in rows], [r[1] for r in rows]),
                                       (xx, hub, [r[1] for r in rows], [r[0] for r in rows])):
            vec = encode_ids(encoder, [tok.encode_for_encoder(s, src_l, max_len) for s in src], batch, device)
            hyp = decode_vectors(decoder, tok, vec, [tgt_l] * len(src), max_new, batch)
            out[f"tr_{src_l}>{tgt_l}"] = corpus_chrf(hyp, ref)
    rts = [v for k, v in out.items() if k.startswith("rt_")]
    trs = [v for k, v in out.items() if k.startswith("tr_")]
    if rts:
        out["rt_mean"] = sum(rts) / len(rts)
        out["score"] = out["rt_mean"]
    if trs:
        out["tr_mean"] = sum(trs) / len(trs)
    return out


def load_trained(work: Work, which: str = "best", stage: str = "sonar"
                 ) -> Tuple[SonarEncoder, SonarDecoder, SonarTrainConfig, Dict[str, Any]]:
    """The trained towers of ``stage`` (``sonar``, or ``sonar-quant``'s fine-tune) from ``best.pt``, else
    ``last.pt``, on the CPU in eval mode, their config and checkpoint info."""
    run = os.path.join(work.runs, stage)
    path = os.path.join(run, f"{which}.pt")
    if not os.path.exists(path):
        path = work.require_stage(stage, "last.pt")
    ck = torch.load(path, map_location="cpu")
    names = {f.name for f in dataclasses.fields(SonarTrainConfig)}
    cfg = SonarTrainConfig(**{k: v for k, v in ck["config"].items() if k in names})
    _, spec = tokstage.load(work)
    net = SonarAutoencoder(cfg, int(spec["vocabSize"]))
    net.load_state_dict(ck["model"])
    net.eval()
    return net.encoder, net.decoder, cfg, {"checkpoint": path, "step": ck["step"]}
