"""Break one idle-path rule at a time in a copy of the package and check that a test notices.

    python benchmarks/mutants.py [--only NAME ...] [--list]

Each mutant is a text edit that must match exactly once somewhere under numasim/, the compiled
engine (numasim/engine/fast, held to the same rules by test_engine_equivalence) aside (so the script
keeps working when rules move between files; an edit that no longer matches is reported as
MISSING, not as killed). For each one the package and tests are copied to a temporary folder,
the edit is applied there, and the tests that guard the rule run against the copy (PYTHONPATH
puts it ahead of the editable install). A mutant the tests still pass "survived": the suite
would not notice that rule breaking. Exit status 1 if any survived or went missing.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the test files that guard these rules; each mutant must make one of them fail
GUARDS = ["tests/test_idle_path.py", "tests/test_properties.py", "tests/test_scheduler_rules.py"]

# name: (what tokio does instead, regex, replacement)
MUTANTS = {
    "noop-never-counted": (
        "noop_count never incremented",
        r"self\.noop_count \+= 1", "pass"),
    "park-counted-twice": (
        "park_count incremented twice per park",
        r"self\.park_count \+= 1", "self.park_count += 2"),
    "notify-others-never": (
        "should_notify_others always false",
        r"(def should_notify_others\([^)]*\)[^:]*:\n(?:\s*\"\"\"(?:.|\n)*?\"\"\"\n)?)(\s+)", r"\1\2return False\n\2"),
    "notify-if-pending-noop": (
        "notify_if_work_pending does nothing",
        r"(def notify_if_work_pending\([^)]*\)[^:]*:\n(?:\s*\"\"\"(?:.|\n)*?\"\"\"\n)?)(\s+)", r"\1\2return None\n\2"),
    "no-driver-poll-at-maintenance": (
        "the driver poll at maintenance removed",
        r"self\.park_internal_nonblocking\(\)(\n\s*st\.submit\(\)  # Core::maintenance)", r"pass\1"),
    "lifo-cap-4": (
        "the LIFO cap raised from 3 to 4",
        r"max_lifo_polls_per_tick=3", "max_lifo_polls_per_tick=4"),
    "no-inject-batch-cap": (
        "the inject batch pull's cap of 128 removed",
        r"(n = min\(n, [^\n]*?), LOCAL_QUEUE_CAPACITY // 2\)", r"\1)"),
    # the rules this issue added, held the same way
    "no-124-prepark-spin": (
        "1.24 blocks at once, without its three NOTIFIED checks and sched_yields",
        r"park_spin_yields=3", "park_spin_yields=0"),
    "budget-checked-after-timer": (
        "a new timer registers before poll_proceed sees the exhausted budget",
        r"if w\.budget == 0:\n", "if w.budget == 0 and (k == OP_JOIN or task.timer_set):\n"),
    "pending-ignores-stealable-lifo": (
        "notify_if_work_pending ignores a stealable LIFO slot (1.51)",
        r"if w\.queue or \(lifo and w\.lifo is not None\):", "if w.queue:"),
    "sleepers-shift-remove": (
        "unpark_worker_by_id shifts the sleepers down instead of swap_remove",
        r"s\[i\] = s\[-1\]\n(\s+)s\.pop\(\)", r"s.pop(i)\n\1pass"),
    # session 6: the park-path preemption gate and the stacked wake that waits behind its waker
    "no-park-path-gate": (
        "a worker preempted inside park_internal's notify leaves the sleepers before it runs again",
        r"(yield from self\.park_blocking\(\)\n\s+)if self\.stalled or self\.owed:", r"\1if False:"),
    "stacked-wake-always-preempts": (
        "a stacked wake-up never waits behind its waker (stack_wait_prob ignored)",
        r"pw > 0 and cp\.rng\.random\(\) < pw", "False"),
    "stack-again-ignored": (
        "a wakee that blocked on the waker's vCPU draws stack_wake_prob like any other",
        r"host\.stack_again_prob if wakee\.cpu == waker\.cpu else host\.stack_wake_prob", "host.stack_wake_prob"),
    "stack-wait-ignores-run-length": (
        "a stacked wakee waits with stack_wait_prob however briefly it ran before it blocked",
        r"host\.stack_wait_short_prob if wakee\.last_ran < host\.short_run_ns else host\.stack_wait_prob",
        "host.stack_wait_prob"),
    "balance-not-at-tick": (
        "a waiting thread is balanced balance_ns after it began to wait, not at the next tick",
        r"return \(now // b \+ 1\) \* b if b > 0 else now", "return now + b"),
    "search-notify-inside-poll": (
        "the last searcher's notify in run_task is paid inside the task's poll, not before it",
        r"            pre_ns \+= rt\.take_debt\(\)\n", ""),
    "worker-wake-ignores-waker-blocking": (
        "a fast wake from a worker takes worker_unpark_latency_ns even when the waker blocks first",
        r"if x\.woken_by is w:", "if False:"),
}


def apply(pkg, pattern, repl):
    """Apply the edit in the one file under pkg where the pattern matches; return that path."""
    hits = []
    fast = os.path.join(pkg, "engine", "fast")
    for dirpath, _, files in os.walk(pkg):
        if dirpath == fast or dirpath.startswith(fast + os.sep):
            # the compiled engine mirrors the SimPy rules file for file (same function names),
            # and test_engine_equivalence holds it to them: the mutants break the reference
            continue
        for f in files:
            if f.endswith(".py"):
                p = os.path.join(dirpath, f)
                with open(p) as fh:
                    text = fh.read()
                n = len(re.findall(pattern, text))
                if n:
                    hits.append((p, n, text))
    if len(hits) != 1 or hits[0][1] != 1:
        return None
    p, _, text = hits[0]
    with open(p, "w") as fh:
        fh.write(re.sub(pattern, repl, text))
    return os.path.relpath(p, os.path.dirname(pkg))


def run_mutant(name, tests, py):
    what, pattern, repl = MUTANTS[name]
    with tempfile.TemporaryDirectory(prefix=f"mutant-{name}-") as tmp:
        shutil.copytree(os.path.join(ROOT, "numasim"), os.path.join(tmp, "numasim"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(os.path.join(ROOT, "tests"), os.path.join(tmp, "tests"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        where = apply(os.path.join(tmp, "numasim"), pattern, repl)
        if where is None:
            return "MISSING", what, "the edit matched no single place"
        env = dict(os.environ, PYTHONPATH=tmp, PYTHONDONTWRITEBYTECODE="1")
        # the copy must be what the tests import
        got = subprocess.run([py, "-c", "import numasim; print(numasim.__file__)"], env=env, cwd=tmp,
                             capture_output=True, text=True).stdout.strip()
        if not got.startswith(tmp):
            return "ERROR", what, f"imported {got}, not the copy"
        t0 = time.time()
        r = subprocess.run([py, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests], env=env, cwd=tmp,
                           capture_output=True, text=True)
        failed = [l.split(" ")[1] for l in r.stdout.splitlines() if l.startswith("FAILED ")]
        if r.returncode == 0:
            return "SURVIVED", what, f"{where}; {len(tests)} test files pass ({time.time() - t0:.0f} s)"
        if r.returncode == 1 and failed:
            return "killed", what, f"{where}; by {failed[0]}"
        return "ERROR", what, f"{where}; pytest exit {r.returncode}: {r.stdout[-300:]}{r.stderr[-300:]}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="mutant names (default: all)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--tests", nargs="*", default=GUARDS)
    args = ap.parse_args(argv)
    if args.list:
        for k, (what, _, _) in MUTANTS.items():
            print(f"{k:32s} {what}")
        return 0
    names = args.only or list(MUTANTS)
    bad = 0
    for name in names:
        status, what, detail = run_mutant(name, args.tests, sys.executable)
        bad += status != "killed"
        print(f"{status:8s} {name:32s} {what}: {detail}", flush=True)
    print(f"{len(names) - bad} of {len(names)} mutants killed, {bad} survived or could not be applied")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
