"""The NUMA machine: topology (presets, numactl text, sysfs), placement, and the memory cost model.

The scheduler calls plain functions over frozen data:
- `topology`: `Machine`, `Curve`, cpulist helpers; `presets`: `preset(name)`, `PRESETS`;
  `readers`: `read_numactl(path)`, `read_sysfs(dir)`.
- `placement`: where worker threads run and where memory regions live.
- `memory`: what a poll's memory work costs (`cost_ns`, `cost_batch_ns`), and the cache-line
  costs of cross-node steals, wakes and task migration.
"""
from .presets import PRESETS, preset
from .readers import read_numactl, read_numactl_text, read_sysfs
from .topology import Curve, Machine, format_cpulist, parse_cpulist

__all__ = ["Curve", "Machine", "PRESETS", "preset", "read_numactl", "read_numactl_text", "read_sysfs",
           "format_cpulist", "parse_cpulist"]
