"""Benchmark: the AWS calls one watch poll of a deployment makes, by state and operation.

    python benchmarks/polls.py [--routes 2|3] [--no-alarms] [--no-analysis] [--fleet N]

Deploys on the simulated AWS (a 10 % canary baking 5m, 5m of bake after the shift, polls
every 5s, the gate on one alarm and the error-rate analysis, two listeners and with
`--routes 3` a listener rule too) and records every call that reaches AWS with the virtual
moment it was made at. A poll makes its calls at one moment (nothing sleeps within one
unless AWS refuses a call), so the calls of each state are grouped by moment: a group is
one poll. Prints, per state, the polls seen and the calls per poll of each operation
(the mean over the state's polls: the analysis' GetMetricData comes once a minute, so
one poll in twelve has it). The first poll of a state also carries the state's own work
(a shift writes the listeners): the means include it, `steady` is the most common poll.

`--fleet N` adds what the alarm gates of N deployments sharing one Cloud cost: each polls
every 5s at its own phase (engine/pacing.py) for 10 minutes of virtual time and asks for
its own alarm; printed are the polls and the DescribeAlarms calls made, one per poll
without sharing, and with the Cloud's AlarmInterest (aws/alarm_interest.py).
Needs nothing but the package (no AWS account).
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bluegreen.aws.alarm_interest import AlarmInterest
from bluegreen.cli.logs import configure_logging
from bluegreen.clock import VirtualClock
from bluegreen.config import parse_config
from bluegreen.deployer import Deployer
from bluegreen.engine.pacing import phase_of
from bluegreen.machine import State
from bluegreen.model import AlarmState
from bluegreen.record import Event
from bluegreen.sandbox import Sandbox, in_process
from bluegreen.sandbox.faults import Faults
from bluegreen.sandbox.stack import build_stack

IMAGE = "public.ecr.aws/bluegreen/demo-web:2.0.0"
WATCHED = (State.WAITING_HEALTHY, State.SHIFTING, State.BAKING)
Trace = list[tuple[State, float, str]]  # (state, virtual moment, operation)


def traced_deployment(routes: int, alarms: bool, analysis: bool) -> Trace:
    sandbox = Sandbox()
    trace: Trace = []
    state = [State.PENDING]
    with in_process(sandbox), tempfile.TemporaryDirectory() as folder:
        stack = build_stack(sandbox, api_rule=routes == 3)
        overrides: dict[str, Any] = {
            "strategy": {"type": "canary", "percent": 10, "bake": "5m"},
            "gates": {"bake_after_shift": "5m", "termination_wait": "1m"},
        }
        if alarms:
            overrides["gates"]["alarms"] = [stack.add_5xx_alarm("web-5xx", stack.green_tg_arn)]
        if analysis:
            overrides["analysis"] = {"metrics": [{"name": "error_rate", "max_increase": "25%"}]}
        config = parse_config(stack.config(**overrides), source=Path(folder) / "bluegreen.toml")
        _trace_calls(sandbox.faults, sandbox, state, trace)

        def follow(event: Event) -> None:
            state[0] = event.state

        result = Deployer(config, clock=sandbox.clock).deploy({"web": IMAGE}, on_event=follow)
        assert result.outcome == "succeeded", result.reason
    return trace


def _trace_calls(faults: Faults, sandbox: Sandbox, state: list[State], trace: Trace) -> None:
    decide = faults.decide

    def traced(service: str, operation: str) -> Any:
        trace.append((state[0], sandbox.clock.now(), operation))
        return decide(service, operation)

    faults.decide = traced  # type: ignore[method-assign]


def per_poll(trace: Trace) -> dict[State, tuple[int, Counter[str], Counter[str]]]:
    """Per state: the polls, the mean calls per poll by operation (×100, rounded), and the
    most common poll."""
    polls: dict[State, dict[float, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for state, moment, operation in trace:
        if state in WATCHED:
            polls[state][moment][operation] += 1
    out: dict[State, tuple[int, Counter[str], Counter[str]]] = {}
    for state, moments in polls.items():
        total: Counter[str] = Counter()
        for calls in moments.values():
            total.update(calls)
        shapes = Counter(tuple(sorted(c.items())) for c in moments.values())
        steady = Counter(dict(shapes.most_common(1)[0][0]))
        mean = Counter({op: round(100 * n / len(moments)) for op, n in total.items()})
        out[state] = (len(moments), mean, steady)
    return out


def fleet_alarm_calls(
    deployments: int, seconds: float = 600.0, poll: float = 5.0
) -> tuple[int, int]:
    """(polls, DescribeAlarms calls) of `deployments` sharing one AlarmInterest."""
    clock = VirtualClock()
    interest = AlarmInterest(clock, batch=100)
    calls = [0]

    def describe(names: list[str]) -> list[tuple[str, AlarmState]]:
        calls[0] += 1
        return [(name, AlarmState.OK) for name in names]

    start, polls = clock.now(), []
    for n in range(deployments):
        first = poll * (1 - phase_of(f"prod__svc-{n}"))
        moments = [0.0] + [first + k * poll for k in range(int(seconds / poll))]
        polls += [(at, n) for at in moments if at <= seconds]
    for at, n in sorted(polls):
        clock.advance(start + at - clock.now())
        interest.states([f"svc-{n}-5xx"], describe)
    return len(polls), calls[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, choices=[2, 3], default=2)
    parser.add_argument("--no-alarms", action="store_true")
    parser.add_argument("--no-analysis", action="store_true")
    parser.add_argument("--fleet", type=int, default=0, metavar="N")
    args = parser.parse_args()
    configure_logging(quiet=True)
    trace = traced_deployment(args.routes, not args.no_alarms, not args.no_analysis)
    for state, (polls, mean, steady) in per_poll(trace).items():
        print(f"{state.value}: {polls} polls; {sum(steady.values())} calls in the steady poll")
        for operation in sorted(set(mean) | set(steady)):
            share = mean[operation] / 100
            print(f"  {operation:<28} mean {share:5.2f}  steady {steady[operation]}")
    print(f"all calls of the deployment: {len(trace)}")
    if args.fleet:
        polls, calls = fleet_alarm_calls(args.fleet)
        print(
            f"{args.fleet} deployments, 10 minutes: {polls} polls; DescribeAlarms calls: "
            f"{polls} without sharing, {calls} with it ({calls / 600:.2f}/s)"
        )


if __name__ == "__main__":
    main()
