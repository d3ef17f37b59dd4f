"""Benchmark: how long the command line takes to start, and what it loads to do so.

    python benchmarks/startup.py [--runs 15] [--root PATH]

Prints the median wall-clock time (and the fastest run) of N subprocess runs each of

    bluegreen --help              what the `bluegreen` script runs: import bluegreen.cli, main()
    bluegreen --version
    python -m bluegreen --version

and, for `--help` and `--version`, the heavy modules (boto3, botocore, pydantic, moto, scipy,
numpy, structlog) that the run imported: the goal is none, and 0.25 s or less. The code
measured is the checkout at --root (default: this repository), put first on sys.path, not
whatever `bluegreen` an editable install points to; its bytecode is cached (in a temporary
directory), as an installed package's is. Needs nothing but the package.
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("boto3", "botocore", "pydantic", "moto", "scipy", "numpy", "structlog")
# What the `bluegreen` console script does: import the entry point and call it.
SCRIPT = "import sys; sys.argv[0] = 'bluegreen'; from bluegreen.cli import main; sys.exit(main())"
PROBE = """
import runpy, sys
sys.argv = ["bluegreen", *sys.argv[1:]]
try:
    runpy.run_module("bluegreen", run_name="__main__")
except SystemExit:
    pass
print(sorted({m.split(".")[0] for m in sys.modules} & set(%r)))
"""
CASES = {
    "bluegreen --help": ["-c", SCRIPT, "--help"],
    "bluegreen --version": ["-c", SCRIPT, "--version"],
    "python -m bluegreen --version": ["-m", "bluegreen", "--version"],
}


# Bytecode cached as after `pip install` (which compiles it), in a directory of our own so
# the checkout stays clean, even where PYTHONDONTWRITEBYTECODE is set.
PYCACHE = tempfile.mkdtemp(prefix="bluegreen-startup-")


def run(args: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "80", "PYTHONPYCACHEPREFIX": PYCACHE}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.run(
        [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def timed(args: list[str], root: Path, runs: int) -> tuple[list[float], int]:
    code = run(args, root).returncode  # also warms the file cache and the bytecode
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        run(args, root)
        seconds.append(time.perf_counter() - start)
    return seconds, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    root = args.root.resolve()
    print(f"{root}: median (fastest) of {args.runs} runs")
    for name, argv in CASES.items():
        seconds, code = timed(argv, root, args.runs)
        failed = f"  exit {code}" if code else ""
        print(f"  {name:<32} {statistics.median(seconds):6.3f} s  ({min(seconds):.3f} s){failed}")
    for flag in ("--help", "--version"):
        print(f"  heavy modules after {flag:<10} {heavy_modules_after(flag, root)}")


def heavy_modules_after(flag: str, root: Path) -> list[str]:
    """The HEAVY modules `bluegreen <flag>` has loaded when it exits."""
    done = run(["-c", PROBE % (HEAVY,), flag], root)
    if done.returncode:
        raise RuntimeError(f"bluegreen {flag} exited {done.returncode}: {done.stderr}")
    loaded: list[str] = ast.literal_eval(done.stdout.splitlines()[-1])
    return loaded


if __name__ == "__main__":
    main()
