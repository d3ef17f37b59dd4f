"""CI cannot pass without running the suite: `.ci/run` stops when the install fails, and
`--whole-suite` fails a run in which fewer tests passed than tests/ defines."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from suite_guard import defined_tests

ROOT = Path(__file__).resolve().parents[2]


def test_ci_stops_when_the_install_fails(tmp_path: Path) -> None:
    # A python3 that logs what it was asked and fails `-m pip`, first on PATH.
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    fake = bin_dir / "python3"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n[ "$2" = pip ] && exit 1\nexit 0\n')
    fake.chmod(0o755)
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")

    finished = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run")],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )

    assert finished.returncode != 0
    calls = log.read_text().splitlines()
    assert len(calls) == 1 and calls[0].startswith("-m pip install")  # nothing after it


def test_ci_runs_the_whole_suite_guarded() -> None:
    steps = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m pytest -n 2 -q --whole-suite\n" in steps


def test_ci_installs_chromium_before_the_suite_and_only_from_debian() -> None:
    steps = (ROOT / ".ci" / "run").read_text().splitlines()
    assert steps.index(".ci/install-chromium") < steps.index(
        "python3 -m pytest -n 2 -q --whole-suite"
    )
    script = (ROOT / ".ci" / "install-chromium").read_text()
    assert "apt-get install -y -qq chromium" in script and "command -v chromium" in script


def test_the_guard_counts_test_functions_as_written(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "test_a.py").write_text(
        "import pytest\n"
        "def helper(): ...\n"
        "def test_one(): ...\n"
        "@pytest.mark.parametrize('n', [1, 2, 3])\n"
        "def test_two(n): ...\n"
        "async def test_three(): ...\n"
        "class TestGroup:\n"
        "    def test_four(self): ...\n"
        "    def setup_method(self): ...\n"
        "class Helper:\n"
        "    def test_not_collected(self): ...\n"
    )
    (tmp_path / "helpers.py").write_text("def test_like_helper(): ...\n")
    assert defined_tests(tmp_path) == 4


def test_a_run_of_part_of_the_suite_fails_the_guard() -> None:
    part = "tests/unit/test_machine.py"
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--whole-suite", part],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert finished.returncode == 1, finished.stdout
    assert f"but tests/ defines {defined_tests()} test functions" in finished.stdout
