"""benchmarks/analysis.py keeps measuring what the closing figures say: an error-rate
regression is off green within a minute of traffic plus the delay and a poll, with one
GetMetricData call per evaluation."""

from __future__ import annotations

from benchmark_modules import load_benchmark


def test_an_error_rate_regression_is_off_green_in_one_evaluation_of_one_call() -> None:
    benchmark = load_benchmark("analysis")

    run = benchmark.one_run(benchmark.REGRESSIONS["errors"], "task-sets")

    assert run.onset_to_blue <= 3 * 60
    assert (run.verdicts, run.calls, run.queries) == (1, 1, 4)
