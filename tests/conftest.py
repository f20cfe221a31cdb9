"""Shared test set-up: hypothesis profiles.

`ci` (the default) keeps the suite fast; `HYPOTHESIS_PROFILE=thorough pytest` runs many more
examples on demand.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
