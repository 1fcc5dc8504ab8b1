"""The projections' folds, without a database: status, timeline lineage, quality figures."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from execledger.domain.order import SmartOrder
from execledger.domain.order_events import OrderEvent
from execledger.projections.execution_quality import ExecutionQualityProjection
from execledger.projections.order_status import OrderStatusProjection
from execledger.projections.projection import Projection
from execledger.projections.timeline import TimelineProjection

from tests.projection_scenarios import (
    T0,
    fill,
    place,
    quote,
    quoted_and_priced,
    requested,
    worked_order,
)


def fold_all(projection: Projection, events: list[OrderEvent]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    state: dict[str, Any] | None = None
    log: list[dict[str, Any]] = []
    for position, event in enumerate(events, start=1):
        state, row = projection.fold(None if state is None else dict(state), event, position)
        if row is not None:
            log.append(row)
    assert state is not None
    return state, log


def events_of(order: SmartOrder) -> list[OrderEvent]:
    return [e for e in order.collect_events() if isinstance(e, OrderEvent)]


def buy_scenario() -> SmartOrder:
    """docs/metrics.md's worked example: BUY 100 XYZ, partly filled, re-pegged, filled."""

    def at(seconds: float) -> Any:
        return T0 + timedelta(seconds=seconds)

    order = requested("XYZ", "BUY", "100", key="metrics-buy", correlation_id="c-m", when=at(0))
    order.validate(tradable=True, fractionable=True, occurred_at=at(0.25))
    quoted_and_priced(order, "100.00", "100.11", "100.03", at(0.5))
    place(order, "100.03", at(1), "B-1")
    fill(order, "30", "100.03", at(3.5), "E-1")
    order.repeg(
        Decimal("100.16"),
        bid=Decimal("100.05"),
        ask=Decimal("100.14"),
        reasons=["unfilled 10s"],
        occurred_at=at(11),
    )
    order.request_cancel("re-peg", occurred_at=at(11))
    order.record_canceled("canceled", occurred_at=at(11.5))
    place(order, "100.16", at(11.75), "B-2")
    fill(order, "70", "100.13", at(12), "E-2")
    order.complete("filled", occurred_at=at(12.25))
    return order


def sell_scenario() -> SmartOrder:
    """SELL 50 ABC: a partial fill, then escalated to market."""

    def at(seconds: float) -> Any:
        return T0 + timedelta(seconds=seconds)

    order = requested("ABC", "SELL", "50", key="metrics-sell", correlation_id="c-m", when=at(0))
    order.validate(tradable=True, fractionable=True, occurred_at=at(0))
    quoted_and_priced(order, "50.00", "50.04", "50.03", at(1))
    place(order, "50.03", at(1), "B-1")
    fill(order, "20", "50.03", at(2), "E-1")
    order.record_quote(
        quote("ABC", "49.99", "50.03", at(20)),
        suspicion_reasons=[],
        fallback_used=False,
        occurred_at=at(20),
    )
    order.escalate("re-pegs exhausted", occurred_at=at(21))
    order.request_cancel("escalation", occurred_at=at(21))
    order.record_canceled("canceled", occurred_at=at(21))
    place(order, None, at(21.5), "B-2")
    fill(order, "30", "49.98", at(22), "E-2")
    order.complete("filled", occurred_at=at(25))
    return order


def test_buy_quality_figures_match_the_hand_worked_example() -> None:
    """BUY: avg 100.10 vs arrival mid 100.055 is 4.50 bps of cost; figures as in docs/metrics.md."""
    row, _ = fold_all(ExecutionQualityProjection(), events_of(buy_scenario()))
    assert row["arrival_bid"] == Decimal("100.00") and row["arrival_ask"] == Decimal("100.11")
    assert row["arrival_mid"] == Decimal("100.055")
    assert row["average_fill_price"] == Decimal("100.100000")
    assert row["slippage_bps"] == Decimal("4.50")  # 0.045 / 100.055 x 10,000 = 4.4975...
    assert row["effective_spread"] == Decimal("0.0900")
    # each fill against its own placement's ask: (30 x (100.11 - 100.03) + 70 x (100.14 - 100.13)) / 100
    assert row["price_improvement"] == Decimal("0.0310")
    assert row["opportunity_cost"] == Decimal("0.0000")  # nothing left unfilled
    assert row["time_to_first_fill_seconds"] == Decimal("3.5")
    assert row["time_to_complete_seconds"] == Decimal("12.25")
    assert (row["repegs"], row["escalated"], row["fill_rate"]) == (1, False, Decimal("1.0000"))


def test_sell_quality_figures_are_signed_so_that_cost_is_positive() -> None:
    """SELL: avg 50.00 below arrival mid 50.02 is a cost of 4.00 bps; improvement vs the bid."""
    row, _ = fold_all(ExecutionQualityProjection(), events_of(sell_scenario()))
    assert row["arrival_mid"] == Decimal("50.02")
    assert row["average_fill_price"] == Decimal("50.000000")
    assert row["slippage_bps"] == Decimal("4.00")  # 0.02 / 50.02 x 10,000 = 3.9984...
    assert row["effective_spread"] == Decimal("0.0400")
    # (20 x (50.03 - 50.00) + 30 x (49.98 - 49.99)) / 50: the market fill was worse than the bid
    assert row["price_improvement"] == Decimal("0.0060")
    assert row["time_to_first_fill_seconds"] == Decimal("2")
    assert row["time_to_complete_seconds"] == Decimal("25")
    assert (row["repegs"], row["escalated"]) == (0, True)


def test_projected_status_matches_the_aggregate_for_every_life() -> None:
    """The order_status row agrees with the SmartOrder on status, quantities and prices."""
    for index in range(16):
        order = worked_order(index)
        row, _ = fold_all(OrderStatusProjection(), events_of(order))
        assert row["status"] == order.status.value, index
        assert row["filled_quantity"] == order.filled_quantity
        assert row["quantity"] == order.quantity
        assert row["limit_price"] == order.limit_price
        assert row["repegs"] == order.repegs and row["escalated"] == order.escalated
        assert row["client_order_ids"] == list(order.placements)
        assert row["version"] == order.version


def test_timeline_names_what_a_repeg_replaces_and_the_time_between_events() -> None:
    """A re-peg row carries the new client id and the one it replaces; the next placement too."""
    order = buy_scenario()
    first, second = (f"{order.id}-1", f"{order.id}-2")
    _, rows = fold_all(TimelineProjection(), events_of(order))
    by_type = {row["type"]: row for row in rows}
    assert rows[0]["since_previous_seconds"] is None
    assert rows[1]["since_previous_seconds"] == Decimal("0.25")
    repeg = by_type["Repegged"]
    assert (repeg["client_order_id"], repeg["replaces_client_order_id"]) == (second, first)
    assert repeg["broker_order_id"] == "B-1"
    placements = [row for row in rows if row["type"] == "PlacementRequested"]
    assert [p["replaces_client_order_id"] for p in placements] == [None, first]
    assert [row["version"] for row in rows] == list(range(1, len(rows) + 1))


def test_timeline_names_what_an_escalation_replaces() -> None:
    """An escalation row, and the market placement after it, name the last limit order."""
    order = sell_scenario()
    _, rows = fold_all(TimelineProjection(), events_of(order))
    escalated = next(row for row in rows if row["type"] == "Escalated")
    assert escalated["replaces_client_order_id"] == f"{order.id}-1"
    market = [row for row in rows if row["type"] == "PlacementRequested"][-1]
    assert market["replaces_client_order_id"] == f"{order.id}-1"
