#!/bin/bash
# Issue 8's LCM studies on this project's CPU machines, in the background, resumable (docs/variants.md):
#   bash recipe/cpu/studies.sh                       # schedules, fragility, designs (in that order)
#   STUDIES="designs" STUDY_STEPS=1500 bash recipe/cpu/studies.sh
#   DRY_RUN=1 bash recipe/cpu/studies.sh             # print the commands only
# Each variant trains one LCM on the pack's embeddings (W/study/<study>/<variant>/runs; each resumes), then the
# evaluate stage's LCM suites; the table goes to W/study/<study>/report.md (copy it into docs/variants.md).
# The fragility study first runs the fragility stage (f measured on 20,000 training concepts, the predictor).
# Budget from the LCM's ≈ 0.9 s per 2,048-concept step on two quiet cores: 2,000 steps ≈ 30 min per variant,
# so schedules (6) ≈ 3 h, fragility (3, plus ≈ 1 h of scoring) ≈ 2.5 h, designs (5, plus finetune and the
# Quant-LCMs' decoders) ≈ 3.5 h. Stop with bash recipe/cpu/stop.sh; rerun this script to continue.
# Refuses to start while another recipe/cpu job runs (two trainings would halve each other on two cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${CS_WORK:-$HOME/.cache/concept-studio}"
mkdir -p "$work/logs"
export OMP_WAIT_POLICY=PASSIVE
steps="${STUDY_STEPS:-2000}"
cmds=""
for s in ${STUDIES:-schedules fragility designs}; do
  case "$s" in
    schedules) cmds+="/usr/bin/python3 -m train.study schedules --threads 2 --steps $steps
  " ;;
    fragility) cmds+="/usr/bin/python3 run.py fragility --threads 2
  /usr/bin/python3 -m train.study fragility --threads 2 --steps $steps
  " ;;
    designs) cmds+="/usr/bin/python3 -m train.study designs --threads 2 --steps $steps --finetune-steps $((steps / 4)) --quant-decoder-steps $((steps / 4))
  " ;;
    *) echo "unknown study $s (schedules, fragility, designs)" >&2; exit 2 ;;
  esac
done
if [ -n "${DRY_RUN:-}" ]; then printf 'in recipe/:\n  %s\n' "$cmds"; exit 0; fi
for job in pack-cpu sonar-cpu decoder-cpu; do
  pidfile="$work/logs/$job.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "$job (pid $(cat "$pidfile")) is still running; wait for it or stop it: bash recipe/cpu/stop.sh" >&2
    exit 1
  fi
done
# one shell, no subshells: recipe/cpu/stop.sh stops this shell and then its child, the stage running now
cd recipe
nohup nice -n 19 bash -c "set -e
  $cmds" >> "$work/logs/studies-cpu.log" 2>&1 &
echo $! > "$work/logs/studies-cpu.pid"
echo "studies started (pid $!); log: $work/logs/studies-cpu.log; stop with: bash recipe/cpu/stop.sh"
