"""benchmarks/analysis.py keeps measuring what the closing figures say: an error-rate
regression is off green within a minute of traffic plus the delay and a poll, with one
GetMetricData call per evaluation."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "analysis.py"


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmark_analysis", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_an_error_rate_regression_is_off_green_in_one_evaluation_of_one_call() -> None:
    benchmark = _benchmark()

    run = benchmark.one_run(benchmark.REGRESSIONS["errors"], "task-sets")

    assert run.onset_to_blue <= 3 * 60
    assert (run.verdicts, run.calls, run.queries) == (1, 1, 4)
