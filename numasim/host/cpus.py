"""Worker threads on CPUs: where the OS runs a thread it wakes, and who waits for whom.

tokio's rules assume each worker has a CPU. On a small guest (the public traces come from a
2-vCPU KVM guest) the kernel's wake-up placement decides a lot:

* a thread woken while its CPU (or another idle one) is still polling in the idle loop
  (idle for less than `halt_poll_ns`) runs there almost at once;
* once an idle vCPU has halted, the guest sees it as preempted and does not choose it for a
  wake-up from a running thread (`available_idle_cpu` checks `vcpu_is_preempted`): the woken
  thread is placed on the *waker's* CPU, and as a long sleeper it preempts the waker. The waker
  then stalls until the woken thread blocks again, or until load balancing moves one of them to
  the idle CPU (`balance_ns` later);
* a thread woken by its own timer or by a device runs on its previous CPU, paying for that vCPU
  to leave halt if it had halted.

A stalled worker's wall clock keeps running: its busy time and its task's poll time include the
stall, which is why stacked workers report about twice their poll time as busy.

`NumaCpus` is the same model on a NUMA machine (a spec with `machine`): the machine's CPUs, each
thread with an allowed-CPU mask (sched_setaffinity), pinned threads that never move, floating
threads that the OS migrates inside their mask at `migrate_hz`, and pool threads that occupy
their CPU while they run a job. It models bare metal: an idle CPU is always eligible for a
wake-up (no vCPU-preemption stacking), and the wake-up prefers the thread's previous CPU, then an
idle CPU of its mask on the same node (select_idle_sibling looks in the LLC domain first), then
one on the nearest other node.
"""
import bisect
import math

from ..machine.memory import remote_node_order
from ..machine.placement import ThreadAffinity, next_cpu


class Cpu:
    __slots__ = ("index", "owner", "idle_since", "waiting", "node", "masks")

    def __init__(self, index, node=0):
        self.index = index
        self.owner = None  # the worker running here
        self.idle_since = 0
        self.waiting = []  # workers runnable here but preempted, first to resume first
        self.node = node
        self.masks = ()  # NumaCpus: the affinity masks that include this CPU


class Cpus:
    def __init__(self, rt, n):
        self.rt = rt
        self.cpus = [Cpu(i) for i in range(max(1, n))]
        self.rng = rt.os_rng
        self.stacked_wakes = 0
        self.balance_moves = 0

    def start(self, workers):
        # the position in the list, not w.index: several runtimes' workers share these CPUs
        for i, w in enumerate(workers):
            c = self.cpus[i % len(self.cpus)]
            w.cpu = c.index
            if c.owner is None:
                c.owner = w
            else:
                w.stalled = True
                c.waiting.append(w)

    def polling(self, c, now) -> bool:
        return c.owner is None and now - c.idle_since < self.rt.host.halt_poll_ns

    def place(self, wakee, waker, now):
        """Choose where a parked worker runs once unparked: (cpu index, latency ns)."""
        host = self.rt.host
        cpus = self.cpus
        prev = cpus[wakee.cpu]
        if self.polling(prev, now):
            return prev.index, host.unpark_latency_ns
        for c in cpus:
            if self.polling(c, now):
                return c.index, host.unpark_latency_ns
        if (waker is not None and waker.cpu is not None and len(cpus) > 1
                and self.rng.random() < host.stack_wake_prob):
            # every idle vCPU has halted: the wake-up lands on the waker's CPU and, as a long
            # sleeper, preempts the waker on its way out of the wake-up syscall
            self.stacked_wakes += 1
            c = cpus[waker.cpu]
            if c.owner is waker:
                waker.preempt(now)
                c.waiting.insert(0, waker)
                c.owner = wakee
                self.rt.call_at(now + host.balance_ns, self.balance, None)
            return waker.cpu, host.ctx_switch_ns
        return self.own_cpu(wakee), host.idle_wake_latency_ns

    def own_cpu(self, w):
        """A timer or device wake: the previous CPU if free, else any free one."""
        cpus = self.cpus
        if cpus[w.cpu].owner is None:
            return w.cpu
        for c in cpus:
            if c.owner is None:
                return c.index
        return w.cpu

    def acquire(self, w, index):
        """`w` runs on CPU `index` now; a running owner is preempted. True if `w` must wait."""
        c = self.cpus[index]
        w.cpu = index
        o = c.owner
        if o is None or o is w:
            c.owner = w
            return False
        if o.blocked:
            # the owner is parked but its CPU was not released (cannot happen); take it
            c.owner = w
            return False
        if o.stalled:
            c.owner = w
            return False
        # wake-up preemption: the long sleeper runs, the current thread waits on this CPU
        o.preempt(self.rt.env.now)
        c.waiting.insert(0, o)
        c.owner = w
        self.rt.call_at(self.rt.env.now + self.rt.host.balance_ns, self.balance, None)
        return False

    def release(self, w):
        """`w` blocks: the next waiting thread on its CPU resumes, or the CPU goes idle."""
        c = self.cpus[w.cpu]
        if c.owner is not w:
            return
        if c.waiting:
            nxt = c.waiting.pop(0)
            c.owner = nxt
            nxt.resume(self.rt.host.ctx_switch_ns)
        else:
            c.owner = None
            c.idle_since = self.rt.env.now
            self.pull_to(c)

    def pull_to(self, c):
        # a CPU going idle pulls a waiting thread from a busy CPU (newidle balancing)
        for o in self.cpus:
            if o.waiting:
                w = o.waiting.pop(0)
                c.owner = w
                w.cpu = c.index
                self.balance_moves += 1
                w.resume(self.rt.host.ctx_switch_ns)
                return

    def balance(self, _):
        """Periodic load balancing: move waiting threads to idle CPUs."""
        for c in self.cpus:
            if c.owner is None:
                self.pull_to(c)


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


