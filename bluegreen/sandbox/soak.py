"""A fault soak on the simulated AWS: deployment after deployment, good and broken images
taking turns, with throttling and server errors injected into the ELB and ECS calls — each
run judged by what AWS went through, not only by where it ended.

    report = run_soak(deployments=100, seed=1)
    report.ok   # every rule below held

The rules:
- every deployment ends as `bluegreen deploy` would exit 0 (succeeded) or 1 (failed and
  rolled back, or stopped before changing anything): never 2, 3 or 4, never a traceback
  (an exception outside bluegreen.errors), never a hang (more than HANG_AFTER of virtual
  time);
- no weight is given to, or kept on, a target group without a healthy target (the
  observer, observe.py, on every write and every clock tick);
- the deployment's routes (both listeners and the /api* rule) forward the same weights at
  every tick, except at the end of a retry's back-off (the latest call was refused, and
  the clock moved by no more than a back-off): a write still under way;
- after every deployment, every route sends 100 % to one colour, and the service has
  exactly one task set: PRIMARY, on that colour.

Broken images take turns: a health check answered 404 (the app serves only /api), health
checks timing out, and 50 % of requests answered 5xx (healthy, so traffic moves; the green
target group's alarm then rolls it back). The draws of the faults and the simulators come
from `seed`: a run repeats exactly.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bluegreen.aws import connect
from bluegreen.aws.retry import MAX_WAIT
from bluegreen.config import parse_config, route_refs
from bluegreen.deployer import Deployer, DeploymentResult
from bluegreen.errors import BluegreenError
from bluegreen.sandbox.core import in_process
from bluegreen.sandbox.faults import Faults
from bluegreen.sandbox.observe import Observer, route_weights
from bluegreen.sandbox.stack import SandboxStack, build_stack
from bluegreen.sandbox.world import AppModel, Sandbox

IMAGE = "public.ecr.aws/bluegreen/soak-web"
BROKEN = (
    AppModel(serves=("/api",)),  # health check on /health: 404
    AppModel(hangs=True),  # health checks time out
    AppModel(error_rate=0.5),  # healthy, but half the requests fail: the alarm fires
    AppModel(exits_after=3.0, exit_code=1),  # its tasks keep stopping and being replaced
)
FAULTED_SERVICES = ("elasticloadbalancing", "ecs")  # signing names
HANG_AFTER = 4 * 3600.0  # virtual seconds; a deployment here takes about ten minutes
# Between two deployments, as between two pipeline runs: a rolled-back green's alarm goes
# back to OK (no traffic, missing data not breaching) before the next one shifts to it.
PAUSE_BETWEEN = 300.0
SETTINGS: dict[str, Any] = {
    "strategy": {"type": "canary", "percent": 20, "bake": "1m"},
    "health": {"timeout": "3m", "poll_interval": "5s"},
}
GATES: dict[str, Any] = {"bake_after_shift": "1m", "termination_wait": "30s"}


class Hang(BaseException):
    """Raised from the clock when a deployment runs past HANG_AFTER. A BaseException, so
    the engine's failure handling (which catches Exception) cannot turn it into a rollback."""


@dataclass(frozen=True)
class Outcome:
    number: int
    image: str
    broken: bool
    exit_code: int | None  # None: a traceback or a hang
    outcome: str  # succeeded, rolled_back, … or "traceback", "hang"
    reason: str | None
    virtual_seconds: float

    @property
    def expected(self) -> bool:
        return self.outcome == ("rolled_back" if self.broken else "succeeded")


