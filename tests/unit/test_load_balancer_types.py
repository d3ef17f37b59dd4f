"""What the type of load balancer changes, on the in-memory cloud: a Gateway LB is refused
before anything changes; an NLB's stages bake long enough; a route that takes no weights
makes the whole deployment one switch."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fakes import BLUE, GREEN, HTTP, HTTPS, World

from bluegreen import Deployer
from bluegreen.engine.plan import NLB_SETTLE_SECONDS
from bluegreen.errors import PreflightError

STEPS = {"type": "steps", "steps": [{"weight": 10, "bake": "30s"}, {"weight": 50}, {"weight": 100}]}


def test_a_gateway_load_balancer_is_refused_with_what_to_use(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    world.lb_type = "gateway"

    with pytest.raises(PreflightError, match="Gateway Load Balancer") as caught:
        make_deployer().deploy({"web": "repo/web:v2"})

    assert "Application Load Balancer" in str(caught.value)
    assert not world.writes


def test_nlb_stages_bake_at_least_the_settle_time(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    world.lb_type = "network"

    result = make_deployer(strategy=STEPS).deploy({"web": "repo/web:v2"})

    assert [s.bake for s in result.record.stages] == [NLB_SETTLE_SECONDS, NLB_SETTLE_SECONDS, 0]
    assert world.routes[HTTP] == world.routes[HTTPS] == {BLUE: 0, GREEN: 100}


def test_the_same_steps_on_an_alb_keep_their_bakes(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    result = make_deployer(strategy=STEPS).deploy({"web": "repo/web:v2"})

    assert [s.bake for s in result.record.stages] == [30, 0, 0]


def test_one_swapped_route_makes_every_route_switch_at_once(
    make_deployer: Callable[..., Deployer], world: World
) -> None:
    listeners = [{"arn": HTTP.arn}, {"arn": HTTPS.arn, "shift": "swap"}]

    result = make_deployer(strategy=STEPS, listeners=listeners).deploy({"web": "repo/web:v2"})

    assert [s.weight for s in result.record.stages] == [100]
    moved = {tuple(sorted(weights.items())) for _, _, weights in world.writes}
    assert moved == {((BLUE, 0), (GREEN, 100))}  # never split
