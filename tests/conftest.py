"""Shared fixtures. This rootdir conftest also puts tests/ on sys.path, so fakes.py and
stack.py import as top-level modules.

Every test gets fake AWS credentials and none of the developer's AWS settings, so nothing
can ever reach a real account.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest
import structlog
from moto import mock_aws
from moto.moto_api import state_manager
from stack import Stack, build_stack

from bluegreen.sandbox import Sandbox, in_process
from bluegreen.sandbox.lb_http import LoadBalancerProxy
from bluegreen.sandbox.stack import SandboxStack
from bluegreen.sandbox.stack import build_stack as build_sandbox_stack

# The sandbox server's fixtures (`server`, `world`) and subprocess helpers; `--whole-suite`;
# a webhook receiver on loopback (`receiver`).
pytest_plugins = ["server_harness", "suite_guard", "webhook_receiver"]


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    # A CLI test configures structlog for the whole process: undo it for the next test.
    yield
    structlog.reset_defaults()


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ELBV2"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(autouse=True)
def _outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes to the CI job's own summary, and who acts is the local user@host,
    wherever the suite runs (tests that want a CI set these themselves)."""
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_ACTOR", "GITLAB_USER_LOGIN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def polls_on_the_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every deployment's phase 0 (bluegreen/engine/pacing.py): each wait polls at its start
    and then every poll interval. For tests that pin the moment something is noticed on
    that grid; the phase that spreads deployments apart is tested on its own."""
    monkeypatch.setattr("bluegreen.engine.pacing.phase_of", lambda seed: 0.0)


@pytest.fixture(scope="session", autouse=True)
def _shared_botocore_loader() -> Iterator[None]:
    """One botocore data loader for every session: moto resets boto3's default session and
    each test connects anew, and re-reading the service JSON files costs ~0.1 s a session."""
    loader = botocore.loaders.create_loader()
    original = botocore.session.create_loader
    botocore.session.create_loader = lambda search_paths_string=None: loader
    yield
    botocore.session.create_loader = original


@pytest.fixture(autouse=True)
def _no_default_amis(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto's EC2 loads hundreds of default AMIs per region (~0.15 s); no test needs one.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture
def aws() -> Iterator[None]:
    # Lambda without Docker: moto echoes the payload back.
    with mock_aws(config={"lambda": {"use_docker": False}}):
        # moto advances a task one lifecycle step per DescribeTasks: pin them instead.
        state_manager.set_transition(
            model_name="ecs::task", transition={"progression": "manual", "times": 10**9}
        )
        yield


@pytest.fixture
def stack(aws: None) -> Stack:
    return build_stack()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The simulated AWS, in this process, on its own virtual clock."""
    with in_process(Sandbox()) as running:
        yield running


@pytest.fixture
def sandbox_stack(sandbox: Sandbox) -> SandboxStack:
    """A serving blue/green stack on the sandbox (see bluegreen.sandbox.stack)."""
    return build_sandbox_stack(sandbox)


@pytest.fixture
def lb_proxy(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoadBalancerProxy]:
    """The simulated load balancers answer HTTP on loopback, reached as this process's HTTP
    proxy; hook and `bluegreen` processes started from here inherit the environment."""
    with LoadBalancerProxy(sandbox) as running:
        for name, value in running.env().items():
            monkeypatch.setenv(name, value)
        yield running
