"""Every program in hooks/ can be pointed at as it is: executable with a python3 shebang,
standard library only (it runs where bluegreen is not installed), and a header that says
what it needs, its exit codes, and a `[[hooks]]` snippet that bluegreen accepts."""

from __future__ import annotations

import ast
import os
import sys
import tomllib
from pathlib import Path

import pytest
from hook_programs import HOOKS

from bluegreen.config.schema import HookConfig

PROGRAMS = sorted(HOOKS.glob("*.py"))


def test_the_four_programs_are_there() -> None:
    assert [p.name for p in PROGRAMS] == [
        "chat_notify.py",
        "github_deployment_status.py",
        "http_smoke.py",
        "wait_ready.py",
    ]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_a_program_is_a_standalone_executable_with_a_usable_header(program: Path) -> None:
    text = program.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env python3\n")
    assert os.access(program, os.X_OK)
    tree = ast.parse(text)
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert {name.split(".")[0] for name in imported} <= set(sys.stdlib_module_names)
    header = ast.get_docstring(tree) or ""
    for part in ("What it does", "What it needs", "Exit codes", "[[hooks]]"):
        assert part in header, part
    # The snippet ends the header: from its first [[hooks]] on, it is TOML (indented lines
    # are valid TOML).
    snippet = tomllib.loads("[[hooks]]" + header.split("[[hooks]]", 1)[1])
    for hook in snippet["hooks"]:
        HookConfig.model_validate(hook)  # the config's own rules: event, command, timeout
        assert hook["command"][:2] == ["python3", f"hooks/{program.name}"]
