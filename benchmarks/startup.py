"""Benchmark: how long the command line takes to start, and what it loads to do so.

    python benchmarks/startup.py [--runs 15] [--root PATH]

Prints the median wall-clock time (and the fastest run), the median CPU time, and the time
above a bare interpreter's start of N subprocess runs each of

    python -c pass                the floor: the interpreter alone, with this site-packages
    bluegreen --help              what the `bluegreen` script runs: bluegreen.__main__.main()
    bluegreen --version
    python -m bluegreen --version

and, for `--help` and `--version`, the heavy modules (boto3, botocore, pydantic, moto, scipy,
numpy, structlog, rich; and typer for `--version`) that the run imported: the goal is none,
and 0.25 s or less. The code
measured is the checkout at --root (default: this repository), put first on sys.path, not
whatever `bluegreen` an editable install points to; its bytecode is cached (in a temporary
directory), as an installed package's is. Needs nothing but the package.
"""

from __future__ import annotations

import argparse
import ast
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("boto3", "botocore", "pydantic", "moto", "scipy", "numpy", "structlog", "rich")
# What the `bluegreen` console script does: import the entry point and call it.
SCRIPT = (
    "import sys; sys.argv[0] = 'bluegreen'; from bluegreen.__main__ import main; sys.exit(main())"
)
# `--version` is answered before the command tree is built: not even these load.
COMMAND_LINE = ("typer",)
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
    # The floor: this interpreter starting and stopping, with this machine's site-packages.
    "python -c pass": ["-c", "pass"],
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


def timed(args: list[str], root: Path, runs: int) -> tuple[list[float], list[float], int]:
    """Wall-clock and CPU seconds (user + system) of each run, and the exit code. CPU time
    is what the run itself costs; wall time also holds waiting for a core, so on a busy
    machine the CPU column is the steadier of the two."""
    code = run(args, root).returncode  # also warms the file cache and the bytecode
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        run(args, root)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    root = args.root.resolve()
    print(f"{root}: median (fastest) of {args.runs} runs; wall clock, then CPU time")
    floor: float | None = None  # the bare interpreter's CPU time: the first case
    for name, argv in CASES.items():
        wall, cpu, code = timed(argv, root, args.runs)
        own = statistics.median(cpu)
        above = "" if floor is None else f"  (+{own - floor:.3f} s over python)"
        floor = own if floor is None else floor
        failed = f"  exit {code}" if code else ""
        print(
            f"  {name:<30} {statistics.median(wall):6.3f} s ({min(wall):.3f} s)"
            f"  cpu {own:.3f} s{above}{failed}"
        )
    print(f"  heavy modules after --help     {heavy_modules_after('--help', root)}")
    version = heavy_modules_after("--version", root, HEAVY + COMMAND_LINE)
    print(f"  heavy modules after --version  {version}")


def heavy_modules_after(flag: str, root: Path, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """The `heavy` modules `bluegreen <flag>` has loaded when it exits."""
    done = run(["-c", PROBE % (heavy,), flag], root)
    if done.returncode:
        raise RuntimeError(f"bluegreen {flag} exited {done.returncode}: {done.stderr}")
    loaded: list[str] = ast.literal_eval(done.stdout.splitlines()[-1])
    return loaded


if __name__ == "__main__":
    main()
