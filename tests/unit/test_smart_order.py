"""SmartOrder state machine: guards, fills, cancels, escalation, deterministic ids."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from uuid import uuid5

import pytest
from execledger.domain import order_events as ev
from execledger.domain.errors import (
    BrokerOrderOverfill,
    DomainError,
    IllegalTransition,
    Overfill,
    UnknownPlacement,
)
from execledger.domain.ids import MAX_CLIENT_ORDER_ID_LENGTH, ORDER_NAMESPACE
from execledger.domain.order import SmartOrder
from execledger.domain.status import OrderStatus
from execledger.domain.types import OrderType, TimeInForce

from tests.builders import (
    LIMIT_PRICE,
    T0,
    a_config,
    a_quote,
    a_request,
    accept,
    accepted_order,
    at,
    cancel,
    event_names,
    fill,
    new_order,
    pending_names,
    pending_order,
    place_limit,
    place_market,
    working_order,
)

Command = Callable[[SmartOrder], object]


def _snapshot(order: SmartOrder) -> tuple[object, ...]:
    return (
        order.status,
        order.version,
        order.filled_quantity,
        order.quantity,
        order.repegs,
        order.escalated,
        dict(order.placements),
        order.live_client_order_id,
        order.head_hash,
        len(order.pending_events),
    )


def completed_order() -> SmartOrder:
    """A working order filled in full and completed."""
    order = working_order()
    fill(order, "10", execution_id="x-1")
    order.complete("filled", occurred_at=at(6))
    return order


def denied_order() -> SmartOrder:
    order = new_order()
    order.deny("not tradable", occurred_at=at(1))
    return order


def expired_order() -> SmartOrder:
    order = accepted_order()
    order.expire("session ended", occurred_at=at(9))
    return order


def failed_order() -> SmartOrder:
    order = working_order()
    order.fail("broker gone", occurred_at=at(9))
    return order


_PLACE_LIMIT: Command = lambda o: place_limit(o, Decimal("100.02"), when=at(8))  # noqa: E731
_PRICE: Command = lambda o: o.price(  # noqa: E731
    Decimal("100.02"), method="m", tick=Decimal("0.01"), metadata={}, occurred_at=at(8)
)
_QUOTE: Command = lambda o: o.record_quote(  # noqa: E731
    a_quote(), suspicion_reasons=[], fallback_used=False, occurred_at=at(8)
)
_REPEG: Command = lambda o: o.repeg(  # noqa: E731
    Decimal("100.30"), bid=Decimal("100"), ask=Decimal("100.5"), reasons=[], occurred_at=at(8)
)
_VALIDATE: Command = lambda o: o.validate(tradable=True, fractionable=True, occurred_at=at(8))  # noqa: E731
_CANCEL: Command = lambda o: o.request_cancel("why", occurred_at=at(8))  # noqa: E731
_CANCELED: Command = lambda o: o.record_canceled("gone", occurred_at=at(8))  # noqa: E731
_CANCEL_REJECTED: Command = lambda o: o.record_cancel_rejected("no", occurred_at=at(8))  # noqa: E731
_ESCALATE: Command = lambda o: o.escalate("slow", occurred_at=at(8))  # noqa: E731
_COMPLETE: Command = lambda o: o.complete("done", occurred_at=at(8))  # noqa: E731
_EXPIRE: Command = lambda o: o.expire("late", occurred_at=at(8))  # noqa: E731
_FAIL: Command = lambda o: o.fail("broken", occurred_at=at(8))  # noqa: E731
_DENY: Command = lambda o: o.deny("no", occurred_at=at(8))  # noqa: E731
_ADJUST: Command = lambda o: o.adjust_quantity(  # noqa: E731
    Decimal("5"), fractionable=False, reason="whole shares", occurred_at=at(8)
)

ILLEGAL: list[tuple[str, Callable[[], SmartOrder], Command]] = [
    ("price a new order", new_order, _PRICE),
    ("quote a new order", new_order, _QUOTE),
    ("place a new order", new_order, _PLACE_LIMIT),
    ("escalate a new order", new_order, _ESCALATE),
    ("validate twice", accepted_order, _VALIDATE),
    ("deny an accepted order", accepted_order, _DENY),
    ("adjust an accepted order", accepted_order, _ADJUST),
    ("cancel with nothing working", accepted_order, _CANCEL),
    ("confirm a cancel with nothing working", accepted_order, _CANCELED),
    ("reject a cancel never asked", working_order, _CANCEL_REJECTED),
    ("re-peg with nothing working", accepted_order, _REPEG),
    ("re-peg before the broker answers", pending_order, _REPEG),
    ("place while a placement is pending", pending_order, _PLACE_LIMIT),
    ("place while an order is working", working_order, _PLACE_LIMIT),
    ("price while an order is working", working_order, _PRICE),
    ("complete while an order is working", working_order, _COMPLETE),
    ("expire while an order is working", working_order, _EXPIRE),
    (
        "re-peg to the price already used",
        working_order,
        lambda o: o.repeg(
            LIMIT_PRICE, bid=Decimal("100"), ask=Decimal("100.5"), reasons=[], occurred_at=at(8)
        ),
    ),
    ("validate a completed order", completed_order, _VALIDATE),
    ("quote a completed order", completed_order, _QUOTE),
    ("price a completed order", completed_order, _PRICE),
    ("place a completed order", completed_order, _PLACE_LIMIT),
    ("escalate a completed order", completed_order, _ESCALATE),
    ("complete twice", completed_order, _COMPLETE),
    ("expire a completed order", completed_order, _EXPIRE),
    ("fail a completed order", completed_order, _FAIL),
    ("cancel a completed order", completed_order, _CANCEL),
    ("place a denied order", denied_order, _PLACE_LIMIT),
    ("quote a denied order", denied_order, _QUOTE),
    ("escalate an expired order", expired_order, _ESCALATE),
    ("complete an expired order", expired_order, _COMPLETE),
    ("place an expired order", expired_order, _PLACE_LIMIT),
    ("confirm a cancel on a failed order", failed_order, _CANCELED),
    ("expire a failed order", failed_order, _EXPIRE),
]


@pytest.mark.parametrize(("case", "build", "command"), ILLEGAL, ids=[c[0] for c in ILLEGAL])
def test_an_illegal_transition_raises_and_records_nothing(
    case: str, build: Callable[[], SmartOrder], command: Command
) -> None:
    """A command that does not apply raises IllegalTransition; state and pending events stay."""
    order = build()
    before = _snapshot(order)
    pending = pending_names(order)
    with pytest.raises(IllegalTransition):
        command(order)
    assert _snapshot(order) == before
    assert pending_names(order) == pending


def test_a_working_order_records_the_realistic_event_sequence() -> None:
    """The builders' working order carries exactly the events a real run records."""
    order = working_order()
    assert pending_names(order) == [
        "Requested",
        "Validated",
        "Quoted",
        "Priced",
        "PlacementRequested",
        "Placed",
    ]
    assert order.status is OrderStatus.WORKING
    placed = order.pending_events[-2]
    assert isinstance(placed, ev.PlacementRequested)
    assert placed.limit_price == LIMIT_PRICE == order.limit_price
    assert placed.order_type is OrderType.LIMIT
    assert placed.time_in_force is TimeInForce.DAY


