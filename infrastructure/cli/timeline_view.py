"""A rich table of an order's events, for ``demo`` (``timeline`` reads the read model)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from domain.order_events import OrderEvent

BASE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "correlation_id",
     "occurred_at", "previous_hash", "event_hash", "config", "metadata"}
)  # fmt: skip
SHOWN_FIELDS = (
    "quantity", "limit_price", "method", "bid", "ask", "client_order_id", "broker_order_id",
    "order_type", "price", "filled_quantity", "remaining_quantity", "old_price", "new_price",
    "repeg_number", "reason",
)  # fmt: skip


def describe(event: OrderEvent) -> str:
    """The fields of an event that matter to an operator, as ``name=value`` pairs."""
    values: dict[str, Any] = vars(event)
    parts = [f"{name}={_text(values[name])}" for name in SHOWN_FIELDS if name in values]
    return " ".join(part for part in parts if not part.endswith("=None"))


def timeline_table(events: Sequence[OrderEvent], title: str) -> Table:
    """One row per event: version, business time, type and the fields that matter."""
    table = Table(title=title)
    for column in ("v", "occurred_at", "event", "details"):
        table.add_column(column)
    for event in events:
        table.add_row(
            str(event.originator_version), event.occurred_at.isoformat(timespec="seconds"),
            type(event).__name__, describe(event),
        )  # fmt: skip
    return table


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))
