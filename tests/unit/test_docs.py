"""The documents in docs/ say what the code does, read from the code's own lists so they
cannot drift: every command, hook event, state and exit code is documented; docs/hooks.md's
tables of what each event sees are what a real deployment hands its hooks (on the
in-memory fakes, with recording Python hooks at every event); and every link between the
documents reaches a heading."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import recording_hooks
import typer.main

from bluegreen.cli import app
from bluegreen.deployer import Deployer
from bluegreen.deployer.result import EXIT_CODES
from bluegreen.errors import BluegreenError, DeploymentFailed
from bluegreen.hooks.process import context_environment
from bluegreen.machine import FATAL_EVENTS, HookEvent, State

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
HOOKS = (DOCS / "hooks.md").read_text(encoding="utf-8")
OPERATIONS = (DOCS / "operations.md").read_text(encoding="utf-8")
V2 = {"web": "repo/web:v2"}

# The deployment docs/hooks.md's tables describe.
STEPS = [{"weight": 10, "bake": "2m"}, {"weight": 50, "pause": True}, {"weight": 100}]
DOCUMENTED = {
    "strategy": {"type": "steps", "steps": STEPS},
    "test_listener": {"arn": "arn:listener/test"},
}


# -- reading Markdown ---------------------------------------------------------------------


def section(text: str, heading: str) -> str:
    """The text under `heading` (a whole heading line), up to the next heading of its level
    or above."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    ends = re.search(rf"\n#{{1,{level}}} ", text[start:])
    return text[start : start + ends.start()] if ends else text[start:]


def tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table in `text`: its body rows as lists of cells (header and rule
    left out; `\\|` inside a cell kept as one cell)."""
    found: list[list[list[str]]] = []
    rows: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            rows.append([c.strip() for c in cells])
        elif rows:
            found.append(rows[2:])
            rows = []
    return found


def unquoted(cell: str) -> str:
    return cell.strip("`")


def all_docs() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))


# -- commands, events, states, exit codes -------------------------------------------------


def command_lines(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    for name, sub in command.commands.items():
        if hasattr(sub, "commands"):  # a group: `bluegreen sandbox serve`
            yield from command_lines(sub, (*prefix, name))
        else:
            yield " ".join(("bluegreen", *prefix, name))


COMMANDS = sorted(command_lines(typer.main.get_command(app)))


def test_the_commands_are_read_from_the_app() -> None:
    assert {"bluegreen deploy", "bluegreen rollback", "bluegreen sandbox serve"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_docs(command: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`{command}" in all_docs() + readme, f"{command} is in no document"


def test_docs_readme_lists_every_command_in_its_table() -> None:
    (commands,) = tables(section((DOCS / "README.md").read_text(encoding="utf-8"), "## Commands"))
    listed = {" ".join(unquoted(row[0]).split()[:2]) for row in commands}
    listed |= {" ".join(unquoted(row[0]).split()[:3]) for row in commands}
    assert set(COMMANDS) <= listed


def test_every_hook_event_is_in_the_events_table_in_the_order_they_fire() -> None:
    (events, *_) = tables(section(HOOKS, "## Events"))
    assert [unquoted(row[0]) for row in events] == [e.value for e in HookEvent]


def test_the_events_table_says_which_failures_fail_the_deployment() -> None:
    (events, *_) = tables(section(HOOKS, "## Events"))
    logged = {unquoted(row[0]) for row in events if row[2] == "logged"}
    assert logged == {e.value for e in HookEvent if e not in FATAL_EVENTS}


def test_every_state_is_in_the_states_table() -> None:
    (states,) = tables(section(OPERATIONS, "## States"))
    assert [row[0] for row in states] == [s.value for s in State]


def exit_codes() -> set[int]:
    """0, and every code an error of the tree or a deployment's outcome exits with."""
    codes = {0, *EXIT_CODES.values()}
    pending: list[type[BluegreenError]] = [BluegreenError]
    while pending:
        error = pending.pop()
        codes.add(error.exit_code)
        pending += error.__subclasses__()
    return codes


def test_every_exit_code_is_in_the_exit_codes_table() -> None:
    (codes,) = tables(section(OPERATIONS, "## Exit codes"))
    assert sorted(int(row[0]) for row in codes) == sorted(exit_codes())


