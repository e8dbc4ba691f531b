#!/bin/bash
# The sonar-decoder stage (the decoder trained on with the encoder frozen; docs/recipe.md "The decoder after the
# freeze") on this project's CPU machines, in the background, resumable; then a fresh export and evaluation:
#   bash recipe/cpu/decoder.sh                # start or continue; stop with bash recipe/cpu/stop.sh
#   STEPS=6000 bash recipe/cpu/decoder.sh     # the run's length (default: the stage's 20,000)
#   OUT=/tmp/candidate bash recipe/cpu/decoder.sh   # export somewhere else than $CS_WORK/candidate
# When the stage reaches its steps it exports the pack again with this decoder and evaluates it (the LCM is
# untouched). Stopped early: rerun this script to continue, or run the two commands at the end by hand.
# Refuses to start while recipe/cpu/pack.sh's stages run (two trainings would halve each other on two cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${CS_WORK:-$HOME/.cache/concept-studio}"
out="${OUT:-$work/candidate}"
mkdir -p "$work/logs"
for job in pack-cpu sonar-cpu studies-cpu; do
  pidfile="$work/logs/$job.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "$job (pid $(cat "$pidfile")) is still running; wait for it or stop it: kill -TERM $(cat "$pidfile")" >&2
    exit 1
  fi
done
export OMP_WAIT_POLICY=PASSIVE
run="/usr/bin/python3 recipe/run.py"
common="--threads 2 --precision auto"
steps=""
[ -n "${STEPS:-}" ] && steps="--steps $STEPS"
# export only after the stage reached its steps (a stopped stage also exits 0)
finished="/usr/bin/python3 -c \"import json,sys; sys.exit(0 if json.load(open('$work/runs/sonar-decoder/state.json'))['finished'] else 3)\""
nohup nice -n 19 bash -c "set -e
  $run sonar-decoder $common $steps
  $finished
  $run export $common --out '$out'
  $run evaluate $common" >> "$work/logs/decoder-cpu.log" 2>&1 &
echo $! > "$work/logs/decoder-cpu.pid"
echo "sonar-decoder started (pid $!); log: $work/logs/decoder-cpu.log; the pack goes to $out"
