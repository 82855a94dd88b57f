"""The speed report's measurements run for every agent on the on-policy base (a tiny K, so the test
times nothing: it checks that the tools still drive each agent as the base builds it)."""

import math

import pytest

from benchmark import perf_agents


@pytest.mark.parametrize("algo", ["genpo", "dppo", "fpopp"])
def test_the_speed_report_measures_each_on_policy_agent(algo):
    act = perf_agents.measure_act(algo, 2, "cpu", False, 64, 1)
    update, inside = perf_agents.measure_update(algo, 2, "cpu", False, 1)
    assert act > 0 and update > 0 and 0 < inside <= 1 and math.isfinite(update)
