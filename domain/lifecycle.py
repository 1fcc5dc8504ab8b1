"""Lifecycle: the status rules of a smart order, in one place.

The SmartOrder aggregate and the order-status read model both fold events through
these functions, so the status an operator reads can never drift from the status the
aggregate enforces. Each function returns a new Lifecycle; nothing is mutated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType

from execledger.domain.status import LIVE_STATUSES, OrderStatus

ZERO = Decimal(0)


@dataclass(frozen=True)
class BrokerOrderFill:
    """How much of one broker order (by client order id) was asked for and has filled."""

    quantity: Decimal
    filled: Decimal = ZERO

    @property
    def is_complete(self) -> bool:
        return self.filled >= self.quantity


@dataclass(frozen=True)
class Lifecycle:
    """Status, quantities and the working broker order, as the events left them."""

    status: OrderStatus
    quantity: Decimal
    filled_quantity: Decimal = ZERO
    live_client_order_id: str | None = None
    cancel_pending_for: str | None = None
    broker_orders: Mapping[str, BrokerOrderFill] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity

    def _working(self, client_order_id: str) -> OrderStatus:
        """WORKING, or PARTIALLY_FILLED if that broker order has fills."""
        has_fills = self.broker_orders[client_order_id].filled > 0
        return OrderStatus.PARTIALLY_FILLED if has_fills else OrderStatus.WORKING

    def _with_broker_order(
        self, client_order_id: str, fill: BrokerOrderFill
    ) -> Mapping[str, BrokerOrderFill]:
        return MappingProxyType({**self.broker_orders, client_order_id: fill})


def requested(quantity: Decimal) -> Lifecycle:
    """A new order, before preflight."""
    return Lifecycle(status=OrderStatus.NEW, quantity=quantity)


def accepted(state: Lifecycle, quantity: Decimal) -> Lifecycle:
    """Preflight passed (with ``quantity``, adjusted or not)."""
    return replace(state, status=OrderStatus.ACCEPTED, quantity=quantity)


def placement_requested(state: Lifecycle, client_order_id: str, quantity: Decimal) -> Lifecycle:
    """A broker order is about to be sent; it is the working one from now on."""
    return replace(
        state,
        status=OrderStatus.PENDING_NEW,
        live_client_order_id=client_order_id,
        broker_orders=state._with_broker_order(client_order_id, BrokerOrderFill(quantity)),
    )


def placed(state: Lifecycle, client_order_id: str) -> Lifecycle:
    """The broker accepted it; fills that came first count. A late acceptance of an
    older placement (already filled and replaced) leaves the live one as it is."""
    if state.status is not OrderStatus.PENDING_NEW or state.live_client_order_id != client_order_id:
        return state
    return replace(state, status=state._working(client_order_id))


def placement_rejected(state: Lifecycle) -> Lifecycle:
    """The broker refused it; nothing is working."""
    return replace(state, status=OrderStatus.ACCEPTED, live_client_order_id=None)


def filled(state: Lifecycle, client_order_id: str, quantity: Decimal) -> Lifecycle:
    """A fill on one broker order. A late fill on a closed order keeps its status."""
    before = state.broker_orders[client_order_id]
    fill = BrokerOrderFill(before.quantity, before.filled + quantity)
    state = replace(
        state,
        filled_quantity=state.filled_quantity + quantity,
        broker_orders=state._with_broker_order(client_order_id, fill),
    )
    if state.status.is_terminal:
        return state
    live = state.live_client_order_id
    live_done = live is None or state.broker_orders[live].is_complete
    if state.remaining_quantity <= 0 and live_done:
        return replace(state, status=OrderStatus.FILLED, live_client_order_id=None)
    if fill.is_complete and live == client_order_id and state.remaining_quantity > 0:
        return replace(state, status=OrderStatus.ACCEPTED, live_client_order_id=None)
    if state.status in LIVE_STATUSES:
        return replace(state, status=OrderStatus.PARTIALLY_FILLED)
    return state  # PENDING_NEW stays until Placed; PENDING_CANCEL until the answer; and a
    # broker order still working when an older one filled the rest stays live until canceled


def cancel_requested(state: Lifecycle, client_order_id: str) -> Lifecycle:
    """A cancel of the working broker order is about to be sent."""
    return replace(state, status=OrderStatus.PENDING_CANCEL, cancel_pending_for=client_order_id)


def canceled(state: Lifecycle, client_order_id: str) -> Lifecycle:
    """The broker order is canceled; the smart order goes on unless it is done."""
    live = None if state.live_client_order_id == client_order_id else state.live_client_order_id
    status = state.status
    if not status.is_terminal and status is not OrderStatus.FILLED:
        status = OrderStatus.FILLED if state.remaining_quantity <= 0 else OrderStatus.CANCELED
    return replace(state, status=status, live_client_order_id=live, cancel_pending_for=None)


def cancel_rejected(state: Lifecycle) -> Lifecycle:
    """The broker refused the cancel: the order works on (or has filled meanwhile)."""
    state = replace(state, cancel_pending_for=None)
    live = state.live_client_order_id
    if state.status is OrderStatus.PENDING_CANCEL and live is not None:
        return replace(state, status=state._working(live))
    return state


def closed(state: Lifecycle, status: OrderStatus) -> Lifecycle:
    """A terminal status: completed, expired, failed or denied."""
    assert status.is_terminal
    return replace(state, status=status)
