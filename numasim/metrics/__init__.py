"""Metrics with tokio's semantics: the per-worker batch and its publish rule, TaskMonitor,
RuntimeMonitor sampling, and the tokio-probe/1 writer."""
