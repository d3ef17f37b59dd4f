"""Benchmark: one 5-step deployment on the simulated AWS.

    python benchmarks/deploy.py [--runs N] [--mode task-sets|service-pair]
        [--load-balancer application|network]

Prints, per run and as the median: real seconds; virtual seconds against the floor (the
sum of the configured bakes and waits, which no deployment can beat); the AWS calls the
deployment made, by operation; and, for the median run, how hard they hit AWS's request
limits (the sandbox's token buckets: requests, throttles, the busiest second per bucket).
Needs nothing but the package (no AWS account).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from bluegreen.cli.logs import configure_logging
from bluegreen.config import parse_config
from bluegreen.deployer import Deployer
from bluegreen.sandbox import Sandbox, in_process
from bluegreen.sandbox.stack import build_stack
from bluegreen.sandbox.stack_parts import LoadBalancerType, Mode

STEPS = [
    {"weight": 5, "bake": "2m"},
    {"weight": 20, "bake": "2m"},
    {"weight": 50, "bake": "2m"},
    {"weight": 80, "bake": "2m"},
    {"weight": 100},
]
GATES = {"bake_after_shift": "5m", "termination_wait": "2m"}


def one_run(
    mode: Mode, load_balancer: LoadBalancerType
) -> tuple[float, float, float, Counter[str], list[str]]:
    sandbox = Sandbox()
    with in_process(sandbox), tempfile.TemporaryDirectory() as folder:
        stack = build_stack(sandbox, mode=mode, load_balancer=load_balancer)
        data = stack.config(strategy={"type": "steps", "steps": STEPS}, gates=GATES)
        config = parse_config(data, source=Path(folder) / "bluegreen.toml")
        deployer = Deployer(config, clock=sandbox.clock)
        plan = deployer.plan({"web": "public.ecr.aws/bluegreen/demo-web:2.0.0"})
        floor = sum(stage.bake for stage in plan.stages)  # an NLB's bakes are longer
        deployer.cloud.calls.clear()  # type: ignore[attr-defined]  # the deployment's only
        sandbox.api_limits.reset()
        floor += config.gates.bake_after_shift + config.gates.termination_wait
        started_real, started_virtual = time.perf_counter(), sandbox.clock.now()
        result = deployer.deploy({"web": "public.ecr.aws/bluegreen/demo-web:2.0.0"})
        assert result.outcome == "succeeded", result.reason
        real = time.perf_counter() - started_real
        virtual = sandbox.clock.now() - started_virtual
        calls = Counter(deployer.cloud.calls)  # type: ignore[attr-defined]
        limits = sandbox.api_limits.report().lines()
    return real, virtual, floor, calls, limits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mode", choices=["task-sets", "service-pair"], default="task-sets")
    parser.add_argument(
        "--load-balancer", choices=["application", "network"], default="application"
    )
    args = parser.parse_args()
    configure_logging(quiet=True)  # the figures, not the deployment's story
    runs = [one_run(args.mode, args.load_balancer) for _ in range(args.runs)]
    for number, (real, virtual, floor, calls, _) in enumerate(runs, 1):
        print(
            f"run {number}: real {real:.2f}s  virtual {virtual:.0f}s  "
            f"(floor {floor:.0f}s, +{virtual - floor:.0f}s)  calls {sum(calls.values())}"
        )
    real, virtual, floor, calls, limits = runs[len(runs) // 2]
    print(f"\nmedian real seconds: {statistics.median(r[0] for r in runs):.2f}")
    print(
        f"virtual seconds: {virtual:.0f} against a floor of {floor:.0f} "
        f"(overhead {virtual - floor:.0f}s: task start and health checks)"
    )
    print(f"AWS calls: {sum(calls.values())}")
    for operation, count in calls.most_common():
        print(f"  {operation:<32} {count}")
    print()
    print("\n".join(limits))


if __name__ == "__main__":
    main()
