"""One smoke-check request over HTTP(S), with the standard library's urllib.

Rules:
- A request returns an Answer, never raises for what the network or the server did: a
  status with the first BODY_LIMIT bytes of its body, or no status and why (refused,
  reset, timed out, TLS, name not resolved).
- Redirects are not followed: a 3xx is the answer, judged like any other (a check that
  wants one says so, e.g. expect_status = 301), so a redirect to a login page or to blue's
  address never passes for green.
- The proxy settings of the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) apply, as for
  every urllib request; the simulated AWS uses them to answer for its load balancers.
- It runs in the calling thread, in real time: a socket cannot wait on a virtual clock.
  `timeout` bounds each wait on the socket.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from bluegreen.hooks.webhook import NoRedirects, read_body

USER_AGENT = "bluegreen-smoke"


@dataclass(frozen=True)
class Answer:
    """What one request came to: a status and its body, or the reason there was none."""

    status: int | None
    reason: str = ""
    body: str = ""


def request(url: str, method: str, headers: Mapping[str, str], timeout: float) -> Answer:
    sent = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers}, method=method)
    # Built per request, so the proxy settings of the environment are read when it is sent.
    opener = urllib.request.build_opener(NoRedirects)
    try:
        with opener.open(sent, timeout=timeout) as response:
            return Answer(response.status, str(response.reason), read_body(response))
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, str(exc.reason), read_body(exc))
    except urllib.error.URLError as exc:
        return _no_answer(exc.reason)
    except (http.client.HTTPException, OSError) as exc:  # reset or timed out mid-answer
        return _no_answer(exc)


def _no_answer(reason: object) -> Answer:
    if isinstance(reason, TimeoutError):
        return Answer(None, "timed out")
    if isinstance(reason, ssl.SSLCertVerificationError):
        return Answer(None, f"TLS: {reason.verify_message or reason}")
    if isinstance(reason, BaseException):
        return Answer(None, f"{type(reason).__name__}: {reason}")
    return Answer(None, str(reason))
