"""Watching the simulated AWS from the inside, for tests that judge a whole run — several
processes, a kill, a resume — by what AWS went through rather than where it ended.

    observer = Observer(server.sandbox).install()   # once the world is built
    … run `bluegreen` processes against the server …
    assert observer.violations() == []
    observer.uninstall()

It records, in the sandbox's virtual time:
- every change of a listener's default action or a rule's actions (ModifyListener,
  ModifyRule), with the weights the route forwards now and how many healthy targets each of
  those target groups has at that moment (as DescribeTargetHealth would answer);
- on every clock tick, each moment a listener or rule starts forwarding weight to a target
  group that has no healthy target (an exposure), whatever caused it: a shift, a deleted
  task set, a target turning unhealthy;
- every ECS change a deployment makes (RegisterTaskDefinition, CreateTaskSet,
  UpdateServicePrimaryTaskSet, DeleteTaskSet), with the ARN it concerns;
- every S3 object written or deleted (a deployment record, the lock, a promote or rollback
  request), with its body;
- given `together` (the routes one deployment moves: its listeners and rules), on every
  clock tick each moment they stop forwarding the same weights (a split), unless
  `excused()` says the tick belongs to a write still in progress — the caller's definition,
  e.g. "the latest call was refused and is being retried" (Faults.last_error).

`violations()` names every weight change to, and every exposure of, a target group without
a healthy target: the product's promise "never shifts traffic to a target group that has no healthy
target", checked across a whole run instead of at its end; and every split of `together`.

Rules:
- moto's backend classes are wrapped (as the ECS simulator wraps ECS's), so the observer
  sees every call whichever process made it; in server mode it runs under the world lock and
  sees the world as the call left it. It only reads (health as DescribeTargetHealth reads it).
- One observer is active per process (moto's state is global). Install it after the
  sandbox's simulators and uninstall it before them: it wraps their wrappers. On a server,
  do both holding `server.lock`.
- Only modifications are recorded, not CreateListener/CreateRule: a stack under construction
  forwards to target groups before their first targets are healthy, by design.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from moto.ecs.models import EC2ContainerServiceBackend
from moto.elbv2.models import ELBv2Backend
from moto.s3.models import S3Backend

from bluegreen.sandbox.world import Sandbox

ECS_CHANGES = (
    "register_task_definition",
    "create_task_set",
    "update_service_primary_task_set",
    "delete_task_set",
)

_wrapped: dict[tuple[type, str], tuple[Callable[..., Any], Callable[..., Any]]] = {}
_active: Observer | None = None


@dataclass(frozen=True)
class WeightChange:
    """A route's forward weights as one call left them, and its target groups' health."""

    at: float
    route: str  # the listener ARN (its default action) or the rule ARN
    weights: Mapping[str, int]  # target group ARN → weight
    healthy: Mapping[str, int]  # target group ARN → healthy targets at that moment

    @property
    def without_healthy_target(self) -> tuple[str, ...]:
        """The target groups given weight while they had no healthy target."""
        return tuple(g for g, w in self.weights.items() if w > 0 and not self.healthy.get(g))


@dataclass(frozen=True)
class Exposure:
    """From `at` (a clock tick) on, `route` forwarded `weight` to a target group with no
    healthy target."""

    at: float
    route: str
    target_group: str
    weight: int


@dataclass(frozen=True)
class Split:
    """From `at` (a clock tick) on, routes that move together forwarded different weights."""

    at: float
    weights: Mapping[str, Mapping[str, int]]  # route → target group ARN → weight


@dataclass(frozen=True)
class EcsChange:
    at: float
    call: str  # the backend method: "create_task_set", "delete_task_set", …
    arn: str  # the task definition or task set it made or changed
    target_groups: tuple[str, ...] = ()  # a task set's


@dataclass(frozen=True)
class ObjectChange:
    at: float
    action: Literal["put", "delete"]
    bucket: str
    key: str
    body: bytes | None  # None for a delete


class Observer:
    """What happened to `sandbox`'s world while installed (see the module docstring)."""

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        together: Sequence[str] = (),
        excused: Callable[[], bool] = lambda: False,
    ) -> None:
        self.sandbox = sandbox
        self.together = tuple(together)
        self.excused = excused
        self._lock = threading.Lock()  # the test reads while the server's threads record
        self._weight_changes: list[WeightChange] = []
        self._exposures: list[Exposure] = []
        self._ecs_changes: list[EcsChange] = []
        self._objects: list[ObjectChange] = []
        self._exposed: set[tuple[str, str]] = set()  # (route, target group) exposed now
        self._splits: list[Split] = []
        self._split_now = False

    # -- what was seen ---------------------------------------------------------------------

    @property
    def weight_changes(self) -> list[WeightChange]:
        with self._lock:
            return list(self._weight_changes)

    @property
    def exposures(self) -> list[Exposure]:
        with self._lock:
            return list(self._exposures)

    @property
    def splits(self) -> list[Split]:
        with self._lock:
            return list(self._splits)

    @property
    def ecs_changes(self) -> list[EcsChange]:
        with self._lock:
            return list(self._ecs_changes)

    @property
    def objects(self) -> list[ObjectChange]:
        with self._lock:
            return list(self._objects)

    def violations(self) -> list[str]:
        """Every weight given to, or kept on, a target group without a healthy target."""
        found = [
            f"at {c.at:.1f}: {c.route} was set to send {c.weights[g]} weight to {g}, "
            "which had no healthy target"
            for c in self.weight_changes
            for g in c.without_healthy_target
        ]
        found += [
            f"at {e.at:.1f}: {e.route} sent {e.weight} weight to {e.target_group}, "
            "which had no healthy target left"
            for e in self.exposures
        ]
        found += [
            f"at {s.at:.1f}: routes that move together disagreed: {dict(s.weights)}"
            for s in self.splits
        ]
        return found

    # -- installing ------------------------------------------------------------------------

    def install(self) -> Observer:
        global _active
        if _active is not None:
            raise RuntimeError("an Observer is already installed in this process")
        _wrap(ELBv2Backend, "modify_listener", _after_route_change)
        _wrap(ELBv2Backend, "modify_rule", _after_route_change)
        for name in ECS_CHANGES:
            _wrap(EC2ContainerServiceBackend, name, _after_ecs_change)
        _wrap(S3Backend, "put_object", _after_put)
        _wrap(S3Backend, "delete_object", _after_delete)
        self.sandbox.on_tick(self._on_tick)
        _active = self
        return self

    def uninstall(self) -> None:
        global _active
        if _active is not self:
            return
        for (owner, name), (original, wrapper) in _wrapped.items():
            if getattr(owner, name) is wrapper:  # not replaced since: put back what we found
                setattr(owner, name, original)
        _wrapped.clear()
        self.sandbox.remove_tick(self._on_tick)
        _active = None

    def __enter__(self) -> Observer:
        return self.install()

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()

    # -- recording (called from moto's calls and the clock's ticks) ------------------------

    def record_route(self, route: str, actions: list[Any]) -> None:
        weights = _forward_weights(actions)
        healthy = {arn: self._healthy(arn) for arn in weights}
        self._append(self._weight_changes, WeightChange(self._now(), route, weights, healthy))

    def record_ecs(self, call: str, arn: str, target_groups: tuple[str, ...]) -> None:
        self._append(self._ecs_changes, EcsChange(self._now(), call, arn, target_groups))

    def record_object(
        self, action: Literal["put", "delete"], bucket: str, key: str, body: bytes | None
    ) -> None:
        self._append(self._objects, ObjectChange(self._now(), action, bucket, key, body))

    def _on_tick(self, now: float) -> None:
        exposed: dict[tuple[str, str], int] = {}
        weights = route_weights(self.sandbox)
        for route in weights:
            for arn, weight in weights[route].items():
                if weight > 0 and not self._healthy(arn):
                    exposed[route, arn] = weight
        with self._lock:
            for (route, arn), weight in exposed.items():
                if (route, arn) not in self._exposed:
                    self._exposures.append(Exposure(now, route, arn, weight))
            self._exposed = set(exposed)
        self._check_together(now, weights)

    def _check_together(self, now: float, weights: Mapping[str, dict[str, int]]) -> None:
        moving = {route: weights.get(route, {}) for route in self.together}
        split = len({tuple(sorted(w.items())) for w in moving.values()}) > 1
        split = split and not self.excused()
        with self._lock:
            if split and not self._split_now:  # once per split, not once per tick
                self._splits.append(Split(now, moving))
            self._split_now = split

    def _healthy(self, target_group_arn: str) -> int:
        backend = self.sandbox.elbv2()
        if target_group_arn not in backend.target_groups:
            return 0
        answers = backend.describe_target_health(target_group_arn, [])
        return sum(1 for answer in answers if answer.status == "healthy")

    def _now(self) -> float:
        return self.sandbox.clock.now()

    def _append(self, found: list[Any], item: Any) -> None:
        with self._lock:
            found.append(item)


