"""Benchmark: how long a release that can never become healthy holds a deployment.

    python benchmarks/fail_fast.py [--settings readme defaults ...] [--mode task-sets|service-pair]

Deploys the classic mistake on the simulated AWS — the app serves only /api, the target
group checks /health, every target answers 404 — and prints, in virtual seconds, from the
first definitive unhealthy report (the first clock advance after which DescribeTargetHealth,
read through boto3 as a person would, shows every live green target unhealthy for a
definitive reason) to all traffic back on blue with green retired (the rollback done):

    after   as the product now runs: green fails one unhealthy window (the target group's
            unhealthy threshold × interval) after that report;
    before  the same run with the fail-fast judgements switched off, so only
            `health.timeout` ends the wait, as it did before the judgements existed.

Settings: `readme` is the README's example [health] (timeout 15m, poll 5s) on the sandbox
stack's check (interval 10s, unhealthy threshold 2); `defaults` leaves [health] out and
gives green's target group ELB's defaults (interval 30s, thresholds 5 healthy, 2 unhealthy).
`exits` is another release on the README's [health]: its container exits (code 1) 3 s after
it starts, so ECS keeps stopping and replacing its tasks; its first sign is the first
stopped task, and `before` switches off the count of stopped tasks instead (in
service-pair mode the simulated service's own circuit breaker fails it either way).
Needs nothing but the package (no AWS account).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3

from bluegreen import gates
from bluegreen.cli.logs import configure_logging
from bluegreen.config import parse_config
from bluegreen.deployer import Deployer
from bluegreen.engine import health_wait
from bluegreen.errors import HealthCheckFailed
from bluegreen.sandbox import AppModel, Sandbox, in_process
from bluegreen.sandbox.stack import SandboxStack, build_stack
from bluegreen.sandbox.stack_parts import Mode

WRONG_PATH = "public.ecr.aws/bluegreen/demo-web:3.0.0"
DEFINITIVE = {"Target.ResponseCodeMismatch", "Target.Timeout", "Target.FailedHealthChecks"}
ELB_DEFAULTS = {
    "HealthCheckIntervalSeconds": 30,
    "HealthyThresholdCount": 5,
    "UnhealthyThresholdCount": 2,
}
# name → ([health] of bluegreen.toml, None to leave it out; green's check, changed from the stack's)
SETTINGS: dict[str, tuple[dict[str, str] | None, dict[str, int]]] = {
    "readme": ({"timeout": "15m", "poll_interval": "5s"}, {}),
    "defaults": (None, ELB_DEFAULTS),
    "exits": ({"timeout": "15m", "poll_interval": "5s"}, {}),
}
EXITS = AppModel(exits_after=3, exit_code=1)


@dataclass(frozen=True)
class Run:
    first_report: float  # virtual seconds after the deployment started
    rolled_back: float
    window: float  # the green target group's unhealthy threshold × interval

    @property
    def held(self) -> float:
        return self.rolled_back - self.first_report


def one_run(settings: str, mode: Mode, *, fail_fast: bool) -> Run:
    health, check = SETTINGS[settings]
    sandbox = Sandbox()
    with in_process(sandbox), tempfile.TemporaryDirectory() as folder:
        stack = build_stack(sandbox, mode=mode)
        elb = boto3.client("elbv2", region_name=sandbox.region)
        if check:
            elb.modify_target_group(TargetGroupArn=stack.green_tg_arn, **check)
        exits = settings == "exits"
        sandbox.apps[WRONG_PATH] = EXITS if exits else AppModel(serves=("/api",))
        data = stack.config()
        data.pop("health")
        if health:
            data["health"] = health
        deployer = Deployer(
            parse_config(data, source=Path(folder) / "bluegreen.toml"), clock=sandbox.clock
        )
        seen = _watch_stops(sandbox) if exits else _watch_green(sandbox, stack, elb)
        started = sandbox.clock.now()
        # before: neither judgement (a definitive unhealthy streak, too many stopped tasks)
        # declares green failed, so only health.timeout ends it
        with contextlib.ExitStack() as judged, contextlib.suppress(HealthCheckFailed):
            if not fail_fast:
                judged.enter_context(
                    mock.patch.object(gates.UnhealthyStreak, "failed", lambda *_: False)
                )
                judged.enter_context(
                    mock.patch.object(health_wait, "churn_threshold", lambda _: 10**9)
                )
            # the outcome is read from the record, not from the exception
            deployer.deploy({"web": WRONG_PATH})
        rec = deployer.store.latest(deployer.config.service_key)
        assert rec is not None and rec.outcome == "rolled_back", rec and rec.reason
        assert rec.ended_at is not None and seen, "green never failed definitively"
        assert _on_blue(elb, stack), "traffic is not all on blue"
        group = elb.describe_target_groups(TargetGroupArns=[stack.green_tg_arn])["TargetGroups"][0]
        window = group["UnhealthyThresholdCount"] * group["HealthCheckIntervalSeconds"]
    return Run(seen[0] - started, rec.ended_at - started, float(window))


def _watch_green(sandbox: Sandbox, stack: SandboxStack, elb: Any) -> list[float]:
    seen: list[float] = []

    def look(now: float) -> None:
        answer = elb.describe_target_health(TargetGroupArn=stack.green_tg_arn)
        live = [d["TargetHealth"] for d in answer["TargetHealthDescriptions"]]
        live = [h for h in live if h["State"] != "draining"]
        failing = [h for h in live if h["State"] == "unhealthy" and h.get("Reason") in DEFINITIVE]
        if not seen and live and len(failing) == len(live):
            seen.append(now)

    sandbox.clock.on_advance(look)
    return seen


def _watch_stops(sandbox: Sandbox) -> list[float]:
    """When the first task of the release stopped (its container exited)."""
    seen: list[float] = []

    def look(now: float) -> None:
        stops = [t.stopped_at for t in sandbox.tasks.values() if t.exit_code is not None]
        if not seen and stops:
            seen.append(min(s for s in stops if s is not None))

    sandbox.clock.on_advance(look)
    return seen


def _on_blue(elb: Any, stack: SandboxStack) -> bool:
    for arn in (stack.http_listener_arn, stack.https_listener_arn):
        action = elb.describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"][0]
        split = {g["TargetGroupArn"]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]}
        if split.get(stack.green_tg_arn, 0) != 0:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=["readme"])
    parser.add_argument("--mode", choices=["task-sets", "service-pair"], default="task-sets")
    args = parser.parse_args()
    configure_logging(quiet=True)  # the figures, not the deployment's story
    print(
        f"{'settings':<10} {'window':>6} {'first sign':>10} "
        f"{'before: rolled back':>20} {'held':>6} {'after: rolled back':>19} {'held':>6}"
    )
    for settings in args.settings:
        before = one_run(settings, args.mode, fail_fast=False)
        after = one_run(settings, args.mode, fail_fast=True)
        print(
            f"{settings:<10} {after.window:>5.0f}s {after.first_report:>9.0f}s "
            f"{before.rolled_back:>19.0f}s {before.held:>5.0f}s "
            f"{after.rolled_back:>18.0f}s {after.held:>5.0f}s"
        )
    print(
        "(virtual seconds from the deployment's start; held: from the first sign, the first "
        "404s or stopped task, to rollback)"
    )


if __name__ == "__main__":
    main()
