"""The house keeps its shape (ARCHITECTURE.md): arrows point down, no two modules import
each other, no module passes 400 lines, boto3 stays in aws/ and typer in cli/.

The imports are read from the source (every import counts: at the top, inside a function or
under TYPE_CHECKING, and importing `a.b.c` counts as importing the packages `a` and `a.b`,
whose __init__ runs first), so a circle shows here even when Python would tolerate it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "bluegreen"
MAX_LINES = 400

# Each room's floor, from the top down. Unlisted modules are the ground floor (0), and the
# package's own __init__ (the public API's front door: re-exports only) sits above them all.
FLOORS: dict[str, int] = {
    "bluegreen.__main__": 6,
    "bluegreen.cli": 6,
    "bluegreen.sandbox": 5,
    "bluegreen.release": 4,
    "bluegreen.deployer": 4,
    "bluegreen.engine": 3,
    "bluegreen.onboarding": 3,
    "bluegreen.iam": 3,
    "bluegreen.analysis": 2,
    "bluegreen.report": 2,
    "bluegreen.store": 2,
    "bluegreen.topology": 2,
    "bluegreen.hooks": 2,
    "bluegreen.preflight": 2,
    "bluegreen.smoke": 2,
    "bluegreen.aws": 1,
}

# Who may import what from outside the standard library and our own package.
ONLY_IN = {
    "boto3": ("bluegreen.aws", "bluegreen.sandbox"),
    "botocore": ("bluegreen.aws", "bluegreen.sandbox"),
    "moto": ("bluegreen.sandbox",),
    "typer": ("bluegreen.cli",),
    "rich": ("bluegreen.cli",),
    "scipy": ("bluegreen.analysis",),
    "numpy": ("bluegreen.analysis",),
    "matplotlib": ("bluegreen.report",),
}


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def package(self) -> str:
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]


def modules(root: Path) -> dict[str, Module]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = Module(".".join(parts), path)
    return found


def imported_names(module: Module) -> Iterator[str]:
    """Every dotted name `module` imports, relative imports made absolute."""
    for node in ast.walk(ast.parse(module.path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.package.split(".")[
                    : len(module.package.split(".")) - node.level + 1
                ]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # `from pkg import sub` names the module pkg.sub; `from pkg import name`, pkg itself.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(root: Path) -> dict[str, set[str]]:
    """module → the modules of `root`'s package it makes Python run."""
    known = modules(root)
    top = root.name
    graph: dict[str, set[str]] = {}
    for name, module in known.items():
        targets: set[str] = set()
        for imported in imported_names(module):
            if imported != top and not imported.startswith(top + "."):
                continue
            while imported not in known:  # `from pkg.mod import Class` names pkg.mod
                imported = imported.rpartition(".")[0]
            # Its enclosing packages run first, unless we are inside them (then they already
            # are); a name taken from our own package's __init__ still depends on it.
            for level in _enclosing(imported):
                if level == imported or not name.startswith(level + "."):
                    targets.add(level)
        graph[name] = targets - {name}
    return graph


def _enclosing(name: str) -> Iterator[str]:
    parts = name.split(".")
    for end in range(2, len(parts) + 1):
        yield ".".join(parts[:end])


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (top := stack.pop()) != node:
                component.append(top)
            if component:
                found.append(sorted([node, *component]))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def floor(name: str) -> int:
    if name == PACKAGE.name:
        return max(FLOORS.values()) + 1
    room = max((r for r in FLOORS if name == r or name.startswith(r + ".")), key=len, default="")
    return FLOORS.get(room, 0)


def test_no_module_imports_itself_back() -> None:
    assert circles(import_graph(PACKAGE)) == []


def test_arrows_point_down() -> None:
    upward = [
        f"{source} (floor {floor(source)}) imports {target} (floor {floor(target)})"
        for source, targets in import_graph(PACKAGE).items()
        for target in sorted(targets)
        if floor(target) > floor(source)
    ]
    assert upward == []


def test_no_module_over_400_lines() -> None:
    sizes = {name: len(m.path.read_text().splitlines()) for name, m in modules(PACKAGE).items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


@pytest.mark.parametrize("library", sorted(ONLY_IN))
def test_library_stays_in_its_room(library: str) -> None:
    rooms = ONLY_IN[library]
    outside = [
        name
        for name, module in modules(PACKAGE).items()
        if not any(name == room or name.startswith(room + ".") for room in rooms)
        and any(n == library or n.startswith(library + ".") for n in imported_names(module))
    ]
    assert outside == []


def test_the_walker_sees_every_kind_of_circle(tmp_path: Path) -> None:
    """Guards the guard: a direct pair, a TYPE_CHECKING import, a function-local import and a
    package __init__ re-exporting a submodule that imports the package back."""
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg import b\n",
        "pkg/b.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.a import A\n",
        "pkg/c.py": "def late():\n    from .d import D\n",
        "pkg/d.py": "from pkg.c import late\n",
        "pkg/room/__init__.py": "from pkg.room.inner import X\n",
        "pkg/room/inner.py": "import pkg.e\nX = 1\n",
        "pkg/room/other.py": "Y = 2\n",
        "pkg/room/sibling.py": "from pkg.room.other import Y\n",
        "pkg/e.py": "from pkg.room.other import Y\n",
        "pkg/f.py": "import json\nfrom pkg.room import other\n",
        "pkg/g/__init__.py": "from pkg.g.h import H\nHELPER = 1\n",
        "pkg/g/h.py": "from pkg.g import HELPER\nH = 1\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path / "pkg")

    assert sorted(circles(graph)) == [
        ["pkg.a", "pkg.b"],
        ["pkg.c", "pkg.d"],
        ["pkg.e", "pkg.room", "pkg.room.inner"],  # e runs room/__init__, which runs inner
        ["pkg.g", "pkg.g.h"],  # a submodule taking a name from the __init__ that imports it
    ]
    assert graph["pkg.f"] == {"pkg.room", "pkg.room.other"}
    assert graph["pkg.room.sibling"] == {"pkg.room.other"}  # already inside its package


def test_the_rooms_and_the_public_api_import() -> None:
    """The public paths users and the README rely on, and the old paths that moved."""
    code = (
        "import bluegreen, bluegreen.cli, bluegreen.engine, bluegreen.hooks\n"
        "from bluegreen import Deployer, DeploymentConfig, DeploymentResult, errors, load_config\n"
        "from bluegreen.config import parse_config, DeploymentConfig\n"
        "from bluegreen.deployer import Deployer, DeploymentResult\n"
        "from bluegreen.sandbox import AppModel, Sandbox, build_stack, in_process\n"
        "from bluegreen.sandbox import soak\n"
        "from bluegreen.hooks import HookEvent, HookRunner, HookSpec, HookResult\n"
        "from bluegreen.cli import main\n"
        "assert bluegreen.Deployer is Deployer and errors.DeploymentFailed\n"
    )
    # A fresh interpreter: the import order of the test session must not hide a circle.
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("entry", [["-m", "bluegreen"], ["-m", "bluegreen.cli"]])
def test_python_dash_m_runs_the_command_line(entry: list[str]) -> None:
    shown = subprocess.run(
        [sys.executable, *entry, "--help"], capture_output=True, text=True, check=True
    )
    assert "deploy" in shown.stdout and "rollback" in shown.stdout
