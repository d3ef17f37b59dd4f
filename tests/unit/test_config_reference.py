"""docs/configuration.md is what `python -m bluegreen.config.reference` writes now, so the
reference cannot drift from the model; and what it writes names every key of every table,
with its default in the units a person writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bluegreen.config import config_json_schema
from bluegreen.config.reference import SECTIONS, _duration, main, reference_markdown

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "configuration.md"
MARKDOWN = reference_markdown()


def test_docs_configuration_md_is_what_the_generator_writes() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == MARKDOWN, (
        "docs/configuration.md is out of date: run `python -m bluegreen.config.reference` "
        "from the repository's root and commit the result"
    )


def _section(name: str) -> str:
    heading = next(h for h, table, _ in SECTIONS if table == name)
    return MARKDOWN.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_every_key_of_every_table_has_a_row_in_its_section() -> None:
    schema = config_json_schema()
    tables = {"DeploymentConfig": schema, **schema["$defs"]}
    for name, table in tables.items():
        if "properties" not in table:  # an enumeration (hook events), shown where it is used
            continue
        section = _section(name)
        for key in table["properties"]:
            assert f"\n| `{key}` |" in section, f"{name}.{key}"


def test_a_row_shows_type_default_allowed_values_and_meaning() -> None:
    rows = {r.split(" | ")[0]: r for r in _section("StrategyConfig").splitlines() if "|" in r}
    assert rows["| `type`"] == (
        '| `type` | string | `"canary"` | `"all-at-once"`, `"canary"`, `"linear"`, `"steps"` | '
        "all-at-once \\| canary (percent, then bake, then all) \\| linear (step_percent every "
        "interval) \\| steps (your own list). |"
    )
    assert rows["| `bake`"].startswith('| `bake` | duration | `"5m"` | up to `"7d"` |')
    assert rows["| `percent`"].startswith("| `percent` | integer | `10` | 1 – 99 |")
    smoke = _section("HttpCheckConfig")
    assert '| `timeout` | duration | `"5s"` | more than `"0s"`, up to `"1m"` |' in smoke
    assert '| `event` | string | required | `"pre_provision"`' in _section("HookConfig")


def test_links_between_sections_reach_their_headings() -> None:
    anchors = {
        re.sub(r"[^a-z0-9 _-]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^## (.*)$", MARKDOWN, re.M)
    }
    links = re.findall(r"\]\(#([^)]+)\)", MARKDOWN)
    assert links and set(links) <= anchors


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (300, '"5m"'),
        (5400, '"1h30m"'),
        (90, '"1m30s"'),
        (0.25, '"250ms"'),
        (0, '"0s"'),
        (86400, '"1d"'),
        (1.5, '"1.5s"'),
    ],
)
def test_defaults_are_durations_as_written(seconds: float, shown: str) -> None:
    assert _duration(seconds) == shown


def test_main_writes_the_reference_where_it_is_told(tmp_path: Path) -> None:
    target = tmp_path / "configuration.md"
    main([str(target)])
    assert target.read_text(encoding="utf-8") == MARKDOWN


def test_the_readme_links_the_reference_and_documents_the_schema() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/configuration.md)" in readme
    assert "bluegreen schema > bluegreen.schema.json" in readme
    assert "#:schema ./bluegreen.schema.json" in readme
