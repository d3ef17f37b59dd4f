"""A preflight reads each resource once: `verify`'s checks and resolve() share the reads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fakes import FakeCloud, World

from bluegreen import Deployer
from bluegreen.engine.reads import once
from bluegreen.errors import MissingResourceError


def test_a_read_is_asked_of_aws_once(world: World) -> None:
    reads = once(FakeCloud(world))

    assert reads.ecs.service("c", "web") == reads.ecs.service("c", "web")

    assert world.calls.count("DescribeServices") == 1


def test_a_failed_read_is_asked_again(world: World) -> None:
    reads = once(FakeCloud(world))
    for _ in range(2):
        with pytest.raises(MissingResourceError):
            reads.ecs.service("c", "nope")

    assert world.calls.count("DescribeServices") == 2


def test_writes_pass_through(world: World) -> None:
    reads = once(FakeCloud(world))
    route = reads.elb.route(next(iter(world.routes)))
    reads.elb.set_weights(route.ref, dict(route.weights))
    reads.elb.set_weights(route.ref, dict(route.weights))

    assert world.calls.count("ModifyListener") == 2


def test_plan_checks_and_resolves_on_one_read_of_the_service(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    make_deployer().plan({"web": "repo/web:v2"})

    assert world.calls.count("DescribeServices") == 1


def test_plan_checks_and_resolves_on_one_read_of_the_target_groups_and_the_routes(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    make_deployer().plan({"web": "repo/web:v2"})

    assert world.calls.count("DescribeTargetGroups") == 1  # blue and green together
    # the routes together (the other check reads the load balancer's listeners)
    assert world.calls.count("DescribeListeners") == 2
