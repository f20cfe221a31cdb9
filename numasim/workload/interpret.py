"""The step interpreter: one poll of a task's program, with tokio's semantics at each await point.

A task's program (`program.run_steps`) yields operations; polling the task runs them until one
returns Pending (the future's `poll` returning `Poll::Pending`) or the program ends. CPU time
accumulates and is elapsed just before anything another thread can observe: a spawn, and the
registration of a waker at a Pending await point, so that a wake racing with the end of the poll
sees the right instant. The worker's harness around this (`tokio.worker.Worker.poll`) does the
task state, the TaskMonitor and the time that is left.
"""
from ..tokio.task import COMPLETE
from . import mux
from .program import (OP_BLOCKING, OP_HOP, OP_IO, OP_JOIN, OP_MEM, OP_MPC, OP_MUX, OP_NOW, OP_OFFLOAD, OP_SLEEP,
                      OP_SPAWN, OP_SPAWN_RT, OP_SPIN, OP_YIELD, TaskDraws, child_key, run_steps)


def task_body(rt, taskdef, key):
    """The future of a spawned task: its program, drawing from the stream its spawn-tree `key`
    gives it, with `loop_until_end` rounds stopping at the runtime's end."""
    return run_steps(taskdef.steps, TaskDraws(rt.seed, key, rt.spin_scale), rt.end_ns)


def poll_future(w, task, cost):
    """Poll `task`'s program on worker `w`, `cost` ns of CPU time already owed by this poll.
    Returns (done, the CPU time this poll still has to spend)."""
    rt = w.rt
    env = rt.env
    host = rt.host
    numa = rt.numa
    coro = task.coro
    while True:
        op = task.op
        if op is None:
            try:
                op = coro.send(task.send)
            except StopIteration:
                return True, cost
            task.send = None
            task.op = op
        if rt.debt:
            cost += rt.debt
            rt.debt = 0
        k = op[0]
        if k == OP_SPIN:
            cost += op[1]
            task.op = None
            continue
        if k == OP_MEM:
            # memory work inside the poll, priced from the CPU this thread runs on now
            cost += numa.mem_ns(w.cpu, op[1], op[2], op[3])
            task.op = None
            continue
        if k == OP_NOW:
            task.send = env.now + cost
            task.op = None
            continue
        if k == OP_YIELD and task.yielded:
            # the second poll of yield_now completes; no budget is spent
            task.yielded = False
            task.op = None
            continue
        if k == OP_JOIN:
            if op[1].state == COMPLETE and w.budget:
                w.consume_budget()
                cost += host.ready_ns
                task.op = None
                continue
        elif k == OP_SLEEP or k == OP_IO:
            if task.timer_set and task.timer_fired and w.budget:
                w.consume_budget()
                cost += host.ready_ns
                task.timer_set = task.timer_fired = False
                task.op = None
                continue
        elif k == OP_MPC:
            # the round's message was sent (timer_set) and the previous party's is here: the
            # channel's recv is Ready and spends budget, as a ready socket does
            if task.timer_set and w.budget and rt.network.has_message(task):
                w.consume_budget()
                cost += host.ready_ns
                rt.network.take(task)
                task.timer_set = False
                task.op = None
                continue
        elif k == OP_HOP:
            # sent, and the receiving multiplexer has handed the message over: Ready
            net = rt.network
            if task.timer_set and w.budget and (task.hop_in if net is None else net.has_message(task)):
                w.consume_budget()
                cost += host.ready_ns
                if net is None:
                    task.hop_in -= 1
                else:
                    net.take(task)
                task.timer_set = False
                task.op = None
                continue
        elif k == OP_MUX:
            # a multiplexer takes every queued message while it has budget (workload/mux.py)
            c = op[1]
            if c.queues[op[2]] and w.budget:
                w.consume_budget()
                cost += mux.take(c, op[2])
                continue
        # everything below interacts with other threads: let the CPU time pass first (run_for,
        # inlined: this is the engine's hottest path)
        if cost:
            if w.stalled or w.owed:
                yield from w.wait_cpu()
            if not w.ahead(cost):
                w.cpu_until = env._now + cost
                yield env.timeout(cost)
                rt.current = w
            cost = 0
        pending, cost = _await(w, task, op, k)
        if pending:
            return False, cost