def test_every_event_carries_correlation_id_and_business_time() -> None:
    """Every event has the request's correlation id and the engine's occurred_at."""
    order = working_order()
    assert len(order.pending_events) > 3, "the order has events to check"
    for event in order.pending_events:
        assert isinstance(event, ev.OrderEvent)
        assert event.correlation_id == "corr-1"
        assert event.occurred_at.tzinfo is not None
    assert [e.occurred_at for e in order.pending_events][:2] == [T0, at(1)]  # type: ignore[attr-defined]


def test_a_naive_business_time_is_refused() -> None:
    """occurred_at without a timezone raises DomainError and records nothing."""
    order = accepted_order()
    with pytest.raises(DomainError):
        order.expire("late", occurred_at=T0.replace(tzinfo=None))
    assert pending_names(order) == ["Requested", "Validated"]


@pytest.mark.parametrize(
    "close",
    [
        lambda o: o.complete("remainder too small", occurred_at=at(7)),
        lambda o: o.expire("session ended", occurred_at=at(7)),
    ],
    ids=["completed", "expired"],
)
def test_a_late_fill_after_the_order_closed_is_recorded_and_the_status_stands(
    close: Command,
) -> None:
    """A fill arriving after Canceled and Completed/Expired is recorded; the order stays closed."""
    order = working_order()
    client_order_id = order.live_client_order_id
    fill(order, "4", execution_id="x-1")
    cancel(order, when=at(6))
    close(order)
    status = order.status
    assert status.is_terminal

    assert fill(order, "2", execution_id="x-late", client_order_id=client_order_id, when=at(8))

    late = order.pending_events[-1]
    assert isinstance(late, ev.PartiallyFilled)
    assert (late.filled_quantity, late.remaining_quantity) == (Decimal("6"), Decimal("4"))
    assert order.status is status
    assert order.filled_quantity == Decimal("6")


