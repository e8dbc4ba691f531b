"""``recipe/run.py all --smoke``: the recipe's end-to-end test, in a few minutes on two CPU cores.

1. ``metrics.selftest`` (chrF against the TypeScript values, ROUGE-L, REP-4).
2. A synthetic dataset in the data contract's format (docs/recipe.md) in a
   temporary ``CS_WORK``: mono sentences of six languages from
   test/fixtures/tokenizer/corpus.txt (blocks of 400 lines per locale), fake
   "parallel" pairs (an English line paired with itself under another
   language's tag: enough to exercise translation, not to learn it), documents
   cut from /work/shared/seeds/*.txt and fixture lines, and summaries (the
   first two sentences of a document). Split by document-id hash, 80/10/10.
3. Every stage with tiny shapes (stages.SMOKE_PRESET): tokenizer, sonar, embed,
   normalizer, lcm, finetune, export, evaluate.
4. Resume is exact: ``sonar`` and ``lcm`` run in two invocations (stopped, then
   resumed) in a second work folder end with bit-identical weights to the
   one-go runs.
5. SIGINT: a ``sonar`` subprocess interrupted mid-run saves a checkpoint,
   exits 0 and resumes from it.
6. The training forwards (train/forward.py) equal the lcmref forms.
7. The TypeScript engine loads the exported pack and generates from it:
   ``node bin/lcm.mjs packs --pack DIR`` and ``… continue --pack DIR --seed 7 --count 2``.
8. The fragility-weighted loss's pieces (``_check_fragility``); ``sonar-decoder`` keeps the encoder, trains the
   decoder, refuses a run made on another encoder (``_check_decoder_stage``); export ships its decoder.
9. The Quant-LCM path (``_check_quant_path``): lcm + finetune as quant-discrete, ``sonar-quant`` (skipped for
   the Two-Tower run, run for the quant one), export with that decoder, the TypeScript engine on the pack.
10. The studies (train/study.py): two schedules, two designs and two losses (plain, fragility-weighted through
    the fragility stage's predictor, ``_check_fragility_stage``), a few steps each.
11. recipe/ship.py (``_check_ship``): the smoke pack shipped into a temporary models folder (int8 measured
    against float32, default.json written), and refused the second time (not better).
"""
import argparse
import glob
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from typing import Any, Dict, List, Tuple

import numpy as np
import torch

from . import stages
from .common import REPO, Work, log, write_json, write_jsonl
from .metrics import selftest

CORPUS = os.path.join(REPO, "test", "fixtures", "tokenizer", "corpus.txt")
SEEDS = "/work/shared/seeds"
# corpus.txt holds 400 lines per locale in this order (recipe/fixtures/make_tokenizer_fixture.py LOCALES).
BLOCKS = {"eng_Latn": 0, "fra_Latn": 1, "deu_Latn": 2, "rus_Cyrl": 4, "zho_Hans": 7, "arb_Arab": 10}


def split_of(doc: str) -> str:
    """Smoke split by document-id hash: 80/10/10 (the real data uses 96/2/2), so valid and test are not empty."""
    h = zlib.crc32(doc.encode("utf-8")) % 100
    return "train" if h < 80 else "valid" if h < 90 else "test"


def seed_sentences() -> List[str]:
    out: List[str] = []
    for path in sorted(glob.glob(os.path.join(SEEDS, "*.txt"))):
        with open(path, encoding="utf-8") as f:
            text = re.sub(r"\s+", " ", f.read())
        for s in re.split(r"(?<=[.!?])\s+", text):
            s = s.strip(" -•*")
            if 3 <= len(s.split()) <= 40 and len(s) <= 200:
                out.append(s)
    return out


