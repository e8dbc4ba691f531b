"""The one command a lent GPU runs: the default pack's training stages in sequence, under one deadline.

    bash recipe/device/train_on_device.sh                       # on the device (recipe/device/README.md)
    OUT=/tmp/fake_out bash recipe/device/train_on_device.sh --smoke --device cpu --total-minutes 2.5 \\
        --bundle /tmp/tiny-bundle --work /tmp/cs-device-work    # the CPU test of the same code

1. Checks the machine (``nvidia-smi``, torch's CUDA, versions) and refuses to
   train on a CPU unless ``--device cpu`` says so.
2. Unpacks the bundle (bundle.py) into ``--work``: ``data/`` and, when carried,
   ``runs/tokenizer/``.
3. Runs ``tokenizer`` (keeps the carried one), ``sonar``, ``embed``,
   ``normalizer``, ``lcm``, ``finetune`` in this process through
   ``train.stages.run_stage`` (the code ``recipe/run.py`` runs), each with a
   deadline from the plan below; a stage that ends early leaves its time to
   the next ones. Training stages use ``fit_to_minutes`` (train/loop.py): the
   target step is what fits the time, so the LR schedule and the final
   evaluation happen inside it.
4. After every stage, rewrites ``$OUT`` (outbox.py): ``summary.json``,
   ``runs.tar.xz`` and the float16 checkpoints, so a run killed at the
   tool's limit still returns every stage it finished. ``log.txt`` is the tee
   of this output (train_on_device.sh).

The plan (minutes of the default ``--total-minutes`` 8.3; other totals scale it):
setup 0.3, sonar 4.9, embed 0.6, normalizer 0.1, lcm 1.3, finetune 0.8, packing 0.3.
A tokenizer trained here (none carried) takes its time from sonar.

Shapes and settings (``GPU_SETTINGS``; recipe/device/README.md says why): SONAR
d 256, 6 encoder + 4 decoder layers, FFN 1024, batches of 16,384 tokens, lr
1.5e-3 after 400 warmup steps; LCM E = D = 256, 2 + 2 layers, SwiGLU 1024,
8,192 concepts per batch, lr 5e-4 after 150. ``--set stage.key=value`` changes
any of them. ``--smoke`` runs the smoke shapes (train/stages.py SMOKE_PRESET) instead.

Run from the repository root (any python3 with torch, numpy and sentencepiece;
it puts recipe/ on sys.path).
"""
import argparse
import contextlib
import dataclasses
import gc
import json
import lzma
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

# Before torch loads: passive OpenMP waits (docs/recipe.md, Compute), and full unpickling of our own
# checkpoints under torch ≥ 2.6, whose torch.load defaults to weights_only (the stages call torch.load).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPE = os.path.dirname(HERE)
REPO = os.path.dirname(RECIPE)
sys.path.insert(0, RECIPE)
sys.path.insert(0, HERE)

import torch  # noqa: E402

import outbox as ob  # noqa: E402

TRAIN_STAGES = ["tokenizer", "sonar", "embed", "normalizer", "lcm", "finetune"]
PLAN_TOTAL = 8.3
PLAN = {"setup": 0.3, "sonar": 4.9, "embed": 0.6, "normalizer": 0.1, "lcm": 1.3, "finetune": 0.8, "packing": 0.3}
TOKENIZER_MINUTES = 1.5  # only when no tokenizer was carried; taken from sonar

