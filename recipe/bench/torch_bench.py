"""The PyTorch side of ``npm run bench``: the lcmref modules on a pack's own weights, timed.

bench/torch.ts runs this as a child process: one JSON request on standard
input, one JSON reply on standard output (progress lines go to standard
error). The weights are the pack's ONNX initializers (lcmref/onnx_weights.py),
so both sides run the same model on the same inputs; the reply carries outputs
(vectors, tokens) that the TypeScript side compares with the engine's.

Requests (``mode``):

- ``probe``: ``{"torch": version, "threads": n}``, or exit status 3 with a message when torch cannot be imported.
- ``compare``: encoder sentences/s at batch 1 and 64 (tokenization included, length-bucketed batches of at most
  64 sentences and 8,192 padded tokens as the engine's), decoder tokens/s greedy and beam (one sentence per call),
  LCM ms per generated concept (lcmref's ConceptContext: contextualizer cache and cross keys per row, as the
  engine; every concept appended to the context, as the engine's generation loop).
- ``scaling``: ms per generated concept (median over the concepts timed; one untimed warm-up concept before the
  first point) after contexts of ``sizes`` concepts, for one ``variant``:
  ``cached`` (as the engine) or ``reference`` (Meta's TwoTowerDiffusionLCMGenerator: the contextualizer is cached,
  but every denoiser call projects the whole context to cross-attention keys/values again, for both halves of the
  guidance batch: the conditional context and its zeroed copy).

Timing: one warm-up call, then ``repeats`` timed calls; the reply has every call's time (the median is taken on
the TypeScript side). Peak memory: ``resource.getrusage`` high-water mark of this process (KiB on Linux).

Run from the repository root:  /usr/bin/python3 recipe/bench/torch_bench.py < request.json
"""
import json
import os
import resource
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # recipe/: lcmref and bench as packages


def log(msg: str) -> None:
    print(f"[torch] {msg}", file=sys.stderr, flush=True)


def max_rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def timed(fn: Callable[[], float], repeats: int) -> List[Dict[str, float]]:
    """One warm-up call, then ``repeats`` calls: [{seconds, units}] (fn returns the units of work it did)."""
    fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        units = fn()
        out.append({"seconds": time.perf_counter() - t, "units": float(units)})
    return out


def main() -> int:
    request = json.load(sys.stdin)
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure means "no PyTorch here"
        print(f"PyTorch is not available to {sys.executable}: {type(e).__name__}: {e}", file=sys.stderr)
        return 3
    threads = int(request.get("threads", 2))
    torch.set_num_threads(threads)
    mode = request["mode"]
    if mode == "probe":
        reply: Dict[str, Any] = {"torch": torch.__version__, "threads": torch.get_num_threads(), "python": sys.version.split()[0]}
    elif mode == "compare":
        reply = compare(request)
    elif mode == "scaling":
        reply = scaling(request)
    else:
        raise SystemExit(f"unknown mode {mode!r}: use probe, compare or scaling")
    reply["threads"] = torch.get_num_threads()
    reply["torch"] = torch.__version__
    reply["maxRssKiB"] = max_rss_kib()
    json.dump(reply, sys.stdout)
    sys.stdout.write("\n")
    return 0


# --- compare -------------------------------------------------------------------------------------------------------


def encode_texts(m: Any, texts: Sequence[str], lang: str, batch_size: int, budget: int = 8192) -> Any:
    """The engine's encode (src/inference/sonar/encoder.ts): tokenize, sort by length, batches bounded by count and
    padded tokens, right padding; vectors in input order."""
    import torch

    max_tokens = m.manifest["sonar"]["encoder"]["maxPositions"] - 2
    ids = [m.tokenizer.encode_for_encoder(t, lang, max_tokens) for t in texts]
    order = sorted(range(len(ids)), key=lambda i: (len(ids[i]), i))
    out = torch.empty(len(ids), m.manifest["embeddingDim"])
    start = 0
    pad = m.tokenizer.ids.pad
    with torch.no_grad():
        while start < len(order):
            end = start + 1
            while end < len(order) and end - start < batch_size and (end - start + 1) * len(ids[order[end]]) <= budget:
                end += 1
            batch = order[start:end]
            width = len(ids[batch[-1]])
            x = torch.tensor([ids[i] + [pad] * (width - len(ids[i])) for i in batch])
            mask = torch.tensor([[1] * len(ids[i]) + [0] * (width - len(ids[i])) for i in batch])
            out[batch] = m.encoder(x, mask)
            start = end
    return out


