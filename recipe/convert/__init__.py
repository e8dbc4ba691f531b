"""Converters from published SONAR / Two-Tower LCM checkpoints into Concept Studio model packs.

- ``sonar_fairseq2``: Meta's SONAR text encoder/decoder checkpoints (fairseq2, and fairseq1 dumps);
- ``sonar_hf``: the Hugging Face M2M100 ports (``M2M100Encoder`` / ``M2M100ForConditionalGeneration``);
- ``lcm_two_tower``: Two-Tower diffusion LCM checkpoints of facebookresearch/large_concept_model
  and its SonarNormalizer;
- ``pack``: writes the pack through recipe/lcmref/export_pack.py; ``fp16``: the float16 variant;
- ``miniature``: tiny checkpoints in each published format (tests; no real weights needed);
- ``reference``: forward passes written against the *source* key names, to test the converters;
- ``realsize``: a random pack of real SONAR size for GPU measurements.

Command line: ``/usr/bin/python3 -m recipe.convert --help`` (run from the repository root);
docs/converters.md has the commands for each format and the real-weights smoke test.
"""
import os as _os
import sys as _sys

# recipe/lcmref imports itself as the top-level package ``lcmref`` (as recipe/fixtures and recipe/train do).
_RECIPE = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _RECIPE not in _sys.path:
    _sys.path.insert(0, _RECIPE)
