"""One HTTP request with the standard library's urllib, as url hooks and smoke checks make
it: `exchange` never raises for what the network or the server did.

Rules:
- Redirects are answers, never followed: urllib's default would re-send a POST as a GET
  without its body, and a redirect to a login page must not pass for green.
- The environment's proxy settings (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) apply: the opener is
  built per request, so they are read when it is sent.
- At most BODY_LIMIT bytes of an answer's body are read; a body cut short leaves the status
  as the answer.
- It runs in the calling thread, in real time (a socket cannot wait on a virtual clock);
  `timeout` bounds each wait on the socket.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Exchange:
    """A status with its reason, headers and body; or no status and the `error` why."""

    status: int | None
    reason: str = ""
    body: str = ""
    headers: Mapping[str, str] | None = None
    error: object = None  # what urllib raised when nothing was answered


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None  # urllib then raises HTTPError for the 3xx: it is the answer


def exchange(
    url: str,
    method: str,
    headers: Mapping[str, str],
    timeout: float,
    body: bytes | None = None,
) -> Exchange:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
    opener = urllib.request.build_opener(NoRedirects)
    try:
        with opener.open(request, timeout=max(timeout, 0.001)) as response:
            return Exchange(response.status, str(response.reason), read_body(response))
    except urllib.error.HTTPError as exc:
        with exc:
            return Exchange(exc.code, str(exc.reason), read_body(exc), dict(exc.headers))
    except urllib.error.URLError as exc:
        return Exchange(None, error=exc.reason)
    except (http.client.HTTPException, OSError) as exc:  # reset or timed out mid-answer
        return Exchange(None, error=exc)


def read_body(response: Any) -> str:
    """At most BODY_LIMIT bytes of an answer's body, as text."""
    try:
        data: bytes = response.read(BODY_LIMIT)
    except (OSError, http.client.HTTPException):
        data = b""  # the status is the answer; a body cut short adds nothing to trust
    return data.decode("utf-8", errors="replace")


def described(error: object) -> str:
    """Why nothing was answered, for a person: "ConnectionRefusedError: […]"."""
    if isinstance(error, BaseException):
        return f"{type(error).__name__}: {error}"
    return str(error)
