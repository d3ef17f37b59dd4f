"""Checks of the target groups' own settings: the health check, stickiness and the
deregistration delay."""

from __future__ import annotations

import re

from bluegreen.model import HealthCheck, TargetGroup
from bluegreen.ports import Cloud
from bluegreen.preflight.report import Findings

SLOW_DEREGISTRATION = 300  # AWS's default: it dominates every deployment and rollback
_CODES = re.compile(r"^\d{1,3}(-\d{1,3})?$")

Problem = tuple[str, str]  # (what is wrong, the modify-target-group option that fixes it)


def health_checks(f: Findings, groups: dict[str, TargetGroup], port: int | None) -> None:
    if not groups:
        f.skip("health_check", "no target group found")
    for group in groups.values():
        problems, doubts = health_check_problems(group.health_check, port)
        modify = f"aws elbv2 modify-target-group --target-group-arn {group.arn} "
        if problems:
            detail, option = problems[0]
            f.fail("health_check", f"{group.name}: {detail}", modify + option)
        elif doubts:
            detail, option = doubts[0]
            f.warn("health_check", f"{group.name}: {detail}", modify + option)
        else:
            f.passed("health_check", f"{group.name}: {group.health_check.describe()}")


def health_check_problems(
    check: HealthCheck, container_port: int | None
) -> tuple[list[Problem], list[Problem]]:
    """(failures, warnings) of a health check."""
    problems: list[Problem] = []
    doubts: list[Problem] = []
    if check.protocol in ("HTTP", "HTTPS"):
        if not check.path or not check.path.startswith("/"):
            problems.append(
                (
                    f'health-check path "{check.path or ""}" does not start with "/"',
                    "--health-check-path /health",
                )
            )
        codes = matcher_codes(check.matcher or "200")
        if codes is None:
            problems.append(
                (
                    f'health-check matcher "{check.matcher}" is not a list or range of HTTP codes '
                    'such as "200", "200-299" or "200,302"',
                    "--matcher HttpCode=200-299",
                )
            )
        elif all(low >= 400 for low, _ in codes):
            problems.append(
                (
                    f'health-check matcher "{check.matcher}" accepts only error answers: a target '
                    "answering 200 counts as unhealthy",
                    "--matcher HttpCode=200-299",
                )
            )
    if check.port != "traffic-port" and container_port and check.port != str(container_port):
        doubts.append(
            (
                f"health checks go to port {check.port}, not the container port {container_port}",
                "--health-check-port traffic-port",
            )
        )
    return problems, doubts


def matcher_codes(matcher: str) -> list[tuple[int, int]] | None:
    """ "200,302" or "200-299" → [(low, high), …]; None when malformed."""
    codes = []
    for part in matcher.replace(" ", "").split(","):
        if not _CODES.match(part):
            return None
        low, _, high = part.partition("-")
        if int(high or low) < int(low):
            return None
        codes.append((int(low), int(high or low)))
    return codes


def attributes(f: Findings, cloud: Cloud, groups: dict[str, TargetGroup]) -> None:
    """Stickiness and deregistration delay of each target group (both are on weighted
    listeners: bluegreen shifts weights between them)."""
    if not groups:
        f.skip("stickiness", "no target group found")
        f.skip("deregistration_delay", "no target group found")
    for group in groups.values():
        found = f.read("target_group_attributes", cloud.elb.target_group_attributes, group.arn)
        if found is None:
            continue
        modify = (
            f"aws elbv2 modify-target-group-attributes --target-group-arn {group.arn} --attributes "
        )
        if found.stickiness_enabled:
            f.warn(
                "stickiness",
                f"{group.name}: stickiness ({found.stickiness_type or 'on'}) is enabled on a "
                "target group of a weighted listener: clients stay on the targets they first "
                "reached, so a canary's split is not what they see",
                modify + "Key=stickiness.enabled,Value=false (or accept it)",
            )
        else:
            f.passed("stickiness", f"{group.name}: off")
        delay = found.deregistration_delay
        if delay >= SLOW_DEREGISTRATION:
            default = " (the default)" if delay == SLOW_DEREGISTRATION else ""
            f.warn(
                "deregistration_delay",
                f"{group.name}: {delay}s{default}: every retired task drains that long, which "
                "dominates deployment and rollback time",
                modify + "Key=deregistration_delay.timeout_seconds,Value=30",
            )
        else:
            f.passed("deregistration_delay", f"{group.name}: {delay}s")