def test_a_late_fill_after_canceled_keeps_the_order_canceled() -> None:
    """A fill on a canceled broker order is recorded; the order stays CANCELED, nothing live."""
    order = working_order()
    client_order_id = order.live_client_order_id
    cancel(order, when=at(6))
    assert fill(order, "3", execution_id="x-late", client_order_id=client_order_id)
    assert pending_names(order)[-3:] == ["CancelRequested", "Canceled", "PartiallyFilled"]
    assert order.status is OrderStatus.CANCELED
    assert order.live_client_order_id is None
    assert order.remaining_quantity == Decimal("7")


def test_fills_are_deduplicated_by_execution_id() -> None:
    """The same execution id twice: the second returns False and records nothing."""
    order = working_order()
    assert fill(order, "3", execution_id="x-1")
    events = len(order.pending_events)
    assert not fill(order, "3", execution_id="x-1")
    assert not fill(order, "5", execution_id="x-1", price="99")
    assert len(order.pending_events) == events
    assert order.filled_quantity == Decimal("3")


def test_cumulative_filled_is_summed_over_the_chain_of_broker_orders() -> None:
    """Fills on three broker orders (limit, re-pegged limit, market) add up to the order's total."""
    order = working_order()
    first = order.live_client_order_id
    fill(order, "3", execution_id="x-1", when=at(5))
    order.repeg(
        Decimal("100.25"),
        bid=Decimal("100.00"),
        ask=Decimal("100.50"),
        reasons=["unfilled after 10 s"],
        occurred_at=at(14),
    )
    cancel(order, when=at(14))
    second = place_limit(order, Decimal("100.25"), when=at(15))
    accept(order, second, "B-2", when=at(15))
    fill(order, "4", execution_id="x-2", price="100.25", when=at(16))
    cancel(order, when=at(25))
    order.escalate("re-pegs exhausted", occurred_at=at(25))
    third = place_market(order, when=at(25))
    accept(order, third, "B-3", when=at(25))
    fill(order, "3", execution_id="x-3", price="100.50", when=at(26))
    order.complete("filled", occurred_at=at(26))

    fills = [e for e in order.pending_events if isinstance(e, ev.PartiallyFilled | ev.Filled)]
    assert event_names(fills) == ["PartiallyFilled", "PartiallyFilled", "Filled"]
    assert [f.client_order_id for f in fills] == [first, second, third]
    assert [f.filled_quantity for f in fills] == [Decimal("3"), Decimal("7"), Decimal("10")]
    assert [f.remaining_quantity for f in fills] == [Decimal("7"), Decimal("3"), Decimal("0")]
    assert order.status is OrderStatus.COMPLETED
    assert order.average_fill_price == (3 * LIMIT_PRICE + 4 * Decimal("100.25") + 3 * Decimal("100.50")) / 10
    escalated = next(e for e in order.pending_events if isinstance(e, ev.Escalated))
    assert escalated.quantity == Decimal("3")


