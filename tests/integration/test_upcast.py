"""Upcasting: a Quoted event stored at class version 1 reads back as version 2."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from execledger.domain import order_events as ev
from execledger.domain.chain import event_hash
from execledger.domain.types import QuoteSource
from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.verification import verify_ledger

from tests.builders import T0, a_quote, accepted_order, at, insert_record


def _v1_quoted_fields(order_id: UUID, version: int, previous_hash: str) -> dict[str, Any]:
    """A Quoted event as a version-1 writer sealed it: no class_version, no v2 fields."""
    fields: dict[str, Any] = {
        "timestamp": at(2),
        "correlation_id": "corr-1",
        "occurred_at": at(2),
        "previous_hash": previous_hash,
        "symbol": "AAPL",
        "bid": Decimal("100.00"),
        "ask": Decimal("100.50"),
        "bid_size": Decimal("300"),
        "ask_size": Decimal("200"),
        "quoted_at": T0,
        "source": QuoteSource.STREAM,
    }
    sealed = {
        **fields,
        "originator_id": order_id,
        "originator_version": version,
        "topic": get_topic(ev.Quoted),
    }
    return {**fields, "event_hash": event_hash(sealed)}


def _order_with_a_v1_quote(database_url: str) -> UUID:
    order = accepted_order()
    with open_ledger(database_url) as ledger:
        ledger.save_order(order)
        fields = _v1_quoted_fields(order.id, order.version + 1, order.head_hash)
        state = ledger.mapper.transcoder.encode(fields)
    assert b"class_version" not in state
    insert_record(database_url, order.id, order.version + 1, get_topic(ev.Quoted), state)
    return order.id


def test_quoted_is_at_class_version_2() -> None:
    """Quoted declares class_version 2 and the v1 -> v2 upcast."""
    assert ev.Quoted.class_version == 2
    state: dict[str, object] = {"symbol": "AAPL"}
    ev.Quoted.upcast_v1_v2(state)
    assert state == {"symbol": "AAPL", "suspicion_reasons": [], "fallback_used": False}


def test_a_v1_quoted_record_reads_back_with_the_v2_defaults(database_url: str) -> None:
    """The stored v1 record is upcast on read: suspicion_reasons=[] and fallback_used=False."""
    order_id = _order_with_a_v1_quote(database_url)
    with open_ledger(database_url) as ledger:
        quoted = ledger.events_of(order_id)[-1]
        order = ledger.order(order_id)
    assert isinstance(quoted, ev.Quoted)
    assert quoted.suspicion_reasons == []
    assert quoted.fallback_used is False
    assert quoted.source is QuoteSource.STREAM
    assert str(quoted.bid) == "100.00"
    assert order.last_quote is not None and order.last_quote["ask"] == quoted.ask
    assert order.version == 3


def test_an_old_record_is_upcast_never_rewritten(database_url: str) -> None:
    """Verify still passes: the hash covers the fields as stored, and the store keeps v1."""
    order_id = _order_with_a_v1_quote(database_url)
    with open_ledger(database_url) as ledger:
        report = verify_ledger(ledger)
        order = ledger.order(order_id)
        order.record_quote(a_quote(), suspicion_reasons=["wide"], fallback_used=True, occurred_at=at(3))
        ledger.save_order(order)
        assert verify_ledger(ledger).ok
        raw = [n.state for n in ledger.notifications() if n.originator_id == order_id]
    assert report.ok and report.events_checked == 3
    assert b"class_version" not in raw[2] and b"suspicion_reasons" not in raw[2]
    assert b'"class_version":2' in raw[3]


def test_fills_and_cancel_rejected_are_at_class_version_2_with_their_upcasts() -> None:
    """Fills declare class_version 2; a v1 fill's venue time is its occurred_at."""
    for fill_class in (ev.PartiallyFilled, ev.Filled):
        assert fill_class.class_version == 2
        state: dict[str, object] = {"occurred_at": at(5)}
        fill_class.upcast_v1_v2(state)
        assert state == {"occurred_at": at(5), "executed_at": at(5), "inferred": False}
    assert ev.CancelRejected.class_version == 2
    rejected: dict[str, object] = {"reason": "r"}
    ev.CancelRejected.upcast_v1_v2(rejected)
    assert rejected == {"reason": "r", "withdrawn_repeg": None}
