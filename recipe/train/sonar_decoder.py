"""Stage ``sonar-decoder``: keep training the SONAR decoder with the encoder frozen.

    /usr/bin/python3 recipe/run.py sonar-decoder [--steps N] [--fresh] [--set KEY=VALUE …]

Why (docs/recipe.md, "The decoder after the freeze"): the encoder defines the concept space. Once ``embed`` has
encoded the corpus with it, the normalizer, the LCM and its fine-tune are tied to that encoder, and training the
encoder further would mean redoing all of them. The decoder is not tied to anything downstream: decoding is the
last step of every operation. So the pack's encoder is frozen at the ``sonar`` run's ``best.pt`` and the decoder
keeps learning here (round trip and translation *out of* the concept space both improve), while or after the LCM
trains, and a better decoder goes into the pack without touching its LCM. It is also cheaper per step than the
``sonar`` stage: the encoder runs forward only, without autograd.

The sonar stage's batches (translation both ways, auto-encoding, denoising; its task weights and language
sampling), cross-entropy only (the MSE term moves the encoder, which is frozen here). The decoder gets its own
token embedding, a copy of the shared one at the start (``tie_encoder_decoder`` becomes false): the exported
encoder and decoder graphs each carry their own copy anyway, so untying costs the pack nothing, and the decoder's
tied output projection can then learn without moving the encoder's input embedding.

Writes ``runs/sonar-decoder/{best,last}.pt`` (the whole autoencoder, as ``runs/sonar``; ``best.pt`` by the same
held-out mean round-trip chrF as the sonar stage, and ``eval.tsv`` with the same columns, so the two are
comparable row by row). The run records the encoder it started from (``base.json``); ``export``, ``evaluate`` and
``sonar-quant`` use this decoder only when that encoder is the one ``embed`` used, and refuse with what to do
otherwise.
"""
import dataclasses
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from .common import Work, apply_overrides, log, read_json, write_json
from .forward import encode, token_cross_entropy
from .loop import RunOptions, Trainer, load_weights, prepare_run_dir
from .sonar import IGNORE, SonarAutoencoder, SonarTask, SonarTrainConfig

STAGE = "sonar-decoder"
DEFAULTS: Dict[str, Any] = {"steps": 20000, "lr": 5e-4, "lr_schedule": "cosine", "warmup": 200, "min_lr_ratio": 0.1,
                            "mse_weight": 0.0, "tie_encoder_decoder": False}
SMOKE: Dict[str, Any] = {"steps": 12, "warmup": 3, "eval_every": 12, "eval_sentences": 6, "eval_translate": 2,
                         "log_every": 6, "batch_tokens": 1024, "pool_size": 300}


class FrozenEncoderTask(SonarTask):
    """The sonar stage's task with the encoder frozen: the decoder reads ``vectors(encoder(x))``."""

    name = STAGE

    def __init__(self, work: Work, cfg: SonarTrainConfig, device: torch.device, init: Dict[str, Tensor]):
        super().__init__(work, cfg, device)
        self.loss_columns = ["ce"]
        self.init = init

    def model(self) -> nn.Module:
        if self._net is None:
            net = SonarAutoencoder(self.cfg, self.vocab)
            net.load_state_dict(self.init)
            for p in net.encoder.parameters():  # with a tied embedding, the shared one is frozen too
                p.requires_grad_(False)
            self._net = net
        return self._net

    def vectors(self, emb: Tensor) -> Tensor:
        """What the decoder reads for the encoder's ``emb``: the vector itself here."""
        return emb

    def loss(self, batch: List[Dict[str, Any]], gen: torch.Generator) -> Tuple[Tensor, Dict[str, float], int]:
        net = self._net
        assert net is not None
        enc, enc_mask, dec, labels = self.tensors(batch)
        with torch.no_grad():
            emb = self.vectors(encode(net.encoder, enc, enc_mask))
        ce = token_cross_entropy(net.decoder, dec, emb, labels, IGNORE, self.cfg.label_smoothing)
        return ce, {"ce": float(ce.detach())}, sum(len(e["enc"]) + len(e["dec"]) for e in batch)


def checkpoint(work: Work, stage: str) -> Optional[str]:
    """``runs/<stage>/best.pt``, else ``last.pt``; None when the stage has not run."""
    for which in ("best.pt", "last.pt"):
        path = os.path.join(work.runs, stage, which)
        if os.path.exists(path):
            return path
    return None


def sonar_ident(work: Work) -> Dict[str, Any]:
    """The sonar checkpoint the pack's encoder comes from, as ``embed`` records it (checkpoint, step)."""
    path = checkpoint(work, "sonar") or work.require_stage("sonar", "last.pt")
    step = int(torch.load(path, map_location="cpu")["step"])
    return {"checkpoint": os.path.relpath(path, work.root), "step": step}