def test_an_overfill_raises_and_records_nothing() -> None:
    """A fill past the order quantity raises Overfill; filled and events are unchanged."""
    order = working_order()
    fill(order, "8", execution_id="x-1")
    before = _snapshot(order)
    with pytest.raises(Overfill):
        fill(order, "2.000000001", execution_id="x-2")
    assert _snapshot(order) == before


def test_a_fill_for_a_placement_never_sent_is_refused() -> None:
    """A fill naming an unknown client order id raises UnknownPlacement and records nothing."""
    order = working_order()
    with pytest.raises(UnknownPlacement):
        order.record_fill(
            "someone-else-1",
            execution_id="x",
            quantity=Decimal(1),
            price=LIMIT_PRICE,
            broker_order_id="B-9",
            occurred_at=at(5),
        )
    assert pending_names(order)[-1] == "Placed"


def test_remaining_is_quantity_less_filled_after_a_quantity_adjustment() -> None:
    """Remaining derives from the (adjusted) quantity and the fills; no second counter."""
    order = new_order(a_request(quantity="10.5"))
    order.adjust_quantity(Decimal("10"), fractionable=False, reason="whole shares", occurred_at=at(1))
    assert order.remaining_quantity == Decimal("10")
    order.record_quote(a_quote(), suspicion_reasons=[], fallback_used=False, occurred_at=at(2))
    place_limit(order, LIMIT_PRICE, when=at(3))
    accept(order, order.live_client_order_id or "", "B-1", when=at(4))
    fill(order, "2.5", execution_id="x-1")
    assert order.requested_quantity == Decimal("10.5")
    assert order.remaining_quantity == order.quantity - order.filled_quantity == Decimal("7.5")
    last = order.pending_events[-1]
    assert isinstance(last, ev.PartiallyFilled)
    assert last.remaining_quantity == order.remaining_quantity


def test_the_aggregate_chooses_filled_or_partially_filled() -> None:
    """A fill that reaches the order quantity is Filled; any other is PartiallyFilled."""
    order = working_order()
    fill(order, "9.5", execution_id="x-1")
    assert order.status is OrderStatus.PARTIALLY_FILLED
    fill(order, "0.5", execution_id="x-2")
    assert pending_names(order)[-2:] == ["PartiallyFilled", "Filled"]
    assert order.status is OrderStatus.FILLED
    assert order.live_client_order_id is None


def test_a_fill_racing_a_cancel_is_legal_and_the_cancel_is_rejected() -> None:
    """Fill while PENDING_CANCEL, then CancelRejected: both recorded, the order works on."""
    order = working_order()
    order.request_cancel("re-peg", occurred_at=at(10))
    assert order.status is OrderStatus.PENDING_CANCEL
    assert fill(order, "4", execution_id="x-1", when=at(10))
    order.record_cancel_rejected("order partially filled", occurred_at=at(11))
    assert pending_names(order)[-3:] == ["CancelRequested", "PartiallyFilled", "CancelRejected"]
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.cancel_pending_for is None
    assert order.live_client_order_id is not None


def test_a_full_fill_racing_a_cancel_leaves_the_order_filled() -> None:
    """The fill that completes the order wins over the pending cancel; completion follows."""
    order = working_order()
    order.request_cancel("re-peg", occurred_at=at(10))
    fill(order, "10", execution_id="x-1", when=at(10))
    order.record_cancel_rejected("order filled", occurred_at=at(11))
    assert order.status is OrderStatus.FILLED
    order.complete("filled", occurred_at=at(11))
    assert pending_names(order)[-4:] == ["CancelRequested", "Filled", "CancelRejected", "Completed"]


