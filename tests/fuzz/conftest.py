"""Fuzzing of the input loaders: the seed files, made once per test session, and the bounds."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz import corpus as C

# Examples per property: the whole folder stays well under a minute, and the same examples run
# every time (derandomized). A longer, exploring local run sets ACCELSIM_FUZZ_EXAMPLES (then the
# examples are random); benchmarks/fuzz_campaign.py runs millions of inputs without hypothesis.
EXAMPLES = int(os.environ.get("ACCELSIM_FUZZ_EXAMPLES", "100"))
EXPLORE = "ACCELSIM_FUZZ_EXAMPLES" in os.environ

FUZZ = settings(max_examples=EXAMPLES, deadline=None, print_blob=True, derandomize=not EXPLORE,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="session")
def seeds(tmp_path_factory) -> C.Seeds:
    return C.make_seeds(tmp_path_factory.mktemp("fuzz-seeds"))
