"""Every file under examples/ is checked by some test (a new file nobody checks fails
here), and examples/README.md names each one, with links that reach files, none of them
outside the repository."""

from __future__ import annotations

import re

from example_files import (
    CONFIGS,
    EXAMPLES,
    GITLAB,
    README,
    REPOSITORY,
    SCRIPTS,
    TEMPLATES,
    WORKFLOWS,
)

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_every_file_in_examples_is_checked() -> None:
    on_disk = {p for p in EXAMPLES.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    checked = {README, *CONFIGS, *WORKFLOWS, *GITLAB, *TEMPLATES, *SCRIPTS}
    unchecked = sorted(str(p.relative_to(EXAMPLES)) for p in on_disk - checked)
    assert unchecked == [], "add a check for these to tests/examples/ (see example_files.py)"
    assert all(p.is_file() for p in checked)


def test_the_readme_names_every_example_and_its_links_reach_files() -> None:
    text = README.read_text(encoding="utf-8")
    targets = [t.split("#")[0] for t in LINK.findall(text) if not re.match(r"[a-z]+:|#", t)]
    assert [t for t in targets if not (README.parent / t).exists()] == []
    assert all((README.parent / t).resolve().is_relative_to(REPOSITORY) for t in targets)
    for path in {*CONFIGS, *WORKFLOWS, *GITLAB, *TEMPLATES, *SCRIPTS}:
        assert f"]({path.relative_to(EXAMPLES)})" in text, path.name
