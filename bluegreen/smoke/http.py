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

import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from bluegreen.hooks.http import described, exchange

USER_AGENT = "bluegreen-smoke"


@dataclass(frozen=True)
class Answer:
    """What one request came to: a status and its body, or the reason there was none."""

    status: int | None
    reason: str = ""
    body: str = ""


def request(url: str, method: str, headers: Mapping[str, str], timeout: float) -> Answer:
    answer = exchange(url, method, {"User-Agent": USER_AGENT, **headers}, timeout)
    if answer.status is not None:
        return Answer(answer.status, answer.reason, answer.body)
    reason = answer.error
    if isinstance(reason, TimeoutError):
        return Answer(None, "timed out")
    if isinstance(reason, ssl.SSLCertVerificationError):
        return Answer(None, f"TLS: {reason.verify_message or reason}")
    return Answer(None, described(reason))
