"""`bluegreen demo` end to end: every scenario ends as the demo says it will."""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

from bluegreen import cli
from bluegreen.sandbox.demo import Frame, run_demo


def test_demo_json_shows_a_success_and_two_automatic_rollbacks() -> None:
    result = CliRunner().invoke(cli.app, ["demo", "--output", "json"])

    assert result.exit_code == 0, result.output
    first, second, third = json.loads(result.stdout)
    assert first["outcome"] == "succeeded"
    http, https = first["final_weights"].values()
    assert http == https and sorted(http.values()) == [0, 100]
    assert second["outcome"] == "rolled_back"
    assert "Target.ResponseCodeMismatch" in second["reason"] and "/health" in second["reason"]
    assert third["outcome"] == "rolled_back"
    assert third["reason"].startswith("analysis failed at 10% green: error_rate: green 3.")
    assert "vs blue 0." in third["reason"]
    http, https = third["final_weights"].values()
    assert http == https and sorted(http.values()) == [0, 100]


def test_demo_frames_show_the_shift_and_the_health_of_each_colour() -> None:
    frames: list[Frame] = []

    def keep(frame: Frame) -> None:
        frames.append(
            Frame(
                frame.scenario,
                frame.state,
                frame.step,
                dict(frame.weights),
                {k: dict(v) for k, v in frame.health.items()},
            )
        )

    run_demo(on_frame=keep)
    canary = [f for f in frames if f.weights.get("HTTP :80", {}).get("green") == 10]
    assert canary and all(f.weights["HTTPS :443"]["green"] == 10 for f in canary)
    assert any(f.health.get("green", {}).get("unhealthy") for f in frames)
    assert any(f.health.get("green", {}).get("initial") for f in frames)


def test_demo_without_the_sandbox_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "bluegreen.sandbox.demo", None)  # as if moto were absent
    result = CliRunner().invoke(cli.app, ["demo"])
    assert result.exit_code == 2
    assert "pip install 'bluegreen[sandbox]'" in result.output
    assert "Traceback" not in result.output
