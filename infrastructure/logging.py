"""structlog, configured once: JSON or console lines on stderr, correlation id bound."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

SECRET_KEYS = frozenset(
    {"api_key", "secret_key", "secret", "password", "token", "authorization", "apca-api-secret-key"}
)
REDACTED = "***"


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace the value of any secret-looking key, so no secret reaches a log line."""
    for key in list(event_dict):
        if key.lower() in SECRET_KEYS:
            event_dict[key] = REDACTED
    return event_dict


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time (tests and tools swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(*, log_format: str = "console", level: str = "WARNING") -> None:
    """Configure structlog for the process; every line goes to stderr.

    ``level`` is a level name (DEBUG, INFO, WARNING, ERROR, CRITICAL); another raises
    ValueError rather than logging at a level nobody asked for.
    """
    levels = logging.getLevelNamesMapping()
    if level.upper() not in levels:
        raise ValueError(f"unknown log level {level!r}")
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(levels[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )


@contextmanager
def correlation(correlation_id: str, **context: Any) -> Iterator[None]:
    """Bind the correlation id (and more context) to every log line inside the block."""
    with structlog.contextvars.bound_contextvars(correlation_id=correlation_id, **context):
        yield
