"""``execledger orders``, ``timeline ID`` and ``quality``: read from the read models."""

from __future__ import annotations

from typing import Any

import typer
from execledger.domain.status import OrderStatus
from execledger.infrastructure import use_cases
from execledger.infrastructure.cli.context import error_console, print_json, print_table, state_of
from execledger.projections.errors import AmbiguousOrderId, UnknownOrderId
from rich.table import Table

STATUSES = ", ".join(status.value for status in OrderStatus)
#: Characters of an order id the tables show: a prefix ``timeline`` accepts back.
ID_SHOWN = 8


def orders(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help=f"One of: {STATUSES}."),
    symbol: str | None = typer.Option(None, "--symbol", help="Only this symbol."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
    wide: bool = typer.Option(False, "--wide", help="One line per row, nothing wrapped (as when piped)."),
) -> None:
    """One row per order: quantities, average price, status, limit, re-pegs, ids."""
    if status is not None and status.strip().lower() not in {s.value for s in OrderStatus}:
        raise typer.BadParameter(f"must be one of: {STATUSES}", param_hint="--status")
    rows = use_cases.orders(state_of(ctx).settings, status=status, symbol=symbol)
    if as_json:
        print_json(rows)
        return
    table = Table(
        "order",
        "symbol",
        "side",
        "qty",
        "filled",
        "avg price",
        "status",
        "limit",
        "re-pegs",
        "esc.",
        title=f"{len(rows)} order(s); --json for every field",
    )
    for row in rows:
        table.add_row(
            row["order_id"][:ID_SHOWN],
            row["symbol"],
            row["side"],
            row["quantity"],
            row["filled_quantity"],
            _text(row["average_fill_price"]),
            row["status"] if row["trustworthy"] else f"[red]{row['status']} (NOT trustworthy)[/]",
            _text(row["limit_price"]),
            str(row["repegs"]),
            "yes" if row["escalated"] else "",
        )
    print_table(table, wide=wide)


def timeline(
    ctx: typer.Context,
    identifier: str = typer.Argument(
        ..., metavar="ID", help="Order id, client or broker order id, or correlation id."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
    wide: bool = typer.Option(False, "--wide", help="One line per row, nothing wrapped (as when piped)."),
) -> None:
    """Every event of the order (or of every order of a correlation id), in order."""
    try:
        entries = use_cases.timeline(state_of(ctx).settings, identifier)
    except (UnknownOrderId, AmbiguousOrderId) as error:
        error_console.print(f"execledger: error: {error}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    untrusted = sorted({entry["order_id"] for entry in entries if not entry["trustworthy"]})
    for order_id in untrusted:
        error_console.print(
            f"[red]order {order_id}: an event could not be projected; this timeline is NOT "
            "trustworthy (see execledger projections status)[/]"
        )
    if as_json:
        print_json(entries)
        return
    print_table(timeline_table(entries), wide=wide)


def timeline_table(entries: list[dict[str, Any]], title: str | None = None) -> Table:
    """One row per event: version, business time, seconds since the previous, what matters.

    The order column appears only when the entries span several orders (a correlation id).
    """
    several = len({entry["order_id"] for entry in entries}) > 1
    table = Table(
        *(["order"] if several else []), "v", "occurred at (UTC)", "+s", "event", "details", title=title
    )
    for entry in entries:
        cells = [
            str(entry["version"]),
            _moment(entry["occurred_at"]),
            _seconds(entry["since_previous_seconds"]),
            entry["type"],
            _details(entry),
        ]
        table.add_row(*([entry["order_id"][:ID_SHOWN]] if several else []), *cells)
    return table


def quality(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
    symbol: str | None = typer.Option(None, "--symbol", help="Only this symbol."),
    wide: bool = typer.Option(False, "--wide", help="One line per row, nothing wrapped (as when piped)."),
) -> None:
    """Execution quality per order: arrival mid, slippage, spread, improvement, times."""
    rows = use_cases.execution_quality(state_of(ctx).settings, symbol=symbol)
    if as_json:
        print_json(rows)
        return
    table = Table(
        "order",
        "symbol",
        "side",
        "filled",
        "arrival mid",
        "avg price",
        "slip. bps",
        "eff. spread",
        "improv.",
        "1st fill s",
        "complete s",
        "re-pegs",
        "esc.",
        "fill rate",
        title=f"{len(rows)} order(s); slippage positive = cost",
    )
    for row in rows:
        table.add_row(
            row["order_id"][:ID_SHOWN],
            row["symbol"],
            row["side"],
            f"{row['filled_quantity']}/{row['quantity']}",
            _text(row["arrival_mid"]),
            _text(row["average_fill_price"]),
            _text(row["slippage_bps"]),
            _text(row["effective_spread"]),
            _text(row["price_improvement"]),
            _text(row["time_to_first_fill_seconds"]),
            _text(row["time_to_complete_seconds"]),
            str(row["repegs"]),
            "yes" if row["escalated"] else "",
            row["fill_rate"],
        )
    print_table(table, wide=wide)


#: The fields an operator reads in the table; ``--json`` carries every field.
DETAIL_KEYS = (
    "quantity",
    "order_type",
    "limit_price",
    "method",
    "bid",
    "ask",
    "price",
    "filled_quantity",
    "remaining_quantity",
    "old_price",
    "new_price",
    "repeg_number",
    "error_code",
    "reason",
)


def _details(entry: dict[str, Any]) -> str:
    parts = [f"{key}={entry[key]}" for key in DETAIL_KEYS if entry.get(key) not in (None, "", [])]
    return " ".join(parts)


def _moment(occurred_at: str) -> str:
    """ISO time shortened for a table: '2026-01-05 14:30:10' (UTC), fractions kept if any."""
    return occurred_at.replace("T", " ").removesuffix("+00:00")


def _seconds(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _text(value: object) -> str:
    return "" if value is None else str(value)
