"""`--whole-suite`: fail the run when fewer tests passed than the suite defines.

CI passes it (.ci/run). A suite can shrink without a failure: a test module left out of
collection, a `-k` or `--deselect` left in a script, tests skipped by a broken condition.
The guard counts the test functions written in tests/**/test_*.py (by reading them, not by
asking pytest) and requires at least as many passed tests (parametrized ones count more).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).parent


def defined_tests(folder: Path = TESTS) -> int:
    """Test functions at module level or in Test* classes of every test_*.py below `folder`."""
    count = 0
    for path in folder.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            bodies = (
                node.body
                if isinstance(node, ast.ClassDef) and node.name.startswith("Test")
                else [node]
            )
            count += sum(
                isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and item.name.startswith("test")
                for item in bodies
            )
    return count


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--whole-suite",
        action="store_true",
        help="fail unless at least as many tests passed as tests/ defines",
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if not config.getoption("--whole-suite") or hasattr(config, "workerinput"):
        return  # not asked for, or an xdist worker (the controller sees every report)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    passed = len(reporter.stats.get("passed", [])) if reporter else 0
    expected = defined_tests()
    if passed < expected:
        message = (
            f"suite guard: {passed} tests passed, but tests/ defines {expected} test "
            "functions: part of the suite did not run"
        )
        if reporter:
            reporter.ensure_newline()
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