def test_a_fill_before_the_broker_acknowledges_the_placement_is_recorded() -> None:
    """Fill then Placed (stream before REST answer): both recorded, order partially filled."""
    order = pending_order()
    client_order_id = order.live_client_order_id or ""
    fill(order, "4", execution_id="x-1")
    assert order.status is OrderStatus.PENDING_NEW
    accept(order, client_order_id, "B-1", when=at(5))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.placements[client_order_id].broker_order_id == "B-1"


def test_a_full_fill_before_the_acknowledgement_still_records_the_broker_order_id() -> None:
    """A market order filled before its Placed: Placed is still legal and the order stays FILLED."""
    order = accepted_order(urgency="HIGH")
    order.escalate("no valid quote", occurred_at=at(2))
    client_order_id = place_market(order, when=at(2))
    fill(order, "10", execution_id="x-1", price="100.50")
    accept(order, client_order_id, "B-1", when=at(3))
    assert pending_names(order)[-3:] == ["PlacementRequested", "Filled", "Placed"]
    assert order.status is OrderStatus.FILLED


def test_a_rejected_placement_returns_the_order_to_accepted() -> None:
    """PlacementRejected frees the order to place again, under the next client order id."""
    order = pending_order()
    first = order.live_client_order_id or ""
    order.record_placement_rejected(first, error_code="40310000", reason="no buying power", occurred_at=at(4))
    assert order.status is OrderStatus.ACCEPTED
    second = place_limit(order, Decimal("100.02"), when=at(5))
    assert (first[-2:], second[-2:]) == ("-1", "-2")


def test_an_escalated_order_can_only_place_market() -> None:
    """After Escalated a LIMIT placement is illegal; a MARKET one of the remainder is not."""
    order = working_order()
    fill(order, "4", execution_id="x-1")
    cancel(order, when=at(10))
    order.escalate("re-pegs exhausted", occurred_at=at(10))
    assert order.escalated
    with pytest.raises(IllegalTransition):
        place_limit(order, Decimal("100.50"), when=at(11))
    place_market(order, when=at(11))
    placed = order.pending_events[-1]
    assert isinstance(placed, ev.PlacementRequested)
    assert (placed.order_type, placed.quantity, placed.limit_price) == (
        OrderType.MARKET,
        Decimal("6"),
        None,
    )
    with pytest.raises(IllegalTransition):
        order.escalate("again", occurred_at=at(12))


def test_re_pegs_stop_at_max_repegs() -> None:
    """max_repegs limit re-pegs are allowed; one more raises IllegalTransition."""
    order = working_order(config=a_config(max_repegs=1))
    order.repeg(Decimal("100.25"), bid=Decimal("100"), ask=Decimal("100.5"), reasons=[], occurred_at=at(10))
    cancel(order, when=at(10))
    accept(order, place_limit(order, Decimal("100.25"), when=at(11)), "B-2", when=at(11))
    with pytest.raises(IllegalTransition):
        order.repeg(
            Decimal("100.40"),
            bid=Decimal("100"),
            ask=Decimal("100.5"),
            reasons=[],
            occurred_at=at(20),
        )
    repegged = next(e for e in order.pending_events if isinstance(e, ev.Repegged))
    assert (repegged.old_price, repegged.new_price, repegged.repeg_number) == (
        LIMIT_PRICE,
        Decimal("100.25"),
        1,
    )
    assert repegged.new_client_order_id == order.live_client_order_id


def test_the_order_id_is_a_uuid5_of_account_and_idempotency_key() -> None:
    """Same account and key give the same id; the id is uuid5 over the order namespace."""
    request = a_request(idempotency_key="rebalance-2024-03-01-AAPL")
    order = new_order(request)
    assert order.id == uuid5(ORDER_NAMESPACE, "acct-1\x1frebalance-2024-03-01-AAPL")
    assert order.id.version == 5
    assert new_order(request).id == order.id
    assert new_order(a_request(idempotency_key="other")).id != order.id
    assert new_order(a_request(account="acct-2", idempotency_key="rebalance-2024-03-01-AAPL")).id != order.id