# -- docs/hooks.md's context, from a real deployment ----------------------------------------


Run = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def run(make_deployer: Callable[..., Deployer]) -> Run:
    """The contexts the hooks got in the documented deployment, failing at `fail`."""

    def run(fail: str | None = None) -> list[dict[str, Any]]:
        if fail:
            recording_hooks.FAIL_AT.add(fail)
        deployer = make_deployer(**DOCUMENTED)
        try:
            if deployer.deploy(V2, detach_at_pause=True).outcome == "paused":
                deployer.promote()
        except DeploymentFailed:
            pass
        return list(recording_hooks.CALLS)

    return run


def seen(calls: list[dict[str, Any]]) -> list[list[str]]:
    """The calls as docs/hooks.md's tables show them."""

    def cell(value: Any) -> str:
        return "" if value is None else str(value)

    return [
        [
            f"`{c['event']}`",
            c["state"],
            str(c["step"]),
            str(c["steps"]),
            str(c["green_weight"]),
            cell(c.get("to_weight")),
            "null" if c["reason"] is None else failed_at(c["reason"]),
        ]
        for c in calls
    ]


def failed_at(reason: str) -> str:
    """A failing hook's reason as the tables abbreviate it: which event it failed at."""
    found = re.search(r"^hook .* failed at (\w+): ", reason)
    return f"`hook … failed at {found[1]}" if found else reason


def documented(rows: list[list[str]]) -> list[list[str]]:
    """The tables' reason column cut to what `seen` keeps of a reason."""
    return [[*row[:6], re.sub(r"(failed at \w+):.*", r"\1", row[6])] for row in rows]


def test_the_example_is_the_context_pre_shift_gets_at_step_2(run: Run) -> None:
    example = json.loads(
        section(HOOKS, "## What each hook is told: the context").split("```")[1][4:]
    )
    real = next(c for c in run() if c["event"] == "pre_shift" and c["step"] == 2)
    assert list(example) == list(real)  # the same keys, in the order hooks get them
    # What the simulated AWS and the fakes name differently: ids, names and ARNs.
    ours = ("deployment_id", "cluster", "target_group", "task_definition")
    differ = {k for k in real if k.endswith(ours)}
    assert {k: v for k, v in example.items() if k not in differ} == {
        k: v for k, v in real.items() if k not in differ
    }


def test_the_keys_table_names_every_key_hooks_get(run: Run) -> None:
    calls = run() + run(fail="post_shift")
    (keys,) = tables(section(HOOKS, "## What each hook is told: the context"))[:1]
    got = {key for call in calls for key in call}
    # hookDetails: added by lambda; cleanup_incomplete: only when blue could not be retired;
    # test_url: only with a test listener whose load balancer has a DNS name
    conditional = {"hookDetails", "cleanup_incomplete", "test_url"}
    assert {unquoted(row[0]) for row in keys} == got | conditional
    assert calls[0]["event"] == "pre_provision" and calls[0]["to_task_definition"] is None


def test_command_hooks_get_every_documented_variable(run: Run) -> None:
    names = {name for call in run() for name in context_environment(call)}
    with_a_test_listener = {"BLUEGREEN_TEST_URL"}  # the run's load balancer has no DNS name
    documented = set(re.findall(r"`(BLUEGREEN_(?!CONTEXT_FILE)[A-Z_]+)`", HOOKS))
    assert names | with_a_test_listener == documented


@pytest.mark.parametrize(
    ("fail", "table"),
    [(None, 0), ("post_shift", 1), ("pre_provision", 2)],
    ids=["succeeds", "rolled-back", "stopped"],
)
def test_what_each_event_sees_is_what_the_hooks_got(run: Run, fail: str | None, table: int) -> None:
    rows = tables(section(HOOKS, "### What each event sees"))[table]
    assert seen(run(fail)) == documented(rows)


# -- links between the documents ----------------------------------------------------------


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("document", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_every_link_into_a_document_reaches_a_heading(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    broken = []
    for target, fragment in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        linked = (document.parent / target) if target else document
        headings = re.findall(r"^#+ (.*)$", linked.read_text(encoding="utf-8"), re.M)
        if fragment not in {anchor(h) for h in headings}:
            broken.append(f"{target}#{fragment}")
    assert broken == []
