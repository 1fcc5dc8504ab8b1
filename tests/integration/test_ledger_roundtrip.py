"""Every event type through the real store, on SQLite and PostgreSQL: nothing changes on the way."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from execledger.domain import order_events as ev
from execledger.domain.chain import STORED_MARKS
from execledger.domain.ids import order_id_for
from execledger.domain.order import SmartOrder
from execledger.domain.types import OrderType, QuoteSource, Side, TimeInForce, Urgency
from execledger.infrastructure.ledger import Ledger, open_ledger

from tests.builders import (
    a_config,
    a_quote,
    a_request,
    accept,
    accepted_order,
    at,
    cancel,
    fill,
    new_order,
    place_limit,
    place_market,
)

NEW_YORK = timezone(timedelta(hours=-5))


def _orders_with_every_event() -> list[SmartOrder]:
    """Five orders whose events together cover the whole catalogue."""
    busy = new_order(a_request(quantity="10.10", side="SELL", urgency="HIGH", idempotency_key="a"))
    busy.adjust_quantity(Decimal("10.10"), fractionable=False, reason="whole", occurred_at=at(1))
    quote = a_quote(
        bid=Decimal("100.10"),
        ask=Decimal("100.50"),
        quoted_at=at(2).astimezone(NEW_YORK),
        source=QuoteSource.REST,
    )
    busy.record_quote(quote, suspicion_reasons=["wide spread"], fallback_used=True, occurred_at=at(2))
    busy.price(
        Decimal("100.40"),
        method="inside_spread",
        tick=Decimal("0.01"),
        metadata={"score": "55.50"},
        occurred_at=at(2),
    )
    rejected = place_limit(busy, Decimal("100.40"), when=at(3))
    busy.record_placement_rejected(rejected, error_code="40310000", reason="no", occurred_at=at(3))
    first = place_limit(busy, Decimal("100.40"), when=at(4))
    accept(busy, first, "B-1", when=at(4))
    fill(busy, "1.10", execution_id="x-1", price="100.40", when=at(5))
    busy.repeg(
        Decimal("100.20"),
        bid=Decimal("100.10"),
        ask=Decimal("100.50"),
        reasons=["unfilled"],
        occurred_at=at(14),
    )
    busy.request_cancel("re-peg", occurred_at=at(14))
    busy.record_cancel_rejected("racing", occurred_at=at(14))
    cancel(busy, when=at(15))
    busy.escalate("re-pegs exhausted", occurred_at=at(15))
    market = place_market(busy, when=at(16))
    accept(busy, market, "B-2", when=at(16))
    fill(busy, "9.00", execution_id="x-2", price="100.10", when=at(17))
    busy.complete("filled", occurred_at=at(17))

    denied = new_order(a_request(idempotency_key="b"))
    denied.deny("not tradable", occurred_at=at(1))
    expired = accepted_order(idempotency_key="c", config=a_config(max_repegs=0))
    expired.expire("session ended", occurred_at=at(2))
    failed = accepted_order(idempotency_key="d")
    failed.fail("no quote", occurred_at=at(2))
    overfilled = accepted_order(idempotency_key="e")
    late = place_limit(overfilled, Decimal("100.01"), when=at(2))
    accept(overfilled, late, "B-3", when=at(3))
    overfilled.record_broker_fills(
        late,
        broker_order_id="B-3",
        filled_quantity=Decimal("12"),
        average_price=Decimal("100.01"),
        occurred_at=at(4),
    )
    overfilled.fail("overfilled", occurred_at=at(5))
    return [busy, denied, expired, failed, overfilled]


def _assert_identical(stored: Any, original: Any, where: str) -> None:
    """Equal, of the same type, and for Decimals and datetimes the same digits and offset."""
    assert type(stored) is type(original), f"{where}: {type(stored)} != {type(original)}"
    if isinstance(original, dict):
        assert stored.keys() == original.keys(), where
        for key in original:
            _assert_identical(stored[key], original[key], f"{where}.{key}")
    elif isinstance(original, list):
        assert len(stored) == len(original), where
        for n, (a, b) in enumerate(zip(stored, original, strict=True)):
            _assert_identical(a, b, f"{where}[{n}]")
    elif isinstance(original, Decimal):
        assert stored.as_tuple() == original.as_tuple(), f"{where}: {stored!r} != {original!r}"
    elif isinstance(original, datetime):
        assert stored == original and stored.utcoffset() == original.utcoffset(), where
    else:
        assert stored == original, where


def test_every_event_type_round_trips_exactly(database_url: str) -> None:
    """Each catalogue event reads back field for field: exact Decimals, aware times, UUIDs, enums."""
    orders = _orders_with_every_event()
    written = {order.id: [vars(e).copy() for e in order.pending_events] for order in orders}
    names = {type(e).__name__ for order in orders for e in order.pending_events}
    assert names == {cls.__name__ for cls in ev.CATALOGUE}

    with open_ledger(database_url) as ledger:
        for order in orders:
            ledger.save_order(order)
    with open_ledger(database_url) as ledger:
        for order_id, originals in written.items():
            events = ledger.events_of(order_id)
            stored = [{k: v for k, v in vars(e).items() if k not in STORED_MARKS} for e in events]
            assert len(stored) == len(originals)
            for read, original in zip(stored, originals, strict=True):
                _assert_identical(read, original, f"{order_id} v{original['originator_version']}")


def test_types_come_back_as_written(database_url: str) -> None:
    """Spot checks of the types: Decimal('10.10') keeps its exponent; enums are members."""
    orders = _orders_with_every_event()
    with open_ledger(database_url) as ledger:
        for order in orders:
            ledger.save_order(order)
        events = ledger.events_of(orders[0].id)
    requested, quoted = events[0], events[2]
    assert isinstance(requested, ev.Requested) and isinstance(quoted, ev.Quoted)
    assert str(requested.quantity) == "10.10"
    assert requested.side is Side.SELL and requested.urgency is Urgency.HIGH
    assert isinstance(requested.originator_id, UUID)
    assert requested.config["repeg_min_improvement"] == Decimal("0.02")
    assert quoted.source is QuoteSource.REST
    assert quoted.quoted_at.utcoffset() == timedelta(hours=-5)
    assert quoted.suspicion_reasons == ["wide spread"] and quoted.fallback_used is True
    placements = [e for e in events if isinstance(e, ev.PlacementRequested)]
    assert [p.order_type for p in placements] == [OrderType.LIMIT, OrderType.LIMIT, OrderType.MARKET]
    assert all(p.time_in_force is TimeInForce.DAY for p in placements)
    assert all(isinstance(v, Enum) for p in placements for v in (p.order_type, p.time_in_force))


def test_a_reloaded_order_has_the_state_of_the_live_one(database_url: str) -> None:
    """Replaying the stored events rebuilds the same status, quantities and placements."""
    live = _orders_with_every_event()[0]
    with open_ledger(database_url) as ledger:
        ledger.save_order(live)
        loaded = ledger.order(live.id)
    assert (loaded.status, loaded.filled_quantity, loaded.remaining_quantity, loaded.repegs) == (
        live.status,
        live.filled_quantity,
        live.remaining_quantity,
        live.repegs,
    )
    assert loaded.placements == live.placements
    assert loaded.head_hash == live.head_hash
    assert loaded.average_fill_price == live.average_fill_price


def _count_events(ledger: Ledger) -> int:
    return sum(1 for _ in ledger.notifications())


def test_submitting_the_same_request_twice_appends_nothing(database_url: str) -> None:
    """Second submit of an equal request returns the same order, created=False, no new event."""
    with open_ledger(database_url) as ledger:
        first, created = ledger.submit(a_request(), a_config(), at(0))
        assert created
        assert _count_events(ledger) == 1
        again, created_again = ledger.submit(a_request(quantity="10.0"), a_config(), at(60))
        assert not created_again
        assert again.id == first.id
        assert _count_events(ledger) == 1
        other, created_other = ledger.submit(a_request(correlation_id="corr-2"), a_config(), at(0))
        assert created_other and other.id != first.id
        assert _count_events(ledger) == 2


def test_a_second_ledger_sees_the_submitted_order(database_url: str) -> None:
    """Idempotency holds across processes: another Ledger on the same DB finds the order."""
    request = a_request(idempotency_key="rebalance-1")
    with open_ledger(database_url) as ledger:
        order, _ = ledger.submit(request, a_config(), at(0))
    with open_ledger(database_url) as other:
        again, created = other.submit(request, a_config(), at(1))
        assert not created
        assert again.id == order.id == order_id_for("acct-1", "rebalance-1")
        assert list(other.order_ids()) == [order.id]
