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
"""


class Cpu:
    __slots__ = ("index", "owner", "idle_since", "waiting")

    def __init__(self, index):
        self.index = index
        self.owner = None  # the worker running here
        self.idle_since = 0
        self.waiting = []  # workers runnable here but preempted, first to resume first


class Cpus:
    def __init__(self, rt, n):
        self.rt = rt
        self.cpus = [Cpu(i) for i in range(max(1, n))]
        self.rng = rt.os_rng
        self.stacked_wakes = 0
        self.balance_moves = 0

    def start(self, workers):
        for w in workers:
            c = self.cpus[w.index % len(self.cpus)]
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
                waker.stalled = True
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
        o.stalled = True
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