@dataclass
class SoakReport:
    seed: int
    outcomes: list[Outcome] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)  # task sets / routes not at rest
    aws_calls: int = 0
    faults_injected: int = 0
    real_seconds: float = 0.0
    virtual_seconds: float = 0.0

    @property
    def succeeded(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.exit_code == 0]

    @property
    def rolled_back(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.exit_code == 1 and o.outcome == "rolled_back"]

    @property
    def stopped(self) -> list[Outcome]:
        """Exit 1 before anything changed (AWS failing through every retry in preflight)."""
        return [o for o in self.outcomes if o.exit_code == 1 and o.outcome == "stopped"]

    @property
    def other(self) -> list[Outcome]:
        """Anything else: exit 2, 3 or 4, a traceback, a hang."""
        fine = self.succeeded + self.rolled_back + self.stopped
        return [o for o in self.outcomes if o not in fine]

    @property
    def unexpected(self) -> list[Outcome]:
        """A good image rolled back or a broken one succeeding: allowed (a call can fail
        for good under these faults), but worth reading."""
        return [o for o in self.outcomes if o.exit_code in (0, 1) and not o.expected]

    @property
    def ok(self) -> bool:
        return not self.other and not self.violations and not self.leftovers

    def summary(self) -> list[str]:
        lines = [
            f"deployments          {len(self.outcomes)} (seed {self.seed})",
            f"succeeded            {len(self.succeeded)}",
            f"rolled back          {len(self.rolled_back)}",
            f"stopped, no change   {len(self.stopped)} (exit 1 in preflight)",
            f"other outcomes       {len(self.other)} (exit 2/3/4, traceback, hang)",
            f"unexpected           {len(self.unexpected)} (a good image rolled back or "
            "stopped, or a broken one succeeding: allowed, listed below)",
            f"invariant violations {len(self.violations)}",
            f"leftover task sets   {len(self.leftovers)}",
            f"AWS calls made       {self.aws_calls}",
            f"faults injected      {self.faults_injected}",
            f"real seconds         {self.real_seconds:.1f}",
            f"virtual seconds      {self.virtual_seconds:.0f}",
        ]
        for o in self.other + [o for o in self.unexpected if o not in self.other]:
            lines.append(
                f"  #{o.number} {'broken' if o.broken else 'good'} {o.image}: {o.outcome} "
                f"(exit {o.exit_code}): {o.reason}"
            )
        lines += [f"  violation: {v}" for v in self.violations]
        lines += [f"  leftover: {v}" for v in self.leftovers]
        return lines


