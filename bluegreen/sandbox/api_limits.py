"""AWS's API request limits in the simulated AWS: token buckets per account and region for
Elastic Load Balancing, Amazon ECS and CloudWatch, refilled on the sandbox's clock, and an
account of every call for the benchmarks.

A call takes one token from each bucket its operation draws on (an ELB call: the
account-level bucket and its category's); when one of them is empty, nothing is taken and
the call is answered the service's throttling error (faults.py answers it, before moto runs
it: a throttled call changed nothing, as on AWS). Buckets start full and refill
continuously at their rate, by the clock's `now()` deltas — virtual time on a VirtualClock,
never real time. AWS adds its refill tokens once a second; a continuous trickle lets the
same number through on average and never more in any second than capacity + refill.
`scale` multiplies every capacity and refill rate (a tenth of AWS's limits for a test of
throttling; a capacity never drops below one token). Off (`enabled = False`), calls are
still counted but never throttled. `paused()` lets the harness's own set-up (build_stack)
through uncounted: it is the user's infrastructure, not the product's traffic.

`report()` is a read-only LimitsReport: per bucket (and account, region) the requests
made, the requests throttled and the peak — the most requests in any one second of the
clock's time, throttled ones included; per operation, the requests and throttles of every
call of any service, limited or not.

Other services (EC2, S3, Lambda, STS, Application Auto Scaling…) are counted, never
throttled.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cache

from bluegreen.aws_limits import Bucket, bucket_named, buckets_for
from bluegreen.clock import Clock
from bluegreen.sandbox.pausing import Pauses

WINDOW = 1.0  # seconds: the peak is the most requests in any window this long
# Float noise must not cost a token, nor keep a request in a window it left: a clock near
# 1.8e9 s (VirtualClock's start) moves in steps of 2.4e-7 s.
EPSILON = 1e-3  # tokens
NOISE = 1e-6  # seconds

# -- the report ------------------------------------------------------------------------


@dataclass(frozen=True)
class BucketUsage:
    account: str
    region: str
    bucket: Bucket  # as scaled when the report was made
    requests: int  # throttled ones included
    throttled: int
    peak: int  # the most requests in any one second (of the clock's time)


@dataclass(frozen=True)
class OperationUsage:
    service: str  # the signing name
    operation: str
    requests: int
    throttled: int


@dataclass(frozen=True)
class LimitsReport:
    enabled: bool
    scale: float
    buckets: tuple[BucketUsage, ...]
    operations: tuple[OperationUsage, ...]

    def requests(self, service: str | None = None) -> int:
        """Every call (of one service, by its signing name), throttled ones included."""
        return sum(o.requests for o in self.operations if service in (None, o.service))

    def throttled(self, service: str | None = None) -> int:
        return sum(o.throttled for o in self.operations if service in (None, o.service))

    def bucket(self, service: str, name: str) -> BucketUsage:
        """One bucket's usage (summed over accounts and regions: the peak is the highest)."""
        found = [b for b in self.buckets if (b.bucket.service, b.bucket.name) == (service, name)]
        if not found:
            return BucketUsage("", "", Bucket(service, name, 0, 0), 0, 0, 0)
        return BucketUsage(
            found[0].account if len(found) == 1 else "*",
            found[0].region if len(found) == 1 else "*",
            found[0].bucket,
            sum(b.requests for b in found),
            sum(b.throttled for b in found),
            max(b.peak for b in found),
        )

    def lines(self) -> list[str]:
        """A table for a benchmark to print: one line per bucket, then the totals."""
        state = f"on, scale {self.scale:g}" if self.enabled else "off (counted only)"
        out = [
            f"API limits {state}",
            f"{'service':<22}{'bucket':<34}{'burst':>7}{'refill/s':>9}"
            f"{'requests':>10}{'throttled':>10}{'peak/s':>8}",
        ]
        for usage in self.buckets:
            b = usage.bucket
            out.append(
                f"{b.service:<22}{b.name:<34}{b.capacity:>7g}{b.refill:>9g}"
                f"{usage.requests:>10}{usage.throttled:>10}{usage.peak:>8}"
            )
        out.append(f"all calls: {self.requests()}, throttled: {self.throttled()}")
        return out


