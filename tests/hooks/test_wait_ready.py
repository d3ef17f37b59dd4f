"""hooks/wait_ready.py against a real HTTP server on 127.0.0.1: it polls until an answer
is ready (status, body, a JSON field), and gives up with exit 1 at its deadline. Polls
are 10-50 ms apart: these are the few real waits."""

from __future__ import annotations

import json

from hook_programs import Run
from webhook_receiver import Answer, Receiver


def status(value: object) -> Answer:
    return Answer(200, json.dumps({"checks": {"db": value}}))


def test_polls_until_the_json_field_says_ready(run_hook: Run, receiver: Receiver) -> None:
    receiver.answer(Answer(503, "starting"), status("migrating"), status(True))
    ran = run_hook(
        "wait_ready.py",
        f"{receiver.url}/ready",
        "--json-field", "checks.db",
        "--json-value", "true",
        "--interval", "0.01",
        "--deadline", "20",
    )  # fmt: skip
    assert ran.code == 0, ran.output
    assert [(r.method, r.path) for r in receiver.received] == [("GET", "/ready")] * 3
    assert ran.stdout.splitlines() == [
        "wait_ready: not ready: status 503, waiting for 200",
        "wait_ready: not ready: checks.db is 'migrating', waiting for 'true'",
        f"wait_ready: READY: {receiver.url}/ready after 3 poll(s)",
    ]


def test_a_body_pattern_gates_too(run_hook: Run, receiver: Receiver) -> None:
    receiver.answer(Answer(200, "warming"), Answer(200, "state=ready"))
    ran = run_hook("wait_ready.py", receiver.url, "--expect-body", "ready$", "--interval", "0")
    assert ran.code == 0, ran.output
    assert len(receiver.received) == 2


def test_not_ready_by_the_deadline_exits_1_saying_why(run_hook: Run, receiver: Receiver) -> None:
    receiver.answer(*[status("migrating")] * 200)
    ran = run_hook(
        "wait_ready.py", receiver.url, "--json-field", "checks.db", "--json-value", "true",
        "--interval", "0.05", "--deadline", "0.3",
    )  # fmt: skip
    assert ran.code == 1
    assert 2 <= len(receiver.received) <= 8  # polled until the deadline, then stopped
    last = ran.stdout.splitlines()[-1]
    assert last.startswith(f"wait_ready: NOT READY: {receiver.url} after ")
    assert last.endswith("checks.db is 'migrating', waiting for 'true'")
    assert ran.stdout.count("not ready:") == 1  # a reason is printed once, not every poll


def test_bad_arguments_exit_2(run_hook: Run, receiver: Receiver) -> None:
    for args in (["localhost:8080"], [receiver.url, "--json-value", "true"]):
        ran = run_hook("wait_ready.py", *args)
        assert ran.code == 2, args
        assert "Traceback" not in ran.output
    assert receiver.received == []