def write_synthetic_data(work: Work) -> Dict[str, int]:
    """The synthetic dataset (module docstring); returns rows per file."""
    with open(CORPUS, encoding="utf-8") as f:
        lines = [l.strip() for l in f]
    rows: Dict[str, List[Dict[str, Any]]] = {}

    def add(kind: str, row: Dict[str, Any]) -> None:
        rows.setdefault(f"{kind}.{split_of(row['doc'])}", []).append(row)

    for lang, block in BLOCKS.items():
        texts = [t for t in lines[400 * block: 400 * (block + 1)] if t]
        for i, t in enumerate(texts):
            add("mono", {"doc": f"smoke-mono/{lang}/{i // 10}", "source": "smoke-corpus", "lang": lang, "text": t})
        for start in range(0, len(texts), 12):
            add("docs", {"doc": f"smoke-lines/{lang}/{start}", "source": "smoke-corpus", "lang": lang,
                         "sentences": texts[start:start + 12]})
    english = [t for t in lines[:400] if t]
    others = [l for l in BLOCKS if l != "eng_Latn"]
    for i, t in enumerate(english):
        xx = others[i % len(others)]
        add("parallel", {"doc": f"smoke-pairs/{i // 10}", "source": "smoke-corpus", "pair": {"eng_Latn": t, xx: t}})
    seeds = seed_sentences()
    for start in range(0, len(seeds), 10):
        doc = seeds[start:start + 10]
        if len(doc) < 4:
            continue
        add("docs", {"doc": f"smoke-seed/{start}", "source": "smoke-seeds", "lang": "eng_Latn", "sentences": doc})
        add("summaries", {"doc": f"smoke-seed-sum/{start}", "source": "smoke-seeds", "lang": "eng_Latn",
                          "document": doc, "summary": doc[:2]})
    os.makedirs(work.data, exist_ok=True)
    for kind in ("mono", "parallel", "docs", "summaries"):
        for split in ("train", "valid", "test"):
            write_jsonl(work.data_file(kind, split), rows.get(f"{kind}.{split}", []))
    write_json(os.path.join(work.data, "sources.json"), [
        {"name": "smoke-corpus", "package": "test/fixtures/tokenizer/corpus.txt", "licence": "repository"},
        {"name": "smoke-seeds", "package": "/work/shared/seeds", "licence": "repository"}])
    return {k: len(v) for k, v in sorted(rows.items())}


def _args(base: argparse.Namespace, work: str, **kw: Any) -> argparse.Namespace:
    ns = argparse.Namespace(**vars(base))
    ns.work, ns.smoke, ns.fresh, ns.stop_after, ns.max_minutes, ns.steps, ns.set = work, True, False, None, None, None, []
    for k, v in kw.items():
        setattr(ns, k, v)
    return ns


def _same_weights(a: str, b: str) -> bool:
    x, y = torch.load(a, map_location="cpu")["model"], torch.load(b, map_location="cpu")["model"]
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


def _check_resume(base: argparse.Namespace, main_work: str, stage: str, before: List[str], stop: int) -> bool:
    """Run ``stage`` as stop-after-``stop`` + resume in a copy of the inputs; compare with the one-go run."""
    other = os.path.join(os.path.dirname(main_work), f"resume-{stage}")
    os.makedirs(os.path.join(other, "runs"), exist_ok=True)
    if not os.path.exists(os.path.join(other, "data")):
        os.symlink(os.path.join(main_work, "data"), os.path.join(other, "data"))
    for s in before:
        dst = os.path.join(other, "runs", s)
        if not os.path.exists(dst):
            shutil.copytree(os.path.join(main_work, "runs", s), dst)
    stages.run_stage(stage, _args(base, other, stop_after=stop))
    stages.run_stage(stage, _args(base, other))
    return _same_weights(os.path.join(main_work, "runs", stage, "last.pt"), os.path.join(other, "runs", stage, "last.pt"))


