"""Stage ``evaluate``: the held-out (test split) suites of docs/recipe.md, "Quality targets".

- round trip: corpus chrF of text → vector → greedy text, per language, on up to
  ``rt_sentences`` test sentences of 5–25 words;
- translation: corpus chrF en→xx and xx→en on up to ``tr_pairs`` pairs per language;
- next concept: mean cosine of one LCM sample (paper settings) to the true next
  concept of test documents, against "repeat previous" and "mean of context";
- continuation: ``gen_docs`` test documents prompted with their first
  ``gen_prompt`` concepts, ``gen_concepts`` concepts generated (lcmref.generate,
  paper settings and stopping): local coherence (mean cosine of generated concepts
  n and n+2; the same on the true continuation for reference) and REP-4 of the
  decoded words;
- summarization / expansion: the finetuned instruction format, generated until
  "End of text." (dropped) or ``max_generated`` concepts, decoded, ROUGE-L F1
  against the reference; baselines lead-k (the document's first k sentences,
  k = the reference summary's length) and, for expansion, the summary itself.

Writes ``runs/evaluate/results.json`` and ``results.md`` and refreshes the
model card of the last exported pack.
"""
import dataclasses
import os
import time
from typing import Any, Dict, List, Tuple

import numpy as np
import torch

from lcmref import ddim
from lcmref.generate import generate
from lcmref.quant_lcm import QuantLCM
from lcmref.rng import Rng
from lcmref.two_tower import SonarNormalizer

from . import embed as embed_stage
from . import export as export_stage
from . import lcm as lcm_stage
from . import sonar as sonar_stage
from . import sonar_decoder as sonar_decoder_stage
from . import tokenizer as tokstage
from .common import Work, atomic_write_text, log, read_jsonl, word_count, write_json
from .decode import decode_vectors
from .lcm_data import InstructionBuilder, ShardStore, Sequence as Seq, eval_positions
from .metrics import rep_n, rouge_l


@dataclasses.dataclass
class EvaluateConfig:
    rt_sentences: int = 200
    tr_pairs: int = 100
    next_positions: int = 200
    consensus_samples: int = 8  # the diagnostic test_consensus_cos: cosine of the mean of this many samples (0: off)
    gen_docs: int = 20
    gen_prompt: int = 4
    gen_concepts: int = 8
    summaries: int = 30
    max_generated: int = 24
    batch: int = 64
    seed: int = 7


def _sonar_suites(work: Work, cfg: EvaluateConfig, device: torch.device) -> Dict[str, float]:
    encoder, _, scfg, _ = sonar_stage.load_trained(work)
    decoder, _ = sonar_decoder_stage.pack_decoder(work, False)  # the pack's (a quant pack's reads quantized vectors)
    encoder.to(device)
    decoder.to(device)
    tok, spec = tokstage.load(work)
    sentences, pairs = sonar_stage.load_text_data(work, "test", list(spec["languages"]))
    max_len = min(scfg.max_positions - 2, 128)  # test sentences have 5–25 words; caps runaway decodes too

    def fits(s: str) -> bool:
        return 0 < len(tok.pieces(s)) <= max_len - 2

    rt = {l: [s for s in dict.fromkeys(v) if 5 <= word_count(s) <= 25 and fits(s)][: cfg.rt_sentences]
          for l, v in sentences.items()}
    tr: Dict[str, List[Tuple[str, str]]] = {}
    for key, rows in pairs.items():
        a, b = key.split("|")
        if tokstage.HUB in (a, b):
            xx = b if a == tokstage.HUB else a
            tr[xx] = [(x, y) if a == tokstage.HUB else (y, x) for x, y in rows if fits(x) and fits(y)][: cfg.tr_pairs]
    rt = {k: v for k, v in rt.items() if v}
    tr = {k: v for k, v in tr.items() if v}
    return sonar_stage.evaluate_sonar(encoder, decoder, tok, rt, tr, max_len, cfg.batch, device)