def compare(req: Dict[str, Any]) -> Dict[str, Any]:
    import torch

    from bench.search import beam_search, greedy_search
    from lcmref.onnx_weights import load_pack_modules

    t0 = time.perf_counter()
    m = load_pack_modules(req["pack"])
    log(f"loaded {m.manifest['name']} in {time.perf_counter() - t0:.1f} s")
    repeats = int(req.get("repeats", 5))
    reply: Dict[str, Any] = {"loadSeconds": time.perf_counter() - t0}

    enc = req["encoder"]
    texts, lang = enc["texts"], enc["lang"]
    b1 = texts[: enc["batch1Sentences"]]
    b64 = texts[: enc["batch64Sentences"]]
    reply["encoderBatch1"] = timed(lambda: (encode_texts(m, b1, lang, 1), len(b1))[1], repeats)
    reply["encoderBatch64"] = timed(lambda: (encode_texts(m, b64, lang, 64), len(b64))[1], repeats)
    reply["encoderVectors"] = encode_texts(m, texts[: enc["parityCount"]], lang, 64).tolist()
    log("encoder done")

    dec = req["decoder"]
    vectors = torch.tensor(dec["vectors"], dtype=torch.float32)
    prompt, eos, max_len, banned = dec["prompt"], dec["eos"], dec["maxLength"], dec["banned"]

    def run_greedy() -> Tuple[int, List[List[int]]]:
        toks = [greedy_search(m.decoder, vectors[i:i + 1], prompt, eos, max_len, banned)[0].tokens for i in range(len(vectors))]
        return sum(len(t) + 1 for t in toks), toks

    def run_beam() -> Tuple[int, List[List[int]]]:
        toks = [beam_search(m.decoder, vectors[i:i + 1], prompt, eos, max_len, banned, dec["beamSize"], dec["lengthPenalty"])[0][0].tokens
                for i in range(len(vectors))]
        return sum(len(t) + 1 for t in toks), toks

    reply["decoderGreedy"] = timed(lambda: run_greedy()[0], repeats)
    reply["greedyTokens"] = run_greedy()[1]
    reply["decoderBeam"] = timed(lambda: run_beam()[0], max(1, repeats - 2))
    reply["beamTokens"] = run_beam()[1]
    log("decoder done")

    lcm = req["lcm"]
    context = torch.tensor(lcm["context"], dtype=torch.float32)
    concepts, seed = int(lcm["concepts"]), int(lcm["seed"])
    last: Dict[str, Any] = {}

    def run_lcm() -> float:
        last["vectors"] = generate_cached(m, context, concepts, seed)[0]
        return concepts

    reply["lcm"] = timed(run_lcm, repeats)
    reply["lcmVectors"] = last["vectors"].tolist()
    log("LCM done")
    return reply


# --- LCM generation ------------------------------------------------------------------------------------------------


class HiddenContext:
    """lcmref's ConceptContext plus the contextualizer outputs [1, 1 + rows, D] (zero row first), which the
    reference-style variant re-projects in every denoiser call."""

    def __init__(self, m: Any):
        import torch

        from lcmref.generate import ConceptContext

        self.m = m
        self.ctx = ConceptContext(m.lcm)
        self.hidden = torch.zeros(1, 1, m.lcm.cfg.model_dim)

    def feed(self, raw: Any) -> None:
        """Append raw concept vectors [T, E] (normalized first, as the engine)."""
        import torch

        ctx = self.ctx
        normalized = self.m.normalizer.normalize(raw).unsqueeze(0)
        hidden, ctx.past_k, ctx.past_v = ctx.model.contextualize(normalized, ctx.past_k, ctx.past_v)
        k, v = ctx.model.denoiser.cross_kv(hidden)
        ctx.cross_k = [torch.cat([a, b], dim=2) for a, b in zip(ctx.cross_k, k)]
        ctx.cross_v = [torch.cat([a, b], dim=2) for a, b in zip(ctx.cross_v, v)]
        self.hidden = torch.cat([self.hidden, hidden], dim=1)

    def reprojecting_denoise_fn(self) -> Callable[..., Any]:
        """Meta's cost: every call projects [context; zeroed context] ([2, M, D]) to cross keys/values again."""
        import torch

        model, m_rows = self.m.lcm, self.hidden.shape[1]

        def denoise(latents: Any, timestep: int, with_uncond: bool) -> Tuple[Any, Optional[Any]]:
            both = torch.cat([self.hidden, torch.zeros_like(self.hidden)]) if with_uncond else self.hidden
            keys, values = model.denoiser.cross_kv(both)
            keys, values = [k[:1] for k in keys], [v[:1] for v in values]
            n = latents.shape[0]
            cond = torch.ones(n, m_rows)
            if not with_uncond:
                t = torch.full((n,), timestep, dtype=torch.long)
                return model.denoiser.denoise(latents, t, keys, values, cond), None
            uncond = torch.zeros(n, m_rows)
            uncond[:, 0] = 1.0
            t = torch.full((2 * n,), timestep, dtype=torch.long)
            x0 = model.denoiser.denoise(torch.cat([latents, latents]), t, keys, values, torch.cat([cond, uncond]))
            return x0[:n], x0[n:]

        return denoise


