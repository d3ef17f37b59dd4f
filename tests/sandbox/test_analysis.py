"""Metric analysis end to end on the simulated AWS: the sandbox publishes each target
group's per-minute load-balancer metrics, bluegreen reads them with GetMetricData (Sum:
moto answers it) and judges green's error rate against blue's."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_deploy import IMAGE, deployer, weights

from bluegreen.errors import AnalysisFailed
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack

ERROR_RATE = {"metrics": [{"name": "error_rate", "max_increase": "25%"}]}


def test_green_erring_more_than_blue_is_rolled_back_naming_both_rates(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    sandbox.apps[f"{IMAGE}:4.0.0"] = AppModel(error_rate=0.2)

    with pytest.raises(AnalysisFailed) as caught:
        deployer(sandbox, stack, tmp_path, analysis=ERROR_RATE).deploy(
            images={"web": f"{IMAGE}:4.0.0"}
        )

    assert "analysis failed at 10% green: error_rate: green 20" in str(caught.value)
    assert "vs blue 0.00%" in str(caught.value)
    assert weights(stack) == [(100, 0), (100, 0)]


def test_green_as_good_as_blue_goes_through(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    run = deployer(sandbox, stack, tmp_path, analysis=ERROR_RATE)
    result = run.deploy(images={"web": f"{IMAGE}:2.0.0"})

    assert result.outcome == "succeeded" and weights(stack) == [(0, 100), (0, 100)]
    latest = run.status().to_dict()["deployment"]["analysis"]
    assert latest["stage"] == "bake at 100%"
    assert [c["status"] for c in latest["checks"]] == ["pass"]


def test_skip_analysis_lets_a_release_through_an_analysis_that_fails_it(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    from bluegreen.store.holder import user_at_host

    sandbox.apps[f"{IMAGE}:4.0.0"] = AppModel(error_rate=0.2)  # the analysis would roll back
    run = deployer(sandbox, stack, tmp_path, analysis=ERROR_RATE)

    result = run.deploy(images={"web": f"{IMAGE}:4.0.0"}, skip_analysis=True)

    assert result.outcome == "succeeded" and weights(stack) == [(0, 100), (0, 100)]
    shown = run.status().to_dict()["deployment"]
    assert shown["analysis"] is None  # never evaluated
    assert shown["skip_analysis"]["by"] == user_at_host()
    assert shown["skip_analysis"]["via"] == "deploy"
    assert result.to_dict()["skip_analysis"] == shown["skip_analysis"]
