#!/usr/bin/env bash
# The one command a lent GPU runs (recipe/device/README.md): train_on_device.py, its output teed into
# $OUT/log.txt so that a run stopped at the device tool's limit still returns its log.
#   bash recipe/device/train_on_device.sh [train_on_device.py options]
# PYTHON picks the interpreter (default python3: on the device, the one that holds torch).
set -o pipefail
cd "$(dirname "$0")/../.." || exit 2
: "${OUT:?set OUT to the results folder (the device tool sets it)}"
mkdir -p "$OUT"
PYTHONUNBUFFERED=1 "${PYTHON:-python3}" -u recipe/device/train_on_device.py "$@" 2>&1 | tee "$OUT/log.txt"
