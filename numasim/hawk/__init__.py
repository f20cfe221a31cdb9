"""iris-mpc's Hawk service as a workload: its scenario (`scenario`), the job generator that turns
a scenario and a layout into an engine spec (`jobs`), the plan's app metrics (`appmetrics`) and
their Prometheus exposition (`prometheus`), and the layouts run and compared over seeds
(`layouts`). See docs/hawk.md."""