def _sampling(m: Any) -> Dict[str, Any]:
    s = m.manifest["lcm"]["sampling"]
    return {"guidance_scale": s["guidanceScale"], "guidance_rescale": s["guidanceRescale"],
            "initial_noise_scale": s["initialNoiseScale"], "epsilon_scaling": s["epsilonScaling"],
            "clip_noise": s["clipNoise"]}


def _scheduler(m: Any) -> Any:
    from lcmref.ddim import DDIMScheduler, ScheduleConfig

    s = m.manifest["lcm"]["schedule"]
    sched = DDIMScheduler(ScheduleConfig(kind=s["kind"], train_steps=s["trainSteps"], beta_start=s["betaStart"],
                                         beta_end=s["betaEnd"], sigmoid_gamma=s["sigmoidGamma"],
                                         sigmoid_delta=s["sigmoidDelta"], zero_terminal_snr=s["zeroTerminalSnr"]))
    sampling = m.manifest["lcm"]["sampling"]
    sched.set_timesteps(sampling["inferenceSteps"], exact=sampling["spacing"] == "trailing-exact")
    return sched


def generate_cached(m: Any, context: Any, concepts: int, seed: int, reprojecting: bool = False,
                    ctx: Optional[HiddenContext] = None) -> Tuple[Any, HiddenContext, List[float]]:
    """``concepts`` new raw vectors after ``context`` (or after the prefilled ``ctx``), each appended in turn, as the
    engine's generateVectors with no stopping rule. Noise from Rng(seed), as the engine's createRng(seed).
    Returns the vectors, the context and each concept's seconds (sampling + appending)."""
    import torch

    from lcmref.ddim import sample_next
    from lcmref.rng import Rng

    sched = _scheduler(m)
    if ctx is None:
        ctx = HiddenContext(m)
        ctx.feed(context)
    rng = Rng(seed)
    out, times = [], []
    with torch.no_grad():
        for _ in range(concepts):
            t = time.perf_counter()
            fn = ctx.reprojecting_denoise_fn() if reprojecting else ctx.ctx.denoise_fn()
            x0 = sample_next(fn, sched, candidates=1, dim=m.lcm.cfg.embedding_dim, rng=rng, **_sampling(m))
            x = m.normalizer.denormalize(x0)
            out.append(x[0])
            ctx.feed(x)
            times.append(time.perf_counter() - t)
    return torch.stack(out), ctx, times


# --- scaling -------------------------------------------------------------------------------------------------------


def scaling(req: Dict[str, Any]) -> Dict[str, Any]:
    import torch

    from lcmref.onnx_weights import load_pack_modules
    from lcmref.rng import Rng

    m = load_pack_modules(req["pack"])
    variant = req["variant"]
    if variant not in ("cached", "reference"):
        raise SystemExit(f"unknown scaling variant {variant!r}: use cached or reference")
    points = []
    for i, (size, concepts) in enumerate(zip(req["sizes"], req["concepts"])):
        # Context vectors: normalized N(0, 1) rows from Rng(seed), denormalized (the engine side draws the same).
        context = m.normalizer.denormalize(Rng(int(req["seed"])).normal_tensor(size, m.lcm.cfg.embedding_dim))
        if i == 0:  # warm-up (first point only): one untimed concept, as the engine side
            generate_cached(m, context[:2], 1, 1, reprojecting=variant == "reference")
        t = time.perf_counter()
        with torch.no_grad():
            ctx = HiddenContext(m)
            ctx.feed(context)
        prefill = time.perf_counter() - t
        times = generate_cached(m, context, concepts, 2, reprojecting=variant == "reference", ctx=ctx)[2]
        ms = statistics.median(times) * 1000
        points.append({"size": size, "concepts": concepts, "msPerConcept": ms, "timesMs": [x * 1000 for x in times],
                       "prefillMs": prefill * 1000, "maxRssKiB": max_rss_kib()})
        log(f"{variant} {size}: {ms:.0f} ms/concept")
    return {"variant": variant, "points": points}


if __name__ == "__main__":
    sys.exit(main())
