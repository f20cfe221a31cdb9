#!/usr/bin/env bash
# Capture the layout pairs on real tokio: REPS repetitions of each case, both versions.
#
#   fidelity/layouts/capture.sh [REPS] [PROBE_DIR] [CASE ...]
#
# PROBE_DIR holds tokio-probe-1.24 and tokio-probe-1.49 (the shared probe source built against
# each version). Traces go to traces-1.24/NAME.rK.jsonl and traces-1.49/NAME.rK.jsonl. For each
# case (default: every specs/CASE-one.json), repetition k runs 1.24 one, 1.24 split, 1.49 one,
# 1.49 split back to back, so that a slow stretch of the guest hits both layouts of a pair alike.
# Each run holds the machine alone (/work/bin/quiet, when present), one run per call. A trace
# already captured is kept (rerun to resume).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPS="${1:-5}"
PROBES="${2:-/work/probe/bin}"
shift 2 || true
CASES=("$@")
if [ ${#CASES[@]} -eq 0 ]; then
  for s in "$HERE"/specs/*-one.json; do n="$(basename "$s" .json)"; CASES+=("${n%-one}"); done
fi
QUIET=()
[ -x /work/bin/quiet ] && QUIET=(/work/bin/quiet)
for case in "${CASES[@]}"; do
  for k in $(seq 1 "$REPS"); do
    for v in 1.24 1.49; do
      mkdir -p "$HERE/traces-$v"
      for lay in one split; do
        name="$case-$lay"
        out="$HERE/traces-$v/$name.r$k.jsonl"
        [ -s "$out" ] && continue
        "${QUIET[@]}" "$PROBES/tokio-probe-$v" "$HERE/specs/$name.json" > "$out.tmp"
        mv "$out.tmp" "$out"
      done
    done
  done
done
