"""Stage ``export``: write the pack (docs/model-pack.md) with recipe/lcmref/export_pack.py.

Weights: SONAR ``runs/sonar/best.pt`` (best round-trip chrF), the LCM from
``runs/finetune`` (else ``runs/lcm``) ``best.pt``; normalizer, tokenizer and
its id map from their stages. Manifest defaults are the paper's inference
settings (LCM-SPEC.md): 40 trailing DDIM steps of T = 100 (cosine, zero
terminal SNR), guidance 3 with rescale 0.7, initial noise 0.6, ε-scaling
1.00045, clip 100; stopping at cos ≥ 0.9 to "End of text." (eng_Latn) or 64
concepts; instruction markers "[SUMMARY]:" / "[EXPAND]:" (eng_Latn) as the
finetune stage trained them. ``provenance`` records the data sources and the
compute of every stage (steps, wall time, device) from the runs' state.json.
MODEL_CARD.md carries the shapes, data, compute and, when the evaluate stage
has run, its results (``evaluate`` refreshes the card of an exported pack).
"""
import argparse
import dataclasses
import hashlib
import json
import os
import sys
from typing import Any, Dict, List, Tuple

import torch

from lcmref.export_pack import export_pack, manifest_fields, verify_pack
from lcmref.quant_lcm import QuantLCM
from lcmref.two_tower import SonarNormalizer

from . import embed as embed_stage
from . import lcm as lcm_stage
from . import sonar as sonar_stage
from . import sonar_decoder as sonar_decoder_stage
from . import tokenizer as tokstage
from .common import REPO, Work, fmt_duration, log, read_json, stage_state, write_json

TRAINING_STAGES = ("tokenizer", "sonar", "embed", "normalizer", "lcm", "finetune")


@dataclasses.dataclass
class ExportConfig:
    decoder_max_length: int = 128  # tokens the decoder may produce (≤ maxPositions − 4)
    eot_threshold: float = 0.9  # LCM-SPEC.md: stop at cos ≥ 0.9 to "End of text."
    max_concepts: int = 64
    external_data: bool = False
    # Quant-LCM packs only: the sampling defaults written to manifest lcm.sampling (quant_lcm.sample_unit);
    # the engine and `lcm --temperature/--top-k` override them per request
    quant_temperature: float = 1.0
    quant_top_k: int = 0
    description: str = "Small SONAR-style encoder/decoder and Two-Tower diffusion LCM trained by recipe/run.py."


def data_sources(work: Work) -> List[str]:
    """'name (package version, licence)' of every source in data/sources.json, whatever its exact layout."""
    path = os.path.join(work.data, "sources.json")
    if not os.path.exists(path):
        return []
    raw = read_json(path)
    items = raw.get("sources", raw) if isinstance(raw, dict) else raw
    if isinstance(items, dict):
        items = [{"name": k, **v} if isinstance(v, dict) else {"name": k} for k, v in items.items()]
    out = []
    for s in items if isinstance(items, list) else []:
        if not isinstance(s, dict):
            continue
        pkg = " ".join(str(s[k]) for k in ("package", "version") if s.get(k))
        lic = s.get("licence") or s.get("license")
        extra = ", ".join(x for x in (pkg, str(lic) if lic else "") if x)
        out.append(f"{s.get('name', '?')}" + (f" ({extra})" if extra else ""))
    return out


def compute_lines(work: Work) -> Dict[str, str]:
    """Per stage: 'N steps, wall time, device' from runs/<stage>/state.json."""
    out = {}
    for stage in TRAINING_STAGES:
        st = stage_state(work, stage)
        if not st:
            continue
        parts = []
        if "step" in st:
            parts.append(f"{st['step']} steps")
        parts.append(fmt_duration(float(st.get("wallSeconds", 0.0))))
        if st.get("device"):
            parts.append(str(st["device"]))
        out[stage] = ", ".join(parts)
    return out


