"""The runner's decoder gives exactly the mapper's events, and the timeline's fields exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from execledger.domain.order_events import OrderEvent
from execledger.infrastructure.ledger import Ledger
from execledger.projections.decoding import Decoded, EventDecoder, fields_json_of
from execledger.projections.poison import Undecodable
from execledger.projections.values import business_fields_json

from tests.projection_scenarios import worked_order


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def stored_events(ledger: Ledger, orders: int = 16) -> list[StoredEvent]:
    events = [e for i in range(orders) for e in worked_order(i).collect_events()]
    return [ledger.mapper.to_stored_event(e) for e in events]


def decode(ledger: Ledger, stored: list[StoredEvent]) -> list[Decoded]:
    rows = [(i, s.originator_id, s.originator_version, s.topic, s.state) for i, s in enumerate(stored, 1)]
    return EventDecoder(ledger.mapper).decode(rows)


def assert_same(ledger: Ledger, stored: StoredEvent, decoded: Decoded) -> None:
    expected = ledger.mapper.to_domain_event(stored)
    assert type(decoded.event) is type(expected)
    assert list(vars(decoded.event).items()) == list(vars(expected).items())  # same order too
    assert fields_json_of(decoded) == business_fields_json(expected)


def test_every_event_of_every_life_decodes_as_the_mapper_decodes_it(ledger: Ledger) -> None:
    stored = stored_events(ledger)
    decoded = decode(ledger, stored)
    assert {type(d.event).__name__ for d in decoded} >= {"Requested", "Quoted", "Repegged", "Failed"}
    for one, result in zip(stored, decoded, strict=True):
        assert_same(ledger, one, result)
        assert result.fields_json is not None  # current version: no encoding needed


def rewritten(ledger: Ledger, stored: StoredEvent, change: Any) -> StoredEvent:
    """The stored event with its state changed by ``change`` (on the typed state)."""
    state = ledger.mapper.transcoder.decode(stored.state)
    change(state)
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=ledger.mapper.transcoder.encode(state),
    )


def test_an_upcast_event_shows_its_upcast_fields(ledger: Ledger) -> None:
    """A Quoted v1 (no class_version, no v2 fields) gets suspicion_reasons=[], fallback_used=False."""
    quoted = next(s for s in stored_events(ledger, 1) if s.topic.endswith(":Quoted"))

    def as_v1(state: dict[str, Any]) -> None:
        for name in ("class_version", "suspicion_reasons", "fallback_used"):
            state.pop(name)

    v1 = rewritten(ledger, quoted, as_v1)
    (decoded,) = decode(ledger, [v1])
    assert_same(ledger, v1, decoded)
    fields = json.loads(fields_json_of(decoded))
    assert fields["suspicion_reasons"] == [] and fields["fallback_used"] is False


def test_values_the_ledger_does_not_write_today_still_match(ledger: Ledger) -> None:
    """A non-UTC time, a tuple, a UUID and nested Decimals: shown as business_fields_json shows them."""
    requested = stored_events(ledger, 1)[0]
    paris = timezone(timedelta(hours=2))

    def unusual(state: dict[str, Any]) -> None:
        state["occurred_at"] = datetime(2024, 3, 1, 16, 30, tzinfo=paris)
        state["config"]["extra"] = (Decimal("1.50"), uuid4(), [Decimal("2"), {"at": datetime.now(paris)}])
        state["config"]["naive_free"] = datetime(2024, 3, 1, tzinfo=UTC)

    odd = rewritten(ledger, requested, unusual)
    (decoded,) = decode(ledger, [odd])
    assert_same(ledger, odd, decoded)


def test_an_unknown_transcoding_falls_back_to_the_mapper(ledger: Ledger) -> None:
    """The mapper decodes what the fast path does not know; its error makes the event poison."""
    requested = stored_events(ledger, 1)[0]
    state = json.loads(requested.state)
    state["config"]["weird"] = {"_type_": "not_registered", "_data_": 1}
    odd = StoredEvent(
        originator_id=requested.originator_id,
        originator_version=1,
        topic=requested.topic,
        state=json.dumps(state).encode(),
    )
    (decoded,) = decode(ledger, [odd])
    assert isinstance(decoded.event, Undecodable)
    assert "not_registered" in decoded.event.error  # the mapper's own error


def test_decoded_events_are_order_events_with_their_order_key(ledger: Ledger) -> None:
    decoded_events = decode(ledger, stored_events(ledger, 2))
    assert decoded_events, "there are events to check"
    for decoded in decoded_events:
        assert isinstance(decoded.event, OrderEvent)
        assert decoded.key == decoded.event.originator_id.int


def test_values_orjson_reads_or_writes_differently_still_match(ledger: Ledger) -> None:
    """An integer past 64 bits (orjson reads it as a float), floats whose JSON forms differ
    between orjson and json (``1e+16``), NaN, and text with control and non-ASCII characters."""
    requested = stored_events(ledger, 1)[0]

    def unusual(state: dict[str, Any]) -> None:
        state["config"]["big"] = 10**30
        state["config"]["floats"] = [1e16, 1e-5, 0.1, -0.0]
        state["config"]["nested"] = {"at": [{"x": float("nan")}]}
        state["config"]["text"] = 'é 😀 \x01\x7f\n"\\'

    for change in (unusual, lambda state: state["config"].update(big=-(2**64), text="\u2028")):
        odd = rewritten(ledger, requested, change)
        (decoded,) = decode(ledger, [odd])
        assert_same(ledger, odd, decoded)
        assert decoded.fields_json is not None
