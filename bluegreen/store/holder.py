"""Who holds a service's lock, as both stores describe it, and whether that process is gone.

A lock names its holder's process space (the host name and the pid namespace: two
containers may share a host name, and their pids mean nothing to each other) and process
id. In our own process space a dead process is certain (its pid no longer exists), so its
lock is taken over at once; a holder elsewhere can only be judged by its lease (S3 store):
alive while it renews it, gone once the lease lapses.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from dataclasses import dataclass


def utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(seconds))


def user_at_host() -> str:
    """Who is acting, as named in lock holders and in promote/rollback requests."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) or no login name
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


# The login of whoever started a CI job, as the CI names it (never a token): a job's
# user@host is a runner's, which says nothing about who acted.
CI_ACTORS = (("GITHUB_ACTOR", "GitHub Actions"), ("GITLAB_USER_LOGIN", "GitLab CI"))


def actor() -> str:
    """Who is acting, as the record keeps it (deploy, promote, rollback, --skip-analysis):
    the CI's login when run by a CI job, else user@host."""
    for variable, ci in CI_ACTORS:
        login = os.environ.get(variable, "").strip()
        if login:
            return f"{login} ({ci})"
    return user_at_host()


def process_space() -> str:
    """`<host name> pid:[<namespace inode>]` where Linux tells the namespace, else the name."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()} {namespace}".strip()


def process_gone(space: str | None, pid: int | None) -> bool:
    """True only when `space` is this process space and no process `pid` exists in it."""
    here = process_space()
    if " " not in (space or ""):  # written before locks named the namespace
        here = socket.gethostname()
    if space != here or not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):  # another user's process, or no pid at all
        return False
    return False


@dataclass(frozen=True)
class LockHolder:
    """The lock as read at `read_at` (on the store's lease clock)."""

    deployment_id: str
    holder: str  # for people: `user@host pid N`
    since: float
    read_at: float
    expires_at: float | None = None  # None: no lease, held until its process ends
    host: str | None = None  # its process space (process_space())
    pid: int | None = None

    @property
    def process_gone(self) -> bool:
        return process_gone(self.host, self.pid)

    @property
    def lapses_in(self) -> float | None:
        """Seconds from the reading until the lease lapses (0 once it has); None without one."""
        return None if self.expires_at is None else max(0.0, self.expires_at - self.read_at)

    def describe(self) -> str:
        lease = ""
        if self.expires_at is not None:
            verb = "lapsed at" if self.read_at >= self.expires_at else "runs until"
            lease = f"; its lease {verb} {utc(self.expires_at)}"
        return f"{self.deployment_id} (held by {self.holder} since {utc(self.since)}{lease})"
