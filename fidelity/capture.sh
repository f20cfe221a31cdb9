#!/usr/bin/env bash
# Capture real tokio traces for every spec in fidelity/specs: REPS repetitions per tokio version.
#
#   fidelity/capture.sh [REPS] [SPEC.json ...]
#
# Traces land in TRACES-1.24/ and TRACES-1.49/ (default TRACES=fidelity/traces). The public specs
# re-captured on this machine: TRACES=fidelity/public-here fidelity/capture.sh 3 ../shared/fidelity/specs/*.json
#
# Needs the probe binaries that fidelity/build_probe.sh builds (PROBE_DIR, default /work/probe/bin).
# Each run goes through QUIET (default /work/bin/quiet, an exclusive CPU lock when present), one spec
# run per call, so that captures do not share the CPUs with other heavy work. Existing traces are
# kept: delete a trace to capture it again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
reps=${1:-3}; shift || true
traces=${TRACES:-$here/traces}
probe_dir=${PROBE_DIR:-/work/probe/bin}
quiet=${QUIET:-/work/bin/quiet}
[ -x "$quiet" ] || quiet=""
specs=("$@"); [ ${#specs[@]} -gt 0 ] || specs=("$here"/specs/*.json)
for v in 1.24 1.49; do
  bin="$probe_dir/tokio-probe-$v"
  [ -x "$bin" ] || { echo "missing $bin (run fidelity/build_probe.sh)" >&2; exit 2; }
  mkdir -p "$traces-$v"
  for r in $(seq 1 "$reps"); do
    for s in "${specs[@]}"; do
      name=$(basename "$s" .json)
      out="$traces-$v/$name.r$r.jsonl"
      [ -s "$out" ] && continue
      $quiet "$bin" "$s" > "$out.tmp" && mv "$out.tmp" "$out"
      echo "$out"
    done
  done
done
