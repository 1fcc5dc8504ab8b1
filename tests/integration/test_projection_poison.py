"""Poison events: one stored event the read models cannot decode or apply never stops them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from execledger.domain import order_events as ev
from execledger.infrastructure.ledger import Ledger
from execledger.projections import ProjectionRunner, ProjectionStore, queries

from tests.projection_scenarios import worked_order

Tamper = Callable[[StoredEvent], StoredEvent]


def _with_state(stored: StoredEvent, change: Callable[[dict[str, Any]], None]) -> StoredEvent:
    state = json.loads(stored.state)
    change(state)
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )


def unknown_topic(stored: StoredEvent) -> StoredEvent:
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic="execledger.domain.order_events:Vanished",
        state=stored.state,
    )


def invalid_json(stored: StoredEvent) -> StoredEvent:
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=b'{"quantity": ',
    )


def fold_refuses(stored: StoredEvent) -> StoredEvent:
    """A fill without its price: decodable, but no fold can apply it."""
    return _with_state(stored, lambda state: state.pop("price"))


def huge_integer(stored: StoredEvent) -> StoredEvent:
    """A re-peg number past 64 bits: neither SQLite INTEGER nor PostgreSQL BIGINT holds it."""
    return _with_state(stored, lambda state: state.update(repeg_number=2**70))


def nul_in_text(stored: StoredEvent) -> StoredEvent:
    """A broker order id with a NUL: PostgreSQL text refuses it."""
    return _with_state(stored, lambda state: state.update(broker_order_id="B-\x00-1"))


KINDS: dict[str, tuple[type[ev.OrderEvent], int, Tamper]] = {
    "unknown topic": (ev.Validated, 0, unknown_topic),
    "invalid JSON": (ev.Quoted, 1, invalid_json),
    "fold raises": (ev.Filled, 0, fold_refuses),
    "value too big for the database": (ev.Repegged, 4, huge_integer),
    "NUL in a text column": (ev.Placed, 0, nul_in_text),
}


def _poisoned_order(ledger: Ledger, kind: str) -> tuple[str, int]:
    """Save a good order, then one with its first event of the kind's class tampered with,
    then more good orders; returns the poisoned order's id and the tampered version."""
    event_class, life, tamper = KINDS[kind]
    ledger.save(worked_order(0), worked_order(1))
    order = worked_order(8 + life)
    stored = []
    tampered_version = 0
    for event in order.collect_events():
        record = ledger.mapper.to_stored_event(event)
        if not tampered_version and type(event) is event_class:
            record = tamper(record)
            tampered_version = event.originator_version
        stored.append(record)
    assert tampered_version
    ledger.recorder.insert_events(stored)
    ledger.save(worked_order(2), worked_order(3))
    return str(order.id), tampered_version


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_poison_event_is_set_aside_and_the_runner_goes_on(
    kind: str, database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """The bad event is recorded in projection_errors; every other order is projected;
    the poisoned order is shown as not trustworthy; a rebuild ends the same way."""
    if kind == "NUL in a text column" and database_url.startswith("sqlite"):
        pytest.skip("SQLite stores a NUL in text: nothing to refuse")
    order_id, version = _poisoned_order(ledger, kind)
    runner = ProjectionRunner(ledger, store, batch_size=7)
    assert runner.catch_up() == ledger.recorder.max_notification_id()
    for rebuilt in (False, True):
        if rebuilt:
            runner.rebuild()
        errors = queries.projection_errors(store)
        assert {(e["order_id"], e["version"]) for e in errors} == {(order_id, version)}
        assert {e["projection"] for e in errors} == {"order_status", "order_timeline", "execution_quality"}
        assert all(e["error"] for e in errors)
        assert {s["lag"] for s in runner.status()} == {0}
        assert {s["errors"] for s in runner.status()} == {1}
        trust = {row["order_id"]: row["trustworthy"] for row in queries.orders(store)}
        assert len(trust) == 5
        assert [oid for oid, trusted in trust.items() if not trusted] == [order_id]
        entries = queries.timeline_of(store, order_id)
        assert entries and not any(entry["trustworthy"] for entry in entries)
        assert version not in [entry["version"] for entry in entries]


def test_a_clean_ledger_reports_no_errors(ledger: Ledger, store: ProjectionStore) -> None:
    """Without poison, nothing is set aside and every order is trustworthy."""
    ledger.save(*[worked_order(i) for i in range(8)])
    runner = ProjectionRunner(ledger, store)
    runner.catch_up()
    assert queries.projection_errors(store) == []
    assert {s["errors"] for s in runner.status()} == {0}
    assert all(row["trustworthy"] for row in queries.orders(store))
