"""Stage ``sonar-quant``: fine-tune the SONAR decoder on RVQ-quantized sentence vectors (LCM paper §2.3.4:
the Quant-LCM's decoder is fine-tuned on quantized inputs, since a sum of L centroids is not the vector the
decoder was trained on). docs/variants.md.

    /usr/bin/python3 recipe/run.py sonar-quant [--smoke --work W] [--steps N] [--fresh]   # the stage
    cd recipe && /usr/bin/python3 -m train.sonar_quant --work W --into PACK_DIR   # put it in an exported pack

Needs ``runs/sonar`` (the towers), ``runs/normalizer`` and ``runs/lcm/codebooks.pt`` (a Quant-LCM ``lcm`` run
fits them). ``recipe/run.py all`` runs it after ``finetune`` when the LCM run is a Quant-LCM and skips it
otherwise; ``export`` then ships this decoder in the quant pack (``sonar_decoder.pack_decoder``), and ``evaluate`` decodes the
LCM's outputs with it. The sonar stage's batches (translation, auto-encoding, denoising), with the decoder
reading denormalize(RVQ(normalize(encoder(x)))) instead of the encoder's vector; cross-entropy as the sonar
stage (``FrozenEncoderTask`` of train/sonar_decoder.py, with the quantizer between the towers). It starts from
``runs/sonar-decoder`` when that continued the current encoder's decoder, else from ``runs/sonar``. The encoder
is frozen, and so is a token embedding it shares with the decoder (the concept space, the embed shards and the
codebooks must not move); the decoder's layers learn. Writes
``runs/sonar-quant/{best,last}.pt`` (the whole autoencoder, as ``runs/sonar``; ``best.pt`` by the held-out
round-trip chrF through the quantizer, ``qrt_<lang>``). ``--into`` re-exports ``decoder.onnx`` of a pack
exported before this stage ran and updates its manifest's size and hash.
"""
import argparse
import dataclasses
import json
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from lcmref.rvq import ResidualVQ  # noqa: E402
from lcmref.two_tower import SonarNormalizer  # noqa: E402

from .common import Work, default_work, log, read_json, set_threads  # noqa: E402
from .loop import RunOptions, Trainer, load_weights, prepare_run_dir  # noqa: E402
from .sonar import SonarAutoencoder, SonarTrainConfig  # noqa: E402
from .sonar_decoder import FrozenEncoderTask, decoder_checkpoint, start_config  # noqa: E402

STAGE = "sonar-quant"
DEFAULTS: Dict[str, Any] = {"steps": 2000, "lr": 1e-4, "lr_schedule": "cosine", "warmup": 100, "eval_every": 500}
SMOKE: Dict[str, Any] = {"steps": 12, "warmup": 3, "eval_every": 12, "eval_sentences": 6, "eval_translate": 2,
                         "log_every": 6, "batch_tokens": 1024, "pool_size": 300}


def load_rvq(work: Work) -> Tuple[ResidualVQ, SonarNormalizer]:
    path = os.path.join(work.runs, "lcm", "codebooks.pt")
    if not os.path.exists(path):
        raise SystemExit(f"{path} is missing: run `recipe/run.py lcm --set architecture=quant-discrete` (or "
                         "quant-continuous) first; it fits the RVQ codebooks")
    norm = read_json(work.require_stage("normalizer", "normalizer.json"))
    return ResidualVQ(torch.load(path, map_location="cpu")["codebooks"]), SonarNormalizer(
        torch.tensor(norm["center"]), torch.tensor(norm["scale"]))


class QuantDecoderTask(FrozenEncoderTask):
    """The sonar stage's task with the decoder reading quantized vectors and the encoder frozen."""

    name = STAGE

    def __init__(self, work: Work, cfg: SonarTrainConfig, device: torch.device, init: Dict[str, Tensor]):
        super().__init__(work, cfg, device, init)
        self.rvq, self.normalizer = load_rvq(work)

    def vectors(self, emb: Tensor) -> Tensor:
        return self.quantize(emb)

    def quantize(self, emb: Tensor) -> Tensor:
        z = self.normalizer.normalize(emb.float().cpu())
        return self.normalizer.denormalize(self.rvq.quantize(z)).to(emb.device)

    @torch.no_grad()
    def evaluate(self, step: int) -> Dict[str, float]:
        """Round-trip chrF per language through the quantizer (``qrt_<lang>``, held-out sentences); ``score`` =
        their mean, so ``best.pt`` is the decoder that reads quantized vectors best."""
        from .decode import decode_vectors, encode_ids
        from .metrics import corpus_chrf

        net = self._net
        assert net is not None
        net.eval()
        out: Dict[str, float] = {}
        max_new = min(self.cfg.max_len, net.decoder.cfg.max_positions - 4)
        for lang, texts in self.eval_rt.items():
            rows = [self.tok.encode_for_encoder(t, lang, self.cfg.max_len) for t in texts]
            vec = self.quantize(encode_ids(net.encoder, rows, self.cfg.eval_batch, self.device))
            hyp = decode_vectors(net.decoder, self.tok, vec, [lang] * len(texts), max_new, self.cfg.eval_batch)
            out[f"qrt_{lang}"] = corpus_chrf(hyp, texts)
        net.train()
        if out:
            out["score"] = sum(out.values()) / len(out)
        return out