def model_card(work: Work, name: str, version: str, shapes: Dict[str, str], languages: List[Tuple[str, str]]) -> str:
    evaluate_md = os.path.join(work.runs, "evaluate", "results.md")
    quality = open(evaluate_md, encoding="utf-8").read().strip() if os.path.exists(evaluate_md) else \
        "Not measured yet: run `/usr/bin/python3 recipe/run.py evaluate` (it rewrites this card)."
    sources = data_sources(work) or ["(no data/sources.json)"]
    compute = compute_lines(work)
    return f"""# {name} {version}

A small concept model pack for Concept Studio: a SONAR-style multilingual
sentence encoder/decoder and a Two-Tower diffusion Large Concept Model
(Meta, arXiv 2412.08821), trained from scratch by the recipe in `recipe/`
(`/usr/bin/python3 recipe/run.py all`; docs/recipe.md). It is far smaller and
weaker than Meta's SONAR and LCM; see the measured quality below.

## Languages

{", ".join(f"{n} ({c})" for c, n in languages)}

## Shapes

{chr(10).join(f"- {k}: {v}" for k, v in shapes.items())}

## Data

{chr(10).join(f"- {s}" for s in sources)}

## Training compute

{chr(10).join(f"- {k}: {v}" for k, v in compute.items()) or "- (no run logs)"}

## Quality (held-out test split)

{quality}

## Limits

Short sentences (training sequences of at most 64 tokens on CPU runs), small
vocabulary and model: expect paraphrases and errors in round trips, and
generic continuations. Not for facts or safety-relevant text.

## Licence

Weights: same terms as the training data allow (see the sources above) and the
repository's licence for the code.
"""


def _shapes(enc: Any, dec: Any, lcm: Any, spec: Dict[str, Any]) -> Dict[str, str]:
    e, d, l = enc.cfg, dec.cfg, lcm.cfg
    return {
        "tokenizer": f"SentencePiece unigram, {spec['pieces']} pieces, vocabulary {spec['vocabSize']}",
        "SONAR encoder": f"d {e.model_dim}, {e.layers} layers, {e.heads} heads, FFN {e.ffn_dim}",
        "SONAR decoder": f"d {d.model_dim}, {d.layers} layers, {d.heads} heads, FFN {d.ffn_dim}, tied embeddings",
        "LCM": f"E {l.embedding_dim}, D {l.model_dim}, {l.heads} heads, {l.context_layers} contextualizer + "
               f"{l.denoiser_layers} denoiser layers, FFN {l.ffn_dim}",
    }


