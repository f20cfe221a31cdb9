"""Shared test set-up: hypothesis profiles.

`ci` (the default) keeps the suite fast; `HYPOTHESIS_PROFILE=thorough pytest` runs many more
examples on demand.
"""
import os

from hypothesis import HealthCheck, settings

# progress lines off a terminal come every few seconds of wall time; tests that count stderr lines
# must not depend on how fast this machine is (tests/test_budget.py sets its own period)
os.environ.setdefault("NUMASIM_PROGRESS_EVERY", "3600")

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

import glob
import pathlib

import pytest

# ../shared beside the checkout, here and in CI (which copies shared/ beside its clone)
SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def fidelity_dir():
    d = SHARED / "fidelity"
    if not d.exists():
        pytest.skip("../shared/fidelity is not beside this checkout")
    return d


@pytest.fixture(scope="session")
def fidelity_specs(fidelity_dir):
    return sorted(glob.glob(str(fidelity_dir / "specs" / "*.json")))


@pytest.fixture(scope="session")
def fidelity_layout_specs():
    """fidelity/layouts/specs: the one-runtime/split spec pairs (in this repository)."""
    return sorted(glob.glob(str(pathlib.Path(__file__).resolve().parents[1] / "fidelity" / "layouts" / "specs" / "*.json")))