# GPU shapes and settings (on top of train/stages.py CUDA_PRESET); README.md explains the choices.
GPU_SETTINGS: Dict[str, List[str]] = {
    "sonar": ["model_dim=256", "enc_layers=6", "dec_layers=4", "heads=4", "ffn_dim=1024", "batch_tokens=16384",
              "lr=0.0015", "warmup=400", "eval_every=2000", "eval_sentences=60", "eval_translate=12",
              "log_every=100", "ckpt_minutes=1", "pretokenize_threads=16", "fit_to_minutes=true", "steps=1000000"],
    "lcm": ["model_dim=256", "heads=4", "context_layers=2", "denoiser_layers=2", "ffn_dim=1024",
            "batch_concepts=8192", "lr=0.0005", "warmup=150", "eval_every=500", "log_every=50", "ckpt_minutes=1",
            "fit_to_minutes=true", "steps=1000000"],
    "finetune": ["batch_concepts=8192", "warmup=50", "eval_every=300", "log_every=50", "ckpt_minutes=1",
                 "fit_to_minutes=true", "steps=1000000"],
}
# --smoke: train/stages.py SMOKE_PRESET shapes, run by time like the GPU run (the CPU test of this script).
SMOKE_SETTINGS: Dict[str, List[str]] = {
    "sonar": ["eval_every=100", "log_every=10", "ckpt_minutes=0.5", "pretokenize_threads=1", "fit_to_minutes=true",
              "steps=1000000"],
    "lcm": ["eval_every=50", "log_every=10", "ckpt_minutes=0.5", "fit_to_minutes=true", "steps=1000000"],
    "finetune": ["eval_every=50", "log_every=10", "ckpt_minutes=0.5", "fit_to_minutes=true", "steps=1000000"],
}
# What runs.tar.xz carries of each stage (outbox.py); the embed shards only of the test split (evaluate's).
SMALL_FILES = ("config.json", "state.json", "loss.tsv", "eval.tsv")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default=os.path.join(REPO, ".device", "bundle"), help="bundle folder (bundle.py)")
    ap.add_argument("--out", default=os.environ.get("OUT"), help="results folder (default $OUT)")
    ap.add_argument("--work", default="/tmp/cs-device-work", help="work folder on this machine (emptied first)")
    ap.add_argument("--total-minutes", type=float, default=float(os.environ.get("CS_DEVICE_MINUTES", PLAN_TOTAL)),
                    help=f"deadline of the whole run, setup and packing included (default {PLAN_TOTAL}, "
                         "or $CS_DEVICE_MINUTES); the plan scales with it")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                    help="cuda (default; refuses to run without one) or cpu (the test)")
    ap.add_argument("--threads", type=int, help="torch CPU threads (default 8 with CUDA, 1 on CPU)")
    ap.add_argument("--smoke", action="store_true", help="the smoke shapes (the CPU test)")
    ap.add_argument("--set", action="append", default=[], metavar="STAGE.KEY=VALUE",
                    help="override a stage setting, e.g. sonar.enc_layers=4 (repeatable)")
    ap.add_argument("--stages", default=",".join(TRAIN_STAGES), help="stages to run (default all, in order)")
    return ap


def log(msg: str) -> None:
    print(msg, flush=True)


class Clock:
    """The run's deadlines: each stage ends at the plan's cumulative minute, scaled to --total-minutes."""

    def __init__(self, t0: float, total_minutes: float, with_tokenizer: bool):
        self.t0 = t0
        self.scale = total_minutes / PLAN_TOTAL
        plan = dict(PLAN)
        if with_tokenizer:
            plan["sonar"] -= TOKENIZER_MINUTES
        order = ["setup", "tokenizer", "sonar", "embed", "normalizer", "lcm", "finetune", "packing"]
        self.ends: Dict[str, float] = {}
        acc = 0.0
        for k in order:
            acc += plan.get(k, TOKENIZER_MINUTES if k == "tokenizer" and with_tokenizer else 0.0)
            self.ends[k] = self.t0 + 60.0 * acc * self.scale
        self.final = self.t0 + 60.0 * total_minutes

    def deadline(self, stage: str) -> float:
        """``stage``'s planned end, or at least half its planned minutes from now when the stages before it ran
        long (taken from the ones after it), but never past the start of the final packing."""
        planned = 60.0 * PLAN[stage] * self.scale
        packing = self.final - 60.0 * PLAN["packing"] * self.scale
        return min(max(self.ends[stage], time.time() + 0.5 * planned), packing)

    def elapsed(self) -> float:
        return time.time() - self.t0


# ---------------------------------------------------------------- machine and bundle