def usable(work: Work) -> bool:
    """True when this stage has a checkpoint whose frozen encoder is the current sonar encoder (``base.json``);
    raises with what to do when it has one from another encoder."""
    if checkpoint(work, STAGE) is None:
        return False
    base_path = os.path.join(work.runs, STAGE, "base.json")
    base = read_json(base_path) if os.path.exists(base_path) else None
    current = sonar_ident(work)
    if base != current:
        raise SystemExit(f"runs/{STAGE} continued the decoder of SONAR {base}, but the encoder is now {current}: "
                         f"train it again with `recipe/run.py {STAGE} --fresh`, or move runs/{STAGE} aside")
    return True


def decoder_checkpoint(work: Work) -> Tuple[str, str]:
    """(stage, checkpoint path) of the decoder a Two-Tower pack ships: this stage's when it has run on the
    current encoder, else the sonar run's."""
    if usable(work):
        return STAGE, str(checkpoint(work, STAGE))
    return "sonar", str(checkpoint(work, "sonar") or work.require_stage("sonar", "last.pt"))


def start_config(path: str, defaults: Dict[str, Any], smoke_preset: Dict[str, Any], smoke: bool, steps: Optional[int],
                 pairs: Sequence[str]) -> Tuple[Dict[str, Tensor], SonarTrainConfig]:
    """A decoder stage's starting weights (``path``) and settings: that checkpoint's own config, then ``defaults``,
    the smoke preset when ``smoke``, ``steps`` and the ``--set`` pairs (shared with train/sonar_quant.py)."""
    init, saved = load_weights(path)
    names = {f.name for f in dataclasses.fields(SonarTrainConfig)}
    cfg = SonarTrainConfig(**{k: v for k, v in saved.items() if k in names})
    cfg = dataclasses.replace(cfg, **{**defaults, **(smoke_preset if smoke else {})})
    if steps:
        cfg = dataclasses.replace(cfg, steps=steps)
    return init, apply_overrides(cfg, list(pairs))


def train(work: Work, pairs: Sequence[str], *, smoke: bool, steps: Optional[int], fresh: bool, device: torch.device,
          opts: Optional[RunOptions] = None) -> Dict[str, Any]:
    """Defaults (then the smoke preset, ``steps`` and the ``--set`` pairs) on top of the sonar run's own config,
    starting from the sonar run's ``best.pt``; resumes from ``runs/sonar-decoder/last.pt``."""
    run_dir = work.run_dir(STAGE)
    prepare_run_dir(run_dir, fresh)
    base = sonar_ident(work)
    base_path = os.path.join(run_dir, "base.json")
    if os.path.exists(os.path.join(run_dir, "last.pt")) and os.path.exists(base_path) and read_json(base_path) != base:
        raise SystemExit(f"{run_dir} continues the decoder of SONAR {read_json(base_path)}, the sonar run is now "
                         f"{base}: start over with `recipe/run.py {STAGE} --fresh`")
    init, cfg = start_config(os.path.join(work.root, base["checkpoint"]), DEFAULTS, SMOKE, smoke, steps, pairs)
    if cfg.mse_weight:
        raise SystemExit(f"{STAGE}: mse_weight must be 0 (the encoder is frozen, the MSE term has nothing to move)")
    write_json(base_path, base)
    log(f"[{STAGE}] decoder of {base['checkpoint']} (step {base['step']}), encoder frozen")
    task = FrozenEncoderTask(work, cfg, device, init)
    return Trainer(task, cfg, run_dir, device, opts or RunOptions(fresh=fresh)).run()


QUANT_STAGE = "sonar-quant"  # train/sonar_quant.py


def pack_decoder(work: Work, quant: bool) -> Tuple[nn.Module, Dict[str, Any]]:
    """The decoder a pack ships, in eval mode on the CPU, and its info (``stage``, ``checkpoint``, ``step``,
    ``note``): for a Quant-LCM pack the decoder fine-tuned on quantized vectors when ``sonar-quant`` has run;
    otherwise this stage's when it continued the current encoder's decoder; else the sonar run's."""
    from . import sonar as sonar_stage

    if quant and checkpoint(work, QUANT_STAGE) is not None:
        stage, note = QUANT_STAGE, "fine-tuned on RVQ-quantized inputs"
    else:
        stage = decoder_checkpoint(work)[0]
        note = "trained on with the encoder frozen" if stage == STAGE else "trained with the encoder"
        if quant:
            log("note: no runs/sonar-quant: the quant pack gets the plain decoder (run `recipe/run.py sonar-quant` "
                "and export again for the paper's quantized-input decoder)")
    _, decoder, _, info = sonar_stage.load_trained(work, stage=stage)
    rel = os.path.relpath(info["checkpoint"], work.root)
    return decoder, {**info, "stage": stage, "note": f"{note} ({rel}, step {info['step']})"}
