"""The starter `bluegreen.toml` that `bluegreen init` writes (keys: docs/configuration.md),
and what changed when it replaces another.

Rules: the text is a pure function of what init found, so a re-run on unchanged AWS writes
the same bytes (and init leaves the file alone); every table is written by `to_toml` (the
values are quoted and escaped once, there) with comments around it; the optional parts
(test listener, alarms, hooks, other strategies) are written commented out.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bluegreen import refusals
from bluegreen.model import LoadBalancer, Route, TargetGroup
from bluegreen.onboarding.toml_writer import to_toml

DEFAULT_HEALTH_TIMEOUT = 900  # seconds: [health] timeout's default, "15m"
MAX_TARGET_GROUP_NAME = 32  # AWS's limit


def render_config(
    *,
    cluster: str,
    mode: str,
    service: str,
    green_service: str | None,
    container: str,
    container_port: int,
    blue: TargetGroup,
    green_name: str,
    routes: Sequence[tuple[Route, str]],
    network: bool,
    swapped: bool = False,
) -> str:
    """`routes` are (route, label) pairs; `swapped` writes blue and green the other way
    round (which colour is live is read from the listeners, never from these names)."""
    names = (green_name, blue.name) if swapped else (blue.name, green_name)
    if mode == "service-pair":
        pair = (green_service, service) if swapped else (service, green_service)
        service_table: dict[str, Any] = {
            "cluster": cluster,
            "mode": mode,
            "blue_service": pair[0],
            "green_service": pair[1],
        }
    else:
        service_table = {"cluster": cluster, "name": service, "mode": mode}
    service_table |= {"container": container, "container_port": container_port}
    check = blue.health_check
    # green must turn healthy in time: healthy_threshold checks, with room for start-up
    health_timeout = max(
        DEFAULT_HEALTH_TIMEOUT, 3 * check.healthy_threshold * check.interval_seconds
    )
    parts = [
        f"# bluegreen.toml for service {service} in cluster {cluster}, by `bluegreen init`.",
        f"# Check it, then: bluegreen verify; bluegreen plan --image {container}=IMAGE;",
        f"# bluegreen deploy --image {container}=IMAGE",
        "",
        to_toml({"service": service_table}),
        "# Which group is live is read from the listeners, not from these names.",
        to_toml({"target_groups": {"blue": names[0], "green": names[1]}}),
        "# Production routes, found forwarding to the live target group: every entry is",
        "# shifted at every step (`arn` = a listener's default action, `rule` = one rule).",
    ]
    for route, label in routes:
        listener = {refusals.config_key(route): route.ref.arn}
        parts += [f"# {label}", to_toml({"listeners": [listener]})]
    parts += [
        "# Optional: a listener routed 100% to green for smoke tests before production moves.",
        "# [test_listener]",
        '# arn = "arn:aws:elasticloadbalancing:…:listener/app/…"',
        "# [[analysis.http]]   # smoke checks through it: any failure rolls back",
        '# path = "/health"',
        "# expect_status = 200",
        "",
    ]
    if network:
        parts += [
            "# A Network Load Balancer keeps sending to old targets for ~75 s after a switch:",
            "# give each stage a longer bake.",
        ]
    parts += [
        to_toml({"strategy": {"type": "canary", "percent": 10, "bake": "5m"}}).rstrip("\n"),
        '# type = "linear"; step_percent = 20; interval = "2m"',
        '# type = "steps"; steps = [{weight = 5, bake = "2m"}, {weight = 50, pause = true}, '
        "{weight = 100}]",
        "",
        f"# Health check: {check.describe()} every {check.interval_seconds}s; "
        f"healthy after {check.healthy_threshold} passes.",
        to_toml({"health": {"timeout": _duration(health_timeout), "poll_interval": "5s"}}),
        to_toml(
            {"gates": {"alarms": [], "bake_after_shift": "10m", "termination_wait": "5m"}}
        ).rstrip("\n"),
        '# alarms = ["web-5xx"]         # any in ALARM during shifting or bake → rollback',
        "",
        "# [[hooks]]",
        '# event = "post_test_traffic"',
        '# command = ["python3", "hooks/http_smoke.py", "http://<lb dns>:<port>/health"]',
        '# timeout = "2m"',
        "",
        '# State: ".bluegreen/" beside this file; or "s3://bucket/prefix" to share it.',
        to_toml({"state": {"backend": "file"}}),
    ]
    return "\n".join(parts).rstrip("\n") + "\n"


def config_changes(old_text: str | None, new_text: str) -> list[str]:
    """The keys whose values differ between two configurations, e.g.
    "target_groups.green: 'a' → 'b'"; one line when the old one was not TOML."""
    if old_text is None:
        return []
    try:
        old = dict(_flat(tomllib.loads(old_text)))
    except tomllib.TOMLDecodeError:
        return ["replaced a file that was not valid TOML"]
    new = dict(_flat(tomllib.loads(new_text)))
    lines = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            lines.append(f"{key}: removed (was {old[key]!r})")
        elif key not in old:
            lines.append(f"{key}: added {new[key]!r}")
        elif old[key] != new[key]:
            lines.append(f"{key}: {old[key]!r} → {new[key]!r}")
    return lines or ["comments and layout only"]


def _flat(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flat(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for index, item in enumerate(value):
            yield from _flat(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def _duration(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def default_green_name(blue: str) -> str:
    """blue → green in the name ("web-blue" → "web-green"), else "<blue>-green"; never
    longer than AWS's 32 characters."""
    name = green_like_name(blue)
    if len(name) > MAX_TARGET_GROUP_NAME:
        name = blue[: MAX_TARGET_GROUP_NAME - len("-green")].rstrip("-") + "-green"
    return name


def green_like_name(blue: str) -> str:
    if not re.search("blue", blue, flags=re.IGNORECASE):
        return f"{blue}-green"

    def green(match: re.Match[str]) -> str:
        word = match.group()
        return "GREEN" if word.isupper() else "Green" if word[0].isupper() else "green"

    return re.sub("blue", green, blue, flags=re.IGNORECASE)


# -- names and labels ----------------------------------------------------------------------


def route_label(route: Route, balancers: tuple[LoadBalancer, ...]) -> str:
    lb = next((b.name for b in balancers if b.arn == route.load_balancer_arn), "")
    return refusals.route_label(route, lb)


def short_name(arn: str) -> str:
    """targetgroup/NAME/ID → NAME."""
    parts = arn.split(":")[-1].split("/")
    return parts[1] if len(parts) == 3 else arn


def file_has_swapped_pair(path: Path, blue: str, green: str) -> bool:
    """The file names the same two target groups the other way round (a deployment flipped
    the colours since): keep its orientation, so a re-run leaves it alone."""
    try:
        groups = tomllib.loads(path.read_text(encoding="utf-8")).get("target_groups", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return isinstance(groups, dict) and (groups.get("blue"), groups.get("green")) == (green, blue)
