"""Workloads: task programs (`program`), the step interpreter that polls them (`interpret`),
and the iris-mpc Hawk job (`hawk`)."""
