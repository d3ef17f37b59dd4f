"""The services of a release, each with its configuration and its Deployer, loaded and
checked before any AWS call: every configuration valid, no service twice, and one schedule
of stages for all (the release's `[strategy]`, or the services' own when they agree).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from bluegreen.aws.pacer import polls_slowed
from bluegreen.clock import Clock
from bluegreen.config import load_config
from bluegreen.config.release import ReleaseFile, ServiceEntry
from bluegreen.deployer import Deployer
from bluegreen.engine.plan import NewVersion
from bluegreen.errors import ConfigError, UsageError
from bluegreen.ports import Cloud
from bluegreen.strategies import stages_for


@dataclass(frozen=True)
class Member:
    entry: ServiceEntry
    deployer: Deployer

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def service_key(self) -> str:
        return self.deployer.config.service_key

    @property
    def version(self) -> NewVersion:
        return NewVersion(
            images=dict(self.entry.images), task_definition=self.entry.task_definition
        )


def load_members(release: ReleaseFile, cloud: Callable[[], Cloud], clock: Clock) -> list[Member]:
    overrides = {"strategy": release.strategy} if release.strategy else None
    members = []
    for entry in release.services:
        config = load_config(release.config_path(entry), overrides)
        members.append(Member(entry, Deployer(config, cloud=cloud, clock=clock)))
    _one_service_once(release, members)
    _one_schedule(release, members)
    return members


def _one_service_once(release: ReleaseFile, members: list[Member]) -> None:
    seen: dict[str, str] = {}
    for member in members:
        other = seen.setdefault(member.service_key, member.name)
        if other != member.name:
            raise ConfigError(
                f"{release.source}: services {other} and {member.name} deploy the same ECS "
                f"service ({member.service_key})",
                hint="list each service once",
            )


def _one_schedule(release: ReleaseFile, members: list[Member]) -> None:
    """Every service moves through the same weights, so each stage moves them together."""
    schedules = {
        m.name: [s.weight for s in stages_for(m.deployer.config.strategy)] for m in members
    }
    if len({tuple(weights) for weights in schedules.values()}) > 1:
        shown = "; ".join(f"{name}: {weights}" for name, weights in schedules.items())
        raise ConfigError(
            f"{release.source}: the services' strategies shift different weights ({shown})",
            hint="give the release one schedule: a [strategy] table in the release file",
        )


def pacing_warning(members: list[Member]) -> str | None:
    """What to say when the services poll faster, together, than the account's API limits
    let bluegreen answer: their polls then come later than their health.poll_interval (the
    release is slower, never failed for it)."""
    intervals = [m.deployer.config.health.poll_interval for m in members]
    slowed = polls_slowed(intervals)
    if slowed <= 1.0:
        return None
    fastest = min(intervals)
    return (
        f"{len(members)} services polling every {fastest:g}s ask for more target-health reads "
        "than bluegreen's share of the account's Elastic Load Balancing API limit: each "
        f"service's gates will be read about every {fastest * slowed:.1f}s; set "
        f"health.poll_interval to {math.ceil(fastest * slowed):g}s or more, or release fewer "
        "services at once"
    )


def check_detachable(members: list[Member], detach_at_pause: bool) -> None:
    """A release whose services shift in waves cannot leave at a pause: the later wave
    waits for the earlier one at 100 %, which a pause never reaches."""
    waves = [m.name for m in members if m.entry.shift_after]
    if detach_at_pause and waves:
        raise UsageError(
            f"--detach-at-pause: {', '.join(waves)} shift after other services reach 100%, "
            "which a paused release never does",
            hint="run the release without --detach-at-pause (promote it with `bluegreen "
            "promote --release FILE` from another shell), or drop shift_after",
        )