def machine_report(device: str) -> Dict[str, Any]:
    info: Dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                            "cuda": torch.version.cuda, "host": platform.node(), "cpus": os.cpu_count()}
    for mod in ("numpy", "sentencepiece", "onnx"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception as e:  # noqa: BLE001 - a report, not a requirement (onnx is not needed here)
            info[mod] = f"missing ({type(e).__name__})"
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        info["nvidia_smi"] = (smi.stdout or smi.stderr).strip()
    except (OSError, subprocess.SubprocessError) as e:
        info["nvidia_smi"] = f"not available ({e})"
    info["cuda_available"] = torch.cuda.is_available()
    if info["cuda_available"]:
        info["gpu"] = torch.cuda.get_device_name(0)
        info["gpu_bf16"] = torch.cuda.is_bf16_supported()
    log("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    if device == "cuda" and not info["cuda_available"]:
        raise SystemExit("no CUDA device visible to torch: this script trains on a GPU (use --device cpu for the test)")
    return info


def unpack_bundle(bundle: str, work: str) -> Dict[str, Any]:
    """bundle.json's files → work/data/*.jsonl (checked against their SHA-256), tokenizer → work/runs/tokenizer."""
    with open(os.path.join(bundle, "bundle.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    marker = os.path.join(work, ".cs-device-work")
    if os.path.exists(work) and os.listdir(work) and not os.path.exists(marker):
        raise SystemExit(f"{work} exists and was not made by this script: pass an empty or new --work folder")
    if os.path.exists(work):
        shutil.rmtree(work)
    data = os.path.join(work, "data")
    os.makedirs(data)
    open(marker, "w").close()

    def one(entry: Dict[str, Any]) -> int:
        src = os.path.join(bundle, entry["file"])
        raw = open(src, "rb").read()
        if ob.sha256_bytes(raw) != entry["sha256"]:
            raise SystemExit(f"{src} does not match bundle.json (a torn copy?): rebuild it with bundle.py")
        text = lzma.decompress(raw)
        with open(os.path.join(data, entry["file"][: -len(".xz")]), "wb") as f:
            f.write(text)
        return len(text)

    with ThreadPoolExecutor(max_workers=8) as pool:  # lzma releases the GIL
        sizes = list(pool.map(one, manifest["files"]))
    if os.path.exists(os.path.join(bundle, "sources.json")):
        shutil.copyfile(os.path.join(bundle, "sources.json"), os.path.join(data, "sources.json"))
    if os.path.isdir(os.path.join(bundle, "tokenizer")):
        shutil.copytree(os.path.join(bundle, "tokenizer"), os.path.join(work, "runs", "tokenizer"))
    log(f"bundle: {len(sizes)} files, {sum(sizes) / 2**20:.0f} MiB of JSONL → {data}"
        + ("; tokenizer carried" if manifest.get("tokenizer") else "; no tokenizer carried (training one)"))
    return manifest


# ---------------------------------------------------------------- preflight

def preflight(a: argparse.Namespace) -> float:
    """A few seconds of every device code path the stages take, at the run's shapes, on tiny inputs.

    SONAR: a bf16-autocast training step and a greedy round trip (the evaluation); embed's batched
    encoder; LCM: a training step and one diffusion sample on the CPU copy (its evaluation). A failure
    here stops the run at once, before minutes of the lease go to a stage that would fail later (the
    first SONAR evaluation comes after 2,000 steps). Returns the seconds it took.
    """
    import numpy as np

    from train import stages
    from train.common import Work, apply_overrides
    from train import tokenizer as tokstage
    from train.decode import encode_texts
    from train.forward import encode, lcm_forward_train, token_cross_entropy
    from train.lcm import LcmTrainConfig, build_model, next_concept_cosines
    from train.lcm_data import Sequence as Seq
    from train.sonar import SonarAutoencoder, SonarTrainConfig, evaluate_sonar

    t0 = time.time()
    dev = torch.device(a.device)
    preset = stages.SMOKE_PRESET if a.smoke else stages.CUDA_PRESET if dev.type == "cuda" else {}

    def config(cls: Any, stage: str) -> Any:
        cfg = dataclasses.replace(cls(), **{k: v for k, v in preset.get(stage, {}).items()
                                            if k in {f.name for f in dataclasses.fields(cls)}})
        return apply_overrides(cfg, stage_sets(stage, a.smoke, a.set))

    tok, spec = tokstage.load(Work(a.work))
    scfg = config(SonarTrainConfig, "sonar")
    net = SonarAutoencoder(scfg, int(spec["vocabSize"])).to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    ids = torch.tensor([tok.encode_for_encoder("Hello there, world.", "eng_Latn")] * 2, device=dev)
    mask = torch.ones_like(ids)
    def autocast() -> Any:  # what train/loop.py trains under
        if dev.type == "cuda":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    with autocast():
        loss = token_cross_entropy(net.decoder, ids, encode(net.encoder, ids, mask), ids, -100, 0.1)
    loss.backward()
    opt.step()
    net.eval()
    with torch.no_grad():
        rt = evaluate_sonar(net.encoder, net.decoder, tok, {"eng_Latn": ["Hello there, world."]}, {}, 8, 4, dev)
        vec = encode_texts(net.encoder, tok, [("Hello there.", "eng_Latn"), ("Bonjour.", "fra_Latn")], 32, 2, dev)
    lcfg = dataclasses.replace(config(LcmTrainConfig, "lcm"), embedding_dim=scfg.model_dim)
    lcm = build_model(lcfg).to(dev)
    x = torch.randn(2, 5, scfg.model_dim, device=dev)
    t = torch.randint(0, 100, (2, 5), device=dev)
    with autocast():
        pred = lcm_forward_train(lcm, x, torch.randn_like(x), t, torch.rand(2, 5, device=dev) < 0.15)
    ((pred.float() - x) ** 2).mean().backward()
    cpu = build_model(lcfg)
    cpu.load_state_dict({k: v.detach().float().cpu() for k, v in lcm.state_dict().items()})
    seq = Seq(np.random.default_rng(0).standard_normal((3, scfg.model_dim)).astype(np.float32), np.ones(3, bool))
    cos = next_concept_cosines(cpu, np.zeros(scfg.model_dim, np.float32), np.ones(scfg.model_dim, np.float32), [seq],
                               [(0, 2)], 1)
    del net, opt, lcm
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
    seconds = time.time() - t0
    log(f"preflight ok ({seconds:.1f} s): sonar step loss {float(loss):.2f}, round trip {rt}, "
        f"embed {tuple(vec.shape)}, lcm sample cos {cos.get('next_cos', float('nan')):.3f}")
    return seconds


# ---------------------------------------------------------------- stages

def stage_sets(stage: str, smoke: bool, user: List[str]) -> List[str]:
    """This stage's --set pairs: the run's settings, then the user's ``stage.key=value`` for it."""
    base = (SMOKE_SETTINGS if smoke else GPU_SETTINGS).get(stage, [])
    mine = [s.split(".", 1)[1] for s in user if s.split("=", 1)[0].startswith(stage + ".")]
    return base + mine


def run_stage(stage: str, a: argparse.Namespace, deadline: Optional[float]) -> Tuple[bool, Any, float]:
    """(ok, result, seconds) of one stage through train.stages.run_stage, the code recipe/run.py runs."""
    import run as run_cli  # recipe/run.py
    from train import stages

    argv = [stage, "--work", a.work, "--device", a.device, "--threads", str(a.threads)]
    argv += ["--smoke"] if a.smoke else []
    for s in stage_sets(stage, a.smoke, a.set):
        argv += ["--set", s]
    args = run_cli.parser().parse_args(argv)
    args.deadline = deadline  # train/loop.py RunOptions.deadline
    log(f"\n===== {stage}: recipe/run.py {' '.join(argv)}"
        + (f" (deadline in {deadline - time.time():.0f} s)" if deadline else ""))
    t0 = time.time()
    try:
        result = stages.run_stage(stage, args)
        ok = True
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001 - SystemExit too: log it, keep what the other stages made
        result = {"error": f"{type(e).__name__}: {e}"}
        ok = False
        log(f"!!!!! {stage} failed: {type(e).__name__}: {e}\n{traceback.format_exc()}")
    finally:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return ok, result, time.time() - t0


def tsv_last(path: str) -> Dict[str, str]:
    if not os.path.exists(path):
        return {}
    lines = [l for l in open(path, encoding="utf-8").read().splitlines() if l]
    return dict(zip(lines[0].split("\t"), lines[-1].split("\t"))) if len(lines) > 1 else {}


def stage_report(work: str, stage: str) -> Dict[str, Any]:
    run = os.path.join(work, "runs", stage)
    rep: Dict[str, Any] = {}
    p = os.path.join(run, "state.json")
    if os.path.exists(p):
        st = json.load(open(p, encoding="utf-8"))
        rep.update({k: st[k] for k in ("step", "targetSteps", "finished", "wallSeconds", "tokens", "device", "vectors",
                                       "pieces", "vocabSize") if k in st})
        if isinstance(st.get("best"), dict):
            rep["best"] = {"step": st["best"].get("step"), "score": st["best"].get("score")}
    last_loss = tsv_last(os.path.join(run, "loss.tsv"))
    if last_loss:
        rep["lastLoss"] = last_loss
    last_eval = tsv_last(os.path.join(run, "eval.tsv"))
    if last_eval:
        rep["lastEval"] = last_eval
    return rep


def small_files(work: str) -> List[Tuple[str, str]]:
    """(path under runs/, archive name) of what runs.tar.xz carries (outbox.py)."""
    runs = os.path.join(work, "runs")
    out: List[Tuple[str, str]] = []
    for stage in TRAIN_STAGES:
        d = os.path.join(runs, stage)
        if not os.path.isdir(d):
            continue
        names = list(SMALL_FILES)
        if stage == "tokenizer":
            names += ["tokenizer.model", "tokenizer.json"]
        elif stage == "normalizer":
            names += ["normalizer.json"]
        elif stage == "embed":
            names += ["specials.json"] + sorted(n for n in os.listdir(d)
                                                if n.startswith(("docs.test.", "summaries.test.")))
        out += [(f"{stage}/{n}", f"runs/{stage}/{n}") for n in dict.fromkeys(names)]
    return out


# ---------------------------------------------------------------- main

def main(argv: Optional[List[str]] = None) -> int:
    a = parser().parse_args(argv)
    if not a.out:
        raise SystemExit("no results folder: set $OUT (the device tool does) or pass --out")
    a.threads = a.threads or (8 if a.device == "cuda" else 1)
    a.work = os.path.abspath(a.work)
    box = ob.Outbox(a.out)
    wanted = [s for s in a.stages.split(",") if s]
    unknown = [s for s in wanted if s not in TRAIN_STAGES]
    if unknown:
        raise SystemExit(f"--stages: unknown {unknown}; known {TRAIN_STAGES}")
    summary: Dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "argv": sys.argv[1:],
                               "totalMinutes": a.total_minutes, "smoke": a.smoke, "stages": {}}

    def flush() -> None:
        summary["elapsedSeconds"] = round(time.time() - t_start, 1)
        summary["files"] = box.artifacts
        try:
            summary["runsTarBytes"] = box.put_runs(os.path.join(a.work, "runs"), small_files(a.work))
        except OSError as e:
            summary["runsTarError"] = str(e)
        box.put_json("summary.json", summary)

    t_start = time.time()
    summary["machine"] = machine_report(a.device)
    torch.set_num_threads(a.threads)
    manifest = unpack_bundle(a.bundle, a.work)
    summary["bundle"] = {k: manifest.get(k)
                         for k in ("created", "settings", "bytes", "tokenizer", "groups", "testPrefix")}
    has_tok = os.path.exists(os.path.join(a.work, "runs", "tokenizer", "tokenizer.json"))
    clock = Clock(t_start, a.total_minutes, with_tokenizer=not has_tok and "tokenizer" in wanted)
    summary["plan"] = {k: round(v - clock.t0, 1) for k, v in clock.ends.items()}
    log(f"plan (seconds from start): {summary['plan']}")
    flush()
    failed = False
    for stage in wanted:
        if time.time() > clock.final - 60.0 * PLAN["packing"] * clock.scale:
            log(f"----- {stage}: skipped, the run's deadline is near")
            summary["stages"][stage] = {"ok": False, "skipped": "deadline"}
            continue
        if failed and stage != "tokenizer":
            needs = {"sonar": "tokenizer", "embed": "sonar", "normalizer": "embed", "lcm": "normalizer",
                     "finetune": "lcm"}[stage]
            if not summary["stages"].get(needs, {}).get("usable", False):
                log(f"----- {stage}: skipped, {needs} has nothing usable")
                summary["stages"][stage] = {"ok": False, "skipped": f"{needs} failed"}
                continue
        if stage != "tokenizer" and "preflight" not in summary:
            try:
                summary["preflight"] = {"ok": True, "seconds": round(preflight(a), 1)}
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # noqa: BLE001 - SystemExit too: stop before stages that would fail
                summary["preflight"] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
                log(f"!!!!! preflight failed, stopping (fix it and run again): {type(e).__name__}: {e}\n"
                    f"{traceback.format_exc()}")
                summary["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
                flush()
                return 3
        deadline = clock.deadline(stage) if stage in ("sonar", "lcm", "finetune") else None
        ok, result, seconds = run_stage(stage, a, deadline)
        rep = {"ok": ok, "seconds": round(seconds, 1), **stage_report(a.work, stage)}
        if not ok:
            rep["error"] = result.get("error") if isinstance(result, dict) else str(result)
            failed = True
        run_dir = os.path.join(a.work, "runs", stage)
        ck = next((os.path.join(run_dir, n) for n in ("best.pt", "last.pt")
                   if os.path.exists(os.path.join(run_dir, n))), None)
        rep["usable"] = ok or ck is not None
        if stage in ("sonar", "lcm", "finetune") and ck is not None:
            try:
                info = box.put_checkpoint(stage, ck, evictable=["lcm"] if stage == "finetune" else [])
                rep["checkpoint"] = {k: info[k] for k in ("source", "step", "parts", "bytes")}
                log(f"----- {stage}: {info['source']} step {info['step']} → {', '.join(info['parts'])} "
                    f"({info['bytes'] / 2**20:.1f} MiB)")
            except Exception as e:  # noqa: BLE001 - keep going; the log says what was lost
                rep["checkpointError"] = f"{type(e).__name__}: {e}"
                log(f"!!!!! {stage}: could not write its checkpoint to {a.out}: {e}\n{traceback.format_exc()}")
        summary["stages"][stage] = rep
        flush()
        log(f"----- {stage}: {'ok' if ok else 'FAILED'} in {seconds:.0f} s; {clock.elapsed():.0f} s since start, "
            f"{clock.final - time.time():.0f} s to the deadline")
    summary["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    flush()
    print_summary(summary, box)
    return 0 if all(s.get("ok") for s in summary["stages"].values()) else 1


def print_summary(summary: Dict[str, Any], box: ob.Outbox) -> None:
    log("\n===== summary")
    for stage, rep in summary["stages"].items():
        parts = [("ok" if rep.get("ok") else "FAILED"), f"{rep.get('seconds', 0):.0f} s"]
        if "step" in rep:
            parts.append(f"step {rep['step']}/{rep.get('targetSteps')}")
        loss = rep.get("lastLoss", {})
        if loss:
            parts.append(f"loss {loss.get('loss')} ({loss.get('steps_per_s')} steps/s, {loss.get('tokens_per_s')} /s)")
        ev = rep.get("lastEval", {})
        keys = [k for k in ("rt_mean", "tr_mean", "valid_mse", "next_cos", "prev_cos", "mean_cos") if k in ev]
        if keys:
            parts.append(" ".join(f"{k} {ev[k]}" for k in keys))
        if "checkpoint" in rep:
            parts.append(f"→ {'+'.join(rep['checkpoint']['parts'])}")
        if rep.get("error") or rep.get("skipped"):
            parts.append(str(rep.get("error") or rep.get("skipped")))
        log(f"{stage:>10}: " + "; ".join(parts))
    files = box.files()
    log(f"$OUT: {len(files)} files, {sum(files.values()) / 2**20:.1f} MiB: "
        + ", ".join(f"{n} {b / 2**20:.1f}M" for n, b in files.items()))
    log(f"elapsed {summary['elapsedSeconds']:.0f} s of {60 * summary['totalMinutes']:.0f}")


if __name__ == "__main__":
    sys.exit(main())
