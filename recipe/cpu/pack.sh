#!/bin/bash
# The default pack's stages after SONAR, on this project's CPU machines, in the background, resumable:
#   bash recipe/cpu/pack.sh             # embed → normalizer → lcm → finetune → export → evaluate
#   OUT=/tmp/candidate bash recipe/cpu/pack.sh   # export somewhere else than $CS_WORK/candidate
# Stop with `bash recipe/cpu/stop.sh` (the stage running saves a checkpoint; no later stage starts).
# Rerun the same command after a stop: embed skips finished shards, lcm and finetune resume from their last
# checkpoint, normalizer/export/evaluate are recomputed. Refuses to start while the SONAR run of
# recipe/cpu/sonar.sh is alive (the embeddings must come from the final encoder); stop it first with
# `kill -TERM $(cat $CS_WORK/logs/sonar-cpu.pid)`.
# Budgets (docs/recipe.md "Training on these CPUs"): the LCM at the default shape trains at ≈ 0.9 s per
# 2,048-concept step in bf16 on two quiet cores, so 8,000 lcm + 2,000 finetune steps ≈ 2.5 h; embedding the
# 2.1M document and summary sentences ≈ 25–65 min (1,500 sentences/s quiet, 530 on one shared thread).
# The pack is exported to $OUT (default $CS_WORK/candidate), not into the repository: it replaces the shipped
# default only after its evaluation beats the one before (docs/recipe.md "Where things live").
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${CS_WORK:-$HOME/.cache/concept-studio}"
out="${OUT:-$work/candidate}"
mkdir -p "$work/logs"
pidfile="$work/logs/sonar-cpu.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "the SONAR run (pid $(cat "$pidfile")) is still training; stop it first: kill -TERM $(cat "$pidfile")" >&2
  exit 1
fi
export OMP_WAIT_POLICY=PASSIVE
run="/usr/bin/python3 recipe/run.py"
common="--threads 2 --precision auto"
# a training stage stopped early also exits 0: go on only when it reached its steps
finished() { echo "/usr/bin/python3 -c \"import json,sys; sys.exit(0 if json.load(open('$work/runs/$1/state.json'))['finished'] else 3)\""; }
nohup nice -n 19 bash -c "set -e
  $run embed $common
  $run normalizer $common
  $run lcm $common --steps \${LCM_STEPS:-8000}
  $(finished lcm)
  $run finetune $common --steps \${FINETUNE_STEPS:-2000}
  $(finished finetune)
  $run export $common --out '$out'
  $run evaluate $common" >> "$work/logs/pack-cpu.log" 2>&1 &
echo $! > "$work/logs/pack-cpu.pid"
echo "pack stages started (pid $!); log: $work/logs/pack-cpu.log; the pack goes to $out"
