"""PyTorch reference modules for Concept Studio.

Each module mirrors one piece of Meta's public SONAR / Large Concept Model code
as described in /work/shared/design/LCM-SPEC.md and docs/model-pack.md:

- ``sonar``: SONAR text encoder (mean-pooled) and incremental text decoder;
- ``two_tower``: the Two-Tower diffusion LCM (contextualizer + denoiser) and
  the embedding normalizer;
- ``ddim``: diffusion schedules, the DDIM step and the sampling loop;
- ``generate``: the concept generation loop (Meta's TwoTowerDiffusionLCMGenerator);
- ``tokenizer``: SentencePiece ids to model ids (the pack's id map);
- ``export_pack``: writes a model pack folder (ONNX graphs + manifest);
- ``rng``: the seeded RNG shared bit for bit with src/inference/rng.ts.

Import from the ``recipe`` folder (``cd recipe && python3 -m ...``) or put
``recipe/`` on ``sys.path`` first, as the scripts in ``recipe/fixtures`` do.
"""