class NumaCpus(Cpus):
    """Threads on a NUMA machine's CPUs (see the module docstring)."""

    def __init__(self, sys, machine, host, rng):
        self.rt = sys  # provides env, host, call_at, like a runtime does for Cpus
        self.machine = machine
        n = max(machine.cpus) + 1
        self.cpus = [None] * n  # indexed by the OS's CPU number (numbers may be sparse)
        for node, cs in enumerate(machine.node_cpus):
            for c in cs:
                self.cpus[c] = Cpu(c, node)
        self.node_of = [c.node if c is not None else -1 for c in self.cpus]
        self.rng = rng
        self.stacked_wakes = 0
        self.balance_moves = 0
        self.masks = {}
        self.stacked = {}  # CPUs with waiting threads (ordered set)
        self.floating = []  # threads the OS migrates, and their cumulative rates
        self.cum_hz = []
        self.migrations = 0
        for c in self.cpus:
            if c is not None:
                c.idle_since = -(1 << 62)  # never ran: halted long ago

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
        c.idle_since = self.rt.env.now
        for m in c.masks:
            m.idle[c.node][c.index] = None

    def _wait(self, c, w, front=True):
        w.preempt(self.rt.env.now)
        if front:
            c.waiting.insert(0, w)
        else:
            c.waiting.append(w)
        self.stacked[c] = None

    def _unwait(self, c, w):
        c.waiting.remove(w)
        if not c.waiting:
            self.stacked.pop(c, None)

    def start(self, threads):
        """Place threads at start-up: pinned ones on their CPU, floating ones spread round robin
        over their mask's nodes (placement.initial_cpus), on a free CPU when there is one."""
        for w in threads:
            c = self.cpus[w.cpu]
            if c.owner is not None:
                c = self.idle_in_mask(w, c.node) or c  # another runtime started there
            if c.owner is None:
                self._take(c, w)
            else:
                w.cpu = c.index
                self._wait(c, w, front=False)
        self.call_at(0, self.balance, None)

    def call_at(self, when, fn, arg):
        self.rt.call_at(when, fn, arg)

    # ------------------------------------------------------------------ wake-up placement
    def wake_latency(self, c, now) -> int:
        host = self.rt.host
        if c.owner is None and now - c.idle_since < host.halt_poll_ns:
            return host.unpark_latency_ns
        return host.idle_wake_latency_ns

    def idle_in_mask(self, w, near):
        """A free CPU of w's mask: on node `near` first, then the nearest nodes; most recently
        idled first (the likeliest to be still polling). None if every one is busy."""
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
        prev = self.cpus[wakee.cpu]
        if prev.owner is None:
            return prev.index, self.wake_latency(prev, now)
        c = self.idle_in_mask(wakee, prev.node)
        if c is not None:
            return c.index, self.wake_latency(c, now)
        # every allowed CPU is busy: back on the previous one, preempting its thread
        self.stacked_wakes += 1
        return prev.index, self.rt.host.ctx_switch_ns

    def own_cpu(self, w):
        prev = self.cpus[w.cpu]
        if prev.owner is None:
            return prev.index
        c = self.idle_in_mask(w, prev.node)
        return c.index if c is not None else prev.index

    def acquire(self, w, index):
        c = self.cpus[index]
        o = c.owner
        if o is None:
            self._take(c, w)
            return False
        if o is w:
            return False
        w.cpu = index
        c.owner = w
        if not (o.blocked or o.stalled):
            # wake-up preemption: the long sleeper runs, the current thread waits on this CPU
            self._wait(c, o)
            self.rt.call_at(self.rt.env.now + self.rt.host.balance_ns, self.balance, None)
        return False

    def release(self, w):
        c = self.cpus[w.cpu]
        if c.owner is not w:
            return
        if c.waiting:
            nxt = c.waiting.pop(0)
            if not c.waiting:
                self.stacked.pop(c, None)
            c.owner = nxt
            nxt.resume(self.rt.host.ctx_switch_ns)
        else:
            self._free(c)
            if self.stacked:
                self.pull_to(c)

    def pull_to(self, c):
        # newidle balancing: a CPU going idle pulls a waiting thread allowed to run on it
        for o in list(self.stacked):
            for w in o.waiting:
                m = w.mask
                if m is not None and c.index in m.cpu_set:
                    self._unwait(o, w)
                    self._take(c, w)
                    self.balance_moves += 1
                    w.resume(self.rt.host.ctx_switch_ns)
                    return True
        return False

    def balance(self, _):
        """Periodic load balancing: move waiting threads to idle CPUs of their masks."""
        for o in list(self.stacked):
            for w in list(o.waiting):
                c = self.idle_in_mask(w, o.node)
                if c is not None:
                    self._unwait(o, w)
                    self._take(c, w)
                    self.balance_moves += 1
                    w.resume(self.rt.host.ctx_switch_ns)

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
            if old.waiting:
                nxt = old.waiting.pop(0)
                if not old.waiting:
                    self.stacked.pop(old, None)
                old.owner = nxt
                nxt.resume(self.rt.host.ctx_switch_ns)
            else:
                self._free(old)
        elif w in old.waiting:
            self._unwait(old, w)
            self._take(c, w)
            w.resume(self.rt.host.ctx_switch_ns)
        else:
            return
        self.migrations += 1
