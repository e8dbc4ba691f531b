#!/bin/bash
# The default pack's SONAR stage on this project's CPU machines, in the background, resumable:
#   bash recipe/cpu/sonar.sh            # start or continue (a resumed run keeps its saved config)
#   FRESH=--fresh bash recipe/cpu/sonar.sh   # move the previous run aside and start over
# Shapes are the GPU bundle's (recipe/device: d 256, 6 encoder + 4 decoder layers, FFN 1024), trained in bf16
# autocast on the AMX cores (--precision auto; docs/recipe.md "Compute"); nice 19 and passive OpenMP waits so
# the machine stays usable. Log: $CS_WORK/logs/sonar-cpu.log (default ~/.cache/concept-studio).
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${CS_WORK:-$HOME/.cache/concept-studio}"
mkdir -p "$work/logs"
export OMP_WAIT_POLICY=PASSIVE
nohup nice -n 19 /usr/bin/python3 recipe/run.py sonar --threads 2 --precision auto ${FRESH:-} \
  --set model_dim=256 --set enc_layers=6 --set dec_layers=4 --set heads=4 --set ffn_dim=1024 \
  --set batch_tokens=3072 --set warmup=600 --set lr=1.5e-3 --set pretokenize_threads=2 \
  --set eval_every=1000 --set eval_sentences=50 --set eval_translate=10 --set log_every=50 \
  >> "$work/logs/sonar-cpu.log" 2>&1 &
echo $! > "$work/logs/sonar-cpu.pid"  # recipe/cpu/pack.sh waits for this run to end
echo "sonar training started (pid $!); log: $work/logs/sonar-cpu.log; stop with: kill -TERM $! (saves a checkpoint)"
