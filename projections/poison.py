"""Poison events: stored events the read models cannot decode or apply, kept aside.

One bad event (an unknown topic, invalid JSON, a fold that raises, a value the
database refuses) must not stop the read side. The runner records it here
(projection, position, order id, version, error), advances past it and goes on;
the order it belongs to is then shown as not trustworthy until a rebuild that
no longer fails on it.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from uuid import UUID

from execledger.projections.schema import Index, Kind, Row, Table, col

#: Longest error text kept (the exception's type and message).
ERROR_CHARS = 500

TABLE = Table(
    name="projection_errors",
    columns=(
        col("projection", Kind.TEXT, nullable=False),
        col("position", Kind.INT, nullable=False),
        col("order_id", Kind.TEXT),
        col("version", Kind.INT),
        col("error", Kind.TEXT, nullable=False),
    ),
    key=("projection", "position"),
    indexes=(Index("projection_errors_order", ("order_id",)),),
)


class Undecodable(NamedTuple):
    """What the decoder hands on for a stored event it could not turn into a domain event."""

    originator_id: Any
    originator_version: int
    error: str


def describe(error: BaseException) -> str:
    """The error as one storable line: type and message, NULs escaped, length bounded."""
    text = f"{type(error).__name__}: {error}".replace("\x00", "\\x00")
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def error_row(projection: str, position: int, order_id: Any, version: int | None, error: str) -> Row:
    """A ``projection_errors`` row (the order id as text: it may not even be a UUID)."""
    shown = None if order_id is None else _order_id_text(order_id)
    return {
        "projection": projection,
        "position": position,
        "order_id": shown,
        "version": version,
        "error": error,
    }


def _order_id_text(order_id: Any) -> str:
    """The id as the read models show order ids (a UUID's hyphenated form), else as text."""
    try:
        return str(order_id if isinstance(order_id, UUID) else UUID(str(order_id)))
    except ValueError:
        return str(order_id).replace("\x00", "\\x00")