def _check_embed_resume(a: argparse.Namespace, work: Work) -> Tuple[str, bool, str]:
    """Remove one finished shard's marker; a rerun must make exactly that shard again, with the same vectors."""
    import numpy as np

    marker = sorted(glob.glob(os.path.join(work.runs, "embed", "docs.train.*.json")))[1]
    before = np.load(marker[:-5] + ".npy")
    os.remove(marker)
    state = stages.run_stage("embed", a)
    same = np.array_equal(before, np.load(marker[:-5] + ".npy"))
    return ("embed resumes: only the unfinished shard is redone, same vectors",
            state["shardsMadeThisRun"] == 1 and same, f"{state['shardsMadeThisRun']} shard(s) redone")


def _check_sigint(root: str, main_work: str) -> Tuple[bool, str]:
    """Interrupt a sonar run with SIGINT; expect exit 0, a saved unfinished checkpoint, then a working resume."""
    work = os.path.join(root, "sigint")
    os.makedirs(os.path.join(work, "runs"), exist_ok=True)
    os.symlink(os.path.join(main_work, "data"), os.path.join(work, "data"))
    shutil.copytree(os.path.join(main_work, "runs", "tokenizer"), os.path.join(work, "runs", "tokenizer"))
    base = [sys.executable, os.path.join(REPO, "recipe", "run.py"), "sonar", "--smoke", "--work", work,
            "--set", "eval_every=0", "--set", "log_every=5", "--threads", "1"]
    cmd = base + ["--steps", "100000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "step 10/" in line:
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=120)
    seen.append(rest)
    state = os.path.join(work, "runs", "sonar", "state.json")
    ok = proc.returncode == 0 and os.path.exists(state) and not json.load(open(state))["finished"]
    step = json.load(open(state))["step"] if os.path.exists(state) else -1
    res = subprocess.run(base + ["--steps", str(step + 5)], capture_output=True, text=True)
    ok = ok and res.returncode == 0 and "resumed from" in res.stdout and f"at step {step} " in res.stdout
    return ok, f"exit {proc.returncode}, saved at step {step}, resume exit {res.returncode}"


def _check_decoder_stage(a: argparse.Namespace, work: Work) -> Tuple[str, bool, str]:
    """``sonar-decoder``: the encoder stays the sonar run's bit for bit, the decoder (own embedding now) learns,
    and a run made on another encoder is refused (``base.json``)."""
    from . import sonar_decoder

    stages.run_stage("sonar-decoder", a)
    x = torch.load(sonar_decoder.checkpoint(work, "sonar") or "", map_location="cpu")["model"]
    y = torch.load(os.path.join(work.runs, "sonar-decoder", "last.pt"), map_location="cpu")["model"]
    enc_same = all(torch.equal(x[k], y[k]) for k in x if k.startswith("encoder."))
    emb = "decoder.decoder_frontend.embed.weight"
    dec_moved = not torch.equal(x[emb], y[emb]) and not torch.equal(y[emb], y["encoder.encoder_frontend.embed.weight"])
    layers_moved = any(not torch.equal(x[k], y[k]) for k in x if k.startswith("decoder.decoder.layers."))
    base_path = os.path.join(work.runs, "sonar-decoder", "base.json")
    good = json.load(open(base_path))
    write_json(base_path, {**good, "step": -1})
    try:
        sonar_decoder.usable(work)
        refused = False
    except SystemExit:
        refused = True
    write_json(base_path, good)
    stage, _ = sonar_decoder.decoder_checkpoint(work)
    return ("sonar-decoder: encoder unchanged, decoder learns, another encoder's run refused",
            enc_same and dec_moved and layers_moved and refused and stage == "sonar-decoder",
            f"encoder same {enc_same}, embedding/layers moved {dec_moved}/{layers_moved}, stale refused {refused}")


