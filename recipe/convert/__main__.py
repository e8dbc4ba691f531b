"""Command line: convert published checkpoints into a model pack (docs/converters.md)."""
import argparse
import sys
import time
from typing import List, Optional

from .checkpoints import ConversionError


def _pack(args: argparse.Namespace) -> None:
    from . import lcm_two_tower, sonar_fairseq2, sonar_hf
    from .pack import schedule_json, write_pack

    t0 = time.perf_counter()
    if args.sonar_format == "fairseq2":
        sonar = sonar_fairseq2.convert(args.sonar_encoder, args.sonar_decoder, args.heads, args.max_positions)
    else:
        sonar = sonar_hf.convert(args.sonar_encoder, args.sonar_decoder, args.heads)
    print(f"SONAR: {sonar.encoder.cfg} / {sonar.decoder.cfg.layers} decoder layers ({sonar.notes['tokenIds']})")
    lcm = lcm_two_tower.convert(args.lcm, args.normalizer, args.lcm_heads, args.rope_theta, args.max_context)
    print(f"LCM: {lcm.lcm.cfg}; normalizer: {lcm.notes['normalizer']}")
    sources = {"sonarFormat": args.sonar_format, "sonarEncoder": args.sonar_encoder, "sonarDecoder": args.sonar_decoder,
               "tokenizer": args.tokenizer, "lcm": args.lcm}
    if args.normalizer:
        sources["normalizer"] = args.normalizer
    manifest = write_pack(args.out, sonar=sonar, lcm=lcm, tokenizer_model=args.tokenizer, name=args.name,
                          description=args.description, sources=sources, fp16=args.fp16,
                          external_data=args.external_data, schedule=schedule_json(args.schedule, args.train_steps))
    total = sum(f["bytes"] for f in manifest["files"])
    print(f"pack {args.out}: {len(manifest['files'])} files, {total / 1e6:.1f} MB, "
          f"{'fp16' if args.fp16 else 'fp32'}, {time.perf_counter() - t0:.0f} s")


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m recipe.convert", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="SONAR encoder + decoder + Two-Tower LCM checkpoints → a model pack")
    p.add_argument("--sonar-format", choices=["fairseq2", "hf"], required=True,
                   help="fairseq2: Meta's .pt files (fairseq1 dumps too); hf: transformers M2M100 folders")
    p.add_argument("--sonar-encoder", required=True, help="encoder checkpoint (.pt) or HF folder / weights file")
    p.add_argument("--sonar-decoder", required=True, help="decoder checkpoint (.pt) or HF folder / weights file")
    p.add_argument("--tokenizer", required=True, help="the SentencePiece model of these weights (NLLB-200)")
    p.add_argument("--lcm", required=True, help="Two-Tower LCM checkpoint (fairseq2 trainer's model.pt)")
    p.add_argument("--normalizer", help="SonarNormalizer checkpoint, if the LCM checkpoint has no sonar_normalizer.*")
    p.add_argument("--out", required=True, help="pack folder to write")
    p.add_argument("--fp16", action="store_true", help="float16 graphs (float32 inputs/outputs)")
    p.add_argument("--external-data", action="store_true", help="weights in <graph>.onnx.data even under 2 GB (always above)")
    p.add_argument("--heads", type=int, help="SONAR attention heads (default 16 for 1024-d; HF: config.json)")
    p.add_argument("--max-positions", type=int, default=514, help="SONAR sinusoidal table rows (default %(default)s = 512 + 2)")
    p.add_argument("--lcm-heads", type=int, help="LCM attention heads (default: 16 for D=2048, 32 for D=4096)")
    p.add_argument("--rope-theta", type=float, default=10000.0)
    p.add_argument("--max-context", type=int, default=4096, help="concepts of context the LCM sees (default %(default)s)")
    p.add_argument("--schedule", default="cosine", choices=["cosine", "linear", "quadratic", "sigmoid"])
    p.add_argument("--train-steps", type=int, default=100, help="diffusion training steps T (default %(default)s)")
    p.add_argument("--name", default="converted", help="pack name (default %(default)s)")
    p.add_argument("--description", default="Converted from published SONAR and Two-Tower LCM checkpoints.")
    p.set_defaults(run=_pack)

    m = sub.add_parser("miniature", help="write miniature checkpoints in every published format (for tests)")
    m.add_argument("--out", required=True)
    m.set_defaults(run=lambda a: __import__("recipe.convert.miniature", fromlist=["main"]).write_all(a.out))

    r = sub.add_parser("real-size", help="a random-weight pack of real SONAR size (GPU measurements)")
    r.add_argument("--out", required=True)
    r.add_argument("--reduced", action="store_true", help="small stand-in shape (tests); default is the real size")
    r.add_argument("--fp16", action="store_true")
    r.set_defaults(run=lambda a: __import__("recipe.convert.realsize", fromlist=["main"]).build(a.out, a.reduced, a.fp16))

    args = ap.parse_args(argv)
    try:
        args.run(args)
    except ConversionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
