"""The `bluegreen` command's entry point, and `python -m bluegreen …`.

`bluegreen --version` is answered here, before the command tree is built: typer, rich and
every command module are most of the start-up, and the version needs none of them. Every
other invocation goes to bluegreen.cli.
"""

from __future__ import annotations

import sys

from bluegreen import __version__

VERSION_FLAGS = (["--version"], ["-V"])


def main() -> None:
    if sys.argv[1:] in VERSION_FLAGS:
        print(f"bluegreen {__version__}")
        return
    from bluegreen.cli import main as run_command_line

    run_command_line()


if __name__ == "__main__":
    main()
