"""Fault soak: many deployments on the simulated AWS with faults in the ELB and ECS calls.

    python benchmarks/soak.py [--deployments 100] [--seed N] [--throttle 0.2]
        [--server-errors 0.05] [--verbose]

Good and broken images take turns (bluegreen/sandbox/soak.py says which breakages, and the
rules each run is judged by). Prints one line per deployment, then the counts: deployments,
succeeded, rolled back, other outcomes, invariant violations, leftover task sets, AWS calls
made, faults injected, real seconds. Exits 1 when a rule broke. Needs nothing but the
package (no AWS account); the same seed repeats the same run.
"""

from __future__ import annotations

import argparse
import logging
import sys

import structlog

from bluegreen.cli.logs import configure_logging
from bluegreen.sandbox.soak import Outcome, run_soak


def print_outcome(outcome: Outcome) -> None:
    kind = "broken" if outcome.broken else "good  "
    mark = "" if outcome.expected else "   <- unexpected"
    first_line = (outcome.reason or "").splitlines()[0][:110] if outcome.reason else ""
    print(
        f"#{outcome.number:<4} {kind} exit {outcome.exit_code}  {outcome.outcome:<12} "
        f"{outcome.virtual_seconds:5.0f}s  {first_line}{mark}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--throttle", type=float, default=0.2, help="fraction of calls")
    parser.add_argument("--server-errors", type=float, default=0.05, help="fraction of calls")
    parser.add_argument("--verbose", action="store_true", help="the product's logs on stderr")
    args = parser.parse_args()

    configure_logging("console", verbose=False, quiet=True)
    if not args.verbose:  # every retry logs a warning: thousands of lines
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    report = run_soak(
        args.deployments,
        args.seed,
        throttle=args.throttle,
        server_errors=args.server_errors,
        on_outcome=print_outcome,
    )
    print()
    print("\n".join(report.summary()))
    print("OK: every rule held" if report.ok else "FAILED: a rule broke (see above)")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