# -- moto's backends, wrapped ------------------------------------------------------------------

After = Callable[[Observer, Any, str, Mapping[str, Any], Any], None]


def _wrap(owner: type, name: str, after: After) -> None:
    """`owner.name` calls `after(observer, backend, name, arguments by name, result)` once
    it returned, while an observer is active."""
    original: Callable[..., Any] = getattr(owner, name)
    signature = inspect.signature(original)

    @functools.wraps(original)
    def call(backend: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(backend, *args, **kwargs)
        observer = _active
        if observer is not None:
            arguments = signature.bind(backend, *args, **kwargs).arguments
            after(observer, backend, name, arguments, result)
        return result

    _wrapped[owner, name] = (original, call)
    setattr(owner, name, call)


def _after_route_change(
    observer: Observer, backend: Any, name: str, arguments: Mapping[str, Any], result: Any
) -> None:
    if backend is not observer.sandbox.elbv2():
        return
    # modify_listener returns the listener, modify_rule the rule: each carries its actions.
    actions = getattr(result, "default_actions", None)
    if actions is None:
        actions = getattr(result, "actions", [])
    observer.record_route(result.arn, list(actions))


def _after_ecs_change(
    observer: Observer, backend: Any, name: str, arguments: Mapping[str, Any], result: Any
) -> None:
    if backend is not observer.sandbox.ecs():
        return
    arn = getattr(result, "task_set_arn", None) or getattr(result, "arn", "")
    groups = tuple(b["targetGroupArn"] for b in getattr(result, "load_balancers", None) or [])
    observer.record_ecs(name, str(arn), groups)


def _after_put(
    observer: Observer, backend: Any, name: str, arguments: Mapping[str, Any], result: Any
) -> None:
    value = arguments.get("value")
    body = bytes(value) if isinstance(value, bytes | bytearray) else None
    observer.record_object("put", arguments["bucket_name"], arguments["key_name"], body)


def _after_delete(
    observer: Observer, backend: Any, name: str, arguments: Mapping[str, Any], result: Any
) -> None:
    observer.record_object("delete", arguments["bucket_name"], arguments["key_name"], None)


# -- reading moto's models ---------------------------------------------------------------------


def route_weights(sandbox: Sandbox) -> dict[str, dict[str, int]]:
    """Route ARN → target group ARN → weight, for every listener and rule, read from moto
    directly: no API call, no injected fault."""
    return {route: _forward_weights(actions) for route, actions in _routes(sandbox.elbv2())}


def _routes(backend: Any) -> Iterator[tuple[str, list[Any]]]:
    """(route ARN, actions) of every listener's default action and every rule."""
    for balancer in backend.load_balancers.values():
        for listener in balancer.listeners.values():
            yield listener.arn, list(listener.default_actions)
            for rule in listener.rules.values():
                if not rule.is_default:  # the default rule is the listener's default action
                    yield rule.arn, list(rule.actions)


def _forward_weights(actions: list[Any]) -> dict[str, int]:
    """Target group ARN → weight over a route's forward actions (a plain forward: 1)."""
    weights: dict[str, int] = {}
    for action in actions:
        data: Mapping[str, Any] = getattr(action, "data", None) or {}
        if data.get("Type") != "forward":
            continue
        groups = (data.get("ForwardConfig") or {}).get("TargetGroups") or []
        if not groups and data.get("TargetGroupArn"):
            groups = [{"TargetGroupArn": data["TargetGroupArn"], "Weight": 1}]
        for group in groups:
            arn = str(group["TargetGroupArn"])
            weights[arn] = weights.get(arn, 0) + int(group.get("Weight", 1))
    return weights
