"""Fill arithmetic (domain.fills): the new part of a fill, overfills, inferred fills."""

from __future__ import annotations

from decimal import Decimal

from execledger.domain.errors import BrokerOrderOverfill, Overfill
from execledger.domain.fills import inferred_fill_price, overfill, unheld_quantity
from execledger.domain.lifecycle import BrokerOrderFill
from hypothesis import given
from hypothesis import strategies as st

QUANTITIES = st.decimals(min_value="0.001", max_value="100000", places=3)
PRICES = st.decimals(min_value="0.01", max_value="10000", places=2)


@given(quantity=QUANTITIES, held=QUANTITIES, cumulative=QUANTITIES)
def test_the_new_part_never_counts_what_the_ledger_holds(
    quantity: Decimal, held: Decimal, cumulative: Decimal
) -> None:
    """With a cumulative quantity, the new part is at most the fill and at most what the
    broker filled beyond what the ledger holds; nothing when the ledger holds it all."""
    new = unheld_quantity(quantity, held=held, broker_filled_quantity=cumulative)
    if cumulative <= held:
        assert new is None
    else:
        assert new == min(quantity, cumulative - held)


def test_without_a_cumulative_quantity_the_whole_fill_is_new() -> None:
    """A report that carries no cumulative quantity is taken whole."""
    assert unheld_quantity(Decimal(5), held=Decimal(100), broker_filled_quantity=None) == Decimal(5)


def test_a_fill_past_the_broker_order_is_named_before_one_past_the_order() -> None:
    """The broker order's quantity is checked first, then the order's; exact fits pass."""
    broker_order = BrokerOrderFill(quantity=Decimal(10), filled=Decimal(8))
    common = {"client_order_id": "O-1", "broker_order": broker_order}
    past_both = overfill(Decimal(3), order_filled=Decimal(98), order_quantity=Decimal(100), **common)
    assert isinstance(past_both, BrokerOrderOverfill)
    past_order = overfill(Decimal(2), order_filled=Decimal(99), order_quantity=Decimal(100), **common)
    assert type(past_order) is Overfill
    assert overfill(Decimal(2), order_filled=Decimal(98), order_quantity=Decimal(100), **common) is None


@given(held=QUANTITIES, missing=QUANTITIES, held_price=PRICES, average=PRICES)
def test_an_inferred_price_makes_the_brokers_average(
    held: Decimal, missing: Decimal, held_price: Decimal, average: Decimal
) -> None:
    """Held notional plus the inferred fill equals the broker's average over the
    cumulative quantity; where that would need a non-positive price, the average is used."""
    cumulative = held + missing
    held_notional = held * held_price
    price = inferred_fill_price(
        average_price=average, filled_quantity=cumulative, held_notional=held_notional, missing=missing
    )
    assert price > 0
    if average * cumulative > held_notional:
        assert abs(held_notional + price * missing - average * cumulative) < Decimal("1e-12") * cumulative
    else:
        assert price == average
