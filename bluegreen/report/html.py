"""The report as one self-contained HTML file: the summary, the stages, the verdicts and
the timeline picture inline (SVG), for a CI artifact or an e-mail.

Rules: one file, no request when opened: no script, no external style, font or image (the
page's Content-Security-Policy forbids them, so a slip shows as a missing part, not a
leak). Every string from the record is escaped.
"""

from __future__ import annotations

import html
import re

from bluegreen.record import DeploymentRecord
from bluegreen.report.chart import timeline_svg
from bluegreen.report.facts import facts_of
from bluegreen.report.tables import result_sections, stage_table, summary_rows

POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px }
h1 { font-size: 22px } h2 { font-size: 17px; margin-top: 28px }
table { border-collapse: collapse; margin: 8px 0 }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top }
th { background: #f3f3f3; white-space: nowrap }
.succeeded { color: #1a7f37 } .rolled_back, .failed { color: #b42318 } .paused { color: #9a6700 }
svg { max-width: 100%; height: auto }
"""


def html_page(rec: DeploymentRecord) -> str:
    f = facts_of(rec)
    svg = _inline(timeline_svg(rec))
    summary = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in summary_rows(f))
    title = f"{f.service}: {f.headline.lower()} ({f.id})"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
        f'<h1 class="{_e(f.outcome)}">{_e(title)}</h1>',
        f"<table>{summary}</table>",
        "<h2>Timeline</h2>",
        svg,
        "<h2>Stages</h2>",
        _table(*stage_table(f)),
    ]
    for section in result_sections(f):
        parts.append(f"<h2>{_e(section.title)}</h2>")
        if section.note:
            parts.append(f"<p>{_e(section.note)}</p>")
        parts.append(_table(section.header, section.rows))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _inline(svg: str) -> str:
    """The SVG document as an element of the page: no XML declaration, no DOCTYPE."""
    return re.sub(r"^\s*<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?", "", svg)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
