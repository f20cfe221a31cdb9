"""The host model: what real traces carry that tokio's rules do not.

tokio's rules decide *what* happens; these costs decide *how long* the machine takes to do it.
Each is a named parameter in integer ns with a default fitted to the public traces in
`../shared/fidelity` (a 2-vCPU KVM guest on AMD EPYC). Calibration fits them to other machines.
"""
from dataclasses import asdict, dataclass, fields, replace

from ..errors import UserError


@dataclass(frozen=True)
class Host:
    # Inside a poll, as the TaskMonitor sees it: the instrumented future's own bookkeeping and
    # the task harness (state transitions, waker clones).
    poll_ns: int = 450
    # tokio::spawn from a task: allocation, instrument(), OwnedTasks bind, schedule.
    spawn_ns: int = 350
    # A JoinHandle or timer completion observed by a poll (the Ready path).
    ready_ns: int = 100
    # Scheduler work around each run_task, outside the poll: tick, queue pop, budget scope.
    run_task_ns: int = 250
    # One steal_work scan (atomics on each victim's queue), successful or not.
    steal_ns: int = 400
    # Maintenance or park_yield: a zero-timeout epoll_wait plus deferred wakes.
    driver_poll_ns: int = 1500
    # Getting into a blocking park (condvar or epoll_wait) and out of it again, on the CPU.
    park_ns: int = 3000
    # From unpark (futex wake / eventfd write) to the woken thread running. A KVM guest's idle
    # vCPU polls for a while before halting (halt-polling), so a thread parked for less than
    # `halt_poll_ns` wakes fast; one parked longer pays for the vCPU to come out of halt.
    unpark_latency_ns: int = 8_000
    idle_wake_latency_ns: int = 60_000
    halt_poll_ns: int = 200_000
    # The same fast wake when the waker is a worker that keeps running: the wakee's vCPU must be
    # kicked out of its idle loop while the waker holds its own (a wake from outside the runtime,
    # or the thread's own timer, is followed by the waker blocking). Measured in the instrumented
    # tokio 1.49 captures of the five two-worker public specs (issue 12): a worker unparked by a
    # sibling that kept running, after a sleep shorter than halt_poll_ns, first ran p50 36.7 us
    # later (p10 18.7, p90 75.8; 790 wakes), where wakes from the spawner thread took p50 10.3 us
    # (unpark_latency_ns); after longer sleeps the worker-woken ones took p50 66 us, as the fitted
    # idle_wake_latency_ns says. A waker that blocks first lets the wakee start unpark_latency_ns
    # after that (measured, by when the waker blocked after the unpark: 0-10 us -> wakee ran p50
    # 14.5 us after the unpark, 10-20 -> 20.0, 20-30 -> 33.7, 30-40 -> 42.8; 88 wakes).
    worker_unpark_latency_ns: int = 36_700
    # CPUs the workers run on (the reference guest has 2 vCPUs); see cpus.py for placement.
    cpus: int = 2
    # Switching a CPU from one thread to another.
    ctx_switch_ns: int = 3_000
    # A sched_yield with no other thread waiting for the CPU: the syscall, and nothing else.
    sched_yield_ns: int = 1_000
    # The chance that a wake-up from a running worker, with every idle vCPU halted, lands on the
    # waker's CPU (the rest go to the halted vCPU and pay `idle_wake_latency_ns`).
    stack_wake_prob: float = 0.5
    # The same chance when the wakee blocked on the waker's CPU (it ran stacked there): with
    # prev_cpu == this_cpu, wake_affine has no choice to make and select_idle_sibling finds no
    # idle vCPU it may use, so the wakee stacks again. Measured with sched_getcpu() in an
    # instrumented tokio 1.49 probe on this project's 2-vCPU guest (issue 12; every worker-to-
    # worker wake of a blocked sibling, the wakee's first event on the waker's CPU): 0.898, the
    # mean over five specs (cap-burst-w2-n200 0.997 of 14971 wakes, pub-burst-w2-n600 0.994 of
    # 1120, pub-hawk-w2-mid 0.926 of 874, pub-forkjoin-w2-light 0.924 of 2042, pub-timers-w2 0.651
    # of 693). This is what keeps a burst's spawner and thief in their exchange (README).
    stack_again_prob: float = 0.898
    # The chance that a stacked wake-up does not preempt the waker: the woken thread waits on the
    # waker's CPU and runs only when the waker blocks (or load balancing moves one of them). It
    # depends on how long the wakee ran before it blocked, as EEVDF's lag would have it (a thread
    # that ran briefly keeps its claim to the CPU and preempts): measured as above, a wakee that
    # ran less than `short_run_ns` waited 0.113 of the time (mean over the five specs; 0.002-0.008
    # in the bursts, 0.14-0.22 in timers, fork-join and Hawk), one that ran longer 0.455 (0.15-0.64).
    stack_wait_prob: float = 0.455
    stack_wait_short_prob: float = 0.113
    short_run_ns: int = 50_000
    # The scheduler tick (CONFIG_HZ=250 on the reference guests): a CPU with a thread waiting for
    # it kicks an idle CPU's load balance at its next tick (nohz_balancer_kick), which moves the
    # waiting thread there. The ticks fall on multiples of balance_ns.
    balance_ns: int = 4_000_000
    # What the waker pays to unpark a blocked thread (the futex or eventfd syscall and its IPI),
    # charged to the thread that calls it, inside its poll if it is polling.
    unpark_ns: int = 6_000
    # Writing the driver's eventfd when no thread waits in epoll: a cheap syscall.
    eventfd_write_ns: int = 1_000
    # Extra lateness of an epoll timeout expiry (hrtimer slack for a normal thread).
    timer_slack_ns: int = 50_000
    # From an I/O readiness event to the driver thread running, if it is blocked in epoll.
    io_wake_latency_ns: int = 20_000
    # A remote spawn or wake from a thread outside the runtime (inject push under the lock).
    remote_schedule_ns: int = 600
    # Starting a new blocking-pool thread.
    thread_spawn_ns: int = 40_000
    # Before the sources start, the workers start and park.
    startup_ns: int = 200_000

    def wake_latency_ns(self, idle_ns: int) -> int:
        """From a wake-up to running, for a CPU (or thread) idle for `idle_ns`: fast while the
        idle vCPU still polls, slow once it has halted."""
        if idle_ns < self.halt_poll_ns:
            return self.unpark_latency_ns
        return self.idle_wake_latency_ns

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict, where: str = "host") -> "Host":
        return cls().with_values(d, where)

    def with_values(self, d: dict, where: str = "host") -> "Host":
        """This host with the parameters named in `d` replaced (checked: known names,
        non-negative numbers)."""
        known = {f.name for f in fields(self)}
        for k, v in d.items():
            if k not in known:
                raise UserError(f"{where}.{k}", f"unknown host parameter (known: {', '.join(sorted(known))})")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise UserError(f"{where}.{k}", f"expected a non-negative number, got {v!r}")
        floats = {f.name for f in fields(self) if f.type in (float, "float")}
        return replace(self, **{k: (float(v) if k in floats else int(round(v))) for k, v in d.items()})


DEFAULT_HOST = Host()

# tokio::spawn got heavier after 1.24 (task ids, spawn metadata, hooks, boxing of large futures):
# on the reference host a spawn from a task costs ~0.45 µs on 1.24 and ~1.1 µs on 1.49, as the
# root tasks' poll times in the fan-out traces show. Keyed by the profile's minor version.
_VERSION_HOSTS = {"1.24": replace(DEFAULT_HOST, spawn_ns=450)}


def default_host(version: str) -> Host:
    """The host defaults for a tokio version string such as "1.24.2" or "1.49"."""
    minor = ".".join(version.split(".")[:2])
    return _VERSION_HOSTS.get(minor, replace(DEFAULT_HOST, spawn_ns=1100))
