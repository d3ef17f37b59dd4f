"""The preflight checks on the in-memory fakes, and their pure rules: what `deploy` will see
when it runs them against the fakes, and the edges the simulated AWS cannot reach."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fakes import BLUE, FakeCloud, World

from bluegreen.config import parse_config
from bluegreen.model import HealthCheck, IngressRule, LoadBalancer, Route, RouteRef
from bluegreen.preflight import Report, Result, run_checks
from bluegreen.preflight.settings import health_check_problems, matcher_codes
from bluegreen.preflight.tasks import covers

CONFIG: dict[str, Any] = {
    "service": {"cluster": "prod", "name": "web", "container": "web", "container_port": 8080},
    "target_groups": {"blue": "web-blue", "green": "web-green"},
    "listeners": [{"arn": "arn:listener/http"}, {"arn": "arn:listener/https"}],
}


def checks(cloud: FakeCloud, **overrides: Any) -> Report:
    return run_checks(parse_config(CONFIG, overrides=overrides), cloud, cloud.world.clock.now())


def test_the_fake_world_has_no_failure(world: World) -> None:
    report = checks(FakeCloud(world))

    assert report.ok, report.to_dict()
    report.raise_for_failures()  # nothing to raise
    # the fakes' task sets name no security group: said, not failed
    assert [c.result for c in report.named("security_groups")] == [Result.WARN]
    assert "ModifyListener" not in world.calls and "CreateTaskSet" not in world.calls


def test_a_gateway_load_balancer_fails_and_says_what_to_use(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud = FakeCloud(world)
    monkeypatch.setattr(
        cloud.elb, "load_balancer", lambda arn: LoadBalancer(arn, "gw", "gateway", "vpc-1")
    )

    (check,) = checks(cloud).failures

    assert check.name == "load_balancer_type" and "Gateway Load Balancer" in check.detail
    assert check.fix and "Network Load Balancer" in check.fix


def test_listeners_disagreeing_on_the_live_colour_fail(world: World) -> None:
    world.routes[next(iter(world.routes))] = {BLUE: 0, "arn:tg/web-green": 100}

    report = checks(FakeCloud(world))

    assert [c.name for c in report.failures] == ["live_colour"]
    assert [c.result for c in report.named("blue_tasks")] == [Result.PASS]  # every task set


def test_a_forward_to_a_third_target_group_fails(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud = FakeCloud(world)
    route = cloud.elb.route

    def with_third(ref: RouteRef) -> Route:
        found = route(ref)
        return replace(found, weights={**found.weights, "arn:tg/other": 1})

    monkeypatch.setattr(cloud.elb, "route", with_third)
    monkeypatch.setattr(cloud.elb, "routes", lambda refs: [with_third(r) for r in refs])

    report = checks(cloud)

    assert {c.name for c in report.failures} == {"listener_actions"}  # both listeners
    check = report.failures[0]
    assert {c.result for c in report.named("live_colour")} == {Result.WARN}  # a split
    assert "arn:tg/other" in check.detail and check.fix and "[target_groups]" in check.fix


@pytest.mark.parametrize(
    ("matcher", "codes"),
    [
        ("200", [(200, 200)]),
        ("200-299", [(200, 299)]),
        ("200,302", [(200, 200), (302, 302)]),
        ("299-200", None),
        ("2xx", None),
        ("", None),
    ],
)
def test_matcher_codes(matcher: str, codes: list[tuple[int, int]] | None) -> None:
    assert matcher_codes(matcher) == codes


def test_health_check_rules() -> None:
    good = HealthCheck("HTTP", "traffic-port", "/health", "200-299", 10, 5, 3, 2)
    assert health_check_problems(good, 8080) == ([], [])
    assert health_check_problems(replace(good, port="8080"), 8080) == ([], [])
    assert health_check_problems(replace(good, matcher="200,404"), 8080) == ([], [])

    fails, _ = health_check_problems(replace(good, matcher="400-499"), 8080)
    assert fails and "accepts only error answers" in fails[0][0]
    _, warns = health_check_problems(replace(good, port="9000"), 8080)
    assert warns == [
        (
            "health checks go to port 9000, not the container port 8080",
            "--health-check-port traffic-port",
        )
    ]
    tcp = HealthCheck("TCP", "traffic-port", None, None, 10, 5, 3, 3)
    assert health_check_problems(tcp, 8080) == ([], [])


def test_ingress_rules_and_ranges() -> None:
    assert IngressRule("tcp", 8000, 9000).admits_tcp(8080)
    assert IngressRule("-1", None, None).admits_tcp(8080)
    assert not IngressRule("tcp", 80, 80).admits_tcp(8080)
    assert not IngressRule("udp", 0, 65535).admits_tcp(8080)
    assert covers("10.0.0.0/8", ["10.0.0.0/16"]) and covers("0.0.0.0/0", [])
    assert not covers("10.0.1.0/24", ["10.0.0.0/16"]) and not covers("nonsense", ["10.0.0.0/16"])
