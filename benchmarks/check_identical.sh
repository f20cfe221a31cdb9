#!/usr/bin/env bash
# Byte-identity check for refactors: write every public-spec trace (profiles 1.24, 1.49, 1.51,
# 1.53) and the default `numasim run -q` text and --json output from this tree, then compare
# them with a tree of the same files made before the change.
#
#   benchmarks/check_identical.sh --make DIR        write this tree's outputs into DIR
#   benchmarks/check_identical.sh BEFORE [AFTER]    write them into AFTER (default: a temp dir)
#                                                   and `diff -r BEFORE AFTER`; exit 0 iff equal
#
# The outputs carry no wall-clock time, so any difference at all is a change of behaviour.
# Takes about a minute and a half; run it under /work/bin/heavy on the shared machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-"$ROOT/.venv/bin/python"}
[ -x "$PY" ] || PY=python3
SPECS=${SPECS:-/work/shared/fidelity/specs}

make_outputs() {
  local out=$1
  mkdir -p "$out"
  cd "$ROOT"
  for v in 1.24 1.49 1.51 1.53; do
    mkdir -p "$out/$v"
    for s in "$SPECS"/*.json; do
      "$PY" -m numasim.cli predict "$s" --tokio "$v" -o "$out/$v/$(basename "$s" .json).jsonl" >/dev/null
    done
  done
  "$PY" -m numasim.cli run -q > "$out/run.txt"
  "$PY" -m numasim.cli run -q --json > "$out/run.json"
}

if [ "${1:-}" = "--make" ]; then
  make_outputs "$(realpath -m "$2")"
  exit 0
fi
BEFORE=$(realpath "$1")
AFTER=$(realpath -m "${2:-$(mktemp -d)}")
make_outputs "$AFTER"
if diff -r "$BEFORE" "$AFTER"; then
  echo "byte-identical: $(find "$BEFORE" -type f | wc -l) files in $BEFORE and $AFTER"
else
  echo "DIFFERENT: $BEFORE vs $AFTER" >&2
  exit 1
fi