# -- the buckets -----------------------------------------------------------------------


@dataclass
class _Tokens:
    tokens: float
    updated: float


@dataclass
class _Usage:
    requests: int = 0
    throttled: int = 0
    peak: int = 0
    recent: deque[float] = field(default_factory=deque)

    def add(self, now: float, throttled: bool) -> None:
        self.requests += 1
        self.throttled += throttled
        while self.recent and now - self.recent[0] >= WINDOW - NOISE:
            self.recent.popleft()
        self.recent.append(now)
        self.peak = max(self.peak, len(self.recent))


Key = tuple[str, str, str, str]  # account, region, service, bucket name


class ApiLimits:
    """The token buckets of one simulated AWS, on `clock`. Thread-safe: a sandbox server
    answers from several threads."""

    def __init__(self, clock: Clock, *, scale: float = 1.0, enabled: bool = True) -> None:
        self.clock = clock
        self.enabled = enabled
        self.scale = scale
        self._tokens: dict[Key, _Tokens] = {}
        self._usage: dict[Key, _Usage] = {}
        self._operations: Counter[tuple[str, str, bool]] = Counter()
        self._paused = Pauses()
        self._lock = threading.Lock()

    @property
    def scale(self) -> float:
        return self._scale

    @scale.setter
    def scale(self, value: float) -> None:
        if not value > 0:
            raise ValueError(f"scale multiplies AWS's limits: above 0, not {value}")
        self._scale = value

    def scaled(self, bucket: Bucket) -> Bucket:
        capacity = max(1.0, bucket.capacity * self._scale)
        return Bucket(bucket.service, bucket.name, capacity, bucket.refill * self._scale)

    def admit(self, service: str, operation: str, access_key: str = "", region: str = "") -> bool:
        """Count one call; False when a bucket it draws on is empty (it must be throttled)."""
        buckets = buckets_for(service, operation)
        with self._lock:
            if self._paused:
                return True
            now = self.clock.now()
            account = _account_of(access_key)
            keys = [(account, region, b.service, b.name) for b in buckets]
            tokens = [
                self._refilled(key, self.scaled(b), now)
                for key, b in zip(keys, buckets, strict=True)
            ]
            admitted = not self.enabled or all(t.tokens >= 1 - EPSILON for t in tokens)
            if self.enabled and admitted:
                for t in tokens:
                    t.tokens -= 1
            for key in keys:
                self._usage.setdefault(key, _Usage()).add(now, not admitted)
            self._operations[service, operation, not admitted] += 1
            return admitted

    def _refilled(self, key: Key, bucket: Bucket, now: float) -> _Tokens:
        state = self._tokens.get(key)
        if state is None:
            state = self._tokens[key] = _Tokens(bucket.capacity, now)
        elapsed = max(0.0, now - state.updated)
        state.tokens = min(bucket.capacity, state.tokens + elapsed * bucket.refill)
        state.updated = now
        return state

    def paused(self) -> AbstractContextManager[None]:
        """Calls in the block pass uncounted and take no token."""
        return self._paused.held()

    def reset(self) -> None:
        """Forget the counts (the buckets keep their tokens)."""
        with self._lock:
            self._usage.clear()
            self._operations.clear()

    def refill(self) -> None:
        """Fill every bucket to capacity (and forget nothing)."""
        with self._lock:
            self._tokens.clear()

    def report(self) -> LimitsReport:
        with self._lock:
            usage = sorted(self._usage.items())
            operations = dict(self._operations)
        buckets = tuple(
            BucketUsage(
                account,
                region,
                self.scaled(bucket_named(service, name)),
                u.requests,
                u.throttled,
                u.peak,
            )
            for (account, region, service, name), u in usage
        )
        calls = sorted({(service, op) for service, op, _ in operations})
        per_operation = tuple(
            OperationUsage(
                service,
                op,
                operations.get((service, op, False), 0) + operations.get((service, op, True), 0),
                operations.get((service, op, True), 0),
            )
            for service, op in calls
        )
        return LimitsReport(self.enabled, self._scale, buckets, per_operation)


@cache
def _account_of(access_key: str) -> str:
    """The account moto gives an access key (its default one for any it does not know)."""
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key) if access_key else ""
