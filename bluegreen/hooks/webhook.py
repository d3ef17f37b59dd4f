"""Url hooks: the deployment context POSTed as JSON to an http(s) URL.

Rules:

- The body is exactly the JSON the other kinds get, sent as `application/json`. With a
  signing secret, `X-Bluegreen-Signature: sha256=<hex>` is the HMAC-SHA256 of those exact
  bytes under the secret, so the receiver can check who sent them and that they are whole.
- A 2xx answer passes. Anything else fails, with the status and a short excerpt of the
  answer's body. A 3xx fails too: redirects are not followed (urllib's default would
  re-send the POST as a GET without the context, and a hook that never saw it would pass).
- A failed delivery is tried again (at most `retries` times; none unless configured, as a
  POST may not be safe to repeat) only after a connection error (nothing was answered) or
  a 5xx or 429 answer; never after a 4xx, a TLS failure or a timeout. Between tries, an
  exponential back-off with jitter, or a 429's Retry-After when longer.
- The whole delivery, tries and waits included, fits in the hook's timeout: a wait that
  would end past it is not begun. It runs in real time (a socket cannot be waited on with
  a virtual clock), in a worker thread the runner waits on while polling the interrupt
  flag; on timeout or interrupt the worker is abandoned (a daemon), and its socket
  timeout, never longer than what was left, ends it soon after.
- At most BODY_LIMIT bytes of an answer are read. The URL is shown without its query;
  header values and the secret never leave this module except on the wire (the runner
  also masks them in everything the hook reports).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from bluegreen.config.fields import SIGNATURE_HEADER, shown_url
from bluegreen.hooks.http import described, exchange
from bluegreen.hooks.process import Outcome, start_thread, thread_done, wait_unless_interrupted

EXCERPT_LIMIT = 200
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 10.0
USER_AGENT = "bluegreen-hook"
_jitter = random.Random()


@dataclass(frozen=True)
class Webhook:
    url: str
    headers: Mapping[str, str]
    secret: str | None
    retries: int
    timeout: float


@dataclass(frozen=True)
class _Answer:
    """What one try came to: a status (None when nothing was answered) and a body, or the
    reason there was no answer."""

    status: int | None
    reason: str = ""
    body: str = ""
    retryable: bool = False
    retry_after: float | None = None
    timed_out: bool = False


def request_headers(hook: Webhook, body: bytes) -> dict[str, str]:
    """The configured headers over ours, and the signature of `body` when there is a secret."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **hook.headers}
    if hook.secret:
        digest = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
        headers[SIGNATURE_HEADER] = f"sha256={digest}"
    return headers


def post(
    hook: Webhook,
    payload: str,
    on_text: Callable[[str], None],
    interrupted: Callable[[], str | None],
) -> Outcome:
    """Deliver `payload`; each answer's body goes to `on_text`."""
    body = payload.encode()
    headers = request_headers(hook, body)
    deadline = time.monotonic() + hook.timeout
    what = f"POST {shown_url(hook.url)}"
    attempt = 0
    while True:
        attempt += 1
        answer, stopped = _try(hook.url, body, headers, deadline - time.monotonic(), interrupted)
        if stopped:
            return Outcome(False, f"stopped: the deployment was {stopped}")
        if answer is None or answer.timed_out:  # its socket may time out as our wait ends
            return Outcome(
                False,
                f"{what}: no answer within the hook's {hook.timeout:g}s timeout{_tries(attempt)}",
                timed_out=True,
            )
        if answer.body:
            on_text(answer.body)
        if answer.status is not None and 200 <= answer.status < 300:
            return Outcome(True)
        failure = f"{what} {_describe(answer)}{_tries(attempt)}"
        if not answer.retryable or attempt > hook.retries:
            return Outcome(False, failure)
        pause = _backoff(attempt, answer.retry_after)
        if time.monotonic() + pause >= deadline:
            return Outcome(False, f"{failure}; no time left in its {hook.timeout:g}s to try again")
        stopped = wait_unless_interrupted(_asleep, pause, interrupted)
        if stopped:
            return Outcome(False, f"stopped: the deployment was {stopped}")


def _try(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    seconds: float,
    interrupted: Callable[[], str | None],
) -> tuple[_Answer | None, str | None]:
    """One try in a worker thread: its answer (None if it had none within `seconds`), and
    the interrupt that stopped the wait, if one did."""
    answers: list[_Answer] = []
    worker = start_thread(lambda: answers.append(_send(url, body, headers, seconds)))
    stopped = wait_unless_interrupted(partial(thread_done, worker), seconds, interrupted)
    return (answers[0] if answers else None), stopped


def _send(url: str, body: bytes, headers: Mapping[str, str], seconds: float) -> _Answer:
    answer = exchange(url, "POST", headers, seconds, body)
    if answer.status is None:
        return _no_answer(answer.error)
    failed = answer.status >= 400
    return _Answer(
        answer.status,
        answer.reason,
        answer.body,
        retryable=failed and (answer.status >= 500 or answer.status == 429),
        retry_after=_seconds((answer.headers or {}).get("Retry-After")) if failed else None,
    )


def _no_answer(reason: object) -> _Answer:
    # Nothing was answered: worth another try when the connection failed (refused, reset,
    # name not resolved); not after a TLS failure (a certificate does not fix itself) or
    # a timeout (the hook's time is up).
    if isinstance(reason, TimeoutError):
        return _Answer(None, "timed out", timed_out=True)
    retryable = isinstance(reason, ConnectionError | socket.gaierror)
    return _Answer(None, described(reason), retryable=retryable)


def _seconds(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is ignored: the back-off applies)."""
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


def _describe(answer: _Answer) -> str:
    if answer.status is None:
        return f"got no answer: {answer.reason}"
    said = f"answered {answer.status} {answer.reason}".rstrip()
    if 300 <= answer.status < 400:
        said += " (redirects are not followed: give the final URL)"
    excerpt = " ".join(answer.body.split())
    if len(excerpt) > EXCERPT_LIMIT:
        excerpt = f"{excerpt[:EXCERPT_LIMIT]}…"
    # "body:" and not the reason before the colon: the redactor masks what follows a
    # secret-looking word and a colon, and "Unauthorized" looks like one.
    return f"{said}; body: {excerpt}" if excerpt else said


def _tries(attempt: int) -> str:
    return "" if attempt == 1 else f" (after {attempt} tries)"


def _backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds before try `attempt + 1`: half to all of an exponential ceiling (the jitter
    keeps many deployers from retrying in step), or Retry-After when longer."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1))
    return max(ceiling * (0.5 + _jitter.random() / 2), retry_after or 0.0)


def _asleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False  # a pause has no end of its own: only its time running out ends it
