"""What one answer of the broker means to the ledger: acceptance, fills the ledger lacks
(inferred from the cumulative quantity), a final cancel, a refusal, and the executions the
venue pushes. Functions of the order, the broker's view and the time; the worker decides
when to ask and saves what these record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, Unpack

import structlog
from execledger.domain.errors import IllegalTransition, Overfill
from execledger.domain.order import SmartOrder
from execledger.domain.order_fills import ReportedFill
from execledger.domain.status import LIVE_STATUSES, OrderStatus
from execledger.infrastructure.engine.broker_calls import CANCELED_STATES, CLOSED_STATES
from execledger.infrastructure.ports import BrokerOrder, BrokerOrderStatus, Execution, OrderUpdate

log = structlog.get_logger(__name__)


class RecordFill(Protocol):
    """SmartOrder.record_fill or SmartOrder.record_overfill."""

    def __call__(self, client_order_id: str, **fill: Unpack[ReportedFill]) -> bool: ...


def apply_broker_view(order: SmartOrder, client_order_id: str, view: BrokerOrder, now: datetime) -> bool:
    """Record what one answer of the broker shows; True when it settles the order's
    pending cancel (the broker order was closed)."""
    placement = order.placements[client_order_id]
    if view.status is BrokerOrderStatus.REJECTED:
        if order.status is OrderStatus.PENDING_NEW and order.live_client_order_id == client_order_id:
            order.record_placement_rejected(
                client_order_id, error_code="rejected", reason="the broker rejected it", occurred_at=now
            )
        return False
    if placement.broker_order_id is None:
        _record_placed(order, client_order_id, view, now)
    if view.filled_quantity > 0:
        order.record_broker_fills(
            client_order_id,
            broker_order_id=view.broker_order_id,
            filled_quantity=view.filled_quantity,
            average_price=view.average_fill_price,
            occurred_at=now,
        )
    return _record_closed(order, client_order_id, view, now)


def absorb_update(order: SmartOrder, update: OrderUpdate, now: datetime) -> bool:
    """Record one update the venue pushed, its execution first (so the cumulative
    comparison infers only what the stream did not deliver); True when it settles the
    pending cancel."""
    execution = update.execution
    client_order_id = update.order.client_order_id
    if client_order_id not in order.placements:
        return False
    if execution is not None:
        try:
            _record_execution(order.record_fill, update, execution, now)
        except Overfill as error:
            log.error("overfill_recorded", error=str(error), execution_id=execution.execution_id)
            _record_execution(order.record_overfill, update, execution, now)
    return apply_broker_view(order, client_order_id, update.order, now)


def _record_placed(order: SmartOrder, client_order_id: str, view: BrokerOrder, now: datetime) -> None:
    try:
        order.record_placed(
            client_order_id,
            broker_order_id=view.broker_order_id,
            broker_status=view.status.value,
            occurred_at=now,
        )
    except IllegalTransition as error:  # an older placement, closed long ago
        log.info("late_acceptance_ignored", client_order_id=client_order_id, error=str(error))


def _record_closed(order: SmartOrder, client_order_id: str, view: BrokerOrder, now: datetime) -> bool:
    """A broker order that can no longer fill: settle the live order and its cancel."""
    if view.status not in CLOSED_STATES:
        return False
    pending_cancel = order.cancel_pending_for == client_order_id
    if view.status in CANCELED_STATES and order.live_client_order_id == client_order_id:
        if order.status is OrderStatus.PENDING_CANCEL or order.status in LIVE_STATUSES:
            reason = "canceled" if pending_cancel else f"broker {view.status.value}"
            order.record_canceled(reason, occurred_at=now)
            return True
        return False
    if pending_cancel:
        order.record_cancel_rejected(f"broker order {view.status.value}", occurred_at=now)
        return True
    return False


def _record_execution(command: RecordFill, update: OrderUpdate, execution: Execution, now: datetime) -> None:
    command(
        execution.client_order_id,
        execution_id=execution.execution_id,
        quantity=execution.quantity,
        price=execution.price,
        broker_order_id=execution.broker_order_id,
        executed_at=execution.executed_at,
        broker_filled_quantity=update.order.filled_quantity,
        occurred_at=now,
    )
