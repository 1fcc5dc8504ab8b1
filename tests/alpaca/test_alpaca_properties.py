"""Properties: on-tick prices survive the SDK's float fields; any schedule of lost answers
ends in exactly one broker order per client order id."""

from __future__ import annotations

from decimal import Decimal

import pytest
from execledger.domain.ticks import tick_for
from execledger.domain.types import Side, TimeInForce
from execledger.infrastructure.alpaca.translation import decimal, wire_price
from execledger.infrastructure.errors import OrderRejected, TransientBrokerError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.alpaca.adapters import adapters_for, run
from tests.builders import a_quote
from tests.fake_alpaca import FakeAlpaca, Fault

ticks = st.one_of(
    st.integers(min_value=1, max_value=9_999).map(lambda n: Decimal(n) * Decimal("0.0001")),
    st.integers(min_value=100, max_value=10_000_000).map(lambda n: Decimal(n) * Decimal("0.01")),
)


@given(ticks)
def test_an_on_tick_price_goes_out_and_comes_back_exactly(price: Decimal) -> None:
    """float(price) read back through str is the same Decimal: no float error reaches us."""
    assert decimal(wire_price(price)) == price


@given(ticks, st.integers(min_value=1, max_value=99))
def test_a_price_off_its_tick_is_refused(price: Decimal, fraction: int) -> None:
    """A price between two ticks never becomes a float request field."""
    off = price + tick_for(price) * Decimal(fraction) / 100
    if off % tick_for(off) == 0:
        return
    with pytest.raises(OrderRejected):
        wire_price(off)


LOST = [
    Fault.TOO_MANY_REQUESTS,
    Fault.SERVER_ERROR,
    Fault.GATEWAY_TIMEOUT_AFTER_ACCEPT,
    Fault.DROP_AFTER_ACCEPT,
]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(LOST), max_size=4))
def test_any_schedule_of_lost_answers_makes_exactly_one_order(schedule: list[Fault]) -> None:
    """Faults on consecutive POSTs, the caller resending on transient errors: one order."""
    with FakeAlpaca() as fake:
        fake.quote(a_quote())
        for fault in schedule:
            fake.faults.arm("POST /v2/orders", fault)
        broker = adapters_for(fake).broker
        answer = None
        for _attempt in range(len(schedule) + 1):
            try:
                answer = run(
                    broker.place_limit(
                        client_order_id="p-1",
                        symbol="AAPL",
                        side=Side.BUY,
                        quantity=Decimal("10"),
                        limit_price=Decimal("100.10"),
                        time_in_force=TimeInForce.DAY,
                    )
                )
                break
            except TransientBrokerError:
                continue
        assert answer is not None
        orders = fake.orders_for("p-1")
        assert len(orders) == 1 and orders[0]["id"] == answer.broker_order_id
