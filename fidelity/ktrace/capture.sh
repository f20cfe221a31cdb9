#!/usr/bin/env bash
# Capture the guest kernel's scheduler events while the tokio probe runs one spec: where each
# woken worker thread lands, whether it preempts its waker, how long threads wait for a vCPU and
# how those waits end. The facts are read by fidelity/ktrace/schedfacts.py.
#
#   fidelity/ktrace/capture.sh VERSION SPEC.json [OUT_DIR]     (as root; OUT_DIR default fidelity/ktrace/logs)
#
# Writes OUT_DIR/NAME.trace.xz (the ftrace text of sched_switch, sched_waking, sched_wakeup and
# sched_migrate_task, every task on the machine) and OUT_DIR/NAME.jsonl (the probe's own trace).
# Needs tracefs (mounted here if it is not), the probe binaries of fidelity/build_probe.sh
# (PROBE_DIR, default /work/probe/bin), and runs through QUIET (default /work/bin/quiet) like
# fidelity/capture.sh, so that nothing else shares the vCPUs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: $0 VERSION SPEC.json [OUT_DIR]" >&2; exit 2; }
version=$1; spec=$2; out=${3:-$here/logs}
bin=${PROBE_DIR:-/work/probe/bin}/tokio-probe-$version
[ -x "$bin" ] || { echo "$0: missing $bin (run fidelity/build_probe.sh)" >&2; exit 2; }
[ -r "$spec" ] || { echo "$0: $spec: no such spec" >&2; exit 2; }
quiet=${QUIET:-/work/bin/quiet}
[ -x "$quiet" ] || quiet=""
T=/sys/kernel/tracing
[ -e $T/trace ] || mount -t tracefs none $T
[ -w $T/tracing_on ] || { echo "$0: $T is not writable (needs root)" >&2; exit 2; }
events="sched_switch sched_waking sched_wakeup sched_migrate_task"
stop() {
  echo 0 > $T/tracing_on
  for e in $events; do echo 0 > $T/events/sched/$e/enable; done
}
trap stop EXIT
mkdir -p "$out"
name=$(basename "$spec" .json)
echo 0 > $T/tracing_on
echo > $T/trace
echo 65536 > $T/buffer_size_kb   # per CPU; a 2 s run writes a few MB
echo 1 > $T/options/record-tgid
for e in $events; do echo 1 > $T/events/sched/$e/enable; done
echo 1 > $T/tracing_on
$quiet "$bin" "$spec" > "$out/$name.jsonl"
stop
for c in $T/per_cpu/cpu*; do
  if grep -q "^overrun: [1-9]" $c/stats; then echo "$0: $(basename $c) lost events: capture again" >&2; exit 1; fi
done
grep -v '^#' $T/trace | xz -9 > "$out/$name.trace.xz"
echo > $T/trace
echo "$out/$name.trace.xz"
