"""Workloads: the task-program interpreter for specs (and, later, the iris-mpc Hawk job)."""
