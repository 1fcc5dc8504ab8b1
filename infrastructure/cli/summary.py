"""Rendering a session's outcome for people (a rich table) and machines (JSON)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from execledger.domain.order import SmartOrder
from execledger.infrastructure.engine.session import SessionResult
from rich.table import Table

PRICE_DISPLAY = Decimal("0.0001")


def average_price_text(order: SmartOrder) -> str:
    """The average fill price to four decimals, or '-' before any fill."""
    average = order.average_fill_price
    return "-" if average is None else str(average.quantize(PRICE_DISPLAY))


def summary_table(result: SessionResult, title: str) -> Table:
    """One row per order of the session."""
    table = Table(title=title)
    for column in ("order", "symbol", "side", "qty", "filled", "avg px", "status", "re-pegs", "esc"):
        numeric = column in ("qty", "filled", "avg px")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=True)
    for order in result.orders:
        skipped = order.id in result.skipped
        table.add_row(
            str(order.id)[:8],
            order.symbol,
            order.side.value,
            str(order.quantity),
            str(order.filled_quantity),
            average_price_text(order),
            f"skipped: {result.skipped[order.id]} works it" if skipped else order.status.value,
            str(order.repegs),
            "yes" if order.escalated else "",
        )
    return table


def summary_json(result: SessionResult) -> dict[str, Any]:
    """The session's outcome as JSON-ready data (Decimals as strings)."""
    return {
        "orders": len(result.orders),
        "created": result.created,
        "already_finished": result.already_finished,
        "all_terminal": result.all_terminal,
        "worked": len(result.worked),
        "skipped": [
            {"order_id": str(order_id), "owner": owner} for order_id, owner in result.skipped.items()
        ],
        "results": [
            {
                "order_id": str(order.id),
                "symbol": order.symbol,
                "side": order.side.value,
                "quantity": str(order.quantity),
                "filled_quantity": str(order.filled_quantity),
                "average_fill_price": (
                    None if order.average_fill_price is None else average_price_text(order)
                ),
                "status": order.status.value,
                "repegs": order.repegs,
                "escalated": order.escalated,
                "correlation_id": order.correlation_id,
                "worked_here": order.id in result.worked,
            }
            for order in result.orders
        ],
    }
