"""tokio-metrics, observing the engine: `RuntimeMonitor` samples what each runtime publishes
(`tokio.stats` keeps the per-worker batch and its publish rule, as tokio does) and `TaskMonitor`
instruments tasks by name. Neither changes what the model does."""
