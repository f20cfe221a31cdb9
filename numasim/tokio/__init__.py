"""tokio's multi-thread scheduler alone, one module per mechanism as in
`tokio/src/runtime/scheduler/multi_thread/`: `worker` (run loop, maintenance, run_task, the poll
harness), `queue` (local queue, overflow, steal), `park` (park, unpark, driver hand-off,
transitions), `idle`, `handle` (the runtime: spawn, wake, schedule, inject), `task` (task state,
coop budget), `stats` (the worker's metrics batch and poll-time EWMA), `driver` (timers, I/O),
`blocking`, `fastrand`; version differences are data in `profile`. The CPUs and costs it runs on
are `numasim.host`'s, the futures it polls the workload's, the monitors it reports to the
observers': the engine hands them in (docs/architecture.md)."""
