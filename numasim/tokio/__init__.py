"""tokio's multi-thread scheduler, one module per mechanism as in
`tokio/src/runtime/scheduler/multi_thread/`: queue, idle, driver, blocking, worker; version
differences live in `profile`, host costs in `host`."""
