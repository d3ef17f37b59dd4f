"""The deployment report: what happened in one deployment, from its record, as Markdown
(a terminal, a CI job's summary), a self-contained HTML page or an SVG picture.

The room (floor 2, pure: a record in, text out; no AWS, no files):
- facts.py: what the report says, read out of the record; series.py: its time series;
- tables.py: the tables as strings, shared by the formats;
- markdown.py: Markdown with Mermaid charts (needs nothing beyond the core);
- chart.py: the SVG timeline, with matplotlib (the optional extra `bluegreen[report]`,
  imported only when a picture is asked for); html.py: the HTML page around it.
"""

from __future__ import annotations

from typing import Literal

from bluegreen.record import DeploymentRecord

Format = Literal["markdown", "html", "svg"]
FORMATS: tuple[Format, ...] = ("markdown", "html", "svg")


def render(rec: DeploymentRecord, fmt: Format = "markdown") -> str:
    """The report of `rec` in `fmt`. HTML and SVG raise UsageError (exit 2) when matplotlib
    is not installed, naming the pip command."""
    if fmt == "html":
        from bluegreen.report.html import html_page

        return html_page(rec)
    if fmt == "svg":
        from bluegreen.report.chart import timeline_svg

        return timeline_svg(rec)
    from bluegreen.report.markdown import markdown

    return markdown(rec)


__all__ = ["FORMATS", "Format", "render"]
