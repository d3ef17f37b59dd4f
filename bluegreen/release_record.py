"""A release's record: which services it deploys, each one's own deployment record, and
whether it has committed — the point past which every service goes forward and none back.

Each service keeps its own DeploymentRecord (with `release_id` naming the release), saved
as a lone deployment's is; this record ties them together, so `resume` or `rollback` of the
release after a crash knows which deployments to drive and in which direction. It is saved
when the release starts (before any service changes), when it commits (before any blue is
retired) and when it ends.
"""

from __future__ import annotations

import secrets
import time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class ReleaseState(StrEnum):
    RUNNING = "RUNNING"  # services are deploying; any failure puts every one back on blue
    COMMITTED = "COMMITTED"  # every service past its termination wait: blues being retired
    SUCCEEDED = "SUCCEEDED"
    ROLLED_BACK = "ROLLED_BACK"
    STOPPED = "STOPPED"  # refused before anything changed
    FAILED = "FAILED"  # a rollback could not complete: a person must act

    @property
    def terminal(self) -> bool:
        return self not in (ReleaseState.RUNNING, ReleaseState.COMMITTED)


class ReleaseMember(BaseModel):
    name: str  # as the release file names it
    config: str  # its bluegreen.toml, as the release file gives it
    service_key: str
    deployment_id: str
    images: dict[str, str] = Field(default_factory=dict)
    task_definition: str | None = None
    after: list[str] = Field(default_factory=list)
    shift_after: list[str] = Field(default_factory=list)


class ReleaseEvent(BaseModel):
    at: float
    message: str


class ReleaseRecord(BaseModel):
    id: str
    name: str
    state: ReleaseState = ReleaseState.RUNNING
    members: list[ReleaseMember]
    created_at: float
    updated_at: float
    ended_at: float | None = None
    started_by: str = ""
    failed_member: str | None = None  # the first service that failed
    reason: str | None = None
    events: list[ReleaseEvent] = Field(default_factory=list)

    def note(self, now: float, message: str) -> None:
        self.updated_at = now
        self.events.append(ReleaseEvent(at=now, message=message))

    def end(self, state: ReleaseState, now: float, message: str) -> None:
        self.state = state
        self.ended_at = now
        self.note(now, message)

    def summary(self) -> dict[str, Any]:
        """The release's part of `--output json` (its result, its status)."""
        return {
            "release_id": self.id,
            "release": self.name,
            "state": self.state.value,
            "failed_service": self.failed_member,
            "reason": self.reason,
            "started_at": self.created_at,
            "ended_at": self.ended_at,
        }

    def member(self, name: str) -> ReleaseMember:
        return next(m for m in self.members if m.name == name)


def new_release_id(now: float) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return f"rel-{stamp}-{secrets.token_hex(3)}"
