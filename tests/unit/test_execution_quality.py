"""Execution-quality figures against hand-worked numbers: signs, sells, sub-dollar prices,
unfilled quantity and orders that never had a quote (docs/metrics.md)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from execledger.domain.order_events import OrderEvent
from execledger.projections.execution_quality import ExecutionQualityProjection
from hypothesis import given
from hypothesis import strategies as st

from tests.projection_scenarios import T0, fill, place, quote, quoted_and_priced, requested


def at(seconds: float) -> Any:
    return T0 + timedelta(seconds=seconds)


def quality_row(order: Any) -> dict[str, Any]:
    state: dict[str, Any] | None = None
    projection = ExecutionQualityProjection()
    for position, event in enumerate(order.collect_events(), start=1):
        assert isinstance(event, OrderEvent)
        state, _ = projection.fold(None if state is None else dict(state), event, position)
    assert state is not None
    return state


def test_a_buy_filled_better_than_the_mid_has_a_negative_effective_spread() -> None:
    """BUY 10 at 10.02 against the mid 10.05: 2 x (+1) x (10.02 - 10.05) = -0.0600 (a gain)."""
    order = requested("XYZ", "BUY", "10", key="better", correlation_id="c", when=at(0))
    order.validate(tradable=True, fractionable=True, occurred_at=at(0))
    quoted_and_priced(order, "10.00", "10.10", "10.02", at(1))
    place(order, "10.02", at(1), "B-1")
    fill(order, "10", "10.02", at(2), "E-1")
    row = quality_row(order)
    assert row["effective_spread"] == Decimal("-0.0600")
    assert row["slippage_bps"] == Decimal("-29.85")  # -0.03 / 10.05 x 10,000 = -29.850...
    assert row["price_improvement"] == Decimal("0.0800")  # ask 10.10 - 10.02


def penny_sell() -> Any:
    """SELL 1,000 at 0.4950 / 0.5050 (mid 0.5000); 600 fill at 0.4990; the price falls to
    0.4800 / 0.4900 (mid 0.4850) and the order expires with 400 unsold."""
    order = requested("PENNY", "SELL", "1000", key="penny", correlation_id="c", when=at(0))
    order.validate(tradable=True, fractionable=False, occurred_at=at(0))
    quoted_and_priced(order, "0.4950", "0.5050", "0.4990", at(1))
    place(order, "0.4990", at(1), "B-1")
    fill(order, "600", "0.4990", at(3), "E-1")
    order.record_quote(
        quote("PENNY", "0.4800", "0.4900", at(30)),
        suspicion_reasons=[],
        fallback_used=False,
        occurred_at=at(30),
    )
    order.request_cancel("session ending", occurred_at=at(31))
    order.record_canceled("canceled", occurred_at=at(31))
    order.expire("session ended", occurred_at=at(31))
    return order


def test_a_sub_dollar_sell_left_partly_unfilled_has_an_opportunity_cost() -> None:
    """penny_sell: slippage, spread and improvement in sub-dollar ticks; 400 unsold."""
    row = quality_row(penny_sell())
    assert row["arrival_mid"] == Decimal("0.5000")
    assert row["slippage_bps"] == Decimal("20.00")  # (0.5000 - 0.4990) / 0.5000 x 10,000
    assert row["effective_spread"] == Decimal("0.0020")  # 2 x (-1) x (0.4990 - 0.5000)
    assert row["price_improvement"] == Decimal("0.0040")  # 0.4990 - bid 0.4950
    assert row["end_mid"] == Decimal("0.4850") and row["unfilled_quantity"] == Decimal("400")
    assert row["opportunity_cost"] == Decimal("6.0000")  # 400 x (-1) x (0.4850 - 0.5000)
    assert row["fill_rate"] == Decimal("0.6000")


def test_an_order_escalated_with_no_quote_keeps_its_row_with_no_quote_figures() -> None:
    """No quote ever: the market fill is counted (fill rate, times), the quote figures are null."""
    order = requested("NOQ", "BUY", "5", key="noquote", correlation_id="c", when=at(0))
    order.validate(tradable=True, fractionable=True, occurred_at=at(0))
    order.escalate("no valid quote", occurred_at=at(1))
    place(order, None, at(1), "B-1")
    fill(order, "5", "20.00", at(2), "E-1")
    row = quality_row(order)
    assert row["arrival_mid"] is None and row["escalated"] is True
    assert (row["slippage_bps"], row["effective_spread"], row["price_improvement"]) == (None, None, None)
    assert row["fill_rate"] == Decimal("1.0000") and row["average_fill_price"] == Decimal("20.000000")


@given(
    bid=st.decimals(min_value="0.0100", max_value="500", places=2),
    spread=st.decimals(min_value="0.01", max_value="1", places=2),
    offset=st.decimals(min_value="-0.50", max_value="0.50", places=2),
    side=st.sampled_from(["BUY", "SELL"]),
)
def test_effective_spread_is_twice_the_signed_slippage_in_price(
    bid: Decimal, spread: Decimal, offset: Decimal, side: str
) -> None:
    """For one fill at P: effective spread = 2 x D x (P - M), and its sign is slippage's."""
    ask = bid + spread
    price = max((bid + ask) / 2 + offset, Decimal("0.01")).quantize(Decimal("0.01"))
    order = requested("PROP", side, "10", key="prop", correlation_id="c", when=at(0))
    order.validate(tradable=True, fractionable=True, occurred_at=at(0))
    quoted_and_priced(order, str(bid), str(ask), str(price), at(1))
    place(order, str(price), at(1), "B-1")
    fill(order, "10", str(price), at(2), "E-1")
    row = quality_row(order)
    direction = 1 if side == "BUY" else -1
    mid = (bid + ask) / 2
    assert row["effective_spread"] == (2 * direction * (price - mid)).quantize(Decimal("0.0001"))
    assert (row["effective_spread"] > 0) == (row["slippage_bps"] > 0)
