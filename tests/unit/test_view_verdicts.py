"""The verdicts of the metric analysis as people see them: under each analysis event that
`deploy` (and `promote`, `resume`) narrate, and in `status`, with who skipped it."""

from __future__ import annotations

import pytest
from rich.console import Console

from bluegreen.cli import deployment, shared
from bluegreen.cli.view import render_status
from bluegreen.engine.status import Status
from bluegreen.machine import State
from bluegreen.record import AnalysisEntry, CheckEntry, Event

FAILING = CheckEntry(
    check="error_rate",
    status="fail",
    green=0.05,
    blue=0.005,
    effect=9.0,
    u=1234.0,
    p_value=0.00012,
    samples=[600, 5400],
    reason="error_rate: green 5.00% vs blue 0.50% (+900%)",
)
THIN = CheckEntry(check="latency p99", status="inconclusive", samples=[3, 4], reason="too few")
FAILING_ROW = ["error_rate", "0.05", "0.005", "+900%", "1234", "0.00012", "600/5400", "fail"]
ENTRY = AnalysisEntry(at=0.0, stage="step 1/3 at 10%", window=[0.0, 60.0], checks=[FAILING, THIN])


@pytest.fixture
def err(monkeypatch: pytest.MonkeyPatch) -> Console:
    console = Console(record=True, width=120)
    monkeypatch.setattr(shared, "err", console)
    return console


def rows(text: str) -> list[list[str]]:
    """The table's rows, cell by cell."""
    return [
        [cell.strip() for cell in line.replace("┃", "│").strip("│ ").split("│")]
        for line in text.splitlines()
        if line.startswith(("│", "┃"))
    ]


def test_an_analysis_event_is_narrated_with_every_verdict(err: Console) -> None:
    deployment._print_event(
        Event(at=0.0, state=State.SHIFTING, message="analysis, step 1/3 at 10%", analysis=ENTRY)
    )
    text = err.export_text()
    assert text.splitlines()[0].startswith("SHIFTING         analysis, step 1/3 at 10%")
    header, failing, thin = rows(text)
    assert header == ["check", "green", "blue", "change", "U", "p-value", "samples", "verdict"]
    assert failing == [
        "error_rate",
        "0.05",
        "0.005",
        "+900%",
        "1234",
        "0.00012",
        "600/5400",
        "fail",
    ]
    assert thin == ["latency p99", "-", "-", "-", "-", "-", "3/4", "inconclusive"]


def test_other_events_are_one_line(err: Console) -> None:
    deployment._print_event(Event(at=0.0, state=State.SHIFTING, message="step 1/3: 10% on green"))
    assert err.export_text() == "SHIFTING         step 1/3: 10% on green\n"


def test_status_shows_the_verdicts_and_who_skipped_the_analysis() -> None:
    status = Status(service="web", live=None)
    status.deployment = {
        "deployment_id": "bg-1",
        "state": "PAUSED",
        "step": 1,
        "steps": 3,
        "green_percent": 10,
        "analysis": ENTRY.model_dump(),
        "skip_analysis": {"by": "oncall@laptop", "at": 1_800_000_000.0, "via": "promote"},
    }
    console = Console(record=True, width=120)
    console.print(render_status(status))
    text = console.export_text()
    assert (
        "  metric analysis skipped: asked by oncall@laptop at 2027-01-15 08:00:00 UTC "
        "(promote --skip-analysis)" in text
    )
    assert "  analysis, step 1/3 at 10%:" in text
    assert FAILING_ROW in rows(text)
    # why, for each check that did not pass
    assert "    fail          error_rate: green 5.00% vs blue 0.50% (+900%)" in text
    assert "    inconclusive  too few" in text