def _check_ship(root: str, pack: str) -> Tuple[str, bool, str]:
    """recipe/ship.py on the smoke pack into a temporary models folder: int8 encoder/decoder, measured against
    float32, installed with default.json; the same pack again under another name is refused (not better)."""
    sys.path.insert(0, REPO)
    from recipe import ship  # noqa: E402
    from lcmref.export_pack import verify_pack

    models, evals = os.path.join(root, "ship", "models"), os.path.join(root, "ship", "eval")
    common = ["--int8", "encoder,decoder", "--limit", "2", "--models", models, "--eval-dir", evals]
    ship.main([pack, "--name", "smoke-a", *common])
    installed = os.path.join(models, "smoke-a")
    default = json.load(open(os.path.join(models, "default.json")))["pack"]
    record = json.load(open(os.path.join(evals, "smoke-a", "ship.json")))
    try:
        ship.main([pack, "--name", "smoke-b", *common])
        refused = False
    except SystemExit as e:
        refused = "does not beat smoke-a" in str(e)
    targets = open(os.path.join(evals, "smoke-a", "targets.md"), encoding="utf-8").read()
    ok = (default == "smoke-a" and not verify_pack(installed) and record["int8"]["graphs"] == ["encoder", "decoder"]
          and "| round-trip chrF eng_Latn" in targets and "next-concept cosine" in targets
          and "## As shipped (recipe/ship.py)" in open(os.path.join(installed, "MODEL_CARD.md"), encoding="utf-8").read()
          and "float32 → int8" in open(os.path.join(installed, "MODEL_CARD.md"), encoding="utf-8").read()
          and "quantization" in json.load(open(os.path.join(installed, "manifest.json")))["provenance"]
          and refused and not os.path.exists(os.path.join(models, "smoke-b")))
    # the int8 graphs load back into the PyTorch modules (npm run bench's reference side) with the float weights
    # up to the int8 step: dequantize_int8 undoes quantize_pack
    from lcmref.onnx_weights import GRAPH_PREFIXES, graph_weights

    fw = graph_weights(os.path.join(pack, "encoder.onnx"), GRAPH_PREFIXES["encoder"])
    qw = graph_weights(os.path.join(installed, "encoder.onnx"), GRAPH_PREFIXES["encoder"])
    worst = max(float(np.abs(fw[k] - qw[k]).max() / (np.abs(fw[k]).max() + 1e-12)) for k in fw) if fw.keys() == qw.keys() else 1.0
    ok = ok and worst < 1 / 127
    return ("recipe/ship.py: int8 measured, installed as default; a pack no better is refused; its int8 encoder loads "
            "back with the float weights ± one int8 step", ok,
            f"{record['bytes'] / 1e6:.1f} MB, refused again {refused}, worst relative weight difference {worst:.4f}")


