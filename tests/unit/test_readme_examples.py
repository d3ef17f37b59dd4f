"""The README's configuration examples are valid: the first is a whole bluegreen.toml, each
later one a part of it (its tables replace the first's)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bluegreen.config import parse_config

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"^ *```toml\n(.*?)^ *```", README.read_text(encoding="utf-8"), re.S | re.M)


def _dedent(block: str) -> str:
    return "\n".join(line.strip() for line in block.splitlines())


def test_the_readme_has_a_whole_configuration_and_its_parts() -> None:
    assert len(BLOCKS) >= 3
    parse_config(tomllib.loads(_dedent(BLOCKS[0])))


@pytest.mark.parametrize("block", BLOCKS[1:], ids=lambda b: b.split("\n", 1)[0].strip())
def test_each_part_fits_the_whole_configuration(block: str) -> None:
    whole = tomllib.loads(_dedent(BLOCKS[0]))
    parse_config({**whole, **tomllib.loads(_dedent(block))})
