"""What is not tokio: the OS and the machine the runtimes run on.

`costs` (the host's named costs), `thread` (a thread's CPU time and preemption), `cpus` (where
the OS runs a woken thread, who waits for whom, migration), `numa` (a machine's memory and
cross-node costs as tables), `pools` (pinned std::thread pools fed by a channel) and `system`
(several runtimes, pools and the CPUs in one environment). The topology and memory cost model
they read are `numasim.machine`'s.
"""