def _generate(model: Any, norm: SonarNormalizer, prompt: np.ndarray, max_concepts: int, seed: int,
              eot: np.ndarray, schedule: ddim.ScheduleConfig) -> Tuple[np.ndarray, str]:
    opts = dataclasses.replace(lcm_stage.PAPER, max_concepts=max_concepts)
    res = generate(model, norm, ddim.DDIMScheduler(schedule), torch.from_numpy(prompt), opts, Rng(seed),
                   torch.from_numpy(eot))
    return res.vectors.numpy(), res.stop_reason


def _lcm_suites(work: Work, cfg: EvaluateConfig, device: torch.device) -> Dict[str, float]:
    model, lcfg, _ = lcm_stage.load_trained(work)
    center, scale, _ = lcm_stage.load_normalizer(work)
    norm = SonarNormalizer(torch.from_numpy(center), torch.from_numpy(scale))
    _, _, scfg, _ = sonar_stage.load_trained(work)
    decoder, _ = sonar_decoder_stage.pack_decoder(work, isinstance(model, QuantLCM))  # as the pack (export.py)
    decoder.to(device)
    tok, _ = tokstage.load(work)
    spec = embed_stage.specials(work)
    eot = spec[embed_stage.EOT_TEXT]
    w = lcfg.window
    out: Dict[str, float] = {}
    max_new = scfg.max_positions - 4

    docs = ShardStore(work, "docs", "test")
    seqs = [Seq(docs.doc(i)[-w:] if docs.length(i) > w else docs.doc(i), np.ones(min(w, docs.length(i)), bool))
            for i in range(len(docs))]
    pos = eval_positions(seqs, cfg.next_positions, cfg.seed)
    schedule = lcm_stage.schedule_of(lcfg)
    # one pass: the single samples (timed: PyTorch on this machine's CPU, one next concept with its context fed,
    # paper settings) and, when asked, the mean of consensus_samples further samples per position
    cosines = lcm_stage.next_concept_cosines(model, center, scale, seqs, pos, cfg.seed, schedule=schedule,
                                             quant=(lcfg.quant_temperature, lcfg.quant_top_k),
                                             consensus=cfg.consensus_samples, timed=True)
    out.update({f"test_{k}": v for k, v in cosines.items() if k != "next_ms"})
    if "next_ms" in cosines:
        out["next_ms"] = cosines["next_ms"]

    coh, coh_ref, rep = [], [], []
    picked = [i for i in range(len(docs)) if docs.length(i) > cfg.gen_prompt][: cfg.gen_docs]
    for k, i in enumerate(picked):
        d = docs.doc(i)
        gen, _ = _generate(model, norm, d[: cfg.gen_prompt], cfg.gen_concepts, cfg.seed + k, eot, schedule)
        lang = docs.rows[i][1]["lang"]
        text = " ".join(decode_vectors(decoder, tok, torch.from_numpy(gen), [lang] * len(gen), max_new, cfg.batch))
        rep.append(rep_n(text, 4))
        coh.extend(lcm_stage.cos(gen[n], gen[n + 2]) for n in range(len(gen) - 2))
        true = d[cfg.gen_prompt: cfg.gen_prompt + cfg.gen_concepts]
        coh_ref.extend(lcm_stage.cos(true[n], true[n + 2]) for n in range(len(true) - 2))
    if rep:
        out["gen_rep4"] = float(np.mean(rep))
    if coh:
        out["gen_coherence"] = float(np.mean(coh))
    if coh_ref:
        out["true_coherence"] = float(np.mean(coh_ref))

    rows = list(read_jsonl(work.data_file("summaries", "test")))
    summ = ShardStore(work, "summaries", "test")
    builder = InstructionBuilder(summ, docs, spec, w)
    scores: Dict[str, List[float]] = {"sum_rougeL": [], "sum_lead_rougeL": [], "exp_rougeL": [], "exp_copy_rougeL": []}
    for k in range(min(cfg.summaries, len(summ), len(rows))):
        row = rows[k]
        lang = row["lang"]
        ref_sum, ref_doc = " ".join(row["summary"]), " ".join(row["document"])
        for kind in ("sum", "exp"):
            seq = builder.build(kind, k)
            if seq is None:
                continue
            prompt = seq.raw[: int(np.argmax(seq.target))]  # everything before the first target: source + marker
            limit = len(row["summary"]) + 2 if kind == "sum" else len(row["document"]) + 2
            gen, reason = _generate(model, norm, prompt, min(cfg.max_generated, limit), cfg.seed + 100 + k, eot,
                                    schedule)
            if reason == "endOfText":
                gen = gen[:-1]
            hyp = " ".join(decode_vectors(decoder, tok, torch.from_numpy(gen), [lang] * len(gen), max_new, cfg.batch)) \
                if len(gen) else ""
            if kind == "sum":
                scores["sum_rougeL"].append(rouge_l(hyp, ref_sum))
                scores["sum_lead_rougeL"].append(rouge_l(" ".join(row["document"][: len(row["summary"])]), ref_sum))
            else:
                scores["exp_rougeL"].append(rouge_l(hyp, ref_doc))
                scores["exp_copy_rougeL"].append(rouge_l(ref_sum, ref_doc))
    out.update({k: float(np.mean(v)) for k, v in scores.items() if v})
    return out


