"""The unconfigured-route check on the fakes: a listener or rule that forwards to blue's or
green's target group must be in the configuration (a production route or the test route),
else `verify` fails it and `deploy` stops before changing anything — after the deployment
it would still send traffic to the retired colour."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fakes import BLUE, GREEN, TEST, FakeCloud, World

from bluegreen.config import parse_config
from bluegreen.deployer import Deployer
from bluegreen.errors import PreflightError
from bluegreen.model import RouteKind, RouteRef
from bluegreen.preflight import Check, Report, Result, run_checks

CONFIG: dict[str, Any] = {
    "service": {"cluster": "prod", "name": "web", "container": "web", "container_port": 8080},
    "target_groups": {"blue": "web-blue", "green": "web-green"},
    "listeners": [{"arn": "arn:listener/http"}, {"arn": "arn:listener/https"}],
}
ADMIN = RouteRef(RouteKind.LISTENER, "arn:listener/admin")
API = RouteRef(RouteKind.RULE, "arn:listener-rule/api")
NAME = "unconfigured_routes"


def checks(world: World, **overrides: Any) -> Report:
    config = parse_config(CONFIG, overrides=overrides)
    return run_checks(config, FakeCloud(world), world.clock.now(), analysis=False)


def failure(report: Report) -> Check:
    (check,) = report.failures
    assert check.name == NAME
    return check


def test_nothing_else_forwarding_to_blue_or_green_passes(world: World) -> None:
    world.routes[ADMIN] = {"arn:tg/admin": 100}  # an unconfigured route, elsewhere: fine

    report = checks(world)

    assert report.ok, report.to_dict()
    assert [c.result for c in report.named(NAME)] == [Result.PASS]


def test_a_listener_forwarding_to_blue_outside_the_configuration_fails(world: World) -> None:
    world.routes[ADMIN] = {BLUE: 100, GREEN: 0}

    check = failure(checks(world))

    assert "default action of listener web HTTP :80" in check.detail
    assert "web-blue at weight 100, web-green at weight 0" in check.detail
    assert check.fix and '[[listeners]]\narn = "arn:listener/admin"' in check.fix
    assert "modify-listener --listener-arn arn:listener/admin" in check.fix


def test_a_route_forwarding_to_green_only_fails(world: World) -> None:
    world.routes[ADMIN] = {GREEN: 100}

    check = failure(checks(world))

    assert "web-green at weight 100" in check.detail and "web-blue" not in check.detail


def test_a_weighted_forward_naming_blue_at_weight_0_fails(world: World) -> None:
    world.routes[ADMIN] = {"arn:tg/admin": 100, BLUE: 0}

    check = failure(checks(world))

    assert "web-blue at weight 0" in check.detail


def test_an_unconfigured_rule_fails_naming_its_priority_and_conditions(world: World) -> None:
    world.routes[API] = {BLUE: 1}

    check = failure(checks(world))

    assert "listener rule web HTTP :80 rule 10 (path-pattern /api*)" in check.detail
    assert check.fix and f'[[listeners]]\nrule = "{API.arn}"' in check.fix
    assert "modify-rule --rule-arn" in check.fix


def test_a_configured_rule_is_not_flagged(world: World) -> None:
    world.routes[API] = {BLUE: 100, GREEN: 0}
    listeners = [*CONFIG["listeners"], {"rule": API.arn}]

    report = checks(world, listeners=listeners)

    assert report.ok, report.to_dict()
    assert [c.result for c in report.named(NAME)] == [Result.PASS]


def test_the_configured_test_listener_is_not_flagged_and_an_unconfigured_one_is(
    world: World,
) -> None:
    world.unlisted.clear()  # the test listener forwards to blue, and is listed

    configured = checks(world, test_listener={"arn": TEST.arn})
    check = failure(checks(world))

    assert configured.ok, configured.to_dict()
    assert TEST.arn in (check.fix or "")


def test_a_route_on_another_load_balancer_using_blue_fails(world: World) -> None:
    # blue's target group also serves a second load balancer, which no configured route is on
    world.routes[ADMIN] = {BLUE: 100}
    world.elsewhere[ADMIN] = "arn:aws:elasticloadbalancing:r:1:loadbalancer/app/intra/abc"

    check = failure(checks(world))

    assert "default action of listener intra HTTP :80" in check.detail


def test_deploy_stops_before_anything_changes(
    world: World, make_deployer: Callable[..., Deployer]
) -> None:
    world.routes[ADMIN] = {BLUE: 100, GREEN: 0}
    task_sets = dict(world.task_sets)
    routes = {ref: dict(w) for ref, w in world.routes.items()}

    with pytest.raises(PreflightError) as raised:
        make_deployer().deploy({"web": "repo/web:v2"})

    assert raised.value.exit_code == 2
    assert f'\n         arn = "{ADMIN.arn}"' in raised.value.message  # the TOML, indented
    assert world.writes == [] and world.routes == routes
    assert world.task_sets == task_sets and "CreateTaskSet" not in world.calls
