"""numasim: tokio's multi-thread scheduler on NUMA machines, simulated.

The stages (spec, machine, tokio rules, engine, observers, exporters, readers, calibration,
verdict) are plain functions over plain data; docs/architecture.md says where each lives.
"""
__version__ = "0.1.0"
