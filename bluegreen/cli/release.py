"""`bluegreen release FILE`: several services deployed as one release. The release's
status, promote, rollback, resume and history are the usual commands with `--release
FILE` (cli/deployment.py); both call cli/release_actions.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bluegreen.cli import release_actions
from bluegreen.cli.shared import NO_COMMON, Common, with_common_options


@with_common_options
def release(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The release file.")] = Path(
        "release.toml"
    ),
    image: Annotated[
        list[str] | None,
        typer.Option(
            "--image",
            metavar="SERVICE:CONTAINER=URI",
            help="New image for a service's container, over the file's (repeatable).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print every service's plan; change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    detach_at_pause: Annotated[
        bool,
        typer.Option(
            "--detach-at-pause",
            help="Exit 0 once every service waits at the strategy's pause; "
            "`promote --release FILE` goes on.",
        ),
    ] = False,
    common: Common = NO_COMMON,
) -> None:
    """Deploy several services as one release, all or nothing.

    Every green healthy before traffic moves; every service's routes shifted together at
    each stage; any failure puts every service back on blue."""
    release_actions.deploy(
        file, image, common, dry_run=dry_run, confirm=not yes, detach_at_pause=detach_at_pause
    )
