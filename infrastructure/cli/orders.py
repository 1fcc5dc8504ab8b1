"""``execledger orders``, ``timeline ID`` and ``quality``: read from the read models."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from domain.status import OrderStatus
from infrastructure.cli.context import console, error_console, print_json
from infrastructure.cli.projections import current_read_models
from projections import queries

STATUSES = ", ".join(status.value for status in OrderStatus)


def orders(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help=f"One of: {STATUSES}."),
    symbol: str | None = typer.Option(None, "--symbol", help="Only this symbol."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """One row per order: quantities, average price, status, limit, re-pegs, ids."""
    if status is not None and status.strip().lower() not in {s.value for s in OrderStatus}:
        raise typer.BadParameter(f"must be one of: {STATUSES}", param_hint="--status")
    with current_read_models(ctx) as store:
        rows = queries.orders(store, status=status, symbol=symbol)
    if as_json:
        print_json(rows)
        return
    table = Table(
        "order", "symbol", "side", "qty", "filled", "avg price", "status", "limit",
        "re-pegs", "esc.", "correlation", "created", title=f"{len(rows)} order(s)",
    )  # fmt: skip
    for row in rows:
        table.add_row(
            row["order_id"][:8], row["symbol"], row["side"], row["quantity"],
            row["filled_quantity"], _text(row["average_fill_price"]), row["status"],
            _text(row["limit_price"]), str(row["repegs"]), "yes" if row["escalated"] else "",
            row["correlation_id"], row["created_at"],
        )  # fmt: skip
    console.print(table)


def timeline(
    ctx: typer.Context,
    identifier: str = typer.Argument(
        ..., metavar="ID", help="Order id, client or broker order id, or correlation id."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """Every event of the order (or of every order of a correlation id), in order."""
    with current_read_models(ctx) as store:
        entries = queries.timeline_of(store, identifier)
    if not entries:
        error_console.print(f"no order matches {identifier!r}")
        raise typer.Exit(1)
    if as_json:
        print_json(entries)
        return
    table = Table("order", "v", "occurred at", "+s", "event", "client order", "broker order",
                  "details")  # fmt: skip
    for entry in entries:
        table.add_row(
            entry["order_id"][:8], str(entry["version"]), entry["occurred_at"],
            _text(entry["since_previous_seconds"]), entry["type"],
            _text(entry["client_order_id"]), _text(entry["broker_order_id"]), _details(entry),
        )  # fmt: skip
    console.print(table)


def quality(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
    symbol: str | None = typer.Option(None, "--symbol", help="Only this symbol."),
) -> None:
    """Execution quality per order: arrival mid, slippage, spread, improvement, times."""
    with current_read_models(ctx) as store:
        rows = queries.quality(store, symbol=symbol)
    if as_json:
        print_json(rows)
        return
    table = Table(
        "order", "symbol", "side", "filled", "arrival mid", "avg price", "slip. bps",
        "eff. spread", "improv.", "1st fill s", "complete s", "re-pegs", "esc.", "fill rate",
        title=f"{len(rows)} order(s); slippage positive = cost",
    )  # fmt: skip
    for row in rows:
        table.add_row(
            row["order_id"][:8], row["symbol"], row["side"],
            f"{row['filled_quantity']}/{row['quantity']}", _text(row["arrival_mid"]),
            _text(row["average_fill_price"]), _text(row["slippage_bps"]),
            _text(row["effective_spread"]), _text(row["price_improvement"]),
            _text(row["time_to_first_fill_seconds"]), _text(row["time_to_complete_seconds"]),
            str(row["repegs"]), "yes" if row["escalated"] else "", row["fill_rate"],
        )  # fmt: skip
    console.print(table)


_SHOWN_KEYS = frozenset(queries.TIMELINE_KEYS) | {"config", "metadata"}


def _details(entry: dict[str, Any]) -> str:
    parts = [f"{k}={v}" for k, v in entry.items() if k not in _SHOWN_KEYS and v not in (None, [])]
    return " ".join(parts)


def _text(value: object) -> str:
    return "" if value is None else str(value)
