"""Reconcile the ledger with the broker: ask about every client order id the ledger sent
for its open orders, append what the broker did that the ledger lacks, and report broker
orders the ledger never sent without touching them. It sends nothing to the broker.

A lookup that fails is reported as unresolved and nothing is recorded for it: a failed
call is never taken for "not found"; nor is a "not found" within the placement's send
window (the request may still arrive). With ``leases`` it takes the same leases
``execute`` takes: an order a live ``execute`` holds is that process's to settle, so it
is reported as held and not touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol
from uuid import UUID

import structlog
from execledger.domain.errors import DomainError
from execledger.domain.order import SmartOrder
from execledger.domain.status import OrderStatus
from execledger.infrastructure.errors import BrokerError, ConcurrentUpdate
from execledger.infrastructure.leases import OrderLeases
from execledger.infrastructure.ledger import Ledger
from execledger.infrastructure.ports import BrokerOrder, BrokerOrderStatus, Clock

log = structlog.get_logger(__name__)
CLOSED_UNFILLED = frozenset(
    {BrokerOrderStatus.CANCELED, BrokerOrderStatus.EXPIRED, BrokerOrderStatus.REPLACED}
)


class BrokerOfRecord(Protocol):
    """What reconciliation asks the broker: lookups only."""

    async def get_by_client_order_id(self, client_order_id: str) -> BrokerOrder | None: ...

    async def open_orders(self) -> list[BrokerOrder]: ...


@dataclass
class ReconcileReport:
    """What a reconciliation found and appended."""

    orders_checked: int = 0
    lookups: int = 0
    appended: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    unknown_at_broker: list[str] = field(default_factory=list)
    #: Open orders another process (a live ``execute``) holds the lease of: not touched.
    held: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Every lookup answered (nothing left unknown); held orders are their holder's."""
        return not self.unresolved


async def reconcile(
    ledger: Ledger, broker: BrokerOfRecord, clock: Clock, leases: OrderLeases | None = None
) -> ReconcileReport:
    """Bring every non-terminal order up to the broker's truth; see the module docstring."""
    report = ReconcileReport()
    sent: set[str] = set()
    open_ids: list[UUID] = []
    for order_id in list(ledger.order_ids()):
        order = ledger.order(order_id)
        sent.update(order.placements)
        if not order.is_terminal:
            open_ids.append(order_id)
    owned = _claim(open_ids, leases, report)
    try:
        for order_id in open_ids:
            if order_id in owned:  # read again: its holder may have worked it meanwhile
                await _reconcile_order(ledger, broker, clock, ledger.order(order_id), report)
    finally:
        if leases is not None:
            leases.release(owned)
    try:
        report.unknown_at_broker = sorted(
            f"{o.client_order_id} ({o.symbol} {o.side.value} {o.quantity}, {o.status.value})"
            for o in await broker.open_orders()
            if o.client_order_id not in sent
        )
    except BrokerError as error:
        report.unresolved.append(f"open orders: lookup failed ({error})")
    log.info(
        "reconciled", checked=report.orders_checked, appended=len(report.appended), held=len(report.held)
    )
    return report


def _claim(ids: list[UUID], leases: OrderLeases | None, report: ReconcileReport) -> set[UUID]:
    """The open orders this process may act on: with leases, those it could claim."""
    if leases is None:
        return set(ids)
    claim = leases.claim(ids)
    for order_id, owner in sorted(claim.held_by_others.items()):
        report.held.append(f"order {order_id}: held by {owner}")
        log.info("order_held_elsewhere", order_id=str(order_id), owner=owner)
    return set(claim.owned)


async def _reconcile_order(
    ledger: Ledger, broker: BrokerOfRecord, clock: Clock, order: SmartOrder, report: ReconcileReport
) -> None:
    """Look up every placement of one open order (reloaded under its lease) and record."""
    if order.is_terminal:
        return
    report.orders_checked += 1
    for client_order_id in list(order.placements):
        report.lookups += 1
        try:
            found = await broker.get_by_client_order_id(client_order_id)
        except BrokerError as error:
            report.unresolved.append(f"{client_order_id}: lookup failed ({error})")
            continue
        try:
            _settle(order, client_order_id, found, clock, report)
        except DomainError as error:
            report.unresolved.append(f"{client_order_id}: {error}")
    if order.pending_events:
        try:
            ledger.save_order(order)
        except ConcurrentUpdate:
            report.unresolved.append(f"order {order.id}: changed by another process meanwhile")


def _settle(
    order: SmartOrder, client_order_id: str, found: BrokerOrder | None, clock: Clock, report: ReconcileReport
) -> None:
    live = order.live_placement
    is_live = live is not None and live.client_order_id == client_order_id
    now = clock.now()
    if found is None:
        if is_live and order.status is OrderStatus.PENDING_NEW:
            assert live is not None
            window = timedelta(seconds=float(order.config.placement_send_window_seconds))
            if now < live.requested_at + window:
                report.unresolved.append(f"{client_order_id}: not at the broker yet (within its send window)")
                return
            order.record_placement_rejected(
                client_order_id, error_code="not_found", reason="Alpaca has no such order", occurred_at=now
            )
            report.appended.append(f"{client_order_id}: placement not at the broker")
        return
    if is_live and order.status is OrderStatus.PENDING_NEW:
        if found.status is BrokerOrderStatus.REJECTED:
            order.record_placement_rejected(
                client_order_id, error_code="rejected", reason="rejected by the broker", occurred_at=now
            )
            report.appended.append(f"{client_order_id}: rejected")
            return
        order.record_placed(
            client_order_id,
            broker_order_id=found.broker_order_id,
            broker_status=found.status.value,
            occurred_at=now,
        )
        report.appended.append(f"{client_order_id}: placed as {found.broker_order_id}")
    if order.record_broker_fills(
        client_order_id,
        broker_order_id=found.broker_order_id,
        filled_quantity=found.filled_quantity,
        average_price=found.average_fill_price,
        occurred_at=now,
    ):
        report.appended.append(f"{client_order_id}: filled {found.filled_quantity} at the broker")
    still_live = order.live_placement is not None and order.live_placement.client_order_id == client_order_id
    if still_live and found.status in CLOSED_UNFILLED and order.status is not OrderStatus.FILLED:
        order.record_canceled(f"broker {found.status.value}", occurred_at=now)
        report.appended.append(f"{client_order_id}: {found.status.value} at the broker")
