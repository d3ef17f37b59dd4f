"""`bluegreen report` and the CI job summary, end to end through the CLI on the simulated
AWS: deploy, promote and a rolled-back deploy each append their report to
$GITHUB_STEP_SUMMARY (never overwriting what earlier steps wrote); `report` prints the
latest deployment or a named one, writes a file, and refuses bad input with exit 2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from cli_harness import Cli

from bluegreen.sandbox import AppModel, Sandbox

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
BROKEN = "public.ecr.aws/bluegreen/demo-web:9.0.0"
PAUSE_AT_50 = [{"weight": 10, "bake": "1m"}, {"weight": 50, "pause": True}, {"weight": 100}]


def test_deploy_promote_and_a_rollback_append_their_reports_to_the_job_summary(
    run_cli: Cli, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("# Build\n\nearlier step's line\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    run_cli.configure(strategy={"type": "steps", "steps": PAUSE_AT_50})

    assert run_cli("deploy", "--image", f"web={V2}", "--detach-at-pause").exit_code == 0
    assert run_cli("promote").exit_code == 0
    sandbox.apps[BROKEN] = AppModel(serves=("/api",))  # /health answers 404: rolled back
    assert run_cli("deploy", "--image", f"web={BROKEN}").exit_code == 1

    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# Build\n\nearlier step's line\n\n## ")  # appended, not overwritten
    headlines = [line for line in text.splitlines() if line.startswith("## ")]
    assert [h.split(":")[1].split("(")[0].strip() for h in headlines] == [
        "paused, waiting for a promote",
        "succeeded",
        "rolled back",
    ]
    assert "| **Promoted by** | octocat (GitHub Actions) at " in text
    (reason,) = [line for line in text.splitlines() if line.startswith("| **Reason** |")]
    assert "green will not become healthy" in reason and "Target.ResponseCodeMismatch" in reason
    assert text.count("xychart-beta") == 6  # two charts a report


def test_an_unwritable_summary_is_a_warning_and_keeps_the_exit_code(
    run_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "no" / "such" / "summary.md"))
    result = run_cli("deploy", "--image", f"web={V2}")

    assert result.exit_code == 0, result.output
    assert "warning: could not append the report to $GITHUB_STEP_SUMMARY" in result.output


def test_report_prints_the_latest_deployment_or_a_named_one_and_writes_files(
    run_cli: Cli, tmp_path: Path
) -> None:
    assert run_cli("deploy", "--image", f"web={V2}").exit_code == 0
    assert run_cli("deploy", "--image", "web=repo/web:3").exit_code == 0
    (latest, first) = [d.record() for d in run_cli.deployers[-1:]] + [
        run_cli.deployers[-1].history()[1]
    ]

    printed = run_cli("report")
    assert printed.exit_code == 0, printed.output
    assert printed.output.startswith(f"## ✅ web: succeeded ({latest.id})")
    named = run_cli("report", first.id)
    assert named.exit_code == 0 and f"({first.id})" in named.output
    assert "| **Green (to)** | web:2 |" in named.output

    svg, page = tmp_path / "timeline.svg", tmp_path / "report.html"
    assert run_cli("report", "--format", "svg", "--out", str(svg)).exit_code == 0
    assert run_cli("report", first.id, "--format", "html", "--out", str(page)).exit_code == 0
    assert "<svg" in svg.read_text() and "</svg>" in svg.read_text()
    html = page.read_text()
    assert html.startswith("<!doctype html>") and f"({first.id})</title>" in html
    assert "<svg" in html and "<?xml" not in html
    # self-contained: nothing on the page asks for anything from anywhere
    assert 'http-equiv="Content-Security-Policy" content="default-src \'none\'' in html
    assert "<script" not in html and "<link" not in html and "url(http" not in html


@pytest.mark.parametrize(
    ("argument", "said"),
    [
        ("../../etc/passwd", "'../../etc/passwd' is not a deployment id"),
        ("bg-20990101T000000Z-abcdef", "deployment bg-20990101T000000Z-abcdef is not recorded"),
    ],
)
def test_report_of_a_bad_or_unknown_id_exits_2_naming_it(
    run_cli: Cli, argument: str, said: str
) -> None:
    assert run_cli("deploy", "--image", f"web={V2}").exit_code == 0
    result = run_cli("report", argument)

    assert result.exit_code == 2
    assert said in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_report_before_any_deployment_exits_2(run_cli: Cli) -> None:
    result = run_cli("report")
    assert result.exit_code == 2
    assert "this service has no deployment recorded yet" in result.output


def test_html_without_matplotlib_exits_2_with_the_pip_command_and_markdown_still_works(
    run_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("deploy", "--image", f"web={V2}").exit_code == 0
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` fails

    result = run_cli("report", "--format", "html")
    assert result.exit_code == 2
    assert "pip install 'bluegreen[report]'" in " ".join(result.output.split())
    assert run_cli("report").exit_code == 0
