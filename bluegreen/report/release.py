"""A release's report: the release (its outcome, who started it, which service failed and
why, the services side by side), then each service's own report. Markdown only: a CI
job's summary shows it, and each service's HTML or SVG is `bluegreen report` on its own.
"""

from __future__ import annotations

from bluegreen.record import DeploymentRecord
from bluegreen.release_record import ReleaseRecord
from bluegreen.report.facts import clock, duration, green_version, short_version
from bluegreen.report.markdown import markdown, table

MARKS = {"SUCCEEDED": "✅", "ROLLED_BACK": "↩️", "FAILED": "❌", "STOPPED": "⏹️"}


def release_markdown(release: ReleaseRecord, services: dict[str, DeploymentRecord]) -> str:
    mark = MARKS.get(release.state.value, "⏳")
    took = (release.ended_at or release.updated_at) - release.created_at
    rows = [
        ["**Outcome**", release.state.value.replace("_", " ").lower()],
        ["**Services**", ", ".join(services)],
        ["**Started**", f"{clock(release.created_at)} by {release.started_by or 'unknown'}"],
        ["**Duration**", duration(took)],
    ]
    if release.failed_member:
        rows.append(["**Failed**", f"{release.failed_member}: {release.reason}"])
    side_by_side = [
        [name, rec.state.value, f"{rec.green_percent}%", short_version(green_version(rec)), rec.id]
        for name, rec in services.items()
    ]
    parts = [
        f"# {mark} Release {release.name} ({release.id})",
        table(["", ""], rows),
        table(["service", "state", "green", "to", "deployment"], side_by_side),
        *(markdown(rec) for rec in services.values()),
    ]
    return "\n\n".join(parts) + "\n"
