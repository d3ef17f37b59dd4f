"""The services of a release, each with its configuration and its Deployer, loaded and
checked before any AWS call: every configuration valid, no service twice, and one schedule
of stages for all (the release's `[strategy]`, or the services' own when they agree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bluegreen.clock import Clock
from bluegreen.config import load_config
from bluegreen.config.release import ReleaseFile, ServiceEntry
from bluegreen.deployer import Deployer
from bluegreen.engine.plan import NewVersion
from bluegreen.errors import ConfigError
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