def test_client_order_ids_are_order_id_and_placement_number() -> None:
    """The n-th placement's client order id is '<order id>-<n>', at most 128 characters."""
    order = pending_order()
    assert order.live_client_order_id == f"{order.id}-1"
    assert order.next_client_order_id == f"{order.id}-2"
    assert len(f"{order.id}-99999") <= MAX_CLIENT_ORDER_ID_LENGTH


# ---- issue 12, defect 8: the smaller holes -----------------------------------------------


def test_a_placed_for_an_old_placement_does_not_make_the_new_one_working() -> None:
    """The sequence the state machine found: placement 1 fills in part before its answer
    and is refused, placement 2 goes out, then placement 1's late Placed arrives.
    Placement 2 stays pending (its broker id unknown), so re-peg and cancel are refused as
    IllegalTransition, never a bare AssertionError."""
    order = pending_order()
    first = order.live_client_order_id or ""
    fill(order, "3", execution_id="x-1", client_order_id=first)
    order.record_placement_rejected(first, error_code="x", reason="refused", occurred_at=at(5))
    second = place_limit(order, Decimal("100.02"), when=at(6))
    accept(order, first, "B-1", when=at(7))
    assert order.status is OrderStatus.PENDING_NEW
    assert order.live_client_order_id == second
    assert order.placements[first].broker_order_id == "B-1"
    assert order.placements[second].broker_order_id is None
    for command in (
        lambda: order.repeg(
            Decimal("100.03"), bid=Decimal(100), ask=Decimal("100.5"), reasons=[], occurred_at=at(8)
        ),
        lambda: order.request_cancel("r", occurred_at=at(8)),
        lambda: order.record_canceled("r", occurred_at=at(8)),
    ):
        with pytest.raises(IllegalTransition):
            command()
    accept(order, second, "B-2", when=at(9))
    assert order.status is OrderStatus.WORKING


def test_a_fill_larger_than_its_broker_order_is_a_broker_order_overfill() -> None:
    """The broker order's own quantity is checked first: the refusal names it."""
    order = working_order()
    fill(order, "8", execution_id="x-1")
    before = _snapshot(order)
    with pytest.raises(BrokerOrderOverfill, match="broker order"):
        fill(order, "3", execution_id="x-2")
    assert _snapshot(order) == before


def test_completing_an_order_with_nothing_filled_is_refused() -> None:
    """complete() closes a filled (or nearly filled) order; with nothing filled it is refused."""
    order = accepted_order()
    with pytest.raises(IllegalTransition, match="nothing filled"):
        order.complete("filled", occurred_at=at(2))
    assert pending_names(order) == ["Requested", "Validated"]


def test_a_fill_stamped_before_the_last_event_keeps_venue_time_and_arrival_order() -> None:
    """The venue's execution time is kept as executed_at; occurred_at never goes back."""
    order = working_order()  # last event (Placed) at at(4)
    order.record_fill(
        order.live_client_order_id or "",
        execution_id="x-1",
        quantity=Decimal("4"),
        price=LIMIT_PRICE,
        broker_order_id="B-1",
        executed_at=at(3.5),
        occurred_at=at(3.5),
    )
    recorded = list(order.pending_events)[-1]
    assert isinstance(recorded, ev.PartiallyFilled)
    assert recorded.executed_at == at(3.5)
    assert recorded.occurred_at == at(4)
    times = [e.occurred_at for e in order.pending_events]
    assert times == sorted(times)


def _priced(order: SmartOrder, limit_price: Decimal) -> None:
    order.record_quote(a_quote(), suspicion_reasons=[], fallback_used=False, occurred_at=at(2))
    order.price(limit_price, method="m", tick=Decimal("0.01"), metadata={}, occurred_at=at(2))
