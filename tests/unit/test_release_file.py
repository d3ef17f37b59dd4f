"""The release file: what is refused before any AWS call, and the waves of shift_after."""

from __future__ import annotations

from pathlib import Path

import pytest

from bluegreen.config.release import find_cycle, load_release_file, parse_release_images
from bluegreen.errors import ConfigError
from bluegreen.release.coordinator import waves

SERVICES = """
[[services]]
name = "api"
config = "api.toml"
images = { app = "r/api:2" }

[[services]]
name = "web"
config = "web.toml"
images = { web = "r/web:2" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.toml"
    path.write_text(text)
    return path


def test_a_valid_file_takes_its_name_from_the_file(tmp_path: Path) -> None:
    release = load_release_file(write(tmp_path, SERVICES))
    assert release.release_name == "shop"
    assert [s.name for s in release.services] == ["api", "web"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SERVICES + 'colour = "red"\n', "unknown key"),
        (SERVICES.replace('"web"', '"api"', 1), "api listed twice"),
        (SERVICES + 'after = ["db"]\n', "db is not a service of this release"),
        (SERVICES.replace('images = { web = "r/web:2" }', ""), "exactly one of images"),
        (
            SERVICES.replace(
                'images = { web = "r/web:2" }', 'images = { web = "x" }\ntask_definition = "t.json"'
            ),
            "exactly one of images",
        ),
        ('[strategy]\ntype = "sideways"\n' + SERVICES, "strategy.type"),
        ("", "services: required key is missing"),
        ('name = "shop floor"\n' + SERVICES, "name: letters, digits"),
        (SERVICES.replace('"web"', '"web/../x"', 1), "services.1.name: letters, digits"),
    ],
)
def test_mistakes_are_config_errors_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        load_release_file(write(tmp_path, text))
    assert str(tmp_path / "shop.toml") in refused.value.message


def test_a_missing_release_file_says_how_to_give_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such release file"):
        load_release_file(tmp_path / "nope.toml")


def test_cycles_are_found_and_shown_as_a_path() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["a"]}) == ["a", "a"]


def test_a_cycle_in_shift_after_is_refused(tmp_path: Path) -> None:
    text = (
        SERVICES.replace(
            'images = { app = "r/api:2" }', 'images = { app = "r/api:2" }\nshift_after = ["web"]'
        )
        + 'shift_after = ["api"]\n'
    )
    with pytest.raises(ConfigError, match="shift_after goes round in a circle"):
        load_release_file(write(tmp_path, text))


def test_waves_are_depths_in_shift_after() -> None:
    assert waves({"db": [], "api": ["db"], "web": ["api", "db"], "cron": []}) == {
        "db": 0,
        "api": 1,
        "web": 2,
        "cron": 0,
    }


def test_command_line_images_name_service_and_container() -> None:
    assert parse_release_images(["api:app=r/api:3", "api:side=r/side:1"]) == {
        "api": {"app": "r/api:3", "side": "r/side:1"}
    }
