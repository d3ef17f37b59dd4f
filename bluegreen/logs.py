"""structlog set-up: one event per thing that happened, to stderr, console or JSON,
with secrets redacted by pattern before anything is written."""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

from bluegreen.redact import Redactor, redacting_processor


def configure_logging(fmt: Literal["console", "json"] = "console", verbose: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redacting_processor(Redactor()),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
