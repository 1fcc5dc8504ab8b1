"""execution_quality: per order, how well it executed against its arrival quote.

Definitions (docs/metrics.md has them with a worked example):
- arrival quote: the order's first Quoted; arrival mid = (bid + ask) / 2;
- slippage (bps, positive = cost): BUY (avg - mid) / mid x 10,000, SELL (mid - avg) / mid x 10,000;
- effective spread: 2 x |avg - mid|;
- price improvement per share against the quote in force at the last placement
  (the latest Quoted or Repegged quote before it): BUY ask - avg, SELL avg - bid;
- times from ``occurred_at``: Requested to first fill, Requested to Completed.
Figures are computed from the exact average and rounded only at the end.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from execledger.domain import order_events as ev
from execledger.projections.schema import Index, Kind, Row, Table, col
from execledger.projections.values import average_price, rounded, seconds_between

TABLE = Table(
    name="execution_quality",
    columns=(
        col("order_id", Kind.UUID, nullable=False),
        col("symbol", Kind.TEXT, nullable=False),
        col("side", Kind.TEXT, nullable=False),
        col("quantity", Kind.DECIMAL, nullable=False),
        col("filled_quantity", Kind.DECIMAL, nullable=False),
        col("filled_notional", Kind.DECIMAL, nullable=False),
        col("arrival_bid", Kind.DECIMAL),
        col("arrival_ask", Kind.DECIMAL),
        col("arrival_mid", Kind.DECIMAL),
        col("average_fill_price", Kind.DECIMAL),
        col("slippage_bps", Kind.DECIMAL),
        col("effective_spread", Kind.DECIMAL),
        col("price_improvement", Kind.DECIMAL),
        col("time_to_first_fill_seconds", Kind.DECIMAL),
        col("time_to_complete_seconds", Kind.DECIMAL),
        col("repegs", Kind.INT, nullable=False),
        col("escalated", Kind.BOOL, nullable=False),
        col("fill_rate", Kind.DECIMAL, nullable=False),
        col("last_bid", Kind.DECIMAL),
        col("last_ask", Kind.DECIMAL),
        col("placement_bid", Kind.DECIMAL),
        col("placement_ask", Kind.DECIMAL),
        col("requested_at", Kind.TIME, nullable=False),
        col("first_fill_at", Kind.TIME),
        col("completed_at", Kind.TIME),
        col("version", Kind.INT, nullable=False),
        col("position", Kind.INT, nullable=False),
    ),
    key=("order_id",),
    indexes=(Index("execution_quality_symbol", ("symbol", "requested_at")),),
)

BPS = Decimal(10_000)


class ExecutionQualityProjection:
    """Arrival quote, average price, slippage, spread, improvement, times, fill rate."""

    name = "execution_quality"
    state_table = TABLE
    log_table = None

    def fold(
        self, state: Row | None, event: ev.OrderEvent, position: int, fields_json: str | None = None
    ) -> tuple[Row, None]:
        """The new row; ``state`` may be updated in place (the runner passes its own copy)."""
        if state is None:
            row = _requested(event)
        else:
            row = state
            _change(row, event)
            if type(event) in _MOVES_FIGURES:
                row.update(figures(row))
        row["version"] = event.originator_version
        row["position"] = position
        return row, None


def _requested(event: ev.OrderEvent) -> Row:
    assert isinstance(event, ev.Requested)
    row: Row = {name: None for name in TABLE.column_names}
    row.update(
        order_id=event.originator_id,
        symbol=event.symbol,
        side=event.side.value,
        quantity=event.quantity,
        filled_quantity=Decimal(0),
        filled_notional=Decimal(0),
        repegs=0,
        escalated=False,
        fill_rate=Decimal("0.0000"),
        requested_at=event.occurred_at,
    )
    return row


def _change(row: Row, event: ev.OrderEvent) -> None:
    if isinstance(event, ev.QuantityAdjusted):
        row["quantity"] = event.new_quantity
    elif isinstance(event, ev.Quoted):
        if row["arrival_bid"] is None:
            row["arrival_bid"], row["arrival_ask"] = event.bid, event.ask
            row["arrival_mid"] = (event.bid + event.ask) / 2
        row["last_bid"], row["last_ask"] = event.bid, event.ask
    elif isinstance(event, ev.Repegged):
        row["repegs"] = event.repeg_number
        row["last_bid"], row["last_ask"] = event.bid, event.ask
    elif isinstance(event, ev.PlacementRequested):
        row["placement_bid"], row["placement_ask"] = row["last_bid"], row["last_ask"]
    elif isinstance(event, ev.PartiallyFilled | ev.Filled):
        row["filled_quantity"] += event.quantity
        row["filled_notional"] += event.quantity * event.price
        if row["first_fill_at"] is None:
            row["first_fill_at"] = event.occurred_at
    elif isinstance(event, ev.CancelRejected) and event.withdrawn_repeg is not None:
        row["repegs"] = event.withdrawn_repeg - 1  # that re-peg never reached the venue
    elif isinstance(event, ev.Escalated):
        row["escalated"] = True
    elif isinstance(event, ev.Completed):
        row["completed_at"] = event.occurred_at


_MOVES_FIGURES = frozenset(
    {ev.QuantityAdjusted, ev.Quoted, ev.PlacementRequested, ev.PartiallyFilled, ev.Filled, ev.Completed}
)


def figures(row: Row) -> dict[str, Any]:
    """The derived figures of a quality row, from its recorded inputs."""
    filled: Decimal = row["filled_quantity"]
    quantity: Decimal = row["quantity"]
    out: dict[str, Any] = {
        "average_fill_price": average_price(row["filled_notional"], filled),
        "fill_rate": rounded(filled / quantity, "0.0001") if quantity else Decimal("0.0000"),
        "slippage_bps": None,
        "effective_spread": None,
        "price_improvement": None,
        "time_to_first_fill_seconds": None,
        "time_to_complete_seconds": None,
    }
    if row["first_fill_at"] is not None:
        out["time_to_first_fill_seconds"] = seconds_between(row["requested_at"], row["first_fill_at"])
    if row["completed_at"] is not None:
        out["time_to_complete_seconds"] = seconds_between(row["requested_at"], row["completed_at"])
    if filled == 0:
        return out
    average = row["filled_notional"] / filled  # exact; rounded only in the figures
    buy = row["side"] == "BUY"
    mid = row["arrival_mid"]
    if mid is not None and mid > 0:
        signed = (average - mid) if buy else (mid - average)
        out["slippage_bps"] = rounded(signed / mid * BPS, "0.01")
        out["effective_spread"] = rounded(2 * abs(average - mid), "0.0001")
    far_side = row["placement_ask"] if buy else row["placement_bid"]
    if far_side is not None:
        improvement = (far_side - average) if buy else (average - far_side)
        out["price_improvement"] = rounded(improvement, "0.0001")
    return out