def markdown(results: Dict[str, float], counts: Dict[str, Any]) -> str:
    """The results as the model card's table."""
    lines = ["| suite | what | value |", "|---|---|---|"]
    for k, v in sorted(results.items()):
        if k.startswith("rt_") and k != "rt_mean":
            lines.append(f"| round-trip chrF | {k[3:]} | {v:.1f} |")
        elif k.startswith("tr_") and k != "tr_mean":
            src, tgt = k[3:].split(">")
            lines.append(f"| translation chrF | {src} → {tgt} | {v:.1f} |")
    for k, label in (("rt_mean", "round-trip chrF, mean"), ("tr_mean", "translation chrF, mean")):
        if k in results:
            lines.append(f"| {label} | all languages | {results[k]:.1f} |")
    named = {
        "test_next_cos": ("next concept", "LCM sample, mean cosine to the true next"),
        "test_prev_cos": ("next concept", "baseline: repeat previous"),
        "test_mean_cos": ("next concept", "baseline: mean of context"),
        "test_consensus_cos": ("next concept", "diagnostic: mean of consensus_samples LCM samples (a point estimate, as the baselines)"),
        "gen_coherence": ("continuation", "local coherence cos(n, n+2), generated"),
        "true_coherence": ("continuation", "local coherence cos(n, n+2), true text"),
        "gen_rep4": ("continuation", "REP-4 (fraction of repeated 4-grams)"),
        "next_ms": ("speed", "ms per next concept (PyTorch reference, CPU, context fed + one sample)"),
        "sum_rougeL": ("summarization", "ROUGE-L F1"),
        "sum_lead_rougeL": ("summarization", "baseline lead-k ROUGE-L F1"),
        "exp_rougeL": ("expansion", "ROUGE-L F1"),
        "exp_copy_rougeL": ("expansion", "baseline: the summary itself, ROUGE-L F1"),
    }
    for k, (suite, what) in named.items():
        if k in results:
            lines.append(f"| {suite} | {what} | {results[k]:.3f} |")
    note = ", ".join(f"{k} {v}" for k, v in counts.items())
    return "\n".join(lines) + f"\n\nSettings: {note}. Command: `/usr/bin/python3 recipe/run.py evaluate`.\n"


def run(work: Work, cfg: EvaluateConfig, device: torch.device) -> Dict[str, Any]:
    t0 = time.perf_counter()
    results = _sonar_suites(work, cfg, device)
    log("[evaluate] SONAR suites: " + " ".join(f"{k} {v:.1f}" for k, v in sorted(results.items())))
    results.update(_lcm_suites(work, cfg, device))
    results.pop("score", None)
    counts = dataclasses.asdict(cfg)
    out = work.run_dir("evaluate")
    write_json(os.path.join(out, "results.json"), {"results": results, "settings": counts,
                                                   "wallSeconds": round(time.perf_counter() - t0, 1)})
    atomic_write_text(os.path.join(out, "results.md"), markdown(results, counts))
    log("[evaluate] " + " ".join(f"{k} {v:.3f}" for k, v in sorted(results.items())))
    export_stage.refresh_card(work)
    return results
