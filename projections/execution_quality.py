"""execution_quality: per order, how well it executed against its arrival quote.

Definitions (docs/metrics.md has them with a worked example for each), D = +1 for a
BUY and -1 for a SELL:
- arrival quote: the order's first Quoted; arrival mid M = (bid + ask) / 2;
- slippage (bps, positive = cost): D x (avg - M) / M x 10,000;
- effective spread, signed, share-weighted over the fills: 2 x D x (avg - M);
- price improvement per share, share-weighted over the fills, each fill against the
  quote in force at its own placement (the latest Quoted or Repegged quote before that
  placement): D x (far touch - fill price), far touch = ask for a BUY, bid for a SELL;
- opportunity cost of the unfilled quantity: unfilled x D x (end mid - M), the end mid
  being the mid of the last quote the order recorded;
- times from ``occurred_at``: Requested to first fill, Requested to Completed.
Figures are computed from exact sums and rounded only at the end.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from execledger.domain import order_events as ev
from execledger.domain.quotes import seconds_between
from execledger.projections.schema import Index, Kind, Row, Table, col
from execledger.projections.values import average_price, rounded

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
        col("placement_quotes", Kind.JSON),
        col("first_order_type", Kind.TEXT),
        col("first_limit_price", Kind.DECIMAL),
        col("improvement_notional", Kind.DECIMAL, nullable=False),
        col("improvement_quantity", Kind.DECIMAL, nullable=False),
        col("end_mid", Kind.DECIMAL),
        col("unfilled_quantity", Kind.DECIMAL, nullable=False),
        col("opportunity_cost", Kind.DECIMAL),
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
        placement_quotes={},
        improvement_notional=Decimal(0),
        improvement_quantity=Decimal(0),
        unfilled_quantity=event.quantity,
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
        far = row["last_ask"] if row["side"] == "BUY" else row["last_bid"]
        quotes = dict(row["placement_quotes"] or {})  # a new dict: the runner's copy is shallow
        quotes[event.client_order_id] = None if far is None else str(far)
        row["placement_quotes"] = quotes
        if row["first_order_type"] is None:
            row["first_order_type"], row["first_limit_price"] = event.order_type.value, event.limit_price
    elif isinstance(event, ev.PartiallyFilled | ev.Filled):
        row["filled_quantity"] += event.quantity
        row["filled_notional"] += event.quantity * event.price
        if row["first_fill_at"] is None:
            row["first_fill_at"] = event.occurred_at
        far = (row["placement_quotes"] or {}).get(event.client_order_id)
        if far is not None:
            direction = 1 if row["side"] == "BUY" else -1
            row["improvement_notional"] += event.quantity * direction * (Decimal(far) - event.price)
            row["improvement_quantity"] += event.quantity
    elif isinstance(event, ev.CancelRejected) and event.withdrawn_repeg is not None:
        row["repegs"] = event.withdrawn_repeg - 1  # that re-peg never reached the venue
    elif isinstance(event, ev.Escalated):
        row["escalated"] = True
    elif isinstance(event, ev.Completed):
        row["completed_at"] = event.occurred_at


_MOVES_FIGURES = frozenset(
    {
        ev.QuantityAdjusted,
        ev.Quoted,
        ev.Repegged,
        ev.PlacementRequested,
        ev.PartiallyFilled,
        ev.Filled,
        ev.Completed,
    }
)


def figures(row: Row) -> dict[str, Any]:
    """The derived figures of a quality row, from its recorded inputs."""
    filled: Decimal = row["filled_quantity"]
    quantity: Decimal = row["quantity"]
    direction = 1 if row["side"] == "BUY" else -1
    mid: Decimal | None = row["arrival_mid"]
    end_mid = None if row["last_bid"] is None else (row["last_bid"] + row["last_ask"]) / 2
    unfilled = max(quantity - filled, Decimal(0))
    out: dict[str, Any] = {
        "average_fill_price": average_price(row["filled_notional"], filled),
        "fill_rate": rounded(filled / quantity, "0.0001") if quantity else Decimal("0.0000"),
        "slippage_bps": None,
        "effective_spread": None,
        "price_improvement": None,
        "time_to_first_fill_seconds": None,
        "time_to_complete_seconds": None,
        "end_mid": end_mid,
        "unfilled_quantity": unfilled,
        "opportunity_cost": None,
    }
    if row["first_fill_at"] is not None:
        out["time_to_first_fill_seconds"] = seconds_between(row["requested_at"], row["first_fill_at"])
    if row["completed_at"] is not None:
        out["time_to_complete_seconds"] = seconds_between(row["requested_at"], row["completed_at"])
    if mid is not None and end_mid is not None:
        out["opportunity_cost"] = _signed(unfilled * direction * (end_mid - mid), "0.0001")
    if row["improvement_quantity"] > 0:
        improvement = row["improvement_notional"] / row["improvement_quantity"]
        out["price_improvement"] = _signed(improvement, "0.0001")
    if filled == 0:
        return out
    average = row["filled_notional"] / filled  # exact; rounded only in the figures
    if mid is not None and mid > 0:
        out["slippage_bps"] = _signed(direction * (average - mid) / mid * BPS, "0.01")
        out["effective_spread"] = _signed(2 * direction * (average - mid), "0.0001")
    return out


def _signed(value: Decimal, step: str) -> Decimal:
    """``value`` rounded to ``step``, a zero shown without a sign (a SELL's -1 x 0 is 0)."""
    result = rounded(value, step)
    return result.copy_abs() if result == 0 else result