def _check_fragility_stage(a: argparse.Namespace, work: Work) -> Tuple[str, bool, str]:
    """train/fragility.py: the ridge fit recovers a known function of [z, z²]; the stage scores its sample,
    fits the predictor and, rerun, reuses every score."""
    import numpy as np

    from . import fragility

    rng = np.random.default_rng(5)
    z = rng.standard_normal((400, 8))
    y = 50 + 10 * z[:, 0] - 5 * z[:, 1] ** 2
    w = fragility.fit_ridge(z, y, 1e-9)
    fit_err = float(np.abs(fragility.features(z) @ w - y).max())
    m = fragility.holdout_metrics(np.exp(y / 20), y, float(y.mean()))  # monotone: Spearman 1
    a = argparse.Namespace(**{**vars(a), "stage": "fragility"})  # as `recipe/run.py fragility` (`all` skips it here)
    state = stages.run_stage("fragility", a)
    scores_path = os.path.join(work.runs, "fragility", "scores.json")
    n_scores = len(json.load(open(scores_path)))
    again = stages.run_stage("fragility", a)
    pred = json.load(open(os.path.join(work.runs, "fragility", "predictor.json")))
    f = fragility.FragilityPredictor.load(work).scores(np.zeros((3, len(pred["weights"]) // 2), np.float32))
    ok = (fit_err < 1e-4 and abs(m["spearman"] - 1) < 1e-9 and state["finished"] and state["scored"] == 60
          and n_scores == len(json.load(open(scores_path))) and json.dumps(again["heldOut"]) == json.dumps(state["heldOut"])
          and bool(((f >= 0) & (f <= 100)).all()))
    return ("fragility stage: ridge recovers a known f, sample scored once, predictor loads", ok,
            f"fit max |err| {fit_err:.1e}; {n_scores} scores; held-out {state['heldOut']}")


def _node(args: List[str], stdin: str = "") -> Tuple[int, str]:
    res = subprocess.run(["node", os.path.join(REPO, "bin", "lcm.mjs"), *args], input=stdin, capture_output=True,
                         text=True, cwd=REPO, timeout=300)
    return res.returncode, (res.stdout + res.stderr).strip()


def _check_fragility(work: Work) -> Tuple[str, bool, str]:
    """The fragility-weighted loss's pieces (train/lcm.py): the paper's noise in the normalizer's space (α = 0 keeps
    the vector, α = 1 forgets it), ω = sigmoid(a·f/100 + b), and FragilityCache scoring and caching three vectors."""
    import numpy as np

    from . import lcm as lcm_stage

    center, scale, _ = lcm_stage.load_normalizer(work)
    x, y = (torch.from_numpy(center + k * scale) for k in (0.5, -2.0))
    keep = (lcm_stage.perturb_paper(x, 0.0, center, scale, torch.Generator().manual_seed(3)) - x).abs().max().item()
    pure = [lcm_stage.perturb_paper(v, 1.0, center, scale, torch.Generator().manual_seed(3)) for v in (x, y)]
    w = lcm_stage.fragility_weight(np.array([0.0, 50.0, 100.0]), 4.0, -2.0)
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    cfg = lcm_stage.LcmTrainConfig(fragility_a=4.0, fragility_b=-2.0)
    run_dir = tempfile.mkdtemp(prefix="fragility-", dir=work.root)
    cache = lcm_stage.FragilityCache(work, run_dir, cfg)
    raw = np.stack([center + k * scale for k in (0.0, 1.0, -1.0)]).astype(np.float32)
    f = cache.scores(raw)
    cache.save()
    again = lcm_stage.FragilityCache(work, run_dir, cfg).scores(raw)
    ok = (keep < 1e-5 and torch.equal(pure[0], pure[1]) and np.allclose(w, sig(np.array([-2.0, 0.0, 2.0])), atol=1e-6)
          and f.shape == (3,) and bool(((f >= 0) & (f <= 100)).all()) and np.array_equal(f, again))
    return ("fragility: paper noise, sigmoid weight, cached scores", ok, f"α=0 max |Δ| {keep:.1e}; f {np.round(f, 1).tolist()}")


def _check_quant_path(base: argparse.Namespace, root: str, main_work: str) -> List[Tuple[str, bool, str]]:
    """The Quant-LCM path in a copy of the SONAR-side runs: lcm + finetune as quant-discrete, then sonar-quant as
    ``all`` runs it (it applies to a quant run), export (the pack ships that decoder) and the TS engine on it."""
    from . import sonar_quant

    work_dir = os.path.join(root, "quant")
    os.makedirs(os.path.join(work_dir, "runs"), exist_ok=True)
    os.symlink(os.path.join(main_work, "data"), os.path.join(work_dir, "data"))
    for s in ("tokenizer", "sonar", "embed", "normalizer", "sonar-decoder"):  # sonar-quant starts from sonar-decoder
        shutil.copytree(os.path.join(main_work, "runs", s), os.path.join(work_dir, "runs", s))
    skipped = stages.run_stage("sonar-quant", _args(base, main_work)) is None  # the main run is a Two-Tower
    q = _args(base, work_dir, set=["lcm.architecture=quant-discrete"])
    for stage in ("lcm", "finetune", "sonar-quant"):
        stages.run_stage(stage, q)
    applies = sonar_quant.applies(Work(work_dir))
    pack = os.path.join(root, "pack-quant")
    stages.run_stage("export", _args(base, work_dir, out=pack, name="smoke-quant"))
    with open(os.path.join(pack, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    decoder_note = manifest["provenance"].get("decoder", "")
    rc1, out1 = _node(["packs", "--pack", pack])
    rc2, out2 = _node(["continue", "--pack", pack, "--seed", "7", "--count", "2", "--temperature", "0"], "Hello there.\n")
    return [
        ("sonar-quant: skipped in `all` for a Two-Tower run, runs for a quant-discrete one", skipped and applies, ""),
        ("export ships the quantized-input decoder in the quant pack",
         manifest["lcm"]["architecture"] == "quant-discrete" and "sonar-quant" in decoder_note, decoder_note),
        ("node bin/lcm.mjs packs / continue --temperature 0 on the quant pack",
         rc1 == 0 and out1.startswith("ok") and rc2 == 0, (out1.splitlines()[0] if out1 else "") + " | "
         + out2.replace("\n", " | ")[:200]),
    ]


def _check_studies(main_work: str) -> Tuple[str, bool, str]:
    """train/study.py on the smoke work: two schedules (lcm only) and two designs (lcm + finetune, and sonar-quant
    for the Quant-LCM), a few steps each, evaluated and tabulated."""

    from . import study

    base = ["--work", main_work, "--smoke", "--steps", "5", "--threads", "1"]
    study.main(["schedules", *base, "--only", "cosine", "sigmoid(1.5,-1)"])
    study.main(["designs", *base, "--finetune-steps", "4", "--quant-decoder-steps", "3", "--only", "base-lcm",
                "quant-lcm-d"])
    study.main(["fragility", *base, "--only", "plain", "fragile-up"])
    reports = {}
    for name in ("schedules", "designs", "fragility"):
        with open(os.path.join(main_work, "study", name, "report.json"), encoding="utf-8") as f:
            reports[name] = json.load(f)["rows"]
    cfg = json.load(open(os.path.join(main_work, "study", "schedules", "sigmoid-1.5_-1", "runs", "lcm", "config.json")))
    up = json.load(open(os.path.join(main_work, "study", "fragility", "fragile-up", "runs", "lcm", "config.json")))
    rows = reports["schedules"] + reports["designs"] + reports["fragility"]
    ok = ([r["name"] for r in rows] == ["cosine", "sigmoid(1.5,-1)", "base-lcm", "quant-lcm-d", "plain", "fragile-up"]
          and (up["fragility_a"], up["fragility_b"], up["fragility_source"]) == (4.0, -2.0, "predictor")
          and "fragilityPredictor" in reports["fragility"][1]
          and all(r["lcmSteps"] == 5 for r in rows) and all(r["step"] == 4 for r in reports["designs"])
          and [r["architecture"] for r in reports["designs"]] == ["base-mse", "quant-discrete"]
          and os.path.exists(os.path.join(main_work, "study", "designs", "quant-lcm-d", "runs", "sonar-quant", "last.pt"))
          and all(math.isfinite(r["results"]["test_next_cos"]) for r in rows)
          and all(math.isfinite(r["results"]["test_consensus_cos"]) for r in rows)
          and all("sum_rougeL" in r["results"] for r in reports["designs"])
          and (cfg["schedule"], cfg["sigmoid_gamma"], cfg["sigmoid_delta"]) == ("sigmoid", 1.5, -1.0))
    return ("studies: one LCM per schedule / design, evaluated, tabulated", ok,
            "; ".join(f"{r['name']} next_cos {r['results']['test_next_cos']:.3f}" for r in rows))


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    results: List[Tuple[str, bool, str]] = []
    results.append(("metrics selftest (chrF = TypeScript values)", not selftest(verbose=False), ""))
    root = tempfile.mkdtemp(prefix="cs-smoke-")
    main_work = os.path.join(root, "work")
    work = Work(main_work)
    try:
        counts = write_synthetic_data(work)
        log(f"[smoke] synthetic data in {work.data}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        a = _args(args, main_work)
        for stage in ("tokenizer", "sonar", "embed", "normalizer", "lcm", "finetune"):
            stages.run_stage(stage, a)
        results.append(_check_embed_resume(a, work))
        ok = _check_resume(args, main_work, "sonar", ["tokenizer"], 25)
        results.append(("sonar: stop at 25 + resume == one go (bit-identical weights)", ok, ""))
        ok = _check_resume(args, main_work, "lcm", ["tokenizer", "sonar", "embed", "normalizer"], 15)
        results.append(("lcm: stop at 15 + resume == one go (bit-identical weights)", ok, ""))
        ok, note = _check_sigint(root, main_work)
        results.append(("SIGINT saves, exits 0, resumes", ok, note))
        from . import lcm as lcm_stage
        from . import sonar as sonar_stage
        from .forward import check_against_reference

        enc, dec, _, _ = sonar_stage.load_trained(work)
        lcm, _, _ = lcm_stage.load_trained(work)
        diff = check_against_reference(enc, dec, lcm)
        results.append(("train/forward.py == lcmref forms", diff < 1e-5, f"max |diff| {diff:.2e}"))
        results.append(_check_fragility(work))
        results.append(_check_fragility_stage(a, work))
        results.append(_check_decoder_stage(a, work))
        pack = os.path.join(root, "pack")
        stages.run_stage("export", _args(args, main_work, out=pack, name="smoke-pack"))
        decoder_note = json.load(open(os.path.join(pack, "manifest.json")))["provenance"].get("decoder", "")
        results.append(("export ships the sonar-decoder stage's decoder", "sonar-decoder" in decoder_note,
                        decoder_note))
        stages.run_stage("evaluate", a)
        ev = json.load(open(os.path.join(main_work, "runs", "evaluate", "results.json")))
        ev = ev.get("results", ev)
        keys = ("test_next_cos", "test_prev_cos", "test_mean_cos", "test_consensus_cos", "next_ms")
        results.append(("evaluate: next concept, baselines, consensus and timing in one pass",
                        all(isinstance(ev.get(k), float) and math.isfinite(ev[k]) for k in keys),
                        ", ".join(f"{k} {ev.get(k)}" for k in keys)))
        from lcmref.export_pack import verify_pack

        problems = verify_pack(pack)
        card = open(os.path.join(pack, "MODEL_CARD.md"), encoding="utf-8").read()
        results.append(("pack verifies after evaluate refreshed its card", not problems and "round-trip chrF" in card,
                        "; ".join(problems)))
        rc, out = _node(["packs", "--pack", pack])
        results.append(("node bin/lcm.mjs packs --pack <pack>", rc == 0 and out.startswith("ok"),
                        out.splitlines()[0] if out else ""))
        rc, out = _node(["continue", "--pack", pack, "--seed", "7", "--count", "2"], "Hello there.\n")
        results.append(("echo 'Hello there.' | node bin/lcm.mjs continue --pack <pack> --seed 7 --count 2", rc == 0,
                        out.replace("\n", " | ")[:300]))
        results.append(_check_ship(root, pack))
        results.extend(_check_quant_path(args, root, main_work))
        results.append(_check_studies(main_work))
    except BaseException as e:  # noqa: BLE001 - report, then fail
        results.append(("pipeline", False, f"{type(e).__name__}: {e}"))
        import traceback

        traceback.print_exc()
    log("\n[smoke] results:")
    for name, ok, note in results:
        log(f"  {'PASS' if ok else 'FAIL'}  {name}" + (f"  ({note})" if note else ""))
    failed = sum(1 for _, ok, _ in results if not ok)
    log(f"[smoke] {len(results) - failed}/{len(results)} passed in {time.perf_counter() - t0:.0f} s; work folder {root}"
        + (" (kept)" if args.keep or failed else " (removed)"))
    if not args.keep and not failed:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0
