"""Smoke checks on the simulated AWS: the product requests the test listener's real DNS
name and port, the sandbox answers as the load balancer (its HTTP proxy, lb_http.py),
with the app of the image the listener forwards to. A bad green is rolled back before any
production weight moves; a good one goes through."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
from lb_dns import dns_name
from sim_helpers import elb

from bluegreen.errors import SmokeCheckFailed
from bluegreen.machine import State
from bluegreen.sandbox import AppModel, Sandbox
from bluegreen.sandbox.lb_http import LoadBalancerProxy
from bluegreen.sandbox.observe import Observer
from bluegreen.sandbox.stack import SandboxStack, build_stack
from bluegreen.smoke import request

IMAGE = "public.ecr.aws/bluegreen/demo-web"
V2 = f"{IMAGE}:2.0.0"


@pytest.fixture
def stack(sandbox: Sandbox) -> SandboxStack:
    return build_stack(sandbox, test_listener=True)


def production_changes(observer: Observer, stack: SandboxStack) -> list[dict[str, int]]:
    production = (stack.http_listener_arn, stack.https_listener_arn)
    return [c.weights for c in observer.weight_changes if c.route in production]


def get(url: str) -> tuple[int, str]:
    # An opener of its own: urlopen's global one keeps the proxy of the first test to use it.
    try:
        with urllib.request.build_opener().open(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


def test_green_answering_500_is_rolled_back_before_production_moves(
    make: Any, sandbox: Sandbox, stack: SandboxStack, lb_proxy: LoadBalancerProxy
) -> None:
    sandbox.apps[V2] = AppModel(error_rate=1.0)  # healthy to ELB, failing every request
    deployer = make(analysis={"http": [{"path": "/health", "count": 3}]})

    with Observer(sandbox) as observer, pytest.raises(SmokeCheckFailed) as caught:
        deployer.deploy({"web": V2})

    assert caught.value.exit_code == 1
    assert production_changes(observer, stack) == []  # production weights never changed
    tested = [c.weights for c in observer.weight_changes if c.route == stack.test_listener_arn]
    assert tested == [
        {stack.blue_tg_arn: 0, stack.green_tg_arn: 100},
        {stack.blue_tg_arn: 100, stack.green_tg_arn: 0},
    ]
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None and rec.state is State.ROLLED_BACK
    assert rec.failed_in is State.TEST_TRAFFIC
    assert (
        f"GET /health: request 1/3: GET http://{dns_name(stack)}:8080/health answered 500 "
        f"Internal Server Error; body: simulated error of {V2}; expected status 200"
    ) in str(caught.value)


def test_a_good_green_passes_its_smoke_checks_and_the_deployment_succeeds(
    make: Any, sandbox: Sandbox, stack: SandboxStack, lb_proxy: LoadBalancerProxy
) -> None:
    deployer = make(
        analysis={
            "http": [
                {"path": "/health", "count": 5, "every": "2s"},
                {"path": "/version", "expect_body": r"demo-web:2\.0\.0", "count": 2},
            ]
        }
    )

    result = deployer.deploy({"web": V2})

    assert result.outcome == "succeeded"
    smoke = result.to_dict()["smoke_checks"]
    assert [(s["check"], s["status"], s["passed"]) for s in smoke] == [
        ("GET /health", "pass", 5),
        ("GET /version", "pass", 2),
    ]
    assert smoke[0]["url"] == f"http://{dns_name(stack)}:8080/health"


def test_a_body_that_does_not_match_fails_naming_the_pattern(
    make: Any, sandbox: Sandbox, stack: SandboxStack, lb_proxy: LoadBalancerProxy
) -> None:
    # Green serves the old version's answer: the pattern wants 3.x.
    deployer = make(analysis={"http": [{"path": "/version", "expect_body": r"demo-web:3\."}]})

    with Observer(sandbox) as observer, pytest.raises(SmokeCheckFailed) as caught:
        deployer.deploy({"web": V2})

    assert production_changes(observer, stack) == []
    message = str(caught.value)
    assert f"answered 200 OK; body: /version served by {V2} (no match for /demo-web:3\\./)" in (
        message
    )
    assert "expected status 200, body matching /demo-web:3\\./" in message


def test_the_load_balancer_answers_as_the_app_of_the_group_it_forwards_to(
    sandbox: Sandbox, stack: SandboxStack, lb_proxy: LoadBalancerProxy
) -> None:
    sandbox.apps[stack.image] = AppModel(serves=("/api", "/health"))
    base = f"http://{dns_name(stack)}"
    assert get(f"{base}:8080/api/items") == (200, f"/api/items served by {stack.image}")
    assert get(f"{base}:8080/other")[0] == 404
    assert get(f"{base}:80/api")[0] == 200  # the production listener, on blue too
    assert get(f"{base}:9999/")[0] == 503  # no listener there
    status, body = get("http://example.com/")
    assert (status, body) == (502, "example.com is not a load balancer of the sandbox")


def test_a_group_without_a_healthy_target_gets_503(
    sandbox: Sandbox, stack: SandboxStack, lb_proxy: LoadBalancerProxy
) -> None:
    listener = stack.test_listener_arn
    assert listener is not None
    elb().modify_listener(
        ListenerArn=listener,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": stack.green_tg_arn}],
    )
    assert get(f"http://{dns_name(stack)}:8080/health") == (503, "no healthy target")


def test_a_listener_rule_is_matched_before_the_default_action(
    sandbox: Sandbox, stack: SandboxStack, lb_proxy: LoadBalancerProxy
) -> None:
    elb().create_rule(
        ListenerArn=stack.test_listener_arn,
        Priority=5,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/beta*"]}}],
        Actions=[
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {"StatusCode": "418", "MessageBody": "teapot"},
            }
        ],
    )
    base = f"http://{dns_name(stack)}:8080"
    assert get(f"{base}/beta/x") == (418, "teapot")
    assert get(f"{base}/health") == (200, f"/health served by {stack.image}")


def test_a_hanging_app_gives_no_answer_within_the_clients_timeout(
    sandbox: Sandbox, stack: SandboxStack, lb_proxy: LoadBalancerProxy
) -> None:
    # ELB keeps a hanging app's targets unhealthy, so only a target registered by hand
    # (healthy to ELB, answering as the group's ECS image) reaches one.
    sandbox.apps[stack.image] = AppModel(hangs=True)
    elb().register_targets(
        TargetGroupArn=stack.blue_tg_arn, Targets=[{"Id": "10.0.1.99", "Port": 8080}]
    )
    sandbox.clock.advance(1)  # noticed: its health checks start
    sandbox.clock.advance(600)  # and pass
    answer = request(f"http://{dns_name(stack)}:8080/health", "GET", {}, 0.3)
    assert (answer.status, answer.reason) == (None, "timed out")
