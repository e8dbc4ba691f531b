"""Self-test of the converters on miniature checkpoints (no real weights needed).

    /usr/bin/python3 -m recipe.convert.selftest                    # convert, check, report
    /usr/bin/python3 -m recipe.convert.selftest --write-fixtures   # and refresh test/fixtures/converted

1. writes every miniature checkpoint (``miniature``) to a scratch folder;
2. converts fairseq2 SONAR + LCM (fp32 and fp16) and the HF ports + LCM with a separate
   normalizer (fp32) into packs; converts the fairseq1 dump of the same encoder and checks it
   gives the fairseq2 encoder's vectors;
3. computes reference outputs with ``reference`` (forward passes on the *source* key names,
   not the converted modules) and writes ``reference.json`` per pack;
4. runs each pack through the engine (``npx tsx recipe/convert/packCheck.ts``) and checks the
   measures: fp32 within 1e-5 per graph with identical tokens; fp16 within the bounds below;
5. checks that bad checkpoints fail with the key and the expected shape named, and that
   ``languages`` matches src/shared/languages.ts.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Tuple

import sentencepiece as spm
import torch

from . import lcm_two_tower, miniature, reference, sonar_fairseq2, sonar_hf
from .checkpoints import ConversionError, load_state_dict
from .languages import CODES, language_tag_ids
from .pack import write_pack

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, "test", "fixtures", "converted")
TOL = 1e-5
#: fp16 bounds (absolute, miniature sizes), checked here and in test/engine/converted.test.ts.
FP16_BOUNDS = {"encoderMaxAbs": 1e-2, "encoderMinCosine": 0.9999, "decoderLogitsMaxAbs": 5e-2,
               "contextualizerMaxAbs": 2e-2, "x0MaxAbs": 2e-2}
SENTENCES = [("The lighthouse stood on the cliff.", "eng_Latn"), ("Les marins rentraient au port.", "fra_Latn"),
             ("Der Wind war kalt.", "deu_Latn"), ("风很冷。", "zho_Hans"), ("Море было спокойным.", "rus_Cyrl")]
HEADS = miniature.SONAR["heads"]
LCM_HEADS = miniature.LCM["heads"]


def fairseq2_ids(sp: spm.SentencePieceProcessor, text: str, lang: str, tags: Dict[str, int]) -> List[int]:
    """fairseq2 NllbTokenizer source encoding: [__lang__] pieces </s>; pad 0, unk 1, bos 2, eos 3, pieces +1."""
    return [tags[lang], *[s + 1 for s in sp.encode(text)], 3]


def hf_ids(sp: spm.SentencePieceProcessor, text: str, lang: str, tags: Dict[str, int]) -> List[int]:
    """transformers NllbTokenizer: [lang] pieces </s>; <s> 0, <pad> 1, </s> 2, <unk> 3, pieces + fairseq_offset 1."""
    return [tags[lang], *[s + 1 if s else 3 for s in sp.encode(text)], 2]


def _pad(rows: List[List[int]], pad: int) -> Tuple[torch.Tensor, torch.Tensor]:
    n = max(len(r) for r in rows)
    ids = torch.tensor([r + [pad] * (n - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (n - len(r)) for r in rows])
    return ids, mask


def build_reference(kind: str, paths: Dict[str, str], precision: str) -> Dict[str, Any]:
    """reference.json for a pack converted from ``kind`` ("fairseq2" or "hf") SONAR + the miniature LCM."""
    sp = spm.SentencePieceProcessor(model_file=paths["tokenizer"])
    tags = language_tag_ids(sp.get_piece_size())
    if kind == "fairseq2":
        enc_s, _ = load_state_dict(paths["fairseq2Encoder"])
        dec_s, _ = load_state_dict(paths["fairseq2Decoder"])
        to_ids, pad, eos, bos = fairseq2_ids, 0, 3, 2
        encode = lambda ids, mask: reference.fairseq2_encode(enc_s, ids, mask, HEADS)  # noqa: E731
        logits = lambda ids, emb: reference.fairseq2_logits(dec_s, ids, emb, HEADS)  # noqa: E731
    else:
        enc_s, _ = load_state_dict(paths["hfEncoder"])
        dec_s, _ = load_state_dict(paths["hfFull"])
        to_ids, pad, eos, bos = hf_ids, 1, 2, 0
        encode = lambda ids, mask: reference.hf_encode(enc_s, ids, mask, HEADS)  # noqa: E731
        logits = lambda ids, emb: reference.hf_logits(dec_s, ids, emb, HEADS)  # noqa: E731
    lcm_s, _ = load_state_dict(paths["lcm"])
    tokens = [{"text": t, "lang": l, "ids": to_ids(sp, t, l, tags)} for t, l in SENTENCES]
    with torch.no_grad():
        ids, mask = _pad([t["ids"] for t in tokens], pad)
        emb = encode(ids, mask)
        picks = [0, 3]
        rows = [[eos, tags[SENTENCES[i][1]]] + tokens[i]["ids"][1:6] for i in picks]
        dec_emb = emb[picks]
        full = logits(torch.tensor(rows), dec_emb)
        columns = sorted({0, 1, 2, 3, *range(4, 40, 3), tags["eng_Latn"], tags["zho_Hans"]} | {int(c) for c in full.argmax(-1).flatten()})
        banned = [pad]
        greedy = [reference.greedy(logits, dec_emb[k], [eos, tags[SENTENCES[i][1]]], eos, 12, banned) for k, i in enumerate(picks)]
        g = torch.Generator().manual_seed(5)
        e = miniature.LCM["embed"]
        ctx_in = torch.randn(1, 5, e, generator=g)
        hidden = reference.lcm_contextualize(lcm_s, ctx_in, LCM_HEADS)
        context = torch.cat([torch.zeros(1, hidden.shape[-1]), hidden[0, :3]], 0)
        noisy = torch.randn(3, e, generator=g)
        steps = torch.tensor([99, 50, 3])
        cmask = torch.tensor([[1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 0, 0]], dtype=torch.float32)
        x0 = reference.lcm_denoise(lcm_s, noisy, steps, context, cmask, LCM_HEADS)
    f = lambda t: [[float(x) for x in r] for r in t.reshape(-1, t.shape[-1]).tolist()]  # noqa: E731
    return {
        "pack": kind, "precision": precision, "createdBy": "python3 -m recipe.convert.selftest --write-fixtures",
        "note": "reference outputs from recipe/convert/reference.py on the SOURCE checkpoints (not the converted modules)",
        "tokens": tokens,
        "encoder": {"texts": [t for t, _ in SENTENCES], "langs": [l for _, l in SENTENCES], "sentenceEmbedding": f(emb)},
        "decoder": {"sentenceEmbedding": f(dec_emb), "inputIds": rows, "logitColumns": columns,
                    "logits": [[[float(full[s, t, c]) for c in columns] for t in range(len(rows[s]))] for s in range(len(rows))],
                    "argmax": full.argmax(-1).tolist(),
                    "greedy": {"maxNewTokens": 12, "bannedIds": banned, "langs": [SENTENCES[i][1] for i in picks], "tokens": greedy}},
        "contextualizer": {"embeddings": f(ctx_in), "hidden": f(hidden)},
        "denoiser": {"context": f(context), "noisy": f(noisy), "timesteps": steps.tolist(), "crossMask": cmask.tolist(), "x0": f(x0)},
    }


def convert_all(paths: Dict[str, str], out: str) -> Dict[str, str]:
    """The three packs under ``out``: fairseq2 fp32, fairseq2 fp16, hf fp32."""
    packs = {}
    fs2 = sonar_fairseq2.convert(paths["fairseq2Encoder"], paths["fairseq2Decoder"], HEADS, miniature.SONAR["max_seq_len"] + 2)
    lcm = lcm_two_tower.convert(paths["lcm"], None, LCM_HEADS)
    src = {"sonarFormat": "fairseq2 (miniature)", "lcm": "lcm/model.pt (miniature)"}
    for precision in ("fp32", "fp16"):
        d = os.path.join(out, f"fairseq2-{precision}")
        write_pack(d, sonar=fs2, lcm=lcm, tokenizer_model=paths["tokenizer"], name=f"converted-fairseq2-{precision}",
                   description="Miniature fairseq2 SONAR + Two-Tower LCM checkpoints (random weights), converted.",
                   sources=src, fp16=precision == "fp16", decoder_max_length=32)
        packs[f"fairseq2-{precision}"] = d
    hf = sonar_hf.convert(paths["hfEncoder"], paths["hfFull"])
    checked = sonar_hf.check_language_ids(paths["hfEncoder"], language_tag_ids(miniature.SPM_PIECES))
    assert checked == 3, checked
    lcm2 = lcm_two_tower.convert(paths["lcm"], paths["normalizer"], LCM_HEADS)
    d = os.path.join(out, "hf-fp32")
    write_pack(d, sonar=hf, lcm=lcm2, tokenizer_model=paths["tokenizer"], name="converted-hf-fp32",
               description="Miniature transformers M2M100 SONAR ports + Two-Tower LCM (random weights), converted.",
               sources={"sonarFormat": "hf (miniature)", "lcm": "lcm/model.pt (miniature)", "normalizer": "lcm/normalizer.pt"},
               decoder_max_length=32)
    packs["hf-fp32"] = d
    return packs


def check_fairseq1(paths: Dict[str, str]) -> float:
    """The fairseq1 dump of the same encoder converts to the same vectors as the fairseq2 checkpoint."""
    a, layout_a = sonar_fairseq2.convert_encoder(paths["fairseq2Encoder"], HEADS, miniature.SONAR["max_seq_len"] + 2)
    b, layout_b = sonar_fairseq2.convert_encoder(paths["fairseq1Encoder"], HEADS, miniature.SONAR["max_seq_len"] + 2)
    assert (layout_a, layout_b) == ("fairseq2", "fairseq1")
    ids = torch.tensor([[2600, 5, 6, 7, 3], [2601, 9, 3, 0, 0]])
    mask = (torch.arange(5)[None] < torch.tensor([[5], [3]])).long()
    with torch.no_grad():
        return float((a(ids, mask) - b(ids, mask)).abs().max())


def check_errors(paths: Dict[str, str], scratch: str) -> List[str]:
    """Bad checkpoints fail naming the key (and the expected shape); returns the messages."""
    messages = []
    state, _ = load_state_dict(paths["fairseq2Encoder"])

    def expect(mutated: Dict[str, torch.Tensor], pattern: str, convert=sonar_fairseq2.convert_encoder) -> None:
        p = os.path.join(scratch, "bad.pt")
        torch.save({"model": mutated}, p)
        try:
            convert(p, HEADS, miniature.SONAR["max_seq_len"] + 2)
        except ConversionError as e:
            if not re.search(pattern, str(e)):
                raise AssertionError(f"message {e} does not match {pattern}")
            messages.append(str(e))
            return
        raise AssertionError(f"no error for a checkpoint that should fail ({pattern})")

    expect({**state, "encoder.layers.0.self_attn.rotary.weight": torch.zeros(3)}, r"unexpected keys `encoder\.layers\.0\.self_attn\.rotary\.weight` \[3\]")
    expect({**state, "encoder.layers.1.ffn.inner_proj.weight": torch.zeros(31, 16)},
           r"`encoder\.layers\.1\.ffn\.inner_proj\.weight` has shape \[31, 16\], expected \[32, 16\]")
    expect({k: v for k, v in state.items() if k != "layer_norm.bias"}, r"`encoder\.layer_norm\.bias` \[16\]")
    dec, _ = load_state_dict(paths["fairseq2Decoder"])
    expect({**dec, "final_proj.weight": dec["final_proj.weight"] + 1}, r"final_proj\.weight.*differs from the token embeddings",
           sonar_fairseq2.convert_decoder)
    lcm, _ = load_state_dict(paths["lcm"])
    p = os.path.join(scratch, "bad_lcm.pt")
    torch.save({"model": {**lcm, "sonar_normalizer.clip_min": torch.zeros(16)}}, p)
    try:
        lcm_two_tower.convert(p, None, LCM_HEADS)
        raise AssertionError("clip_min accepted")
    except ConversionError as e:
        messages.append(str(e))
    return messages


def check_languages() -> None:
    ts = open(os.path.join(ROOT, "src", "shared", "languages.ts"), encoding="utf-8").read()
    table = ts[ts.index("const TABLE"):]
    codes = re.findall(r"\['([a-z]{3}_[A-Za-z]{4})'", table[: table.index("];")])
    assert codes == CODES, "recipe/convert/languages.py and src/shared/languages.ts disagree"


def run_engine(pack: str, ref_path: str) -> Dict[str, Any]:
    out = subprocess.run(["npx", "tsx", os.path.join("recipe", "convert", "packCheck.ts"), pack, ref_path], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise AssertionError(f"packCheck failed for {pack}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def verdict(name: str, precision: str, m: Dict[str, Any]) -> List[str]:
    bad = []
    if precision == "fp32":
        for k in ("encoderMaxAbs", "decoderLogitsMaxAbs", "contextualizerMaxAbs", "x0MaxAbs"):
            if not m[k] <= TOL:
                bad.append(f"{name}: {k} {m[k]:.3g} > {TOL}")
        for k in ("tokensEqual", "greedyEqual"):
            if not m[k]:
                bad.append(f"{name}: {k} false")
        if m["argmaxAgreement"] != 1:
            bad.append(f"{name}: argmax agreement {m['argmaxAgreement']}")
    else:
        for k, bound in FP16_BOUNDS.items():
            ok = m[k] >= bound if k == "encoderMinCosine" else m[k] <= bound
            if not ok:
                bad.append(f"{name}: {k} {m[k]:.4g} outside {bound}")
        if not m["tokensEqual"]:
            bad.append(f"{name}: tokensEqual false")
    return bad


def main(argv: List[str] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write-fixtures", action="store_true", help=f"copy the packs and references to {FIXTURES}")
    ap.add_argument("--keep", help="work in this folder and keep it (default: a temporary folder)")
    args = ap.parse_args(argv)
    work = args.keep or tempfile.mkdtemp(prefix="convert-selftest-")
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")  # fixed createdAt: rebuilt fixtures are byte-identical
    try:
        check_languages()
        paths = miniature.write_all(os.path.join(work, "checkpoints"))
        print(f"fairseq1 dump vs fairseq2 checkpoint, encoder max |diff|: {check_fairseq1(paths):.3g}")
        for msg in check_errors(paths, work):
            print(f"  error ok: {msg[:150]}")
        packs = convert_all(paths, os.path.join(work, "packs"))
        failures: List[str] = []
        for name, pack in packs.items():
            precision = name.split("-")[-1]
            ref = build_reference(name.split("-")[0], paths, precision)
            ref_path = os.path.join(work, f"{name}.reference.json")
            with open(ref_path, "w", encoding="utf-8") as f:
                json.dump(ref, f)
            m = run_engine(pack, ref_path)
            size = sum(os.path.getsize(os.path.join(pack, x)) for x in os.listdir(pack) if x.endswith(".onnx"))
            print(f"{name}: graphs {size / 1e3:.0f} kB " + " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in m.items()))
            failures += verdict(name, precision, m)
            if args.write_fixtures:
                dst = os.path.join(FIXTURES, name)
                shutil.rmtree(dst, ignore_errors=True)
                shutil.copytree(pack, dst)
                with open(os.path.join(FIXTURES, f"{name}.reference.json"), "w", encoding="utf-8") as f:
                    json.dump(ref, f)
                    f.write("\n")
        for f_ in failures:
            print(f"FAIL {f_}")
        print("ok" if not failures else f"{len(failures)} failure(s)")
        return 1 if failures else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
