"""numasim: tokio's multi-thread scheduler on NUMA machines, simulated.

The stages (spec, model, engine, observers, exporters, readers, calibration, verdict) are plain
functions over plain data; see docs in ../shared/docs/design.md for the shape.
"""
__version__ = "0.1.0"
