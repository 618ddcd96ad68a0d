"""Hypothesis settings for the property tests: bounded (each test sets max_examples), no deadline
(2 shared cores), examples database under .pytest_cache (git-ignored). `HYPOTHESIS_PROFILE=ci`
derandomises, so a CI failure reproduces locally."""
from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

_HOME = Path(__file__).resolve().parents[2] / ".pytest_cache" / "hypothesis"
set_hypothesis_home_dir(str(_HOME))  # not ./.hypothesis, which git does not ignore
_DB = DirectoryBasedExampleDatabase(str(_HOME / "examples"))
settings.register_profile("shopassist", deadline=None, database=_DB, print_blob=True,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("ci", parent=settings.get_profile("shopassist"), derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "shopassist"))
