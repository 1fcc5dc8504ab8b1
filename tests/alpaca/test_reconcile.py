"""Reconciliation against the fake Alpaca: the ledger catches up with the broker; nothing is sent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from execledger.domain.status import OrderStatus
from execledger.infrastructure.database_url import parse_database_url
from execledger.infrastructure.engine.reconciliation import reconcile
from execledger.infrastructure.leases import OrderLeases, open_lease_table
from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.venue import VirtualClock, WallClock

from tests.alpaca.adapters import TIMEOUT, adapters_for, run
from tests.alpaca.test_fake_alpaca import limit, trading
from tests.builders import a_quote, at, pending_order, working_order
from tests.fake_alpaca import FakeAlpaca, Fault


def test_a_placement_accepted_and_partly_filled_while_we_were_away_is_appended(
    tmp_path: Path, fake: FakeAlpaca
) -> None:
    """PENDING_NEW in the ledger, placed and 4 filled at Alpaca: reconcile records the
    placement and an inferred fill of 4; an order the ledger never sent is only reported."""
    ledger = open_ledger(f"sqlite:///{tmp_path / 'l.db'}")
    order = pending_order()
    ledger.save_order(order)
    client_order_id = order.live_placement.client_order_id  # type: ignore[union-attr]
    trading(fake).submit_order(limit(client_order_id, 10, 100.01))
    trading(fake).submit_order(limit("stranger-1", 1, 99.00))
    fake.quote(a_quote(ask=Decimal("100.01"), ask_size=Decimal("4"), quoted_at=at(5)))
    changes = len(fake.requests)
    report = run(reconcile(ledger, adapters_for(fake).broker, WallClock()))
    stored = ledger.order(order.id)
    assert stored.status is OrderStatus.PARTIALLY_FILLED and stored.filled_quantity == Decimal("4")
    assert report.clean and len(report.appended) == 2
    assert len(report.unknown_at_broker) == 1 and report.unknown_at_broker[0].startswith("stranger-1")
    assert {r.method for r in fake.requests[changes:]} == {"GET"}
    again = run(reconcile(ledger, adapters_for(fake).broker, WallClock()))
    assert again.clean and again.appended == []


def test_a_failed_lookup_is_unresolved_and_records_nothing(tmp_path: Path, fake: FakeAlpaca) -> None:
    """Alpaca unreachable for the lookup: the order stays PENDING_NEW, never 'not found'."""
    ledger = open_ledger(f"sqlite:///{tmp_path / 'l.db'}")
    order = pending_order()
    ledger.save_order(order)
    fake.faults.stall_seconds = float(TIMEOUT) * 2
    fake.faults.arm("GET", Fault.SERVER_ERROR, times=3)
    report = run(reconcile(ledger, adapters_for(fake).broker, WallClock()))
    assert not report.clean and report.appended == []
    assert ledger.order(order.id).status is OrderStatus.PENDING_NEW


def test_a_placement_alpaca_never_received_is_rejected_as_not_found(tmp_path: Path, fake: FakeAlpaca) -> None:
    """Alpaca answers 404 for the client order id: the placement is recorded as not found."""
    ledger = open_ledger(f"sqlite:///{tmp_path / 'l.db'}")
    order = pending_order()
    ledger.save_order(order)
    report = run(reconcile(ledger, adapters_for(fake).broker, WallClock()))
    assert report.clean and len(report.appended) == 1
    assert ledger.order(order.id).status is not OrderStatus.PENDING_NEW


def test_a_working_order_canceled_at_the_broker_is_recorded_canceled(
    tmp_path: Path, fake: FakeAlpaca
) -> None:
    """Alpaca canceled the live broker order while we were away: reconcile records the cancel."""
    ledger = open_ledger(f"sqlite:///{tmp_path / 'l.db'}")
    order = working_order()
    ledger.save_order(order)
    client = trading(fake)
    placed = client.submit_order(limit(order.live_client_order_id or "", 10, 100.01))
    client.cancel_order_by_id(placed.id)
    report = run(reconcile(ledger, adapters_for(fake).broker, WallClock()))
    assert report.clean and report.appended == [f"{order.live_client_order_id}: canceled at the broker"]
    assert ledger.order(order.id).status is OrderStatus.CANCELED


def test_orders_a_live_execute_holds_are_reported_held_and_not_touched(
    database_url: str, fake: FakeAlpaca
) -> None:
    """Reconcile takes execute's leases: an order another process holds is reported as held
    (no lookup, nothing appended) while a free one is settled; once the holder lets go,
    the held order is settled too."""
    ledger = open_ledger(database_url)
    held, free = working_order(), working_order(idempotency_key="k-free")
    client = trading(fake)
    for order in (held, free):
        ledger.save_order(order)
        placed = client.submit_order(limit(order.live_client_order_id or "", 10, 100.01))
        client.cancel_order_by_id(placed.id)
    database = parse_database_url(database_url)
    with OrderLeases(open_lease_table(database), ttl_seconds=30, owner="execute-elsewhere") as other:
        other.claim([held.id])
        with OrderLeases(open_lease_table(database), ttl_seconds=30) as ours:
            report = run(reconcile(ledger, adapters_for(fake).broker, WallClock(), ours))
        assert report.held == [f"order {held.id}: held by execute-elsewhere"]
        assert report.appended == [f"{free.live_client_order_id}: canceled at the broker"]
        assert ledger.order(held.id).status is OrderStatus.WORKING
        assert ledger.order(free.id).status is OrderStatus.CANCELED
        looked_up = [r.query.get("client_order_id") for r in fake.sent("GET", "/v2/orders:by_client")]
        assert held.live_client_order_id not in looked_up
    with OrderLeases(open_lease_table(database), ttl_seconds=30) as ours:
        again = run(reconcile(ledger, adapters_for(fake).broker, WallClock(), ours))
    assert again.held == [] and ledger.order(held.id).status is OrderStatus.CANCELED


def test_a_not_found_within_the_send_window_is_unresolved_not_rejected(
    tmp_path: Path, fake: FakeAlpaca
) -> None:
    """A placement requested moments ago may still be on its way: Alpaca's 404 is not yet
    proof, so reconcile records nothing and reports it unresolved."""
    ledger = open_ledger(f"sqlite:///{tmp_path / 'l.db'}")
    order = pending_order()
    ledger.save_order(order)
    requested = order.live_placement.requested_at  # type: ignore[union-attr]
    report = run(reconcile(ledger, adapters_for(fake).broker, VirtualClock(requested + timedelta(seconds=1))))
    assert not report.clean and report.appended == []
    assert ledger.order(order.id).status is OrderStatus.PENDING_NEW
