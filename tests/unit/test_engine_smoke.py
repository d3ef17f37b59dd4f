"""Smoke checks in the engine, on the fakes, their requests answered by a real receiver on
loopback: they run once green is healthy and before production moves, through the test
listener (the fake load balancer's DNS name is 127.0.0.1, its listener the receiver's
port) or to a url; a failure rolls back with production never touched. And the HTTP
client itself: redirects, timeouts, refused connections."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import recording_hooks
from fakes import BLUE, GREEN, HTTP, HTTPS, TEST, World
from webhook_receiver import Answer, Receiver

from bluegreen.deployer import Deployer
from bluegreen.errors import SmokeCheckFailed, TimeoutExceeded
from bluegreen.machine import State
from bluegreen.record import DeploymentRecord
from bluegreen.smoke import request

V2 = {"web": "repo/web:v2"}
MakeDeployer = Callable[..., Deployer]
TEST_LISTENER = {"arn": "arn:listener/test"}


@pytest.fixture
def through_receiver(world: World, receiver: Receiver) -> Receiver:
    """The fake load balancer's DNS name and listener port lead to the receiver, which
    notes the weights of every route as each request arrives."""
    world.dns_name = "127.0.0.1"
    world.listener_port = int(receiver.url.rsplit(":", 1)[1])
    receiver.observe = lambda: {ref: world.weights(ref) for ref in (HTTP, HTTPS, TEST)}
    return receiver


def smoke(*checks: dict[str, Any]) -> dict[str, Any]:
    return {"http": list(checks)}


def record(deployer: Deployer) -> DeploymentRecord:
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    return rec


def production_writes(world: World) -> list[dict[str, int]]:
    return [weights for _, ref, weights in world.writes if ref in (HTTP, HTTPS)]


def hook_events() -> list[str]:
    return [call["event"] for call in recording_hooks.CALLS]


def test_a_passing_check_runs_through_the_test_listener_while_it_routes_to_green(
    make_deployer: MakeDeployer, world: World, through_receiver: Receiver
) -> None:
    deployer = make_deployer(
        test_listener=TEST_LISTENER, analysis=smoke({"path": "/health", "count": 3})
    )

    result = deployer.deploy(V2)

    assert result.outcome == "succeeded"
    assert [r.path for r in through_receiver.received] == ["/health"] * 3
    on_green, production_on_blue = {BLUE: 0, GREEN: 100}, {BLUE: 100, GREEN: 0}
    for received in through_receiver.received:
        assert received.observed == {
            HTTP: production_on_blue,
            HTTPS: production_on_blue,
            TEST: on_green,
        }
    rec = record(deployer)
    [entry] = rec.smoke
    assert (entry.check, entry.status, entry.requests, entry.passed) == (
        "GET /health",
        "pass",
        3,
        3,
    )
    assert entry.url == f"{through_receiver.url}/health"
    assert result.to_dict()["smoke_checks"][0]["status"] == "pass"  # --output json
    [told] = [e for e in rec.events if e.message.startswith("smoke check GET /health passed")]
    assert told.state is State.TEST_TRAFFIC
    assert told.message == f"smoke check GET /health passed: 3 requests to {entry.url}"


def test_a_failing_check_rolls_back_before_production_moves(
    make_deployer: MakeDeployer, world: World, through_receiver: Receiver
) -> None:
    through_receiver.answer(Answer(), Answer(500, "database down"))
    deployer = make_deployer(
        test_listener=TEST_LISTENER, analysis=smoke({"path": "/health", "count": 5})
    )

    with pytest.raises(SmokeCheckFailed) as caught:
        deployer.deploy(V2)

    assert caught.value.exit_code == 1
    assert production_writes(world) == []  # production weights never written
    assert world.weights(TEST) == {BLUE: 100, GREEN: 0}  # the test listener back on blue
    assert world.violations == []
    assert len(through_receiver.received) == 2
    rec = record(deployer)
    assert rec.state is State.ROLLED_BACK and rec.failed_in is State.TEST_TRAFFIC
    assert rec.reason == (
        "smoke check failed before production traffic moved: GET /health: request 2/5: GET "
        f"{through_receiver.url}/health answered 500 Internal Server Error; body: database "
        "down; expected status 200"
    )
    [entry] = rec.smoke
    assert (entry.status, entry.requests, entry.passed) == ("fail", 2, 1)
    assert "post_test_traffic" not in hook_events() and "on_rollback" in hook_events()


def test_checks_run_in_order_and_stop_at_the_first_failure(
    make_deployer: MakeDeployer, world: World, through_receiver: Receiver
) -> None:
    through_receiver.answer(Answer(), Answer(404, "nope"))
    deployer = make_deployer(
        test_listener=TEST_LISTENER,
        analysis=smoke(
            {"path": "/a", "count": 1}, {"path": "/b", "count": 1}, {"path": "/c", "count": 1}
        ),
    )
    with pytest.raises(SmokeCheckFailed, match="GET /b: request 1/1"):
        deployer.deploy(V2)
    assert [r.path for r in through_receiver.received] == ["/a", "/b"]
    assert [(e.check, e.status) for e in record(deployer).smoke] == [
        ("GET /a", "pass"),
        ("GET /b", "fail"),
    ]


def test_without_a_test_listener_url_checks_run_once_green_is_healthy(
    make_deployer: MakeDeployer, world: World, receiver: Receiver
) -> None:
    receiver.observe = lambda: world.weights(HTTP)
    # The first request passes on its retry; the second fails both tries.
    receiver.answer(*[Answer(503, "warming up"), Answer()], *[Answer(503, "warming up")] * 2)
    deployer = make_deployer(
        analysis=smoke({"url": f"{receiver.url}/ready?key=abc", "count": 2, "retries": 1})
    )

    with pytest.raises(SmokeCheckFailed) as caught:
        deployer.deploy(V2)

    assert production_writes(world) == []
    rec = record(deployer)
    assert rec.failed_in is State.WAITING_HEALTHY
    assert [r.path for r in receiver.received] == ["/ready?key=abc"] * 4
    assert [r.observed for r in receiver.received] == [{BLUE: 100, GREEN: 0}] * 4
    assert (
        f"request 2/2 (after 2 tries): GET {receiver.url}/ready?*** answered 503 Service "
        "Unavailable; body: warming up; expected status 200"
    ) in str(caught.value)
    assert "key=abc" not in str(caught.value)
    assert "post_provision" in hook_events()


def test_headers_are_sent_but_never_recorded(
    make_deployer: MakeDeployer, world: World, through_receiver: Receiver
) -> None:
    through_receiver.echo_headers = True
    through_receiver.answer(Answer(401, "x"))
    deployer = make_deployer(
        test_listener=TEST_LISTENER,
        analysis=smoke({"count": 1, "headers": {"X-Api-Key": "k3y-s3cr3t-v4lue"}}),
    )
    with pytest.raises(SmokeCheckFailed):
        deployer.deploy(V2)
    assert through_receiver.received[0].headers["X-Api-Key"] == "k3y-s3cr3t-v4lue"
    assert "k3y-s3cr3t" not in record(deployer).model_dump_json()


def test_no_smoke_checks_means_no_requests_and_no_entries(
    make_deployer: MakeDeployer, world: World, through_receiver: Receiver
) -> None:
    deployer = make_deployer(test_listener=TEST_LISTENER)
    assert deployer.deploy(V2).outcome == "succeeded"
    assert through_receiver.received == [] and record(deployer).smoke == []


def test_the_plan_lists_the_checks_with_the_test_listener_address(
    make_deployer: MakeDeployer, world: World, through_receiver: Receiver
) -> None:
    deployer = make_deployer(
        test_listener=TEST_LISTENER, analysis=smoke({"path": "/health", "count": 2})
    )
    steps = [(s.action, s.detail) for s in deployer.plan(V2).steps]
    assert (
        "smoke check",
        f"GET /health: GET {through_receiver.url}/health (through the test listener), "
        "2 requests every 1s, timeout 5s; expect status 200",
    ) in steps
    actions = [a for a, _ in steps]
    assert actions.index("route test listener to green") < actions.index("smoke check")
    assert actions.index("smoke check") < actions.index("shift step 1/3")


# -- the HTTP client ---------------------------------------------------------------------


def test_a_redirect_is_the_answer_not_followed(receiver: Receiver) -> None:
    receiver.answer(Answer(302, "moved", {"Location": f"{receiver.url}/login"}))
    answer = request(f"{receiver.url}/app", "GET", {}, 5)
    assert (answer.status, answer.body) == (302, "moved")
    assert [r.path for r in receiver.received] == ["/app"]


def test_the_method_and_headers_are_sent(receiver: Receiver) -> None:
    answer = request(f"{receiver.url}/x", "OPTIONS", {"X-Probe": "1"}, 5)
    assert answer.status == 200
    [got] = receiver.received
    assert (got.method, got.headers["X-Probe"], got.headers["User-Agent"]) == (
        "OPTIONS",
        "1",
        "bluegreen-smoke",
    )


def test_a_hanging_server_times_out(receiver: Receiver) -> None:
    receiver.hang = True
    began = time.monotonic()
    answer = request(f"{receiver.url}/slow", "GET", {}, 0.2)
    assert answer.status is None and answer.reason == "timed out"
    assert time.monotonic() - began < 5


def test_a_refused_connection_is_no_answer(receiver: Receiver) -> None:
    answer = request("http://127.0.0.1:9/", "GET", {}, 2)
    assert answer.status is None and "refused" in answer.reason.lower()


def test_a_long_series_of_requests_cannot_outlast_the_deployments_timeout(
    make_deployer: MakeDeployer, world: World, through_receiver: Receiver
) -> None:
    """Green took about 55 s to be healthy; a hundred requests a minute apart would take
    100 minutes: the deployment's 5-minute timeout stops them and rolls back."""
    checks = smoke({"path": "/health", "count": 100, "every": "1m"})
    deployer = make_deployer(test_listener=TEST_LISTENER, analysis=checks, timeout="5m")

    with pytest.raises(TimeoutExceeded, match="ran past its timeout"):
        deployer.deploy(V2)

    assert len(through_receiver.received) <= 5
    assert production_writes(world) == []
    rec = record(deployer)
    assert rec.state is State.ROLLED_BACK and rec.failed_in is State.TEST_TRAFFIC


def test_a_test_listener_without_a_dns_name_fails_the_checks_before_production_moves(
    make_deployer: MakeDeployer, world: World
) -> None:
    """The address comes from the record's test_url, read once at preflight: none when the
    load balancer has no DNS name, which is said, and rolled back."""
    world.dns_name = None
    deployer = make_deployer(test_listener=TEST_LISTENER, analysis=smoke({"path": "/health"}))

    with pytest.raises(SmokeCheckFailed, match="test listener arn:listener/test has no DNS name"):
        deployer.deploy(V2)

    assert record(deployer).test_url is None
    assert record(deployer).state is State.ROLLED_BACK
    assert production_writes(world) == []
