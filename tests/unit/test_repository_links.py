"""The repository is self-contained for its readers: the README, the docs and the code
point only at files the repository has — never at the team's notes outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    ROOT / "README.md",
    ROOT / "ARCHITECTURE.md",
    ROOT / "examples" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
# What lives outside the repository, in the team's shared folder.
OUTSIDE = re.compile(r"SPEC\.md|SPEC §|\bSPEC\b|AWS-NOTES|STYLE\.md|\.\./shared")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _texts() -> list[Path]:
    code = [
        p for folder in ("bluegreen", "hooks", "examples") for p in (ROOT / folder).rglob("*.py")
    ]
    return [*DOCUMENTS, ROOT / "CHANGELOG.md", *code]


def test_nothing_points_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _texts()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_relative_link_reaches_a_file(document: Path) -> None:
    targets = LINK.findall(document.read_text(encoding="utf-8"))
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:|#", t)]
    missing = [t for t in local if t and not (document.parent / t).exists()]
    assert missing == []
