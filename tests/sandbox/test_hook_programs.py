"""hooks/http_smoke.py as a real `post_test_traffic` command hook on the simulated AWS:
the hook process requests the test listener's DNS name and port through the sandbox's
load-balancer proxy (HTTP_PROXY, lb_http.py), which answers as green's app. A green
that meets the expectation goes through; one that does not is rolled back before any
production weight moves."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from lb_dns import dns_name

from bluegreen.errors import HookFailed
from bluegreen.machine import State
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.lb_http import LoadBalancerProxy
from bluegreen.sandbox.observe import Observer
from bluegreen.sandbox.stack import SandboxStack, build_stack

HTTP_SMOKE = Path(__file__).resolve().parents[2] / "hooks" / "http_smoke.py"
V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"


@pytest.fixture
def stack(sandbox: Sandbox) -> SandboxStack:
    return build_stack(sandbox, test_listener=True)


def smoke_hook(stack: SandboxStack, pattern: str, url: str | None = None) -> dict[str, Any]:
    url = url or f"http://{dns_name(stack)}:8080/version"
    return {
        "event": "post_test_traffic",
        "command": [sys.executable, str(HTTP_SMOKE), url, "--expect-body", pattern,
                    "--count", "2", "--retries", "0", "--interval", "0"],
        "timeout": "1m",
    }  # fmt: skip


def production_changes(observer: Observer, stack: SandboxStack) -> list[dict[str, int]]:
    production = (stack.http_listener_arn, stack.https_listener_arn)
    return [c.weights for c in observer.weight_changes if c.route in production]


def test_green_answering_as_expected_goes_through(
    make: Any, stack: SandboxStack, lb_proxy: LoadBalancerProxy, capfd: pytest.CaptureFixture[str]
) -> None:
    deployer = make(hooks=[smoke_hook(stack, r"served by .*demo-web:2\.0\.0")])

    result = deployer.deploy({"web": V2})

    assert result.outcome == "succeeded"
    logged = capfd.readouterr().out  # the hook's output, logged line by line
    assert "PASS request 2/2: GET http://web-" in logged


def test_a_path_is_requested_on_the_test_listener_the_context_names(
    make: Any, stack: SandboxStack, lb_proxy: LoadBalancerProxy, capfd: pytest.CaptureFixture[str]
) -> None:
    """The hook context's test_url: the test listener's scheme, DNS name and port."""
    deployer = make(hooks=[smoke_hook(stack, r"served by .*demo-web:2\.0\.0", url="/version")])

    result = deployer.deploy({"web": V2})

    assert result.outcome == "succeeded"
    assert result.record.test_url == f"http://{dns_name(stack)}:8080"
    logged = capfd.readouterr().out
    assert f"PASS request 2/2: GET http://{dns_name(stack)}:8080/version" in logged


def test_a_failing_expectation_rolls_back_before_production_moves(
    make: Any,
    sandbox: Sandbox,
    stack: SandboxStack,
    lb_proxy: LoadBalancerProxy,
    capfd: pytest.CaptureFixture[str],
) -> None:
    deployer = make(hooks=[smoke_hook(stack, r"demo-web:3\.")])  # green is 2.0.0

    with Observer(sandbox) as observer, pytest.raises(HookFailed) as caught:
        deployer.deploy({"web": V2})

    assert production_changes(observer, stack) == []  # production weights never moved
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None and rec.state is State.ROLLED_BACK
    assert rec.failed_in is State.TEST_TRAFFIC
    assert "post_test_traffic" in str(caught.value)
    # The hook's verdict line (logged) names what green answered through the proxy.
    logged = capfd.readouterr().out
    assert f"(got '/version served by {V2}')" in logged
