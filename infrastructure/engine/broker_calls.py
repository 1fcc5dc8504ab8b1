"""BrokerCalls: one order's calls to the broker, bounded and retried, with typed outcomes.

It records nothing and saves nothing: the worker (engine.worker) records the intent
before a call and the answer after it, and is the one component that saves the order.
What it keeps apart is what the ledger must never confuse: an answer, a refusal (the
broker's word) and no answer at all (``BrokerUnavailable``: the outcome is unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import structlog
from execledger.domain.order import SmartOrder
from execledger.domain.placement import Placement
from execledger.domain.types import OrderType, TimeInForce
from execledger.infrastructure.engine.retry import Retrier
from execledger.infrastructure.errors import BrokerOrderNotFound, BrokerUnavailable, CancelRejected
from execledger.infrastructure.ports import Broker, BrokerOrder, BrokerOrderStatus, PlacementFields

log = structlog.get_logger(__name__)
#: Broker statuses in which a broker order can no longer fill.
CANCELED_STATES = frozenset(
    {BrokerOrderStatus.CANCELED, BrokerOrderStatus.EXPIRED, BrokerOrderStatus.REPLACED}
)
CLOSED_STATES = CANCELED_STATES | {BrokerOrderStatus.FILLED, BrokerOrderStatus.REJECTED}

__all__ = ["CANCELED_STATES", "CLOSED_STATES", "BrokerCalls", "BrokerUnavailable", "CancelAnswer"]


@dataclass(frozen=True)
class CancelAnswer:
    """The broker's answer to a cancel: its view of the order, or its refusal."""

    order: BrokerOrder | None = None
    refusal: str | None = None


class BrokerCalls:
    """Places, cancels and looks up broker orders; every call bounded and retried."""

    def __init__(self, broker: Broker, retrier: Retrier) -> None:
        self._broker = broker
        self._retrier = retrier

    async def place(self, order: SmartOrder, placement: Placement) -> BrokerOrder:
        """Send ``placement``. OrderRejected: the broker refused it; BrokerUnavailable:
        no answer (it may or may not be at the broker: look it up)."""
        broker = self._broker
        fields = PlacementFields(
            client_order_id=placement.client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=placement.quantity,
            time_in_force=TimeInForce.DAY,
        )
        if placement.order_type is OrderType.MARKET:
            return await self._retrier.call("place_market", lambda: broker.place_market(**fields))
        limit_price: Decimal | None = placement.limit_price
        assert limit_price is not None
        return await self._retrier.call(
            "place_limit", lambda: broker.place_limit(limit_price=limit_price, **fields)
        )

    async def cancel(self, broker_order_id: str) -> CancelAnswer:
        """Ask the broker to cancel; its view or its refusal. BrokerUnavailable: no answer."""
        try:
            answer = await self._retrier.call("cancel", lambda: self._broker.cancel(broker_order_id))
        except (CancelRejected, BrokerOrderNotFound) as refusal:
            log.info("cancel_refused", broker_order_id=broker_order_id, reason=str(refusal))
            return CancelAnswer(refusal=str(refusal) or type(refusal).__name__)
        return CancelAnswer(order=answer)

    async def lookup(self, client_order_id: str) -> BrokerOrder | None:
        """The broker's view of a client order id; None only when the broker says it has
        no such order. BrokerUnavailable when the lookup failed: that is not "not found"."""
        return await self._retrier.call(
            "get_by_client_order_id", lambda: self._broker.get_by_client_order_id(client_order_id)
        )
