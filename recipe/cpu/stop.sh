#!/bin/bash
# Stop the background recipe jobs of recipe/cpu (sonar.sh, pack.sh, decoder.sh, studies.sh) cleanly:
#   bash recipe/cpu/stop.sh
# A chain's shell (pack.sh, decoder.sh) is stopped first, so no later stage starts; then the stage running now
# gets SIGTERM, saves a checkpoint after its current step and exits. Rerunning the same script resumes.
set -uo pipefail
work="${CS_WORK:-$HOME/.cache/concept-studio}"
for job in sonar-cpu pack-cpu decoder-cpu studies-cpu; do
  pidfile="$work/logs/$job.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  kill -0 "$pid" 2>/dev/null || continue
  kids="$(pgrep -P "$pid" || true)"
  kill -TERM "$pid"
  for k in $kids; do kill -TERM "$k" 2>/dev/null || true; done
  for _ in $(seq 240); do
    alive=0
    for p in $pid $kids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 1
  done
  if [ "$alive" = 0 ]; then echo "$job stopped (checkpoint saved; see $work/logs/$job.log)"; else echo "$job: still running after 4 minutes (pids $pid $kids)" >&2; fi
done