def run_soak(
    deployments: int = 100,
    seed: int = 0,
    *,
    throttle: float = 0.2,
    server_errors: float = 0.05,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> SoakReport:
    """`deployments` deployments on one stack, odd-numbered ones good, even-numbered ones
    broken; `throttle` and `server_errors` are the fractions of ELB and ECS calls answered
    with throttling and with a 500 or 503."""
    report = SoakReport(seed=seed)
    started = time.perf_counter()
    sandbox = Sandbox(seed=seed)
    with in_process(sandbox), tempfile.TemporaryDirectory() as folder:
        stack = build_stack(sandbox, api_rule=True)
        # Made before the faults are injected (CloudWatch is never faulted here anyway).
        alarms = [
            stack.add_5xx_alarm(f"{arn.split('/')[-2]}-5xx", arn) for arn in _target_groups(stack)
        ]
        data = stack.config(**SETTINGS, gates={**GATES, "alarms": alarms})
        config = parse_config(data, source=Path(folder) / "bluegreen.toml")
        cloud = connect(clock=sandbox.clock)  # one for the run: its calls are counted
        faults = _inject(sandbox.faults, throttle, server_errors)
        routes = [ref.arn for ref in route_refs(config)]
        virtual_start = sandbox.clock.now()
        backoffs = BackOffs(sandbox, faults)
        with Observer(sandbox, together=routes, excused=backoffs.excused) as seen:
            sandbox.on_tick(backoffs.tick)  # after the observer's: it reads the tick before
            for number in range(1, deployments + 1):
                deployer = Deployer(config, cloud=cloud, clock=sandbox.clock)
                outcome = _one_deployment(sandbox, deployer, number)
                report.outcomes.append(outcome)
                report.leftovers += [
                    f"after #{number}: {problem}" for problem in not_at_rest(sandbox, stack)
                ]
                if on_outcome:
                    on_outcome(outcome)
                if outcome.outcome == "hang":
                    break  # it is still in flight: every later deployment would be refused
                sandbox.clock.sleep(PAUSE_BETWEEN)
            report.violations = seen.violations()
        report.aws_calls = len(cloud.calls)
        report.faults_injected = sum(faults.injected.values())
        report.virtual_seconds = sandbox.clock.now() - virtual_start
    report.real_seconds = time.perf_counter() - started
    return report


class BackOffs:
    """Tells a tick that ends a retry's back-off — the latest call was refused and the clock
    moved by at most one back-off since the tick before — from any other. Its `tick` must
    run after the observer's (register it after installing the observer)."""

    def __init__(self, sandbox: Sandbox, faults: Faults) -> None:
        self.clock, self.faults = sandbox.clock, faults
        self.last_tick = sandbox.clock.now()

    def tick(self, now: float) -> None:
        self.last_tick = now

    def excused(self) -> bool:
        moved = self.clock.now() - self.last_tick
        return self.faults.last_error is not None and moved <= MAX_WAIT


def _inject(faults: Faults, throttle: float, server_errors: float) -> Faults:
    """`throttle` of the ELB and ECS calls throttled, `server_errors` answered 500 or 503
    (half each). A rule draws only for the calls the rules before it let through, so each
    fraction is scaled to be a fraction of all calls."""
    left = 1.0 - throttle
    half = server_errors / 2
    for service in FAULTED_SERVICES:
        faults.throttle(None, throttle, service=service)
        faults.fail(None, half / left, status=500, service=service)
        faults.fail(None, half / (left - half), status=503, service=service)
    return faults


def _one_deployment(sandbox: Sandbox, deployer: Deployer, number: int) -> Outcome:
    broken = number % 2 == 0
    image = f"{IMAGE}:{number}.0.0"
    if broken:
        sandbox.apps[image] = BROKEN[(number // 2 - 1) % len(BROKEN)]
    started = sandbox.clock.now()

    def judge(exit_code: int | None, outcome: str, reason: str | None) -> Outcome:
        took = sandbox.clock.now() - started
        return Outcome(number, image, broken, exit_code, outcome, reason, took)

    with _hang_guard(sandbox, started + HANG_AFTER):
        try:
            result = deployer.deploy({"web": image})
            return judge(result.exit_code, result.outcome, result.reason)
        except BluegreenError as exc:  # what the CLI prints, with its exit code
            done = getattr(exc, "result", None)
            outcome = done.outcome if isinstance(done, DeploymentResult) else type(exc).__name__
            return judge(exc.exit_code, outcome, exc.message)
        except Exception:  # the CLI would die with a traceback
            return judge(None, "traceback", traceback.format_exc())
        except Hang:
            return judge(None, "hang", f"still running after {HANG_AFTER:g} virtual seconds")


@contextmanager
def _hang_guard(sandbox: Sandbox, deadline: float) -> Iterator[None]:
    def check(now: float) -> None:
        if now > deadline:
            raise Hang()

    sandbox.on_tick(check)
    try:
        yield
    finally:
        sandbox.remove_tick(check)


def not_at_rest(sandbox: Sandbox, stack: SandboxStack) -> list[str]:
    """What is not as a finished deployment leaves it: every route 100 % on one colour,
    and one task set, PRIMARY, on that colour. Read from moto: no call, no fault."""
    problems: list[str] = []
    weights = route_weights(sandbox)
    live = {
        tuple(sorted(g for g, w in weights[route].items() if w > 0))
        for route in (stack.http_listener_arn, stack.https_listener_arn, stack.api_rule_arn)
        if route
    }
    if len(live) != 1 or len(next(iter(live))) != 1:
        problems.append(f"routes not all on one colour: {sorted(live)}")
    task_sets = sandbox.ecs().describe_task_sets(stack.cluster, stack.service, [])
    found = [
        (ts.status, tuple(lb["targetGroupArn"] for lb in ts.load_balancers)) for ts in task_sets
    ]
    on_live = [("PRIMARY", colour) for colour in live]
    if found != on_live:
        problems.append(f"task sets {found}, expected one PRIMARY on {sorted(live)}")
    return problems


def _target_groups(stack: SandboxStack) -> tuple[str, str]:
    return stack.blue_tg_arn, stack.green_tg_arn
