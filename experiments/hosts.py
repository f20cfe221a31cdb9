"""The host the experiments simulate a capture with: the version's default host, with the values
measured on the machine that captured this repository's traces (fidelity/measured-host.json,
from fidelity/wakeprobe) where the traces come from that machine."""
import json
import os

from numasim.host.costs import default_host

MEASURED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fidelity", "measured-host.json")


def measured_values(path=MEASURED) -> dict:
    with open(path) as f:
        return json.load(f)["host"]


def measured_host(version: str, path=MEASURED):
    """default_host(version) with the measured values in."""
    return default_host(version).with_values(measured_values(path), f"{path}: host")
