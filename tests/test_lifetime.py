"""Worker processes die with the command that started them, whatever stops it.

A sweep or a compare runs its simulations in a pool. SIGKILL to the parent alone (not its
group) must not leave a worker running; SIGTERM or SIGINT to the parent alone stops the whole
tree and keeps every finished row. Waits are bounded polls: nothing here times the speed.
"""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from numasim import procs
from numasim import sweep as S

DATA = pathlib.Path(__file__).parent / "data"
TINY = json.loads((DATA / "sweeps" / "tiny.json").read_text())

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc to find child processes")


def children(pid: int) -> list:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its closing paren
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie has stopped running


def wait_until(cond, limit_s=20.0):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def slow_sweep(tmp_path) -> pathlib.Path:
    spec = dict(TINY, duration_s=1.0)
    (tmp_path / "slow.json").write_text(json.dumps(spec))
    f = tmp_path / "slow.toml"
    f.write_text('spec = "slow.json"\nseeds = 6\n[[param]]\npath = "sources.0.interval_us"\n'
                 'values = [150, 200, 250, 300]\n')
    return f


def start(args, tmp_path):
    env = dict(os.environ, NUMASIM_PROGRESS_EVERY="3600")
    return subprocess.Popen([sys.executable, "-m", "numasim.cli", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            # a shell without job control starts background commands with SIGINT
                            # ignored, and children inherit that; the test plays an interactive Ctrl-C
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def started_workers(proc, n=2) -> list:
    """The pool's workers, once they are busy simulating (not merely forked)."""
    assert wait_until(lambda: len(children(proc.pid)) >= n or proc.poll() is not None, 60), "no workers started"
    kids = children(proc.pid)
    assert len(kids) >= n, f"expected {n} workers, the command exited with {proc.poll()}"
    assert wait_until(lambda: all(cpu_ticks(k) >= 20 for k in kids) or proc.poll() is not None, 60)
    assert proc.poll() is None, "the command ended before the test could stop it"
    return kids


def cleanup(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def test_sigkill_to_a_sweeps_parent_leaves_no_worker_running(tmp_path):
    f = slow_sweep(tmp_path)
    proc = start(["sweep", str(f), "--out", str(tmp_path / "out"), "--workers", "2", "-q"], tmp_path)
    try:
        kids = started_workers(proc)
        os.kill(proc.pid, signal.SIGKILL)  # the parent alone, not its group
        proc.wait(10)
        assert wait_until(lambda: not any(alive(k) for k in kids), 10), \
            f"workers outlived their parent: {[k for k in kids if alive(k)]}"
    finally:
        for k in children(proc.pid):
            os.kill(k, signal.SIGKILL)
        cleanup(proc)


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_or_sigint_to_the_parent_stops_the_tree_and_keeps_finished_rows(tmp_path, sig, code):
    f = slow_sweep(tmp_path)
    out = tmp_path / "out"
    proc = start(["sweep", str(f), "--out", str(out), "--workers", "2", "-q"], tmp_path)
    try:
        kids = started_workers(proc)
        results = out / S.RESULTS
        assert wait_until(lambda: results.exists() and results.read_bytes().count(b"\n") >= 1, 120)
        os.kill(proc.pid, sig)
        assert proc.wait(30) == code
        assert not any(alive(k) for k in kids)
        err = proc.stderr.read().decode()
        assert err.count("\n") == 1 and "Traceback" not in err
        rows = S.read_rows(str(results))
        assert 1 <= len(rows) < 24
        assert len(S.read_table(out / S.TABLE)) == len(rows), "the table holds every finished row"
    finally:
        cleanup(proc)


def test_sigkill_to_a_compares_parent_leaves_no_worker_running(tmp_path):
    proc = start(["compare", str(DATA / "small-scenario.toml"), "--seeds", "8", "--workers", "2", "-q"], tmp_path)
    try:
        kids = started_workers(proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert wait_until(lambda: not any(alive(k) for k in kids), 10), \
            f"workers outlived their parent: {[k for k in kids if alive(k)]}"
    finally:
        for k in children(proc.pid):
            os.kill(k, signal.SIGKILL)
        cleanup(proc)


def _pid_and_wait(_):
    return os.getpid()


def test_pool_results_come_back_in_order_and_from_other_processes():
    got = procs.map_ordered(abs, [-3, 2, -1, 0], workers=2)
    assert got == [3, 2, 1, 0]
    pids = {pid for _, pid in procs.imap_unordered(_pid_and_wait, range(6), workers=2)}
    assert os.getpid() not in pids


def test_a_worker_exits_if_its_parent_is_already_gone():
    """The race the initializer closes: a worker whose parent died before prctl took effect."""
    code = ("import os, numasim.procs as p\n"
            "p.init_worker(os.getppid() + 1)\n"   # not our parent: as if it had died
            "print('survived')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "survived" not in out.stdout
