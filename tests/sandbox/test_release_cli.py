"""`bluegreen release` and `--release FILE` through the CLI, in process, on the sandbox:
exit codes, what is printed, and the outcome in AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from release_world import ReleaseWorld, release_world
from typer.testing import CliRunner

from bluegreen.cli import app, shared
from bluegreen.release import Release
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.world import AppModel

ALL_GREEN = [{"blue": 0, "green": 100}] * 2
ALL_BLUE = [{"blue": 100, "green": 0}] * 2
BROKEN = "public.ecr.aws/bluegreen/demo-web:2.0.1-broken"


@pytest.fixture
def world(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ReleaseWorld:
    def on_the_sandbox(path: Path, **options: Any) -> Release:
        return Release.from_file(path, images=options["images"], clock=sandbox.clock)

    monkeypatch.setattr(shared, "release_factory", on_the_sandbox)
    return release_world(sandbox, tmp_path, ["api", "web"])


def bluegreen(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_release_exits_0_with_every_service_on_green(world: ReleaseWorld) -> None:
    path = world.write()

    result = bluegreen("release", str(path), "--image", "api:web=repo/api:3")

    assert result.exit_code == 0, result.output
    assert "SUCCEEDED release release" in result.output
    assert world.weights("api") == ALL_GREEN and world.weights("web") == ALL_GREEN
    history = bluegreen("history", "--release", str(path), "--output", "json")
    (record,) = json.loads(history.stdout)
    assert record["state"] == "SUCCEEDED"
    assert record["members"][0]["images"] == {"web": "repo/api:3"}


def test_a_failing_service_exits_1_naming_it_with_every_service_on_blue(
    world: ReleaseWorld, sandbox: Sandbox
) -> None:
    sandbox.apps[BROKEN] = AppModel(crashes_after=150)
    path = world.write([{"name": "web", "images": {"web": BROKEN}}])

    result = bluegreen("release", str(path), "--output", "json")

    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["state"] == "ROLLED_BACK" and doc["failed_service"] == "web"
    assert doc["services"]["api"]["state"] == "ROLLED_BACK"
    assert world.weights("api") == ALL_BLUE and world.weights("web") == ALL_BLUE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--image", "nope:web=x"], "nope: not a service"),
        (["--image", "api=x"], "expected SERVICE:CONTAINER=URI"),
    ],
)
def test_bad_images_exit_2_changing_nothing(
    world: ReleaseWorld, args: list[str], message: str
) -> None:
    result = bluegreen("release", str(world.write()), *args)

    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert world.weights("api") == ALL_BLUE


def test_a_release_file_going_round_in_a_circle_exits_2(world: ReleaseWorld) -> None:
    path = world.write([{"name": "api", "after": ["web"]}, {"name": "web", "after": ["api"]}])

    result = bluegreen("release", str(path))

    assert result.exit_code == 2
    assert "after goes round in a circle: api → web → api" in " ".join(result.output.split())


def test_status_and_rollback_of_a_finished_release(world: ReleaseWorld) -> None:
    path = world.write()
    assert bluegreen("release", str(path)).exit_code == 0

    status = bluegreen("status", "--release", str(path), "--output", "json")
    rollback = bluegreen("rollback", "--release", str(path))

    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["state"] == "SUCCEEDED"
    assert rollback.exit_code == 2
    assert "nothing to roll back" in rollback.output


def test_dry_run_prints_the_order_and_every_plan_changing_nothing(world: ReleaseWorld) -> None:
    path = world.write([{"name": "web", "shift_after": ["api"]}])

    text = bluegreen("release", str(path), "--dry-run")
    doc = bluegreen("release", str(path), "--dry-run", "--output", "json")

    assert text.exit_code == 0, text.output
    assert "web: shifts once api is at 100%" in text.output
    assert "Plan for service api" in text.output and "Plan for service web" in text.output
    assert set(json.loads(doc.stdout)["services"]) == {"api", "web"}
    assert world.weights("api") == ALL_BLUE and world.weights("web") == ALL_BLUE
    assert bluegreen("history", "--release", str(path)).exit_code == 0
    assert "rel-" not in bluegreen("history", "--release", str(path)).output


def test_the_report_and_the_job_summary_show_the_release_then_each_service(
    world: ReleaseWorld, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.apps[BROKEN] = AppModel(crashes_after=150)
    path = world.write([{"name": "web", "images": {"web": BROKEN}}])
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    assert bluegreen("release", str(path)).exit_code == 1
    report = bluegreen("report", "--release", str(path))
    picture = bluegreen("report", "--release", str(path), "--format", "svg")

    assert report.exit_code == 0, report.output
    head = report.stdout.splitlines()[0]
    assert head.startswith("# ↩️ Release release (rel-")
    assert "**Failed** | web: gate failed" in report.stdout
    assert "## ↩️ api: rolled back" in report.stdout and "## ↩️ web: rolled back" in report.stdout
    assert summary.read_text().strip() == report.stdout.strip()
    assert picture.exit_code == 2 and "a release's report is Markdown" in picture.output


def test_status_watch_of_a_release_prints_a_document_per_refresh(world: ReleaseWorld) -> None:
    path = world.write()
    assert bluegreen("release", str(path)).exit_code == 0

    watched = bluegreen(
        "status",
        "--release",
        str(path),
        "--watch",
        "--count",
        "2",
        "--interval",
        "0.2",
        "--output",
        "json",
    )

    assert watched.exit_code == 0, watched.output
    documents = [json.loads(line) for line in watched.stdout.splitlines()]
    assert [d["state"] for d in documents] == ["SUCCEEDED", "SUCCEEDED"]
    assert set(documents[0]["services"]) == {"api", "web"}


def test_release_detached_at_the_pause_exits_0_then_promote_finishes_it(
    world: ReleaseWorld,
) -> None:
    steps = [{"weight": 25, "pause": True}, {"weight": 100}]
    path = world.write(strategy={"type": "steps", "steps": steps})
    at_pause = [{"blue": 75, "green": 25}] * 2

    detached = bluegreen("release", str(path), "--yes", "--detach-at-pause", "--output", "json")

    assert detached.exit_code == 0, detached.output
    assert json.loads(detached.stdout)["detached"] is True
    assert world.weights("api") == at_pause and world.weights("web") == at_pause

    promoted = bluegreen("promote", "--release", str(path))

    assert promoted.exit_code == 0, promoted.output
    assert "SUCCEEDED release release" in promoted.output
    assert world.weights("api") == ALL_GREEN and world.weights("web") == ALL_GREEN
