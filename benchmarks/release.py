"""Benchmark: releases of many services on the simulated AWS, with AWS's API limits on.

    python benchmarks/release.py [--sizes 1,5,20,50] [--failing 20] [--share F] [--poll S]
        [--kill-sweep 3]

For each size: real and virtual seconds, virtual time against a release of one service
(the goal: at most 1.2× for 20), the AWS calls per poll per service, the throttling errors
AWS answered (each one retried by bluegreen), the seconds calls waited within bluegreen's
own share (summed over calls), and each bucket's busiest second against its size.
`--failing N`: a release of N services where one turns unhealthy at the second stage:
virtual seconds from its failing verdict until every service's routes are back on blue.
`--share F`: the share of AWS's API limits bluegreen keeps to (the product's default:
aws/pacer.py SHARE). `--poll S`: every service's health.poll_interval (5).
`--kill-sweep N`: a release of N services killed at every event of
every service in turn, then resumed, and again rolled back: the kill points and how each
ended (all green, all blue — anything else is a failure). Needs nothing but the package.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from bluegreen.aws import pacer
from bluegreen.cli.logs import configure_logging
from bluegreen.errors import BluegreenError
from bluegreen.record import Event
from bluegreen.release import Release, ReleaseResult
from bluegreen.sandbox import AppModel, Sandbox, in_process
from bluegreen.sandbox.release_stack import build_release_stacks, write_release_file
from bluegreen.turns import TurnClock

POLL = 5.0  # health.poll_interval; --poll changes it
TICK_EVERY = 1.0  # the simulated world moves once per virtual second (Sandbox.tick_every)


def config() -> dict[str, Any]:
    return {
        "health": {"timeout": "10m", "poll_interval": f"{POLL:g}s"},
        "gates": {"bake_after_shift": "2m", "termination_wait": "1m"},
    }


STRATEGY = {
    "type": "steps",
    "steps": [{"weight": 10, "bake": "2m"}, {"weight": 50, "bake": "2m"}, {"weight": 100}],
}
BROKEN = "public.ecr.aws/bluegreen/demo-web:2.0.1-crashes"
CRASHES_AFTER = 190.0  # a task's seconds: its service fails in the second stage's bake


@dataclass
class Run:
    services: int
    real: float
    virtual: float
    calls: Counter[str]
    limits: Any  # bluegreen.sandbox.api_limits.LimitsReport
    paced: float  # virtual seconds calls waited for a token (aws/pacer.py), summed over calls
    result: ReleaseResult | None
    events: list[tuple[str, Event]]

    @property
    def calls_per_poll_per_service(self) -> float:
        return sum(self.calls.values()) / self.services / (self.virtual / POLL)


def one_release(services: int, *, failing: bool = False) -> Run:
    sandbox = Sandbox(tick_every=TICK_EVERY)
    names = [f"svc{n:02d}" for n in range(services)]
    with in_process(sandbox), tempfile.TemporaryDirectory() as folder:
        build_release_stacks(sandbox, Path(folder), names, **config())
        broken = [{"name": names[-1], "images": {"web": BROKEN}}] if failing else []
        sandbox.apps[BROKEN] = AppModel(crashes_after=CRASHES_AFTER)
        path = write_release_file(Path(folder), names, broken, strategy=STRATEGY)
        release = Release.from_file(path, clock=sandbox.clock)
        cloud = release._shared_cloud()
        cloud.calls.clear()  # type: ignore[attr-defined]
        sandbox.api_limits.reset()
        events: list[tuple[str, Event]] = []
        started_real, started_virtual = time.perf_counter(), sandbox.clock.now()
        try:
            result: ReleaseResult | None = release.run(on_event=lambda n, e: events.append((n, e)))
        except BluegreenError as exc:
            result = getattr(exc, "result", None)
        return Run(
            services,
            time.perf_counter() - started_real,
            sandbox.clock.now() - started_virtual,
            Counter(cloud.calls),  # type: ignore[attr-defined]
            sandbox.api_limits.report(),
            cloud.pacer.waited,  # type: ignore[attr-defined]
            result,
            events,
        )


def back_on_blue_seconds(run: Run) -> float:
    """From the failing verdict to the last service's routes back on blue."""
    failed_at = min(e.at for _, e in run.events if e.message.startswith("entered ROLLING_BACK"))
    back = [e.at for _, e in run.events if e.message.startswith("production traffic back on blue")]
    assert len(back) == run.services, "every service's routes went back to blue"
    return max(back) - failed_at


