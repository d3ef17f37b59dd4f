"""Reads shared for a moment: one answer of a describe serves every caller of the same
Cloud that asks the same question within FRESH_FOR seconds of the injected clock — the
gates, the membership of green's targets, the shifter and the timeline of one deployment
within one poll, and every deployment of a release (one Cloud for all of them).

Rules:
- Only the reads named in `_READ_TAGS` are shared, keyed by service, operation and every
  argument (a page marker too). An error is never kept: the next caller asks AWS again.
- Any other call of those services is a change: it drops, before it is sent and again once
  it is answered (or failed: a timed-out write may have been applied), every kept read of
  a resource it may touch (`_written_tags`). A read that was under way while a change
  began is not kept (a generation counter), so no caller is ever served what AWS showed
  before a change we made. What others change (ECS registering targets, health checks,
  another process) is seen at most FRESH_FOR late.
- Answers are deep-copied in and out: a caller may change what it was given.
- Time is the injected clock's: on a VirtualClock all the reads of one poll share one
  answer, and a run repeats exactly.

Why 1 s: a poll's reads take milliseconds, so they all share; polls of several
deployments landing within the same second share too. And nothing a poll judges changes
faster: ELB checks a target at most every 5 s (HealthCheckIntervalSeconds ≥ 5), a
CloudWatch alarm is evaluated every 10 s at the most, ECS starts a task in seconds. The
default poll (5 s) is five times longer; a poll_interval set under 1 s is answered by
reads up to 1 s old.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bluegreen.clock import Clock

T = TypeVar("T")

FRESH_FOR = 1.0  # seconds an answer serves every caller asking the same
PRUNE_ABOVE = 256  # kept answers: past this many, the expired ones are let go

READ_ONLY_PREFIXES = ("Describe", "List", "Get")
ALL = "*"  # a written tag "kind:*" drops every read of that kind


def _lb_of(arn: str) -> str:
    """The load balancer an ELB listener, rule or load balancer ARN belongs to:
    …:listener-rule/app/NAME/LBID/LID/RID → app/NAME/LBID."""
    resource = arn.rsplit(":", 1)[-1]
    parts = resource.split("/")
    return "/".join(parts[1:4]) if len(parts) >= 4 else resource


def _lb_tags(kwargs: Mapping[str, Any]) -> frozenset[str]:
    arns: list[str] = []
    for key in ("ListenerArns", "RuleArns", "LoadBalancerArns"):
        arns += list(kwargs.get(key) or [])
    for key in ("ListenerArn", "LoadBalancerArn"):
        if kwargs.get(key):
            arns.append(kwargs[key])
    return frozenset(f"lb:{_lb_of(a)}" for a in arns) or frozenset({"lb:any"})


_READ_TAGS: dict[tuple[str, str], Callable[[Mapping[str, Any]], frozenset[str]]] = {
    ("elbv2", "DescribeTargetHealth"): lambda kw: frozenset({f"health:{kw['TargetGroupArn']}"}),
    ("elbv2", "DescribeTargetGroupAttributes"): lambda kw: frozenset(
        {f"attributes:{kw['TargetGroupArn']}"}
    ),
    ("elbv2", "DescribeListeners"): _lb_tags,
    ("elbv2", "DescribeRules"): _lb_tags,
    ("elbv2", "DescribeLoadBalancers"): _lb_tags,
    # a target group's LoadBalancerArns follow the listeners that forward to it
    ("elbv2", "DescribeTargetGroups"): lambda kw: frozenset({"groups:all"}),
    ("elbv2", "DescribeTags"): lambda kw: frozenset({"groups:all"}),
    ("ecs", "DescribeTaskSets"): lambda kw: frozenset({"ecs:all"}),
    ("ecs", "DescribeTaskDefinition"): lambda kw: frozenset({"ecs:all"}),
    # Not DescribeServices: green is sized by blue's service's desired count read when it is
    # brought up (engine/scaling_hold.py), which an auto scaling action or a person may have
    # changed since the preflight a moment before; it is read once a deployment or so.
    # Not ListTasks nor DescribeTasks: green's tasks are read when a target appeared that
    # the last read did not explain (engine/green_targets.py); an answer from before that
    # target was registered would call it a stray. They are read rarely anyway.
}
_ELBV2_KINDS = ("health", "attributes", "lb", "groups")


def _written_tags(service: str, operation: str, kwargs: Mapping[str, Any]) -> frozenset[str]:
    """The kept reads a change may make stale."""
    if service == "ecs":
        # Task sets, services and task definitions; and ECS registers and deregisters the
        # targets of the tasks it starts and stops.
        return frozenset({"ecs:*", "health:*"})
    if service == "application-autoscaling":
        # A scalable target's change (the hold, its restoration) may move the service's
        # desired count at once: green is sized from the service read after it.
        return frozenset({"ecs:*"})
    if service != "elbv2":
        return frozenset()
    if operation in ("ModifyListener", "ModifyRule"):
        # Its load balancer's routes; which groups it uses (their LoadBalancerArns); and a
        # group a route starts or stops forwarding to changes health (Target.NotInUse).
        arn = kwargs.get("ListenerArn") or kwargs.get("RuleArn") or ""
        return frozenset({f"lb:{_lb_of(arn)}", "lb:any", "groups:*", "health:*"})
    if operation in ("RegisterTargets", "DeregisterTargets"):
        return frozenset({f"health:{kwargs.get('TargetGroupArn', '')}"})
    if operation == "ModifyTargetGroupAttributes":
        arn = kwargs.get("TargetGroupArn", "")
        return frozenset({f"attributes:{arn}", f"health:{arn}"})
    return frozenset(f"{kind}:*" for kind in _ELBV2_KINDS)  # anything else: all of ELB


def _stale(kept: frozenset[str], written: frozenset[str]) -> bool:
    return any(tag in written or f"{tag.split(':', 1)[0]}:{ALL}" in written for tag in kept)


@dataclass(frozen=True)
class _Kept:
    at: float
    tags: frozenset[str]
    answer: Any


class FreshReads:
    """The reads of one Cloud, kept FRESH_FOR seconds; thread-safe."""

    def __init__(self, clock: Clock, fresh_for: float = FRESH_FOR) -> None:
        self.clock = clock
        self.fresh_for = fresh_for
        self._kept: dict[str, _Kept] = {}
        self._generation = 0  # +1 whenever a change begins or ends
        self._lock = threading.Lock()

    def call(
        self, service: str, operation: str, kwargs: Mapping[str, Any], fetch: Callable[[], T]
    ) -> T:
        """`fetch()`'s answer, or a fresh one kept from an earlier identical read; a change
        drops what it may make stale."""
        tags_of = _READ_TAGS.get((service, operation))
        if tags_of is not None:
            return self._read(f"{service} {operation} {_key(kwargs)}", tags_of(kwargs), fetch)
        if operation.startswith(READ_ONLY_PREFIXES):
            return fetch()
        written = _written_tags(service, operation, kwargs)
        if not written:
            return fetch()
        self._drop(written)
        try:
            return fetch()
        finally:
            self._drop(written)

    def _read(self, key: str, tags: frozenset[str], fetch: Callable[[], T]) -> T:
        with self._lock:
            kept = self._kept.get(key)
            generation = self._generation
        now = self.clock.now()
        if kept is not None and 0 <= now - kept.at < self.fresh_for:
            answer: T = copy.deepcopy(kept.answer)
            return answer
        answer = fetch()
        with self._lock:
            if self._generation == generation:  # no change began or ended meanwhile
                self._kept[key] = _Kept(self.clock.now(), tags, copy.deepcopy(answer))
            if len(self._kept) > PRUNE_ABOVE:
                self._kept = self._fresh(self._kept, frozenset())
        return answer

    def _drop(self, written: frozenset[str]) -> None:
        with self._lock:
            self._generation += 1
            self._kept = self._fresh(self._kept, written)

    def _fresh(self, kept: dict[str, _Kept], written: frozenset[str]) -> dict[str, _Kept]:
        """What stays kept: still fresh, and not made stale by `written`."""
        now = self.clock.now()
        return {
            key: one
            for key, one in kept.items()
            if 0 <= now - one.at < self.fresh_for and not _stale(one.tags, written)
        }

    def forget(self) -> None:
        """Drop everything kept (the next read of anything asks AWS)."""
        with self._lock:
            self._generation += 1
            self._kept.clear()


def _key(kwargs: Mapping[str, Any]) -> str:
    return repr(sorted(kwargs.items()))
