"""The deployment report, built from real deployments on the simulated AWS: what a reader
of a CI job's summary must find in it (outcome, versions, weights per stage, verdicts,
who acted, the reason of a rollback) and what its timeline recorded.

Set BLUEGREEN_REPORT_SAMPLES to a folder to keep both deployments' Markdown and records there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from test_analysis import ERROR_RATE
from test_deploy import IMAGE, deployer

from bluegreen.errors import AnalysisFailed
from bluegreen.record import DeploymentRecord
from bluegreen.report import render
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.stack import SandboxStack

PAUSE_AT_50 = {
    "type": "steps",
    "steps": [{"weight": 10, "bake": "3m"}, {"weight": 50, "pause": True}, {"weight": 100}],
}


def keep(name: str, text: str) -> None:
    folder = os.environ.get("BLUEGREEN_REPORT_SAMPLES")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_text(text, encoding="utf-8")


def stage_rows(markdown: str) -> list[list[str]]:
    """The Stages table's rows, cell by cell."""
    section = markdown.split("### Stages", 1)[1].split("###", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def promoted_release(
    sandbox: Sandbox, stack: SandboxStack, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> DeploymentRecord:
    """Deployed by `deployer-bot` in GitHub Actions, paused at 50 %, promoted by octocat."""
    run = deployer(sandbox, stack, folder, analysis=ERROR_RATE, strategy=PAUSE_AT_50)
    monkeypatch.setenv("GITHUB_ACTOR", "deployer-bot")
    assert run.deploy(images={"web": f"{IMAGE}:2.0.0"}, detach_at_pause=True).outcome == "paused"
    sandbox.clock.sleep(240)  # someone looks at the 50 % for four minutes
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    assert run.promote().outcome == "succeeded"
    return run.record()


def test_a_promoted_release_reports_each_stage_its_weights_verdicts_and_who_acted(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = promoted_release(sandbox, stack, tmp_path, monkeypatch)
    text = render(rec, "markdown")
    keep("success.md", text)
    keep("success.json", rec.model_dump_json(indent=2))

    assert text.startswith(f"## ✅ web: succeeded ({rec.id})")
    assert "| **Started** | " in text and "by deployer-bot (GitHub Actions)" in text
    assert "| **Promoted by** | octocat (GitHub Actions) at " in text
    assert "during paused at 50%" in text
    assert "| **Blue (from)** | web:1 |" in text and "| **Green (to)** | web:2 |" in text
    assert re.search(r"\| \*\*Duration\*\* \| \d+m \d\ds \|", text)
    # Both listeners at each stage's weight, as written.
    rows = stage_rows(text)
    assert [row[:4] for row in rows] == [
        ["1", "10%", "10%", "10%"],
        ["2", "50%", "50%", "50%"],
        ["3", "100%", "100%", "100%"],
    ]
    assert rows[0][4:6] == ["3m 00s", "-"] and rows[1][5] == "yes"  # the bake, the pause
    assert re.fullmatch(r"\d+ pass", rows[0][-1]), rows[0]  # the canary's bake was judged
    assert "### Metric analysis" in text and "| error_rate |" in text
    assert "Rolled back" not in text and "**Reason**" not in text
    assert "xychart-beta" in text and "line [0, " in text  # green's weight from 0 ...
    # ... to 100 on every route, and green's tasks healthy, in the recorded timeline
    assert rec.timeline[0].green == [0, 0] and rec.timeline[-1].green == [100, 100]
    assert [s.green[0] for s in rec.timeline if s.green] == sorted(
        s.green[0] for s in rec.timeline if s.green
    )
    assert {10, 50, 100} <= {s.green[0] for s in rec.timeline}
    assert max(s.healthy[1] for s in rec.timeline) == 2 and rec.timeline[0].healthy[0] == 2


def test_a_release_rolled_back_by_the_analysis_reports_the_reason_and_the_failed_verdict(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path
) -> None:
    sandbox.apps[f"{IMAGE}:4.0.0"] = AppModel(error_rate=0.2)
    run = deployer(sandbox, stack, tmp_path, analysis=ERROR_RATE, strategy=PAUSE_AT_50)
    with pytest.raises(AnalysisFailed):
        run.deploy(images={"web": f"{IMAGE}:4.0.0"})
    rec = run.record()
    text = render(rec, "markdown")
    keep("rolledback.md", text)
    keep("rolledback.json", rec.model_dump_json(indent=2))

    assert text.startswith(f"## ↩️ web: rolled back ({rec.id})")
    assert "| **Rolled back** | by bluegreen, on its own, from SHIFTING |" in text
    assert "| **Reason** | analysis failed at 10% green: error_rate: green 20" in text
    rows = stage_rows(text)
    assert rows[0][:4] == ["1", "10%", "10%", "10%"]
    assert rows[0][-1] == "1 fail" and rows[1][6] == rows[2][6] == "not reached"
    assert re.search(r"\| error_rate \| 0\.2\d* \| 0 \| .* \| fail \| error_rate: green 20", text)
    assert "**rollback started**" in text
    # back to 0 on every route after the rollback
    assert rec.timeline[-1].green == [0, 0]
    assert [10, 10] in [s.green for s in rec.timeline]


def test_a_rollback_asked_for_names_who_asked_and_why(
    sandbox: Sandbox, stack: SandboxStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = deployer(sandbox, stack, tmp_path, strategy=PAUSE_AT_50)
    assert run.deploy(images={"web": f"{IMAGE}:2.0.0"}, detach_at_pause=True).outcome == "paused"
    monkeypatch.setenv("GITLAB_USER_LOGIN", "alice")
    run.rollback("checkout is slow on green")
    rec = run.record()

    text = render(rec, "markdown")
    assert rec.rollback_by == "alice (GitLab CI)"
    assert "| **Rolled back** | asked by alice (GitLab CI), from PAUSED |" in text
    assert "| **Reason** | checkout is slow on green |" in text