def _await(w, task, op, k):
    """An await point that other threads can see, once the poll's CPU time has passed: a spawn, a
    channel send, or a Pending (a yield, an exhausted budget, a waker registered on a JoinHandle,
    a timer or I/O). Returns (Pending?, the CPU time it costs the poll)."""
    rt = w.rt
    host = rt.host
    if k == OP_SPAWN:
        task.spawned += 1
        task.send = rt.spawn(op[1], w, child_key(task.key, task.spawned))
        task.op = None
        return False, host.spawn_ns
    if k == OP_BLOCKING:
        task.send = rt.spawn_blocking(task, op[1])
        task.op = None
        return False, host.spawn_ns
    if k == OP_SPAWN_RT:
        task.spawned += 1
        task.send = rt.spawn_into(op[2], op[1], w, child_key(task.key, task.spawned))
        task.op = None
        return False, host.spawn_ns
    if k == OP_OFFLOAD:
        # a channel send (push under the channel's lock, maybe unpark a pool thread)
        task.send = rt.offload(op[1], op[2], op[3])
        task.op = None
        return False, host.remote_schedule_ns
    if k == OP_MPC and not task.timer_set:
        # send_next: an unbounded channel push to the connection, which never waits; then the
        # same op is looked at again for receive_prev
        task.timer_set = True
        rt.network.send(rt, task, op[1])
        return False, 0
    if k == OP_HOP and not task.timer_set:
        # the session's send: an unbounded channel push that wakes the connection's multiplexer,
        # which never waits; then the same op is looked at again for the receive
        task.timer_set = True
        mux.send(rt, w, task, op)
        return False, 0
    if k == OP_MUX:
        # the multiplexer's CPU has passed: its writes leave or its sessions wake; then Pending
        # until the next message (or, out of budget with messages left, a yield)
        mux.deliver(rt, w, op[1], op[2])
        if op[1].queues[op[2]]:
            w.budget_exhausted(task)
        return True, 0
    if k == OP_YIELD:
        # yield_now defers its waker to the next park or maintenance (1.23+)
        task.yielded = True
        w.defer_wake(task)
        return True, 0
    if w.budget == 0:
        # poll_proceed runs first in every budgeted await point, before a JoinHandle registers
        # its waker and before a Sleep or an I/O resource registers with the driver (1.49:
        # time/sleep.rs:430, runtime/io/registration.rs:151, runtime/task/join.rs:328; 1.24:
        # time/sleep.rs:399, runtime/io/registration.rs:148): out of budget, the task yields
        # and registers nothing
        w.budget_exhausted(task)
        return True, 0
    if k == OP_JOIN:
        if op[1].state == COMPLETE:
            return False, 0  # it finished while this poll's CPU time passed: look again
        op[1].waiter = task
        return True, 0
    if k == OP_HOP or k == OP_MPC:
        # the receive, its message not here yet: the receiving multiplexer wakes it (one party,
        # through the task's own waker: a wake while it runs re-polls it); with parties the
        # network wakes the task registered as the endpoint's waiter, so the message may have
        # come while this poll's CPU time passed, after the look above and before this
        # registration: the channel's recv registers its waker and looks again, so look again
        net = rt.network
        if net is not None:
            if net.has_message(task):
                return False, 0
            net.wait(task)
        return True, 0
    if task.timer_set:
        return True, 0  # woken but the timer has not fired: still waiting
    task.timer_set = True
    task.timer_fired = False
    env = rt.env
    if k == OP_SLEEP:
        if rt.driver.add_timer(env.now + op[1], task):
            rt.unpark_driver()
    else:
        rt.add_io(env.now + op[1], task)
    return True, 0
