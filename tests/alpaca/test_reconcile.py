"""Reconciliation against the fake Alpaca: the ledger catches up with the broker; nothing is sent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from execledger.domain.status import OrderStatus
from execledger.infrastructure.engine.reconciliation import reconcile
from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.venue import WallClock

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
