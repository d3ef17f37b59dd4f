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
bucket to the calls that act, and wait while any call that acts waits for the same bucket:
when a stage moves twenty services at once, their shifts go first and the polls of the
others wait a moment. Calls of a kind wait their turn in the order they came, per bucket:
without it, the service whose thread comes first among those waking at the same moment
took every token, and with fifty services polling faster than the account allows the last
ones were never answered (a release of fifty rolled back, its gates unread for ten minutes).
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
ELB = "elasticloadbalancing"
SIGNING_NAMES = {"elbv2": ELB, "cloudwatch": "monitoring"}


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
        # (bucket's service, bucket's name, acting) → the calls waiting, in order of arrival
        self._waiting: dict[tuple[str, str, bool], list[object]] = {}
        self._lock = threading.Lock()

    def take(self, service: str, operation: str) -> None:
        """A token from every bucket `operation` draws on, waiting for them if need be —
        after the calls of its kind that came first."""
        buckets = buckets_for(SIGNING_NAMES.get(service, service), operation)
        if not buckets:
            return
        acting, call = not is_watching(), object()
        with self._lock:
            lines = [self._line(bucket, acting) for bucket in buckets]
            for line in lines:
                line.append(call)
        try:
            while True:
                with self._lock:
                    wait = self._wait(buckets, lines, call, acting)
                    if wait <= 0:
                        for bucket in buckets:
                            self._state(bucket).tokens -= 1
                        return
                self.waited += wait
                self.clock.sleep(wait)
        finally:
            with self._lock:
                for line in lines:
                    line.remove(call)

    def _wait(
        self, buckets: tuple[Bucket, ...], lines: list[list[object]], call: object, acting: bool
    ) -> float:
        """Seconds before `call` may look again (0: it takes its tokens now). A call with
        others ahead of it sleeps about as long as their tokens take to come, so that each
        call wakes about once rather than every waiter at every token."""
        ahead = max(line.index(call) for line in lines)
        if not acting:  # a poll's read waits for every call that acts on its buckets
            ahead += max(len(self._line(bucket, True)) for bucket in buckets)
        short = max(self._short(bucket, 0.0 if acting else RESERVE) for bucket in buckets)
        if not ahead:
            return short
        slowest = min(bucket.refill * self.share for bucket in buckets)
        return max(short, MIN_WAIT) + ahead / slowest

    def _line(self, bucket: Bucket, acting: bool) -> list[object]:
        """The calls of one kind waiting for `bucket`, first come first."""
        return self._waiting.setdefault((bucket.service, bucket.name, acting), [])

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


def polls_slowed(poll_intervals: list[float], share: float | None = None) -> float:
    """How many times slower than asked the polls of deployments on one account and
    Region come at best (1.0: on time). Each poll reads one target group's health, and every
    such read draws on ELB's account bucket, of which bluegreen keeps to its share: fifty
    services polling every 5 s ask for 10 reads a second, and 75 % of ELB's refill is 7.5."""
    bucket_rate = min(b.refill for b in buckets_for(ELB, "DescribeTargetHealth"))
    asked = sum(1 / seconds for seconds in poll_intervals if seconds > 0)
    return max(1.0, asked / (bucket_rate * (SHARE if share is None else share)))
