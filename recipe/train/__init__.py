"""Training stages of the default pack recipe (docs/recipe.md).

One module per stage (``tokenizer``, ``sonar``, ``embed``, ``normalizer``,
``lcm`` (also ``finetune``), ``export``, ``evaluate``) over shared pieces:
``common`` (paths, checkpoints, logs, signals), ``loop`` (the resumable
training loop), ``streams`` (deterministic, resumable example streams and
length-bucketed batches), ``metrics`` (chrF, ROUGE-L, REP-4) and ``smoke``
(a synthetic dataset and the end-to-end test).

Run through ``recipe/run.py`` from the repository root, which puts ``recipe/``
on ``sys.path`` so that ``import train`` and ``import lcmref`` work.
"""
