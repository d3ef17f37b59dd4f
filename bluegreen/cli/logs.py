"""structlog set-up: one event per thing that happened, to stderr, console or JSON,
with secrets redacted by pattern before anything is written. Colour only on a terminal,
and never when NO_COLOR is set (https://no-color.org).

structlog is imported when logging is configured, not with this module: `bluegreen
--help` and `--version` load the command modules, which import this one."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import structlog.typing


class _CurrentStderr:
    """Writes to whatever sys.stderr is at the time: a logger configured once must not
    keep a stream that was swapped and closed since (test runners, embedding apps)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(
    fmt: Literal["console", "json"] = "console", verbose: bool = False, quiet: bool = False
) -> None:
    import structlog

    from bluegreen.redact import Redactor, redacting_processor

    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty() and not no_color())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # A traceback becomes text before redaction: rendered by the renderer, its
            # message (and the console's locals) would reach stderr unredacted.
            structlog.processors.format_exc_info,
            redacting_processor(Redactor()),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )


def no_color() -> bool:
    """NO_COLOR set to anything but the empty string switches colour off."""
    return os.environ.get("NO_COLOR", "") != ""
