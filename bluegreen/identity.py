"""Who is acting: named in lock holders and in promote/rollback requests."""

from __future__ import annotations

import getpass
import socket


def user_at_host() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) or no login name
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
