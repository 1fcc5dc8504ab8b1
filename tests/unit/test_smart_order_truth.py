"""SmartOrder against an unkind broker (issue 12): what is placed is what was decided,
fills the broker made are recorded (inferred, overfilled), re-pegs count when they happen,
and no broker order is forgotten while it can still fill."""

from __future__ import annotations

from decimal import Decimal

import pytest
from execledger.domain import order_events as ev
from execledger.domain.errors import IllegalTransition
from execledger.domain.order import SmartOrder, inferred_execution_id
from execledger.domain.status import OrderStatus
from execledger.domain.types import OrderType, TimeInForce

from tests.builders import (
    LIMIT_PRICE,
    a_config,
    accept,
    accepted_order,
    at,
    fill,
    pending_names,
    pending_order,
    place_limit,
    working_order,
)


def _request(order: SmartOrder, order_type: OrderType, quantity: Decimal, price: Decimal | None) -> None:
    order.request_placement(
        order_type=order_type,
        quantity=quantity,
        limit_price=price,
        time_in_force=TimeInForce.DAY,
        occurred_at=at(3),
    )


# ---- defect 7: placements carry the decided price -----------------------------------------


def test_a_limit_placement_without_a_decision_is_refused() -> None:
    order = accepted_order()
    with pytest.raises(IllegalTransition, match="decided price is None"):
        _request(order, OrderType.LIMIT, Decimal(10), LIMIT_PRICE)


def test_a_limit_placement_at_another_price_than_decided_is_refused() -> None:
    order = accepted_order()
    order.price(LIMIT_PRICE, method="m", tick=Decimal("0.01"), metadata={}, occurred_at=at(2))
    with pytest.raises(IllegalTransition, match="decided price"):
        _request(order, OrderType.LIMIT, Decimal(10), Decimal("100.02"))
    _request(order, OrderType.LIMIT, Decimal(10), LIMIT_PRICE)
    assert order.decided_price is None  # a decision is placed once


def test_a_placement_of_less_than_the_remaining_quantity_is_refused() -> None:
    order = accepted_order()
    order.price(LIMIT_PRICE, method="m", tick=Decimal("0.01"), metadata={}, occurred_at=at(2))
    with pytest.raises(IllegalTransition, match="remaining quantity"):
        _request(order, OrderType.LIMIT, Decimal(3), LIMIT_PRICE)


def test_a_market_placement_needs_an_escalation() -> None:
    order = accepted_order()
    with pytest.raises(IllegalTransition, match="escalation"):
        _request(order, OrderType.MARKET, Decimal(10), None)
    order.escalate("re-pegs exhausted", occurred_at=at(2))
    _request(order, OrderType.MARKET, Decimal(10), None)


def test_a_re_peg_places_at_the_re_pegged_price() -> None:
    order = working_order()
    order.repeg(Decimal("100.05"), bid=Decimal(100), ask=Decimal("100.5"), reasons=[], occurred_at=at(10))
    order.request_cancel("re-peg", occurred_at=at(10))
    order.record_canceled("canceled", occurred_at=at(11))
    with pytest.raises(IllegalTransition, match=r"decided price is 100\.05"):
        _request(order, OrderType.LIMIT, Decimal(10), LIMIT_PRICE)
    _request(order, OrderType.LIMIT, Decimal(10), Decimal("100.05"))


# ---- defect 6: a re-peg counts when it happened ---------------------------------------------


def test_a_re_peg_whose_cancel_is_refused_does_not_count() -> None:
    """max_repegs=2: a refused re-peg cancel withdraws the re-peg and its number is reused."""
    order = working_order(config=a_config(max_repegs=2))
    order.repeg(Decimal("100.05"), bid=Decimal(100), ask=Decimal("100.5"), reasons=[], occurred_at=at(10))
    order.request_cancel("re-peg 1", occurred_at=at(10))
    order.record_cancel_rejected("broker: order is not cancelable", occurred_at=at(11))
    rejected = list(order.pending_events)[-1]
    assert isinstance(rejected, ev.CancelRejected)
    assert rejected.withdrawn_repeg == 1
    assert rejected.reason == "broker: order is not cancelable"
    assert order.repegs == 0
    assert order.decided_price is None
    assert order.status is OrderStatus.WORKING
    order.repeg(Decimal("100.06"), bid=Decimal(100), ask=Decimal("100.5"), reasons=[], occurred_at=at(20))
    repegged = list(order.pending_events)[-1]
    assert isinstance(repegged, ev.Repegged) and repegged.repeg_number == 1


def test_a_re_peg_whose_cancel_went_through_counts() -> None:
    order = working_order(config=a_config(max_repegs=1))
    order.repeg(Decimal("100.05"), bid=Decimal(100), ask=Decimal("100.5"), reasons=[], occurred_at=at(10))
    order.request_cancel("re-peg 1", occurred_at=at(10))
    order.record_canceled("canceled", occurred_at=at(11))
    assert order.repegs == 1
    place_limit(order, Decimal("100.05"), when=at(12))
    accept(order, order.live_client_order_id or "", "B-2", when=at(12))
    with pytest.raises(IllegalTransition, match="exhausted"):
        order.repeg(Decimal("100.07"), bid=Decimal(100), ask=Decimal("100.5"), reasons=[], occurred_at=at(20))


# ---- defect 2: a fill completing the quantity on an old broker order ------------------------


