"""A Clock on a sandbox server's timeline, for a `bluegreen` process other than the server's.

`SandboxServer` (server.py) moves its virtual time at a steady multiple of real time and
answers at `<endpoint>/_bluegreen/clock`:

    GET                         → {"now": <virtual seconds since the epoch>, "speed": s}
    POST /sleep?seconds=N       → blocks until virtual time has passed N seconds, or at most
    POST /sleep?until=T           a few real seconds, then {"now": …, "until": T, …}

`RemoteClock.sleep` asks once with `seconds` and, if the server answered before `until`
(its wait is capped, so no request outlives a socket timeout), asks again with `until` —
the same deadline, so the sleep never stretches. The CLI uses this clock when
`BLUEGREEN_SANDBOX_CLOCK` holds that URL.

Rules: standard library only (the core never imports the test or server stack); every
request bypasses HTTP proxies (the server is on loopback); a server that does not answer
is a RemoteClockError, never a silent fall back to real time.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

ENV_VAR = "BLUEGREEN_SANDBOX_CLOCK"
REQUEST_TIMEOUT = 30.0  # real seconds; the server holds a sleep for at most a few


class RemoteClockError(RuntimeError):
    """The sandbox server's clock did not answer."""


class RemoteClock:
    """bluegreen.clock.Clock on the virtual time of the sandbox server at `url`."""

    def __init__(self, url: str, timeout: float = REQUEST_TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        # No proxies: HTTP_PROXY in a CI environment must not swallow loopback calls.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def now(self) -> float:
        return float(self._call("GET", "")["now"])

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        answer = self._call("POST", "/sleep", {"seconds": repr(float(seconds))})
        until = float(answer["until"])
        while float(answer["now"]) < until:
            answer = self._call("POST", "/sleep", {"until": repr(until)})

    def _call(self, method: str, path: str, query: dict[str, str] | None = None) -> Any:
        url = self.url + path + (f"?{urlencode(query)}" if query else "")
        request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RemoteClockError(
                f"the sandbox clock at {self.url} did not answer ({exc}); is "
                f"`bluegreen sandbox serve` still running? Unset {ENV_VAR} to use real time."
            ) from exc
