"""Several runtimes, pinned pools and one machine in one SimPy environment.

A `System` is what the runtimes share: the CPUs (flat host CPUs, or a NUMA machine's), the NUMA
cost tables and accounting, the pools, and each other by name. A thread of one runtime acting on
another (spawning into it, waking a task that joins across runtimes) is a foreign thread there:
`cross` runs the call with that runtime's notion of "the thread running now" set to the caller,
and moves the host costs it incurred (unpark syscalls, wake costs) back onto the caller's clock.
"""


class System:
    def __init__(self, env, host):
        self.env = env
        self.host = host
        self.runtimes = {}  # name -> Runtime, in spec order
        self.pools = {}  # name -> Pool
        self.cpus = None
        self.numa = None
        self.slots = {}  # task name -> tasks of that name made so far (a task's `slot`)
        self.connections = {}  # index -> workload.mux.Connection, made on first use

    def next_slot(self, name) -> int:
        n = self.slots.get(name, 0)
        self.slots[name] = n + 1
        return n

    def call_at(self, when, fn, arg):
        """Call fn(arg) at simulated time `when` (now, if `when` has passed)."""
        ev = self.env.timeout(max(0, when - self.env.now))
        ev.callbacks.append(lambda _e: fn(arg))

    def cross(self, src, dst, fn, *args):
        """Call `fn` (a method of runtime `dst`) from the thread running now in runtime `src`."""
        dst.current = src.current
        out = fn(*args)
        if dst.debt:
            src.debt += dst.debt
            dst.debt = 0
        return out

    def threads(self):
        """(name, thread) of every worker and pool thread, for the CPU timeline."""
        out = [(f"{rt.name}/{w.index}", w) for rt in self.runtimes.values() for w in rt.workers]
        out += [(th.name, th) for p in self.pools.values() for th in p.threads]
        return out
