"""bluegreen's own calls kept under AWS's API limits: every request of a Cloud takes a token
from buckets shaped like AWS's (aws_limits.py) but holding SHARE of them, and waits on the
clock for one when they are empty — so a release of fifty services spreads its calls out
rather than running into AWS's throttling and spending its retries there.

Why a share: the limits are per account and Region, and bluegreen is rarely alone in the
account (other pipelines, Terraform, the console, the load balancer controller). Why a
wait rather than an error: the wait is on the injected clock, so in a release the other
services run meanwhile (turns.py); a throttle answered by AWS costs a request, a back-off
and, past the retries, a skipped poll.

Rules: a request is paced when it is sent (each attempt of a retry too); a read answered
from the shared reads (fresh_reads.py) is no request and takes nothing. Services without
limits in the table are not paced. A poll's reads (urgency.watching) leave RESERVE of each
bucket to the calls that act: when a stage moves twenty services at once, their shifts go
first and the polls of the others wait a moment.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from bluegreen.aws_limits import Bucket, buckets_for
from bluegreen.clock import Clock
from bluegreen.urgency import is_watching

SHARE = 0.75  # of each of AWS's buckets: the rest is left to everything else in the account
RESERVE = 0.5  # of each bucket's share, that a poll's reads leave to the calls that act
MIN_WAIT = 0.01  # seconds
SIGNING_NAMES = {"elbv2": "elasticloadbalancing", "cloudwatch": "monitoring"}


@dataclass
class _Tokens:
    tokens: float
    at: float


class Pacer:
    def __init__(self, clock: Clock, share: float | None = None) -> None:
        self.clock = clock
        self.share = SHARE if share is None else share  # read now: a benchmark may set it
        self.waited = 0.0  # seconds spent waiting for tokens, for benchmarks
        self._tokens: dict[tuple[str, str], _Tokens] = {}
        self._lock = threading.Lock()

    def take(self, service: str, operation: str) -> None:
        """A token from every bucket `operation` draws on, waiting for them if need be."""
        buckets = buckets_for(SIGNING_NAMES.get(service, service), operation)
        keep = RESERVE if is_watching() else 0.0
        while True:
            with self._lock:
                short = max((self._short(b, keep) for b in buckets), default=0.0)
                if short <= 0:
                    for bucket in buckets:
                        self._state(bucket).tokens -= 1
                    return
            self.waited += short
            self.clock.sleep(short)

    def _short(self, bucket: Bucket, keep: float) -> float:
        """Seconds until `bucket` holds a token beyond the `keep` fraction of it (0: now); at
        least MIN_WAIT, as a clock's time (seconds since 1970 in a float) cannot move by
        much less."""
        state = self._state(bucket)
        missing = 1 + keep * self._capacity(bucket) - state.tokens
        if missing <= 0:
            return 0.0
        return max(missing / (bucket.refill * self.share), MIN_WAIT)

    def _capacity(self, bucket: Bucket) -> float:
        return max(bucket.capacity * self.share, 1.0)

    def _state(self, bucket: Bucket) -> _Tokens:
        now = self.clock.now()
        capacity = self._capacity(bucket)
        state = self._tokens.setdefault((bucket.service, bucket.name), _Tokens(capacity, now))
        state.tokens = min(capacity, state.tokens + (now - state.at) * bucket.refill * self.share)
        state.at = now
        return state
