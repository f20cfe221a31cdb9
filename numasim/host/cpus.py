"""Threads on CPUs: where the OS runs a thread it wakes, who waits for whom, balancing, migration.

One model for every host: the CPUs of a machine, each thread on one of them or waiting for one.
A flat host (a spec without `machine`) is a machine of one node. What is the same everywhere is
ownership: a woken long sleeper preempts the thread running on the CPU it is placed on, a
preempted thread waits on that CPU (first preempted, first resumed), a thread that blocks hands
its CPU to the next waiting one or leaves it idle, and an idle CPU pulls a waiting thread
(newidle balancing). A stalled thread's wall clock keeps running: its busy time and its task's
poll time include the stall, which is why stacked workers report about twice their poll time as
busy.

Where a woken thread runs, and which waiting thread an idle CPU takes, are the placement
policy's:

* `VcpuStacking`, the small KVM guest the public traces come from (2 vCPUs). A thread woken
  while its CPU (or another idle one) is still polling in the idle loop (idle for less than
  `halt_poll_ns`) runs there almost at once. Once an idle vCPU has halted, the guest sees it as
  preempted and does not choose it for a wake-up from a running thread (`available_idle_cpu`
  checks `vcpu_is_preempted`): the woken thread may be placed on the *waker's* CPU
  (`stack_wake_prob`; `stack_again_prob` when it blocked on that CPU, where wake_affine has no
  choice), and there it either preempts the waker, which then stalls until the woken thread
  blocks again, or waits behind it (`stack_wait_prob`, or `stack_wait_short_prob` if it ran less
  than `short_run_ns` before it blocked: a thread that ran briefly keeps its claim to the CPU).
  Load balancing moves a waiting thread to the idle CPU at the next scheduler tick (every
  `balance_ns`). A thread woken by its own timer or by a device runs on its previous CPU, paying
  for that vCPU to leave halt.
* `NodeAware`, bare metal (a spec with `machine`): each thread has an allowed-CPU mask
  (sched_setaffinity); pinned threads never move, floating threads are migrated by the OS inside
  their mask at `migrate_hz`, and pool threads occupy their CPU while they run a job. An idle CPU
  is always eligible for a wake-up (no vCPU-preemption stacking), and the wake-up prefers the
  thread's previous CPU, then an idle CPU of its mask on the same node (select_idle_sibling looks
  in the LLC domain first), then one on the nearest other node.
"""
import bisect

from ..machine.memory import remote_node_order
from ..machine.placement import ThreadAffinity, next_cpu
from ..machine.topology import LOCAL_DISTANCE, generic_machine


class Cpu:
    __slots__ = ("index", "owner", "idle_since", "waiting", "node", "masks")

    def __init__(self, index, node=0):
        self.index = index
        self.owner = None  # the thread running here
        self.idle_since = 0
        self.waiting = []  # threads runnable here but preempted, first to resume first
        self.node = node
        self.masks = ()  # the affinity masks that include this CPU


class Mask:
    """An allowed-CPU mask shared by the threads that have it, with its idle CPUs per node kept
    up to date (dicts used as ordered sets, most recently idled last), so that finding an idle CPU
    for a wake-up never scans the machine."""

    __slots__ = ("cpus", "cpu_set", "idle", "order", "aff")

    def __init__(self, machine, cpus, aff):
        self.cpus = tuple(cpus)
        self.cpu_set = frozenset(cpus)
        self.idle = [dict() for _ in range(machine.n_nodes)]
        # for each node: that node, then the mask's other nodes from nearest to farthest
        nodes = {machine.node_of_cpu(c) for c in cpus}
        self.order = [[n] + [b for b in remote_node_order(machine, n) if b in nodes]
                      for n in range(machine.n_nodes)]
        self.aff = aff  # the placement helper's ThreadAffinity (None: pinned)


def flat_machine(n_cpus: int):
    """The flat host as a machine: one node of `n_cpus` CPUs (its memory figures go unused)."""
    return generic_machine("flat host", (0,), (tuple(range(max(1, n_cpus))),), ((LOCAL_DISTANCE,),),
                           description="a flat host: one node, no memory model")