def applies(work: Work) -> bool:
    """True when the LCM run is a Quant-LCM (its config names a quant architecture and its codebooks exist)."""
    from .lcm import QUANT_VARIANTS

    for stage in ("finetune", "lcm"):
        path = os.path.join(work.runs, stage, "config.json")
        if os.path.exists(path):
            return read_json(path).get("architecture") in QUANT_VARIANTS and os.path.exists(
                os.path.join(work.runs, "lcm", "codebooks.pt"))
    return False


def train(work: Work, pairs: Sequence[str], *, smoke: bool, steps: Optional[int], fresh: bool, device: torch.device,
          opts: Optional[RunOptions] = None) -> Dict[str, Any]:
    """Defaults (then the smoke preset, ``steps`` and the ``--set`` pairs) on top of the sonar run's own config."""
    _, base = decoder_checkpoint(work)  # runs/sonar-decoder's when it continued this encoder's decoder
    init, cfg = start_config(base, DEFAULTS, SMOKE, smoke, steps, pairs)
    run_dir = work.run_dir(STAGE)
    prepare_run_dir(run_dir, fresh)
    log(f"[{STAGE}] from {base}")
    task = QuantDecoderTask(work, cfg, device, init)
    return Trainer(task, cfg, run_dir, device, opts or RunOptions(fresh=fresh)).run()


def into_pack(work: Work, pack_dir: str) -> None:
    """Re-export decoder.onnx of ``pack_dir`` from runs/sonar-quant and update the manifest's files entry."""
    from lcmref.export_pack import DecoderGraph, _dummy_kv, export_graph, file_entry, kv_names

    path = os.path.join(work.runs, STAGE, "best.pt")
    if not os.path.exists(path):
        path = work.require_stage(STAGE, "last.pt")
    weights, saved = load_weights(path)
    names = {f.name for f in dataclasses.fields(SonarTrainConfig)}
    cfg = SonarTrainConfig(**{k: v for k, v in saved.items() if k in names})
    manifest_path = os.path.join(pack_dir, "manifest.json")
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    if not str(manifest["lcm"]["architecture"]).startswith("quant-"):
        raise SystemExit(f"{pack_dir} is a {manifest['lcm']['architecture']} pack; the quantized-input decoder "
                         "belongs in a quant-discrete or quant-continuous pack")
    net = SonarAutoencoder(cfg, int(manifest["tokenizer"]["vocabSize"]))
    net.load_state_dict(weights)
    net.eval()
    dc = net.decoder.cfg
    past, present = kv_names("past", dc.layers), kv_names("present", dc.layers)
    axes: Dict[str, Dict[int, str]] = {"input_ids": {0: "B", 1: "T"}, "sentence_embedding": {0: "B"},
                                       "logits": {0: "B", 1: "T"}}
    axes.update({n: {0: "B", 2: "P"} for n in past})
    axes.update({n: {0: "B", 2: "P_plus_T"} for n in present})
    ids = torch.tensor([[5, 6, 7], [8, 9, 0]], dtype=torch.long)
    emb = torch.randn(2, dc.model_dim, generator=torch.Generator().manual_seed(1))
    written = export_graph(DecoderGraph(net.decoder), (ids, emb, *_dummy_kv(2, dc.heads, 2, dc.model_dim // dc.heads,
                                                                                dc.layers)),
                           pack_dir, "decoder.onnx", ["input_ids", "sentence_embedding", *past], ["logits", *present],
                           axes, False)
    entries = {e["path"]: e for e in manifest["files"]}
    for name in written:
        entries[name] = file_entry(pack_dir, name)
    manifest["files"] = [entries[k] for k in sorted(entries)]
    manifest["provenance"]["decoder"] = f"fine-tuned on RVQ-quantized inputs ({os.path.relpath(path, work.root)})"
    with open(manifest_path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    log(f"[{STAGE}] {pack_dir}/decoder.onnx ← {path}")


def main(argv: List[str] = None) -> int:  # type: ignore[assignment]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", help="work folder (default $CS_WORK or ~/.cache/concept-studio)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--into", metavar="PACK_DIR", required=True, help="put the fine-tuned decoder into an exported "
                    "quant pack (train it with `recipe/run.py sonar-quant`)")
    args = ap.parse_args(argv)
    set_threads(args.threads)
    into_pack(Work(args.work or default_work()), args.into)
    return 0


if __name__ == "__main__":
    sys.exit(main())
