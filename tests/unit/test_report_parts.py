"""The report's parts that need no AWS: the record's bounded timeline, who acts, and free
text (a rollback's reason) kept from breaking the Markdown table or the HTML page."""

from __future__ import annotations

import pytest

from bluegreen.machine import State
from bluegreen.record import DeploymentRecord
from bluegreen.report import render
from bluegreen.store.holder import actor, user_at_host
from bluegreen.timeline import MAX_SAMPLES, Sample, observed


def test_a_sample_is_kept_only_when_something_changed_and_carries_what_it_does_not_say() -> None:
    samples = observed([], 0.0, green=[0, 0], blue_healthy=2)
    samples = observed(samples, 5.0, green_healthy=0)  # nothing new: green had none
    samples = observed(samples, 10.0, step=1, green=[10, 10])
    samples = observed(samples, 15.0, green_healthy=2)

    assert [(s.at, s.step, s.green, s.healthy) for s in samples] == [
        (0.0, 0, [0, 0], [2, 0]),
        (10.0, 1, [10, 10], [2, 0]),
        (15.0, 1, [10, 10], [2, 2]),
    ]


def test_a_flapping_target_cannot_grow_the_timeline_past_its_bound() -> None:
    samples: list[Sample] = observed([], 0.0, green=[0], blue_healthy=2)
    for n in range(1, 5000):
        samples = observed(samples, float(n), green_healthy=n % 2)

    assert len(samples) <= MAX_SAMPLES
    assert samples[0].at == 0.0 and samples[-1].at == 4999.0  # both ends kept
    assert [s.at for s in samples] == sorted(s.at for s in samples)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"GITHUB_ACTOR": "octocat", "GITLAB_USER_LOGIN": "alice"}, "octocat (GitHub Actions)"),
        ({"GITLAB_USER_LOGIN": "alice"}, "alice (GitLab CI)"),
        ({"GITHUB_ACTOR": "  "}, None),  # blank: not a login
    ],
)
def test_who_acts_is_the_ci_login_else_user_at_host(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str | None
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert actor() == (expected or user_at_host())


def rolled_back(reason: str) -> DeploymentRecord:
    rec = DeploymentRecord(
        id="bg-20270115T080000Z-abcdef",
        service_key="prod__web",
        cluster="prod",
        service="web",
        created_at=1_800_000_000.0,
        updated_at=1_800_000_060.0,
        started_by="octocat (GitHub Actions)",
    )
    rec.state, rec.ended_at, rec.reason, rec.failed_in = (
        State.ROLLED_BACK,
        1_800_000_060.0,
        reason,
        State.SHIFTING,
    )
    return rec


def test_a_reason_with_pipes_newlines_and_markup_stays_one_table_row() -> None:
    text = render(rolled_back("hook said: a | b\n<script>alert(1)</script>"), "markdown")

    (row,) = [line for line in text.splitlines() if line.startswith("| **Reason** |")]
    assert row == "| **Reason** | hook said: a \\| b &lt;script&gt;alert(1)&lt;/script&gt; |"
    assert "<script>" not in text
    assert "No timeline was recorded" in text  # a record from before the timeline


def test_the_html_page_escapes_the_record_strings() -> None:
    page = render(rolled_back('<img src="http://x/y">'), "html")
    assert "<img" not in page and "&lt;img src=&quot;http://x/y&quot;&gt;" in page


def test_only_the_latest_verdicts_are_shown_and_the_report_says_how_many_were_left_out() -> None:
    from bluegreen.record import AnalysisEntry, CheckEntry
    from bluegreen.report.tables import MAX_VERDICT_ROWS

    rec = rolled_back("analysis failed")
    for n in range(MAX_VERDICT_ROWS + 5):
        check = CheckEntry(check=f"check-{n}", status="pass")
        rec.add_analysis(
            AnalysisEntry(at=1_800_000_000.0 + n, stage="s", window=[], checks=[check])
        )

    text = render(rec, "markdown")
    note = f"The latest {MAX_VERDICT_ROWS} verdicts (5 earlier ones left out)."
    assert note in text
    assert (
        "check-4 " not in text and "| check-5 |" in text and f"check-{MAX_VERDICT_ROWS + 4}" in text
    )
    html_page = render(rec, "html")
    assert f"<p>{note}</p>" in html_page and "<h2>Metric analysis</h2>" in html_page