class Cpus:
    """The CPUs of one machine and the threads on them (see the module docstring). `sys`
    provides env, host and call_at; `policy` is the placement policy's class."""

    def __init__(self, sys, machine, rng, policy):
        self.sys = sys
        self.machine = machine
        n = max(machine.cpus) + 1
        self.cpus = [None] * n  # indexed by the OS's CPU number (numbers may be sparse)
        for node, cs in enumerate(machine.node_cpus):
            for c in cs:
                self.cpus[c] = Cpu(c, node)
        self.node_of = [c.node if c is not None else -1 for c in self.cpus]
        self.rng = rng
        self.policy = policy(self)
        self.stacked_wakes = 0
        self.balance_moves = 0
        self.masks = {}
        self.stacked = {}  # CPUs with waiting threads (ordered set)
        self.floating = []  # threads the OS migrates, and their cumulative rates
        self.cum_hz = []
        self.migrations = 0
        for c in self.cpus:
            if c is not None:
                c.idle_since = self.policy.idle_since

    def mask(self, cpus, kind="unpinned", hz=0.0):
        """The shared mask object for a CPU set (one per distinct set and migration rule)."""
        key = (tuple(sorted(cpus)), kind, hz)
        m = self.masks.get(key)
        if m is None:
            aff = ThreadAffinity(kind, key[0], hz, 1.0 if kind == "per_runtime" else None)
            m = self.masks[key] = Mask(self.machine, key[0], aff)
            for c in key[0]:
                cpu = self.cpus[c]
                cpu.masks = cpu.masks + (m,)
                if cpu.owner is None:
                    m.idle[cpu.node][c] = None
        return m

    # ------------------------------------------------------------------ ownership
    def _take(self, c, w):
        """`w` runs on CPU c now (c was idle or its owner is being replaced)."""
        if c.owner is None:
            for m in c.masks:
                m.idle[c.node].pop(c.index, None)
        c.owner = w
        w.cpu = c.index

    def _free(self, c):
        c.owner = None
        c.idle_since = self.sys.env.now
        for m in c.masks:
            m.idle[c.node][c.index] = None

    def _wait(self, c, w, front=True):
        w.preempt(self.sys.env.now)
        if front:
            c.waiting.insert(0, w)
        else:
            c.waiting.append(w)
        self.stacked[c] = None

    def _unwait(self, c, w):
        c.waiting.remove(w)
        if not c.waiting:
            self.stacked.pop(c, None)

    def _move(self, c, w):
        """Load balancing moves waiting thread `w` to idle CPU c."""
        self._take(c, w)
        if w.blocked:
            w.wake_cpu = c.index  # a wake-up that waited for a CPU (stack_wait_prob) runs here
        self.balance_moves += 1
        w.resume(self.sys.host.ctx_switch_ns)

    def start(self, threads):
        """Place threads at start-up on the CPU each was given (`w.cpu`), or on a free CPU of its
        mask when another thread already runs there; else it waits for that CPU."""
        for w in threads:
            c = self.cpus[w.cpu]
            if c.owner is not None:
                c = self.idle_in_mask(w, c.node) or c  # another runtime started there
            if c.owner is None:
                self._take(c, w)
            else:
                w.cpu = c.index
                self._wait(c, w, front=False)
        if self.policy.balance_at_start:
            self.sys.call_at(0, self.balance, None)

    def acquire(self, w, index):
        """`w` runs on CPU `index` now; a running owner is preempted (wake-up preemption: the
        long sleeper runs, the current thread waits on this CPU)."""
        c = self.cpus[index]
        o = c.owner
        if o is None:
            self._take(c, w)
            return
        w.cpu = index
        if o is w:
            return  # the wake-up already made it the owner (a stacked wake)
        c.owner = w
        if not (o.blocked or o.stalled):
            self._wait(c, o)
            self.sys.call_at(self.next_tick(self.sys.env.now), self.balance, None)

    def next_tick(self, now):
        """When a thread that starts waiting for a CPU now is first balanced: the next scheduler
        tick (every balance_ns), at which its CPU kicks an idle CPU's balance."""
        b = self.sys.host.balance_ns
        return (now // b + 1) * b if b > 0 else now

    @staticmethod
    def _woke(x, by):
        """Worker x's fast wake-up under way is by `by` (None: none); `wakes_out` counts, for
        each thread, the workers naming it, so that release scans them only when there are any."""
        if x.woken_by is not None:
            x.woken_by.wakes_out -= 1
        x.woken_by = by
        if by is not None:
            by.wakes_out += 1

    def release(self, w):
        """`w` blocks: the next waiting thread on its CPU resumes, or the CPU goes idle; a fast
        wake-up it made that is still under way completes unpark_latency_ns from now (the
        measured wakes from a worker that blocks soon after: VcpuStacking.place)."""
        for rt in self.sys.runtimes.values() if w.wakes_out else ():
            for x in rt.workers:
                if x.woken_by is w:
                    self._woke(x, None)
                    if x.blocked and x.park_gen == x.woken_gen and not x.park_ev.triggered:
                        self.sys.call_at(self.sys.env.now + self.sys.host.unpark_latency_ns, x._timeout_wake,
                                         x.woken_gen)
        c = self.cpus[w.cpu]
        if c.owner is not w:
            return
        if self._vacate(c) and self.stacked:
            self.policy.pull_to(c)

    def _vacate(self, c):
        """c's owner leaves it: the first thread waiting there resumes; True if none waits and
        c goes idle instead."""
        if c.waiting:
            nxt = c.waiting.pop(0)
            if not c.waiting:
                self.stacked.pop(c, None)
            c.owner = nxt
            nxt.resume(self.sys.host.ctx_switch_ns)
            return False
        self._free(c)
        return True

    def yield_cpu(self, w) -> bool:
        """sched_yield from running thread `w`: a thread waiting for this CPU runs and `w`
        queues behind it, still runnable (True: `w` must wait for its CPU); with nobody waiting
        the call returns at once (False)."""
        c = self.cpus[w.cpu]
        if c.owner is not w or not c.waiting:
            return False
        nxt = c.waiting.pop(0)
        self._wait(c, w, front=False)
        c.owner = nxt
        nxt.resume(self.sys.host.ctx_switch_ns)
        self.sys.call_at(self.next_tick(self.sys.env.now), self.balance, None)
        return True

    # ------------------------------------------------------------------ wake-up placement
    def polling(self, c, now) -> bool:
        """Idle and still polling in the idle loop (not yet halted)."""
        return c.owner is None and now - c.idle_since < self.sys.host.halt_poll_ns

    def wake_latency(self, c, now) -> int:
        """From a wake-up to the thread running on CPU c, idle or busy."""
        if c.owner is not None:
            return self.sys.host.idle_wake_latency_ns
        return self.sys.host.wake_latency_ns(now - c.idle_since)

    def idle_in_mask(self, w, near):
        """A free CPU of w's mask: on node `near` first, then the nearest nodes; most recently
        idled first (the likeliest to be still polling). None if every one is busy, or `w` is
        pinned (no mask)."""
        m = w.mask
        if m is None:
            return None
        idle = m.idle
        for n in m.order[near]:
            d = idle[n]
            if d:
                return self.cpus[next(reversed(d))]
        return None

    def place(self, wakee, waker, now):
        """Where a parked thread runs once unparked by `waker` (None: not a thread on these
        CPUs): (cpu index, latency ns); latency None: it waits for that CPU, and the wake-up
        completes when the CPU model gives it the CPU."""
        return self.policy.place(wakee, waker, now)

    def own_cpu(self, w):
        """A timer or device wake: where `w` runs."""
        return self.policy.own_cpu(w)

    def balance(self, _):
        """Periodic load balancing: move waiting threads to idle CPUs."""
        self.policy.balance()

    # ------------------------------------------------------------------ OS migration
    def add_floating(self, w, hz):
        if hz > 0:
            self.floating.append(w)
            self.cum_hz.append((self.cum_hz[-1] if self.cum_hz else 0.0) + hz)

    def migrator(self, env):
        """The OS moving floating threads: one Poisson stream at the summed rate, each event moving
        one thread chosen in proportion to its rate to a CPU drawn by `placement.next_cpu`."""
        if not self.floating:
            return
        total = self.cum_hz[-1]
        rng = self.rng
        m = self.machine
        while True:
            yield env.timeout(max(1, int(rng.exponential(1e9 / total))))
            i = bisect.bisect_right(self.cum_hz, rng.random() * total)
            w = self.floating[min(i, len(self.floating) - 1)]
            # u_move = 0 forces the move: this event is the migration
            new = next_cpu(m, w.mask.aff, w.cpu, 1 << 62, 0.0, rng.random(), rng.random())
            self.migrate(w, new)

    def migrate(self, w, new):
        """Move `w` to CPU `new` if it may go there now: a parked thread just changes its
        previous CPU; a running or waiting one moves only onto a free CPU (the balancer does not
        move a thread onto a busy CPU)."""
        if new == w.cpu:
            return
        c = self.cpus[new]
        if w.blocked:
            w.cpu = new
            self.migrations += 1
            return
        if c.owner is not None:
            return
        old = self.cpus[w.cpu]
        if old.owner is w:
            self._take(c, w)
            self._vacate(old)
        elif w in old.waiting:
            self._unwait(old, w)
            self._take(c, w)
            w.resume(self.sys.host.ctx_switch_ns)
        else:
            return
        self.migrations += 1


class VcpuStacking:
    """The KVM guest's placement (see the module docstring): halt-polling vCPUs first, then, with
    every idle vCPU halted, a wake-up from a running thread may stack on the waker's vCPU."""

    idle_since = 0  # the guest's vCPUs were busy booting until the run starts
    balance_at_start = False  # threads start round robin: none waits while a CPU is idle

    def __init__(self, cpus):
        self.c = cpus

    def place(self, wakee, waker, now):
        cp = self.c
        host = cp.sys.host
        cpus = cp.cpus
        prev = cpus[wakee.cpu]
        lat = host.unpark_latency_ns
        if waker is not None:
            # the waker keeps its vCPU: the wakee's starts after worker_unpark_latency_ns, or
            # unpark_latency_ns after the waker blocks if that is sooner (Cpus.release)
            lat = host.worker_unpark_latency_ns
            cp._woke(wakee, waker)
            wakee.woken_gen = wakee.park_gen
        if cp.polling(prev, now):
            return prev.index, lat
        for c in cpus:
            if cp.polling(c, now):
                return c.index, lat
        cp._woke(wakee, None)
        if (waker is not None and waker.cpu is not None and len(cpus) > 1
                and cp.rng.random() < (host.stack_again_prob if wakee.cpu == waker.cpu else host.stack_wake_prob)):
            # every idle vCPU has halted: the wake-up lands on the waker's CPU (surely so if the
            # wakee blocked there) and preempts it, or waits behind it (likelier if it ran long)
            cp.stacked_wakes += 1
            c = cpus[waker.cpu]
            pw = host.stack_wait_short_prob if wakee.last_ran < host.short_run_ns else host.stack_wait_prob
            if c.owner is waker and pw > 0 and cp.rng.random() < pw:
                # no wake-up preemption: the woken thread queues behind the waker and its wake-up
                # completes when it gets this CPU (Thread.resume)
                wakee.cpu = c.index
                cp._wait(c, wakee, front=False)
                cp.sys.call_at(cp.next_tick(now), cp.balance, None)
                return c.index, None
            if c.owner is waker:
                cp._wait(c, waker)
                c.owner = wakee
                cp.sys.call_at(cp.next_tick(now), cp.balance, None)
            return waker.cpu, host.ctx_switch_ns
        return self.own_cpu(wakee), host.idle_wake_latency_ns

    def own_cpu(self, w):
        """The previous CPU if free, else the first free one."""
        cpus = self.c.cpus
        if cpus[w.cpu].owner is None:
            return w.cpu
        for c in cpus:
            if c.owner is None:
                return c.index
        return w.cpu

    def pull_to(self, c):
        # newidle balancing: the first CPU (by number) with a waiting thread gives one up
        cp = self.c
        for o in cp.cpus:
            if o.waiting:
                w = o.waiting[0]
                cp._unwait(o, w)
                cp._move(c, w)
                return

    def balance(self):
        for c in self.c.cpus:
            if c.owner is None:
                self.pull_to(c)


class NodeAware:
    """Bare metal's placement (see the module docstring): the previous CPU, then an idle CPU of
    the thread's mask, nearest node first; with all of them busy, back on the previous CPU."""

    idle_since = -(1 << 62)  # never ran: halted long ago
    balance_at_start = True  # threads crowded onto one CPU at start spread at once

    def __init__(self, cpus):
        self.c = cpus

    def place(self, wakee, waker, now):
        cp = self.c
        prev = cp.cpus[wakee.cpu]
        if prev.owner is None:
            return prev.index, cp.wake_latency(prev, now)
        c = cp.idle_in_mask(wakee, prev.node)
        if c is not None:
            return c.index, cp.wake_latency(c, now)
        # every allowed CPU is busy: back on the previous one, preempting its thread
        cp.stacked_wakes += 1
        return prev.index, cp.sys.host.ctx_switch_ns

    def own_cpu(self, w):
        cp = self.c
        prev = cp.cpus[w.cpu]
        if prev.owner is None:
            return prev.index
        c = cp.idle_in_mask(w, prev.node)
        return c.index if c is not None else prev.index

    def pull_to(self, c):
        # newidle balancing: a CPU going idle pulls a waiting thread allowed to run on it
        cp = self.c
        for o in list(cp.stacked):
            for w in o.waiting:
                m = w.mask
                if m is not None and c.index in m.cpu_set:
                    cp._unwait(o, w)
                    cp._move(c, w)
                    return

    def balance(self):
        cp = self.c
        for o in list(cp.stacked):
            for w in list(o.waiting):
                c = cp.idle_in_mask(w, o.node)
                if c is not None:
                    cp._unwait(o, w)
                    cp._move(c, w)