def run(work: Work, cfg: ExportConfig, args: argparse.Namespace) -> Dict[str, Any]:
    tok, spec = tokstage.load(work)
    encoder, decoder, scfg, sinfo = sonar_stage.load_trained(work)
    lcm, lcfg, linfo = lcm_stage.load_trained(work)
    decoder, dinfo = sonar_decoder_stage.pack_decoder(work, isinstance(lcm, QuantLCM))
    norm = read_json(work.require_stage("normalizer", "normalizer.json"))
    normalizer = SonarNormalizer(torch.tensor(norm["center"]), torch.tensor(norm["scale"]))
    out = os.path.abspath(args.out or os.path.join(REPO, "resources", "models", args.name))
    languages = [(c, spec["names"][c]) for c in spec["languages"]]
    sched = lcm_stage.schedule_of(lcfg)  # the schedule the LCM was trained with
    sampling = {k: v for k, v in lcm_stage.PAPER.to_json().items() if k in (
        "inferenceSteps", "spacing", "guidanceScale", "guidanceRescale", "initialNoiseScale", "epsilonScaling", "clipNoise")}
    if isinstance(lcm, QuantLCM):  # a Quant-LCM samples codebook units, not diffusion steps
        if cfg.quant_temperature < 0 or cfg.quant_top_k < 0 or int(cfg.quant_top_k) != cfg.quant_top_k:
            raise SystemExit(f"export: quant_temperature must be >= 0 and quant_top_k a whole number >= 0 "
                             f"(got {cfg.quant_temperature}, {cfg.quant_top_k})")
        sampling = {"temperature": float(cfg.quant_temperature), "topK": int(cfg.quant_top_k)}
    lang = embed_stage.SPECIAL_LANG
    fields = manifest_fields(
        name=args.name, version=args.version, description=cfg.description, languages=languages,
        tokenizer_ids=spec["ids"], vocab_size=spec["vocabSize"], language_tokens=spec["languageTokens"],
        encoder=encoder, decoder=decoder, decoder_max_length=min(cfg.decoder_max_length, scfg.max_positions - 4),
        lcm=lcm,
        schedule={"kind": sched.kind, "trainSteps": sched.train_steps, "betaStart": sched.beta_start,
                  "betaEnd": sched.beta_end, "sigmoidGamma": sched.sigmoid_gamma, "sigmoidDelta": sched.sigmoid_delta,
                  "zeroTerminalSnr": sched.zero_terminal_snr, "predictionType": "sample"},
        sampling=sampling,
        stopping={"endOfText": {"text": embed_stage.EOT_TEXT, "lang": lang, "threshold": cfg.eot_threshold},
                  "repetitionThreshold": None, "maxConcepts": cfg.max_concepts},
        instructions={task: {"marker": m, "lang": lang} for task, m in embed_stage.MARKERS.items()},
    )
    provenance: Dict[str, Any] = {
        "createdBy": "recipe/run.py export", "command": " ".join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:]),
        "weights": "trained by recipe/run.py", "dataSources": "; ".join(data_sources(work)) or "unknown",
        "sonarCheckpoint": f"{os.path.relpath(sinfo['checkpoint'], work.root)} (step {sinfo['step']})",
        "lcmCheckpoint": f"{os.path.relpath(linfo['checkpoint'], work.root)} (step {linfo['step']})",
    }
    if dinfo["stage"] != "sonar":
        provenance["decoder"] = dinfo["note"]
    provenance.update({f"compute.{k}": v for k, v in compute_lines(work).items()})
    card = model_card(work, args.name, args.version, _shapes(encoder, decoder, lcm, spec), languages)
    manifest = export_pack(out, encoder=encoder, decoder=decoder, lcm=lcm, normalizer=normalizer,
                           tokenizer_model=os.path.join(work.runs, "tokenizer", "tokenizer.model"), manifest=fields,
                           model_card=card, provenance=provenance, external_data=cfg.external_data)
    problems = verify_pack(out)
    if problems:
        raise SystemExit("the written pack fails verification:\n  " + "\n  ".join(problems))
    size = sum(f["bytes"] for f in manifest["files"])
    write_json(os.path.join(work.run_dir("export"), "state.json"),
               {"stage": "export", "finished": True, "out": out, "name": args.name, "version": args.version,
                "bytes": size, "shapes": _shapes(encoder, decoder, lcm, spec)})
    log(f"[export] {args.name} {args.version}: {len(manifest['files'])} files, {size / 1e6:.1f} MB → {out}")
    return manifest


def refresh_card(work: Work) -> None:
    """Rewrite MODEL_CARD.md of the last exported pack with the current evaluation, and its manifest entry."""
    st = stage_state(work, "export")
    out = st.get("out")
    if not out or not os.path.exists(os.path.join(out, "manifest.json")):
        return
    with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    languages = [(l["code"], l["name"]) for l in manifest["languages"]]
    card = model_card(work, manifest["name"], manifest["version"], st.get("shapes", {}), languages)
    path = os.path.join(out, manifest["modelCard"])
    with open(path, "w", encoding="utf-8") as f:
        f.write(card)
    data = card.encode("utf-8")
    for entry in manifest["files"]:
        if entry["path"] == manifest["modelCard"]:
            entry["bytes"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    log(f"[export] model card of {out} updated with the evaluation")