def sizes(args: argparse.Namespace) -> None:
    runs = [one_release(n) for n in args.sizes]
    base = runs[0].virtual
    print(
        "services  real s  virtual s  × one  calls  calls/poll/service  throttled  paced s  outcome"
    )
    for run in runs:
        outcome = run.result.state.value if run.result else "error"
        if run.result and run.result.record.failed_member:
            outcome += f" ({run.result.record.failed_member}: {run.result.record.reason})"
        print(
            f"{run.services:>8}  {run.real:>6.1f}  {run.virtual:>9.0f}  {run.virtual / base:>5.2f}"
            f"  {sum(run.calls.values()):>5}  {run.calls_per_poll_per_service:>18.2f}"
            f"  {run.limits.throttled():>9}  {run.paced:>7.0f}  {outcome}"
        )
    for run in runs:
        print(f"\nbuckets, {run.services} services (busiest second / size, throttled):")
        for usage in run.limits.buckets:
            if usage.requests:
                print(
                    f"  {usage.bucket.service:<22} {usage.bucket.name:<26}"
                    f" {usage.peak:>4} / {usage.bucket.capacity:<6g} {usage.throttled:>6}"
                )


def failing(services: int) -> None:
    run = one_release(services, failing=True)
    assert run.result is not None
    print(
        f"\n{services} services, one failing at stage 2: {run.result.state.value} "
        f"({run.result.record.failed_member}); every route back on blue "
        f"{back_on_blue_seconds(run):.0f} virtual s after the failing verdict "
        f"(real {run.real:.1f}s; throttled {run.limits.throttled()})\n  its reason: "
        f"{run.result.record.reason}"
    )


class Crash(BaseException):
    """The process dies: nothing of ours catches it."""


def kill_sweep(services: int) -> None:
    """Kill at every event of a clean run, then resume; and again, then roll back."""
    points = [(n, e.message) for n, e in one_release(services).events]
    outcomes: Counter[str] = Counter()
    for index in range(len(points)):
        for verb in ("resume", "rollback"):
            outcomes[f"{verb}: {killed_then(services, index, verb)}"] += 1
    print(f"\nkill sweep, {services} services: {len(points)} kill points × resume, rollback")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome:<48} {count}")


def killed_then(services: int, kill_at: int, verb: str) -> str:
    sandbox = Sandbox(tick_every=TICK_EVERY)
    names = [f"svc{n:02d}" for n in range(services)]
    with in_process(sandbox), tempfile.TemporaryDirectory() as folder:
        build_release_stacks(sandbox, Path(folder), names, **config())
        path = write_release_file(Path(folder), names, strategy=STRATEGY)
        seen = 0
        dead = False
        sleep = TurnClock.sleep

        def on_event(_: str, __: Event) -> None:
            nonlocal seen, dead
            seen += 1
            if dead or seen > kill_at:
                dead = True
                raise Crash

        def dies_sleeping(turns: TurnClock, seconds: float) -> None:
            if dead:
                raise Crash
            sleep(turns, seconds)

        TurnClock.sleep = dies_sleeping  # type: ignore[method-assign]
        try:
            Release.from_file(path, clock=sandbox.clock).run(on_event=on_event)
        except Crash:
            pass
        finally:
            TurnClock.sleep = sleep  # type: ignore[method-assign]
        after = Release.from_file(path, clock=sandbox.clock)
        committed = after.history()[0].state.value == "COMMITTED"
        try:
            result = after.resume() if verb == "resume" else after.rollback("sweep")
        except BluegreenError as exc:
            result = getattr(exc, "result", None)
            if result is None:  # refused: a committed release only goes forward
                result = after.resume()
                verb = "rollback refused (committed), then resume"
        ends = sorted({r.record.state.value for r in result.members.values()})
        return f"{verb}{' after commit' if committed else ''} → all {'/'.join(ends)}"


def _numbers(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n]


def main() -> None:
    global POLL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_numbers, default=[1, 5, 20, 50])
    parser.add_argument("--failing", type=int, default=20, help="0: skip")
    parser.add_argument("--kill-sweep", type=int, default=0, help="services; 0: skip")
    parser.add_argument(
        "--share",
        type=float,
        default=pacer.SHARE,
        help="of AWS's API limits bluegreen keeps to (default: the product's)",
    )
    parser.add_argument("--poll", type=float, default=5.0, help="health.poll_interval, s")
    args = parser.parse_args()
    pacer.SHARE = args.share
    POLL = args.poll
    configure_logging(quiet=True)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    if args.sizes:
        sizes(args)
    if args.failing:
        failing(args.failing)
    if args.kill_sweep:
        kill_sweep(args.kill_sweep)


if __name__ == "__main__":
    main()
