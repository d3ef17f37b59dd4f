"""`bluegreen report`: one deployment's report (the latest without an id) as Markdown,
a self-contained HTML page or an SVG picture, on stdout or into a file. The report is
built by bluegreen.report from the record; this only parses, reads and writes."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bluegreen.cli.release_actions import ReleaseOpt, release_api
from bluegreen.cli.shared import NO_COMMON, Common, run, with_common_options

if TYPE_CHECKING:
    from bluegreen.record import DeploymentRecord


class ReportFormat(StrEnum):
    markdown = "markdown"
    html = "html"
    svg = "svg"


@with_common_options
def report(
    deployment_id: Annotated[
        str | None,
        typer.Argument(
            metavar="DEPLOYMENT_ID",
            help="The deployment (see `bluegreen history`); default: the latest.",
        ),
    ] = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            "-f",
            help="markdown (for a CI job's summary), html (one self-contained file) or svg "
            "(the timeline); html and svg need matplotlib: the package's report extra.",
        ),
    ] = ReportFormat.markdown,
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="PATH", help="Write the report here, not to stdout."),
    ] = None,
    release: ReleaseOpt = None,
    common: Common = NO_COMMON,
) -> None:
    """A deployment's report: outcome, stages, verdicts, timeline.

    Also who acted, the versions and a rollback's reason; Markdown by default, appended to
    $GITHUB_STEP_SUMMARY by deploy, promote, rollback and resume when that is set. With
    --release FILE: a release's report (DEPLOYMENT_ID is then a release's id)."""
    from bluegreen.report import render

    def action() -> str:
        if release:  # DEPLOYMENT_ID names a release then
            if fmt is not ReportFormat.markdown:
                from bluegreen.errors import UsageError

                raise UsageError(
                    "a release's report is Markdown",
                    hint="one service's picture: `bluegreen report -c SERVICE.toml --format "
                    f"{fmt.value} DEPLOYMENT_ID`",
                )
            return release_api(release, common).report(deployment_id)
        record: DeploymentRecord = common.deployer().record(deployment_id)
        return render(record, fmt.value)

    def show(text: str) -> None:
        if out is None:
            print(text, end="")
            return
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            from bluegreen.errors import UsageError

            raise UsageError(f"could not write the report to {out}: {exc.strerror}") from None

    run(common.output, action, show)
