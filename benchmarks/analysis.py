"""Benchmark: how fast the metric analysis takes traffic off a regressing green, and what
it costs in CloudWatch calls.

    python benchmarks/analysis.py [--mode task-sets|service-pair]

Deploys on the simulated AWS (blue answers 0.1 % of requests with 500, its requests take a
median 50 ms, p99 200 ms; 50 requests a second on each of the two production listeners)
a green that regresses, with the analysis's defaults (interval 1m, delay 1m), a 10 %
canary and a 2m bake, and prints in virtual seconds:

    onset → blue  from the regression's onset to the moment every listener has its weight
                  back on blue (the first clock advance that finds it so);
    verdicts      evaluations made until the rollback;
    calls/eval    GetMetricData calls per evaluation (the goal: one batched call for every
                  check of both colours), and the queries in that call; the preflight's
                  one read of blue's last hour before the deployment is not counted.

Regressions: `errors` 2 % of requests answer 500 (error_rate, max_increase 25 %);
`p99` p99 latency +40 % (latency p99, max_increase 20 %: judged on one sample a minute, so
it needs its min_samples minutes); `p99-bound` the same release against an absolute
bound (latency p99 max 250ms, judged on the latest minute). Each starts with green's first
production request, except `errors-later` and `p99-later`: green is as good as blue for
ten minutes of a long bake at the canary, then regresses — the onset is then that moment
(the default `lookback` of 10 minutes keeps the good minutes from diluting it).
Needs nothing but the package (no AWS account).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bluegreen.analysis import plan_queries
from bluegreen.cli.logs import configure_logging
from bluegreen.config import parse_config
from bluegreen.deployer import Deployer
from bluegreen.engine.analysis import colours_of
from bluegreen.errors import AnalysisFailed
from bluegreen.sandbox import AppModel, Sandbox, in_process
from bluegreen.sandbox.observe import route_weights
from bluegreen.sandbox.stack import SandboxStack, build_stack
from bluegreen.sandbox.stack_parts import Mode

IMAGE = "public.ecr.aws/bluegreen/demo-web"
BLUE = AppModel(error_rate=0.001, latency=0.05, latency_p99=0.2)
ERRORS = {"name": "error_rate", "max_increase": "25%"}
P99 = {"name": "latency", "statistic": "p99", "max_increase": "20%"}
P99_BOUND = {"name": "latency", "statistic": "p99", "max": "250ms"}


@dataclass(frozen=True)
class Regression:
    green: AppModel
    checks: tuple[dict[str, str], ...]
    onset_after: float = 0.0  # seconds after green's first production request


REGRESSIONS = {
    "errors": Regression(replace(BLUE, error_rate=0.02), (ERRORS,)),
    "p99": Regression(replace(BLUE, latency_p99=0.28), (P99,)),
    "p99-bound": Regression(replace(BLUE, latency_p99=0.28), (P99_BOUND,)),
    "errors-later": Regression(replace(BLUE, error_rate=0.02), (ERRORS,), onset_after=600.0),
    "p99-later": Regression(replace(BLUE, latency_p99=0.28), (P99,), onset_after=600.0),
}


@dataclass(frozen=True)
class Run:
    onset_to_blue: float
    verdicts: int
    calls: int
    queries: int

    @property
    def calls_per_verdict(self) -> float:
        return self.calls / max(self.verdicts, 1)


def one_run(regression: Regression, mode: Mode) -> Run:
    sandbox = Sandbox()
    with in_process(sandbox), tempfile.TemporaryDirectory() as folder:
        stack = build_stack(sandbox, image=f"{IMAGE}:1.0.0", mode=mode)
        sandbox.apps[f"{IMAGE}:1.0.0"] = BLUE
        image = f"{IMAGE}:9.0.0"
        sandbox.apps[image] = regression.green if not regression.onset_after else BLUE
        strategy: dict[str, Any] = {"type": "canary", "percent": 10, "bake": "2m"}
        if regression.onset_after:  # a long pause at the canary, judged throughout
            strategy["bake"] = f"{regression.onset_after / 60 + 30:g}m"
        analysis = {"metrics": list(regression.checks)}
        data = stack.config(strategy=strategy, analysis=analysis)
        deployer = Deployer(
            parse_config(data, source=Path(folder) / "bluegreen.toml"), clock=sandbox.clock
        )
        moments = _watch(sandbox, stack, regression, image)
        with contextlib.suppress(AnalysisFailed):
            deployer.deploy({"web": image})
        if "blue" not in moments and not any(_green_weights(sandbox, stack)):
            moments["blue"] = sandbox.clock.now()  # the rollback's last act: no advance since
        rec = deployer.store.latest(deployer.config.service_key)
        assert rec is not None and rec.outcome == "rolled_back", rec and rec.reason
        calls = sandbox.faults.operations.count("GetMetricData") - int(moments["preflight_reads"])
        onset, on_blue = moments["onset"], moments["blue"]
        queries = _queries_per_call(deployer, rec)
    return Run(on_blue - onset, len(rec.analysis), calls, queries)


def _watch(
    sandbox: Sandbox, stack: SandboxStack, regression: Regression, image: str
) -> dict[str, float]:
    """Onset (green's first production weight, plus the regression's delay; the app turns
    bad then) and the first moment after it with every listener back on blue."""
    moments: dict[str, float] = {}

    def look(now: float) -> None:
        green = _green_weights(sandbox, stack)
        if "traffic" not in moments and any(green):
            moments["traffic"] = now
            # reads before green's traffic are the preflight's (blue's last hour)
            moments["preflight_reads"] = sandbox.faults.operations.count("GetMetricData")
            moments["onset"] = now + regression.onset_after
        onset = moments.get("onset")
        if onset is not None and now >= onset and sandbox.apps[image] != regression.green:
            sandbox.apps[image] = regression.green
        if onset is not None and now >= onset and "blue" not in moments and not any(green):
            moments["blue"] = now

    sandbox.clock.on_advance(look)
    return moments


def _green_weights(sandbox: Sandbox, stack: SandboxStack) -> list[int]:
    """Green's weight on each production listener, read from the simulated AWS directly
    (no API call, so none is counted)."""
    routes = route_weights(sandbox)
    production = (stack.http_listener_arn, stack.https_listener_arn)
    return [routes[arn].get(stack.green_tg_arn, 0) for arn in production]


def _queries_per_call(deployer: Deployer, rec: Any) -> int:
    """The MetricDataQueries of the analysis's one call (its plan, both colours)."""
    config = deployer.config
    assert config.analysis is not None
    plan = plan_queries(config.analysis.metrics, *colours_of(config, rec, ["lb"]))
    return len(plan.queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["task-sets", "service-pair"], default="task-sets")
    parser.add_argument("--regressions", nargs="+", choices=list(REGRESSIONS), default=None)
    args = parser.parse_args()
    configure_logging(quiet=True)  # the figures, not the deployment's story
    print(
        f"{'regression':<13} {'onset → blue':>12} {'verdicts':>8} {'calls/eval':>10} {'queries':>7}"
    )
    for name in args.regressions or REGRESSIONS:
        run = one_run(REGRESSIONS[name], args.mode)
        print(
            f"{name:<13} {run.onset_to_blue:>11.0f}s {run.verdicts:>8} "
            f"{run.calls_per_verdict:>10.2f} {run.queries:>7}"
        )
    print("(virtual seconds; defaults: interval 1m, delay 1m; a 10% canary)")


if __name__ == "__main__":
    main()