def _late_fill_then_second_working() -> tuple[SmartOrder, str, str]:
    """Broker order 1 (10) fills 4, is canceled; broker order 2 (6) works; then a late
    report of 3 more on order 1 (it filled before the cancel took)."""
    order = working_order()
    first = order.live_client_order_id or ""
    fill(order, "4", execution_id="x-1")
    order.request_cancel("re-peg", occurred_at=at(6))
    order.record_canceled("canceled", occurred_at=at(6))
    second = place_limit(order, Decimal("100.02"), when=at(7))
    accept(order, second, "B-2", when=at(7))
    return order, first, second


def test_a_fill_completing_the_quantity_on_an_old_broker_order_keeps_the_live_one() -> None:
    order, first, second = _late_fill_then_second_working()
    assert order.remaining_quantity == 6
    fill(order, "3", execution_id="x-2", client_order_id=first)
    fill(order, "3", execution_id="x-3", client_order_id=second)
    assert order.remaining_quantity == 0
    assert order.live_client_order_id == second
    assert order.status is not OrderStatus.FILLED
    with pytest.raises(IllegalTransition, match="working"):
        order.complete("filled", occurred_at=at(9))
    order.request_cancel("filled on an earlier broker order", occurred_at=at(9))
    order.record_canceled("canceled", occurred_at=at(9))
    assert order.status is OrderStatus.FILLED
    order.complete("filled", occurred_at=at(10))


# ---- defect 3: an overfill is recorded, with its breach -------------------------------------


def test_an_overfill_is_recorded_with_an_overfilled_breach() -> None:
    order, first, second = _late_fill_then_second_working()
    fill(order, "6", execution_id="x-2", client_order_id=second)
    assert order.status is OrderStatus.FILLED
    order.record_overfill(
        first,
        execution_id="x-3",
        quantity=Decimal(3),
        price=LIMIT_PRICE,
        broker_order_id="B-1",
        occurred_at=at(9),
    )
    assert pending_names(order)[-2:] == ["Filled", "Overfilled"]
    breach = list(order.pending_events)[-1]
    assert isinstance(breach, ev.Overfilled)
    assert (breach.order_quantity, breach.filled_quantity) == (Decimal(10), Decimal(13))
    assert order.filled_quantity == 13 and order.overfilled
    with pytest.raises(IllegalTransition):
        place_limit(order, LIMIT_PRICE, when=at(10))


def test_record_overfill_refuses_a_fill_that_fits() -> None:
    order = working_order()
    with pytest.raises(IllegalTransition, match="does not overfill"):
        order.record_overfill(
            order.live_client_order_id or "",
            execution_id="x-1",
            quantity=Decimal(3),
            price=LIMIT_PRICE,
            broker_order_id="B-1",
            occurred_at=at(9),
        )


# ---- defect 4: fills inferred from the broker's cumulative quantity -------------------------


def test_a_fill_the_stream_never_delivered_is_inferred_from_the_cumulative_quantity() -> None:
    order = working_order()
    cid = order.live_client_order_id or ""
    fill(order, "4", execution_id="x-1", price="100.00")
    recorded = order.record_broker_fills(
        cid,
        broker_order_id="B-1",
        filled_quantity=Decimal(10),
        average_price=Decimal("100.06"),
        occurred_at=at(9),
    )
    assert recorded
    inferred = list(order.pending_events)[-1]
    assert isinstance(inferred, ev.Filled)
    assert inferred.inferred is True
    assert inferred.quantity == 6
    assert inferred.execution_id == inferred_execution_id("B-1", Decimal(10)) == "inferred:B-1:10"
    assert inferred.price == Decimal("100.10")  # 10 at 100.06 less 4 at 100.00, over 6
    assert order.average_fill_price == Decimal("100.06")
    again = order.record_broker_fills(
        cid,
        broker_order_id="B-1",
        filled_quantity=Decimal(10),
        average_price=Decimal("100.06"),
        occurred_at=at(9),
    )
    assert not again


def test_a_later_real_report_of_an_inferred_fill_is_not_doubled() -> None:
    """The report's cumulative (6) is already held: nothing recorded; a report taking the
    cumulative past what is held records only the difference."""
    order = working_order()
    cid = order.live_client_order_id or ""
    order.record_broker_fills(
        cid, broker_order_id="B-1", filled_quantity=Decimal(6), average_price=LIMIT_PRICE, occurred_at=at(9)
    )
    late = order.record_fill(
        cid,
        execution_id="real-1",
        quantity=Decimal(6),
        price=LIMIT_PRICE,
        broker_order_id="B-1",
        broker_filled_quantity=Decimal(6),
        occurred_at=at(10),
    )
    assert not late and order.filled_quantity == 6
    order.record_fill(
        cid,
        execution_id="real-2",
        quantity=Decimal(3),
        price=LIMIT_PRICE,
        broker_order_id="B-1",
        broker_filled_quantity=Decimal(8),
        occurred_at=at(11),
    )
    assert order.filled_quantity == 8


def test_an_inferred_fill_past_the_order_quantity_is_an_overfill() -> None:
    order = pending_order()
    cid = order.live_client_order_id or ""
    order.record_broker_fills(
        cid, broker_order_id="B-1", filled_quantity=Decimal(12), average_price=LIMIT_PRICE, occurred_at=at(9)
    )
    assert pending_names(order)[-2:] == ["Filled", "Overfilled"]
    assert order.overfilled
